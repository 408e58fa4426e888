"""The HTML report in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver`` packages, driven by Selenium).

The page must render with no severe console errors, every image must load, and it must print.
Both the single-run report and the comparison report (four options with long names) must fit
a laptop's 1,366-pixel window and a phone's 390-pixel screen with no sideways scrolling of the
page (wide tables and figures scroll inside their own boxes), and on the phone every figure
must be shown at least at its legible width.
Screenshots are saved under the test's ``tmp_path``. Without Chromium the test fails, saying
how to install it (``make test`` installs it when run as root): it is never skipped.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reporttools import (
    REPO,
    add_capacity_test,
    copy_results,
    run_ok,
    small_comparison,
    small_scenario,
)

from rjsim.report.build import build_report

INSTALL = ("apt-get install -y --no-install-recommends chromium chromium-driver (as root; "
           "'make test' does it)")


def _driver(width: int, height: int, phone: bool = False) -> Any:
    """A headless Chromium WebDriver that keeps the browser's console log (``phone``:
    emulate a phone's viewport of ``width`` CSS pixels, narrower than a window can be)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: pip install -e '.[dev]'")
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.fail(f"the browser test needs chromium and chromedriver on PATH: {INSTALL}")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if phone:
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {
            "width": width, "height": height, "pixelRatio": 2.0}})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real two-area report with a (made-up) capacity test, so the map is embedded too."""
    tmp = tmp_path_factory.mktemp("browser")
    scenario = small_scenario(tmp, "browser_run")
    run_ok("run", str(scenario), "--years", "1.5", "--replications", "2", "--no-cache",
           "--workers", "1", "--no-report", "-q", "--out", str(tmp / "run"), cwd=REPO)
    out = copy_results(tmp / "run", tmp / "out")
    add_capacity_test(out)
    return build_report(out)


@pytest.fixture
def chromium() -> Iterator[Any]:
    driver = _driver(1280, 900)
    try:
        yield driver
    finally:
        driver.quit()


def _load(driver: Any, page: Path) -> None:
    driver.get(page.as_uri())
    driver.execute_script("return document.readyState")  # waits for the load to finish
    assert driver.execute_script("return document.readyState") == "complete"


@pytest.mark.slow
def test_report_renders_in_chromium(report: Path, chromium: Any, tmp_path: Path) -> None:
    _load(chromium, report)
    assert chromium.title.startswith("Restorative justice capacity")
    images = chromium.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
    assert len(images) == 6  # five figures and the capacity map
    broken = [alt for alt, complete, width in images if not complete or width <= 0]
    assert not broken, f"images that did not load: {broken}"
    severe = [e for e in chromium.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, f"console errors: {severe}"
    height = chromium.execute_script("return document.documentElement.scrollHeight")
    chromium.set_window_size(1280, min(int(height), 16_000))
    shot = tmp_path / "report.png"
    assert chromium.save_screenshot(str(shot)) and shot.stat().st_size > 50_000
    pdf = base64.b64decode(chromium.print_page())
    assert pdf[:5] == b"%PDF-" and len(pdf) > 50_000
    (tmp_path / "report.pdf").write_bytes(pdf)


@pytest.mark.slow
def test_report_fits_a_phone_screen(report: Path, tmp_path: Path) -> None:
    phone = _driver(390, 844, phone=True)
    try:
        _load(phone, report)
        page_width, screen_width = phone.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        assert screen_width == 390
        assert page_width <= screen_width, "the page scrolls sideways on a phone"
        boxes = phone.execute_script(
            "return Array.from(document.querySelectorAll('.scroll'))"
            ".filter(b => b.scrollWidth > b.clientWidth).length")
        assert boxes > 0  # wide tables scroll inside their own boxes instead
        assert phone.save_screenshot(str(tmp_path / "phone.png"))
    finally:
        phone.quit()


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real comparison report of four shipped options with long names."""
    return small_comparison(tmp_path_factory.mktemp("browser_cmp")) / "report.html"


LAPTOP, PHONE = (1366, 768), (390, 844)


@pytest.mark.slow
@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["1366px", "390px"])
@pytest.mark.parametrize("which", ["single-run", "comparison"])
def test_reports_fit_laptop_and_phone(which: str, size: tuple[int, int], report: Path,
                                      comparison: Path, tmp_path: Path) -> None:
    page = report if which == "single-run" else comparison
    driver = _driver(*size, phone=size == PHONE)
    try:
        _load(driver, page)
        page_width, screen_width = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        assert screen_width == size[0]
        assert page_width <= screen_width, f"{which} report scrolls sideways at {size[0]} px"
        # nothing sticks out of the page: every element ends within the screen's width,
        # except inside a box that scrolls on its own
        outside = driver.execute_script(
            "const w = window.innerWidth; return Array.from(document.querySelectorAll("
            "'main *')).filter(e => !e.closest('.scroll, .fig'))"
            ".filter(e => e.getBoundingClientRect().right > w + 1)"
            ".map(e => e.tagName + ' ' + (e.textContent || '').slice(0, 40))")
        assert outside == []
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, "
            "i.getBoundingClientRect().width, parseFloat(getComputedStyle(i.parentElement)"
            ".getPropertyValue('--legible'))])")
        assert images and all(ok and natural > 0 for _, ok, natural, _, _ in images)
        if size == PHONE:  # shown no narrower than legible, scrolling in its own box
            small = [alt for alt, _, _, shown, legible in images if shown < legible - 1]
            assert not small, f"figures shrunk below their legible width: {small}"
        severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not severe, f"console errors: {severe}"
        assert driver.save_screenshot(str(tmp_path / f"{which}_{size[0]}.png"))
    finally:
        driver.quit()
