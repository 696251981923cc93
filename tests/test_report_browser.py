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

    # every section is there, the verdict first
    ids = driver.execute_script(
        "return Array.from(document.querySelectorAll('main > section')).map(s => s.id)"
    )
    assert ids[0] == "verdict"
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
