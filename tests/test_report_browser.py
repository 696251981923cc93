"""The report opened in a real headless Chromium (Debian's chromium + chromium-driver) from a file:// URL.

Installed by ``scripts/install_browser.sh``; skipped with the reason when either binary is absent.  selenium is
always given the system chromedriver, so selenium-manager never downloads anything.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FIXTURES = Path(__file__).parent / "data" / "report"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
XSS_LABEL = "<script>alert(1)</script>"

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(
        f"needs {CHROMIUM} and {CHROMEDRIVER}: run scripts/install_browser.sh", allow_module_level=True
    )
selenium = pytest.importorskip("selenium", reason="needs selenium (pip install 'hyperselect[dev]')")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

from hyperselect.report import build_report  # noqa: E402


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every section at once: tune + trials.csv, compare, text and graph outputs in one run directory."""
    run = tmp_path_factory.mktemp("run")
    for kind in ("tune", "compare", "text", "graph"):
        shutil.copytree(FIXTURES / kind, run, dirs_exist_ok=True)
    return build_report(run, strict=True)


@pytest.fixture(scope="module")
def train_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("train")
    shutil.copy(FIXTURES / "train" / "result.json", run / "result.json")
    return build_report(run, strict=True)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: selenium-manager must not reach the network
    profile = tmp_path_factory.mktemp("chromium-profile")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(options=opts, service=Service(executable_path=str(CHROMEDRIVER)))
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()


def _open(driver: Any, path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    driver.get_log("browser")  # drop anything left from an earlier page
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")
    return driver.get_log("browser"), driver.get_log("performance")


def _requested_urls(perf: list[dict[str, Any]]) -> list[str]:
    urls = []
    for entry in perf:
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def _check_images(driver: Any) -> int:
    from PIL import Image

    imgs = driver.find_elements(By.TAG_NAME, "img")
    for img in imgs:
        alt = img.get_attribute("alt")
        state = driver.execute_script(
            "return [arguments[0].complete, arguments[0].naturalWidth, arguments[0].naturalHeight];", img
        )
        assert state[0] and state[1] > 0 and state[2] > 0, f"image {alt!r} did not load: {state}"
        src = img.get_attribute("src")
        assert src.startswith("data:image/png;base64,"), f"image {alt!r} is not an embedded PNG"
        pixels = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L")
        assert pixels.size == (state[1], state[2])
        hist = pixels.histogram()
        n = sum(hist)
        mean = sum(i * c for i, c in enumerate(hist)) / n
        var = sum(c * (i - mean) ** 2 for i, c in enumerate(hist)) / n
        non_white = 1 - hist[255] / n
        assert var > 50 and non_white > 0.01, (
            f"image {alt!r} looks blank (variance {var:.1f}, {non_white:.1%} ink)"
        )
    return len(imgs)


def test_report_in_chromium_full(driver: Any, report: Path) -> None:
    logs, perf = _open(driver, report)
    severe = [entry for entry in logs if entry["level"] == "SEVERE"]
    assert not severe, f"console errors: {severe}"

    urls = _requested_urls(perf)
    assert urls, "the performance log recorded no request at all"
    external = [u for u in urls if not u.startswith(("file:", "data:"))]
    assert not external, f"the report fetched {external}"

    # the label is shown as text, never run as a script
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018
    body = driver.find_element(By.TAG_NAME, "body").text
    assert XSS_LABEL in body
    assert "<img src=x onerror=alert(2)>" in body
    assert driver.execute_script("return document.getElementsByTagName('script').length") == 0
    assert driver.execute_script("return window.__xss === undefined")

    # every section is there, the verdict first after the notice that the fixtures are of different data
    ids = driver.execute_script(
        "return Array.from(document.querySelectorAll('main > section')).map(s => s.id)"
    )
    assert ids[:2] == ["mixed", "verdict"]
    assert {"verdict", "baselines", "best-config", "search", "text", "graph"} <= set(ids)
    assert "No significant difference" in driver.find_element(By.ID, "verdict").text
    assert "corrected resampled t-test" in driver.find_element(By.ID, "verdict").text

    assert _check_images(driver) >= 9

    ARTIFACTS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height) + 40, 16000))
    assert driver.save_screenshot(str(ARTIFACTS / "report.png"))
    driver.set_window_size(1280, 900)
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_training_report_in_chromium(driver: Any, train_report: Path) -> None:
    logs, _ = _open(driver, train_report)
    assert not [entry for entry in logs if entry["level"] == "SEVERE"]
    ids = driver.execute_script(
        "return Array.from(document.querySelectorAll('main > section')).map(s => s.id)"
    )
    assert ids == ["diagnostics", "training"]
    assert "Vanishing gradients" in driver.find_element(By.ID, "diagnostics").text
    assert _check_images(driver) == 2
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "report-train.png"))


