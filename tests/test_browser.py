"""The site in a real browser: headless Chromium (Debian's `chromium` with its `chromedriver`) driven
by Selenium against `carnk-graph serve`, as a researcher would use it.

Screenshots of each step are written to $CARNK_SCREENSHOTS when it is set (the README's command:
`CARNK_SCREENSHOTS=dist/screenshots python -m pytest -q -m slow tests/test_browser.py`), else to a
temporary folder.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from site_helpers import Served

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
#: Flags that keep a headless Chromium from reaching the network or needing a display or a sandbox.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1600")


@pytest.fixture(scope="module")
def server(built, project_root, tmp_path_factory):
    s = Served(project_root, built.dist, tmp_path_factory.mktemp("browser") / "stdout.txt")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    target = Path(os.environ.get("CARNK_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("Chromium or chromedriver missing (apt-get install chromium chromium-driver; .ci/run does)")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="carnk-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, css: str, timeout: float = 30.0, count: int = 1):
    """Elements matching `css` once at least `count` of them are there."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        lambda d: (lambda found: found if len(found) >= count else False)(d.find_elements(By.CSS_SELECTOR, css)))


def test_a_researcher_finds_the_liu_study_its_construct_and_runs_a_question(server, browser, shots):
    from selenium.webdriver.common.by import By

    # the home page, and the search box over the prebuilt index
    browser.get(server.base + "/index.html")
    assert "What the graph holds" in browser.page_source
    box = browser.find_element(By.ID, "search-box")
    box.send_keys("cord blood")
    hits = wait_for(browser, "#search-results li a")
    browser.save_screenshot(str(shots / "1-search.png"))
    study = [a for a in hits if "NCT03056339" in a.text]
    assert study, [a.text for a in hits]
    assert hits.index(study[0]) < 5, "the trial is listed before the facts about it"

    # the Liu et al. 2020 study page: its outcome table and its sources
    study[0].click()
    wait_for(browser, "article.entity")
    assert browser.current_url.endswith("/kg/nct03056339.html")
    tables = [t for t in browser.find_elements(By.CSS_SELECTOR, "section.facts")
              if t.find_elements(By.CSS_SELECTOR, 'tbody a[href*="liu2020-outcome-"]')]
    assert tables, "no outcome table on the study page"
    rows = tables[0].find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) >= 2
    assert any("Liu et al. 2020" in r.text for r in rows)
    doi = browser.find_elements(By.CSS_SELECTOR, 'a[href="https://doi.org/10.1056/NEJMoa1910607"]')
    assert doi and doi[0].is_displayed() is not None
    browser.execute_script("arguments[0].scrollIntoView()", tables[0])
    browser.save_screenshot(str(shots / "2-study.png"))

    # follow the link to the construct and see its diagram
    construct = browser.find_element(By.CSS_SELECTOR, 'section.programme a[href$="liu2020-car.html"]')
    construct.click()
    figure = wait_for(browser, "#construct-diagram svg")[0]
    assert figure.is_displayed() and figure.size["width"] > 200
    assert len(browser.find_elements(By.CSS_SELECTOR, "#construct-diagram g.domain")) >= 3
    browser.execute_script("arguments[0].scrollIntoView()", figure)
    browser.save_screenshot(str(shots / "3-construct.png"))

    # a saved question from the question page, run on the server, answered as a table
    browser.get(server.base + "/browse/query.html")
    form = browser.find_element(By.CSS_SELECTOR, 'form[data-name="study-outcomes-by-source"]')
    browser.execute_script("arguments[0].scrollIntoView()", form)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    answer = wait_for(browser, "#answer-study-outcomes-by-source table.results tbody tr")
    assert len(answer) >= 2
    assert "complete response" in browser.find_element(By.ID, "answer-study-outcomes-by-source").text
    browser.save_screenshot(str(shots / "4-question.png"))


def test_the_programmes_table_sorts_by_a_column(server, browser, shots):
    from selenium.webdriver.common.by import By

    browser.get(server.base + "/browse/programmes.html")
    heads = browser.find_elements(By.CSS_SELECTOR, "table.sortable thead th")
    phase = next(h for h in heads if h.text.strip() == "phase")
    phase.click()
    assert phase.get_attribute("aria-sort") == "ascending"
    browser.save_screenshot(str(shots / "5-programmes.png"))


def test_the_site_opened_from_disk_searches_without_a_server(server, browser):
    """The search index is a script beside the pages: it works from file:// too."""
    from selenium.webdriver.common.by import By

    site = Path(server.proc.args[server.proc.args.index("--dist") + 1]) / "site"
    browser.get((site / "index.html").as_uri())
    browser.find_element(By.ID, "search-box").send_keys("GvHD")
    hits = wait_for(browser, "#search-results li a")
    assert any("graft-versus-host disease" in a.text for a in hits)
