# The README's two commands: `make demo` and `make test`. Everything else is a helper they call.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-all lint bench bench-quick bench-run install clean services

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

# Both write to benchmarks/results/latest/, never over the figures the README cites (copy a run there by hand,
# with its date in the name). A script whose data or package is absent writes a JSON saying so and exits 0.
BENCH_SCRIPTS := trainer population width_alignment tpe_asks hpo_vs_optuna fcnet verdict class_weight node2vec text
BENCH_ARGS_population := --clock cpu

bench-quick: $(STAMP) .venv-pecanpy/bin/python
	$(MAKE) bench-run BENCH_MODE=--quick BENCH_SUFFIX=_quick

bench: $(STAMP) .venv-pecanpy/bin/python
	$(MAKE) bench-run BENCH_MODE= BENCH_SUFFIX=

bench-run:
	$(BIN)/pip install --quiet -e '.[bench]'
	mkdir -p benchmarks/results/latest
	for b in $(BENCH_SCRIPTS); do \
	  extra=""; [ "$$b" = population ] && extra="$(BENCH_ARGS_population)"; \
	  PECANPY_PYTHON=.venv-pecanpy/bin/python HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/$$b.py $(BENCH_MODE) $$extra \
	    --json benchmarks/results/latest/$${b}$(BENCH_SUFFIX).json || exit 1; done

clean:
	rm -rf $(VENV) .venv-pecanpy .pg runs test-artifacts .pytest_cache .mypy_cache .ruff_cache