def _at_width(driver: Any, width: int, mobile: bool) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile},
    )


def test_phone_width_stacks_the_best_configuration_and_keeps_figures_readable(
    driver: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # F9: at 390 px each row of the best-configuration table was 461 px tall with its rationale scrolled out
    # of view, and every figure was a ~1000 px PNG shrunk to ~296 px (its text ~3 px high)
    run = tmp_path_factory.mktemp("phone")
    shutil.copytree(FIXTURES / "tune", run, dirs_exist_ok=True)
    page = build_report(run, strict=True)
    try:
        _at_width(driver, 390, True)
        _open(driver, page)
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
        rows = driver.execute_script(
            """const t = document.querySelector('#best-config table.stack');
            return Array.from(t.tBodies[0].rows).map(r => {
              const b = r.getBoundingClientRect(), why = r.cells[3].getBoundingClientRect();
              const cells = Array.from(r.cells).reduce((s, c) => s + c.getBoundingClientRect().height, 0);
              return [r.cells[0].textContent, b.height, why.left, why.right, why.width, cells];
            });"""
        )
        assert rows and all(left >= 0 and right <= 390 for _, _, left, right, *_ in rows), rows
        # each row is a block: its cells one under the other (their heights add up to the row's, where side
        # by side each would be the row's full height), the rationale the full width, not a 151-px column
        assert all(width > 300 or width == 0 for *_, width, _ in rows), rows
        assert all(cells <= height + 2 for _, height, *_, cells in rows), rows
        figs = driver.execute_script(
            """return Array.from(document.querySelectorAll('figure img')).map(i => [
              i.clientWidth, i.naturalWidth, i.parentElement.clientWidth, i.parentElement.scrollWidth]);"""
        )
        assert figs
        for shown, natural, box, scroll in figs:
            assert shown == natural, figs  # drawn at its size: text as drawn, ~12 px
            assert box <= 390 and (scroll > box or natural <= box), figs  # the strip scrolls, not the page
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "report-phone.png"))
        # the desktop view is as before: columns with a header row, figures fitted to the card
        _at_width(driver, 1280, False)
        _open(driver, page)
        head = driver.execute_script(
            "return getComputedStyle(document.querySelector('#best-config thead')).display"
        )
        assert head == "table-header-group"
        fitted = driver.execute_script(
            """return Array.from(document.querySelectorAll('figure img')).map(i =>
              i.getBoundingClientRect().width <= i.closest('section').getBoundingClientRect().width);"""
        )
        assert fitted and all(fitted)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_tour_nav_wraps_cleanly_at_desktop_width(
    driver: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # at 1280 px the bar of the demo's step titles broke "...successive / halving" across two ragged lines
    from rich.console import Console

    from hyperselect.demo import DEMO_STEPS, DemoContext, step_report

    root = tmp_path_factory.mktemp("tour")
    kinds = {"digits": "train", "mnist1d": "train", "tune": "tune", "verdict": "compare", "graph": "graph"}
    ctx = DemoContext(quick=True, out=root, console=Console(quiet=True))
    for step, kind in kinds.items():
        shutil.copytree(FIXTURES / kind, root / step)
        ctx.results[step] = {"parts": [{"folder": step, "data": step, "what": kind}]}
    page = Path(step_report(ctx)["report"])
    assert len([s for s in DEMO_STEPS if s.name in kinds]) == 5
    try:
        _at_width(driver, 1280, False)
        _open(driver, page)
        links = driver.execute_script(
            """return Array.from(document.querySelectorAll('nav a')).map(a => {
              const r = a.getBoundingClientRect();
              return [a.textContent, r.left, r.top, r.right, r.height, a.getClientRects().length];});"""
        )
        assert [text for text, *_ in links][:2] == ["The tour", "Step 1: digits"] and len(links) == 6
        assert all(rects == 1 for *_, rects in links), links  # no link broken over two lines
        assert len({round(top) for _, _, top, *_ in links}) == 1, links  # one row at this width
        assert max(right for _, _, _, right, *_ in links) <= 1280 - 32
        lefts = [left for _, left, *_ in links]
        rights = [right for _, _, _, right, *_ in links]
        gaps = [b - a for a, b in zip(rights, lefts[1:], strict=False)]
        assert all(g >= 12 for g in gaps), gaps  # apart by the bar's gap, not glued
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "report-tour.png"))
        # on a phone the bar scrolls sideways in one row
        _at_width(driver, 390, True)
        _open(driver, page)
        tops = driver.execute_script(
            "return Array.from(document.querySelectorAll('nav a')).map(a => a.getBoundingClientRect().top)"
        )
        assert len({round(t) for t in tops}) == 1
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
