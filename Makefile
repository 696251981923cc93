# The README's two commands: `make demo` and `make test`. Everything else is a helper they call.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-all lint bench bench-quick install clean services

# torch is installed first and pinned, from the CPU wheel that lies on these machines' disk, so that no other
# requirement can make pip pull a multi-gigabyte CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,text,graph]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/hyperselect --threads 1 demo --out runs/demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Real components for the tests: a PostgreSQL server on 127.0.0.1 and headless Chromium (Debian packages).
services:
	-bash scripts/install_browser.sh
	-bash scripts/postgres.sh start

test: $(STAMP) lint services
	HF_HUB_OFFLINE=1 $(BIN)/pytest -m "not slow" -p no:cacheprovider --timeout 900
	-bash scripts/postgres.sh stop

test-all: $(STAMP) services
	HF_HUB_OFFLINE=1 $(BIN)/pytest -p no:cacheprovider --timeout 1800

# PecanPy, the node2vec reference, pins numpy<2; it lives in its own venv so it cannot break ours.
.venv-pecanpy/bin/python:
	$(PYTHON) -m venv .venv-pecanpy
	.venv-pecanpy/bin/pip install --quiet pecanpy psutil "numpy<2"

bench-quick: $(STAMP) .venv-pecanpy/bin/python
	$(BIN)/pip install --quiet -e '.[bench]'
	mkdir -p benchmarks/results
	for b in trainer population width_alignment tpe_asks hpo_vs_optuna fcnet verdict node2vec text; do \
	  PECANPY_PYTHON=.venv-pecanpy/bin/python HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/$$b.py --quick --json benchmarks/results/$${b}_quick.json || exit 1; done

bench: $(STAMP) .venv-pecanpy/bin/python
	$(BIN)/pip install --quiet -e '.[bench]'
	mkdir -p benchmarks/results
	for b in trainer population width_alignment tpe_asks hpo_vs_optuna fcnet verdict node2vec text; do \
	  PECANPY_PYTHON=.venv-pecanpy/bin/python HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/$$b.py --json benchmarks/results/$$b.json || exit 1; done

clean:
	rm -rf $(VENV) .venv-pecanpy .pg runs test-artifacts .pytest_cache .mypy_cache .ruff_cache
