"""The pages in real headless Chromium (Debian's chromium + chromedriver, driven by Selenium) against a real
`kb serve` process: search with filters, open a record, follow a similar practice, switch language, embed the
widget in a course page, and a curator accepting a suggested tag. A screenshot of each page lands in
tests/web/screenshots/."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.api.test_concurrency import start_server
from tests.conftest import API_KEY, DATA

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = Path(__file__).parent / "screenshots"

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them: apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def server(settings_factory, embedder, tagger):
    """A real uvicorn process over its own copy of tests/data (the staff test writes to it)."""
    from api.service import KnowledgeBase

    settings = settings_factory()
    kb = KnowledgeBase(settings, embedder)
    kb.ingest([DATA])
    kb.close()
    process, base = start_server(settings.data_dir)
    yield base
    process.terminate()
    process.wait(30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}", "--lang=en-US"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    SHOTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def follow(browser, element) -> None:
    """Click a link or button and wait until the next page has replaced this one (the old element is gone:
    chromedriver says so with a stale-element error, or during navigation with another WebDriverException)."""
    from selenium.common.exceptions import WebDriverException

    element.click()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            element.is_enabled()
        except WebDriverException:
            return
        time.sleep(0.05)
    raise AssertionError("the page did not change after the click")


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_search_filter_open_record_follow_similar_and_switch_language(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("women's safety in public space")
    follow(browser, browser.find_element(By.CSS_SELECTOR, ".searchbox button"))
    assert "records" in browser.find_element(By.ID, "total").text
    follow(browser, browser.find_element(By.CSS_SELECTOR, 'a[data-sdg="5"]'))  # a facet: the URL now carries the filter
    assert "sdg=5" in browser.current_url and "q=women" in browser.current_url
    titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".card h3 a")]
    assert "Marches exploratoires de sécurité" in titles
    shot(browser, "search")

    follow(browser, browser.find_element(By.LINK_TEXT, "Marches exploratoires de sécurité"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Marches exploratoires de sécurité"
    assert "/record/montreal-marches-exploratoires" in browser.find_element(By.ID, "citation").text
    shot(browser, "record")

    similar = browser.find_elements(By.CSS_SELECTOR, ".similar .card h3 a")
    assert similar, "comparable practices are listed"
    target = similar[0].text
    follow(browser, similar[0])
    assert browser.find_element(By.TAG_NAME, "h1").text == target and "/record/" in browser.current_url

    follow(browser, browser.find_element(By.ID, "ui-fr"))
    assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "fr"
    assert "Vue d'ensemble" in browser.find_element(By.CSS_SELECTOR, "header").text
    browser.get(server + "/overview")  # the choice sticks (cookie)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Vue d'ensemble"
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 4
    shot(browser, "overview_fr")
    browser.get(server + "/?ui=en")


def test_widget_embedded_in_a_course_page(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    course = tmp_path / "course.html"
    course.write_text(
        "<!doctype html><html><body><h1>Module 4: gender-responsive public space</h1>"
        f'<script src="{server}/static/embed.js" data-q="women\'s safety in public space" data-sdg="5" data-limit="3"></script>'
        "</body></html>"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{site.server_address[1]}/course.html")
        frame = browser.find_element(By.TAG_NAME, "iframe")
        shot(browser, "widget")
        browser.switch_to.frame(frame)
        links = browser.find_elements(By.CSS_SELECTOR, ".card h3 a")
        assert 1 <= len(links) <= 3
        assert all(a.get_attribute("href").startswith(server + "/record/") and a.get_attribute("target") == "_blank" for a in links)
        browser.switch_to.default_content()
    finally:
        site.shutdown()


def test_curator_signs_in_and_accepts_a_suggested_tag(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server + "/staff")
    browser.find_element(By.ID, "key").send_keys(API_KEY)
    follow(browser, browser.find_element(By.ID, "sign-in"))
    assert browser.find_element(By.ID, "awaiting").text
    shot(browser, "review_queue")
    follow(browser, browser.find_elements(By.CSS_SELECTOR, ".queue a")[0])
    pending = browser.find_elements(By.CSS_SELECTOR, ".suggestion button.accept")
    assert pending, "the first record in the queue has a pending suggestion"
    box = pending[0].find_element(By.XPATH, "./ancestor::div[@class='suggestion']")
    box_id = box.get_attribute("id")
    assert box.find_elements(By.CSS_SELECTOR, ".evidence li"), "evidence sentences are shown"
    shot(browser, "staff_record")
    follow(browser, pending[0])
    assert browser.find_element(By.CSS_SELECTOR, f"#{box_id} .status").text == "accepted"
    assert "KB_API_KEYS #1" in browser.find_element(By.ID, "history").text
    browser.delete_all_cookies()
