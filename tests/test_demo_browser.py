"""``meldbot demo`` in a real browser: headless Chromium, as someone trying meldbot would use it.

The demo runs as its own process, started exactly as the README says (``meldbot demo``);
Selenium drives Debian's chromium and chromium-driver (``.ci/run`` installs them). A
reporter files a whole report on her phone (with a photo from the computer), the
counsellor acknowledges it on hers, and the reporter's phone shows that. Once on a
phone-sized screen in Dutch, once on a wide screen in English.
"""

from __future__ import annotations

import html
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

import messages

pytestmark = pytest.mark.e2e

WAIT = 20  # seconds; every wait ends as soon as its condition holds
MARKUP = '<b>je bent gewaarschuwd</b> <img src=x onerror="document.title=1">'
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(autouse=True)
def _browser_installed() -> None:
    """A missing browser fails these tests with the command that installs it (never a silent skip)."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.fail(
            "the browser test needs Debian's chromium and chromium-driver: "
            "apt-get install -y --no-install-recommends chromium chromium-driver",
            pytrace=False,
        )


@pytest.fixture
def demo_url(tmp_path) -> Iterator[str]:
    """``meldbot demo`` as its own process; stopped with Ctrl-C, after which its data must be gone."""
    command = [sys.executable, "-m", "bot.cli", "demo", "--port", "0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=Path(__file__).parents[1]
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "removed when you stop" in line:
            break
    output = "".join(lines)
    url = re.search(r"http://127\.0\.0\.1:\d+/", output)
    folder = re.search(r"demo data in (\S+) is removed", output)
    assert url and folder, output
    try:
        yield url.group(0)
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output + rest
    assert "its data is gone" in rest
    assert not Path(folder.group(1)).exists()


def chromium(tmp_path: Path, width: int, height: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # With the driver named, Selenium never looks for one on the internet.
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def heading(language: str, key: str) -> str:
    """The bold first words of a catalogue text, as the phone shows them."""
    found = re.search(r"<b>(.*?)</b>", messages.catalogue(language)[key], re.S)
    assert found is not None
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


class DemoPage:
    """The demo page as a person uses it: phones, their buttons, their keyboards."""

    def __init__(self, driver: webdriver.Chrome, url: str) -> None:
        self.driver = driver
        self.url = url

    def until(self, condition: Callable[[], object], what: str) -> object:
        def attempt(_: object) -> object:
            try:
                return condition()
            except StaleElementReferenceException:  # a chat redrawn under our hands: look again
                return None

        return WebDriverWait(self.driver, WAIT).until(attempt, message=what)

    def phone(self, key: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, f'[data-phone="{key}"]')

    def bot_texts(self, key: str) -> list[str]:
        return [m.text for m in self.phone(key).find_elements(By.CSS_SELECTOR, ".msg.bot .text")]

    def wait_for_text(self, key: str, fragment: str) -> str:
        def found() -> str | None:
            return next((text for text in reversed(self.bot_texts(key)) if fragment in text), None)

        return str(self.until(found, f"no message with {fragment!r} on {key}'s phone"))

    def press(self, key: str, label: str) -> None:
        """Press the newest inline button with this label on this phone."""

        def clicked() -> bool:
            buttons = [
                b
                for b in self.phone(key).find_elements(By.CSS_SELECTOR, ".keyboard button.key")
                if b.text == label and b.is_enabled()
            ]
            if not buttons:
                return False
            buttons[-1].click()
            return True

        self.until(clicked, f"no button {label!r} on {key}'s phone")

    def type(self, key: str, text: str) -> None:
        box = self.phone(key).find_element(By.CSS_SELECTOR, ".composer textarea")
        box.send_keys(text, Keys.ENTER)

    def attach(self, key: str, path: Path) -> None:
        self.phone(key).find_element(By.CSS_SELECTOR, ".composer input[type=file]").send_keys(str(path))

    def open_tab(self, key: str) -> None:
        self.driver.find_element(By.CSS_SELECTOR, f'[data-tab="{key}"]').click()
        self.until(lambda: self.phone(key).is_displayed(), f"{key}'s phone does not show")

    def file_report(self, key: str, language: str, photo: Path, description: str) -> str:
        """A reporter's whole report, button by button; returns its reference."""
        self.until(lambda: self.phone(key).find_element(By.CSS_SELECTOR, ".start").is_displayed(), "no START")
        self.phone(key).find_element(By.CSS_SELECTOR, ".start").click()
        self.wait_for_text(key, "112")
        self.press(key, messages.plain(language, "button.report"))
        self.wait_for_text(key, heading(language, "ask.forms"))
        self.press(key, messages.plain(language, "forms.threat"))
        self.wait_for_text(key, heading(language, "ask.when"))
        self.press(key, messages.plain(language, "when.today"))
        self.wait_for_text(key, heading(language, "ask.channel"))
        self.press(key, messages.plain(language, "channel.in_person"))
        self.wait_for_text(key, heading(language, "ask.description"))
        self.attach(key, photo)
        self.until(lambda: self.phone(key).find_elements(By.CSS_SELECTOR, ".msg.me .media img"), "no photo shown")
        self.wait_for_text(key, messages.plain(language, "attachment.kept", {"count": 1, "max": 1}).split("(")[0])
        self.type(key, description)
        self.wait_for_text(key, heading(language, "ask.perpetrator"))
        self.press(key, messages.plain(language, "perpetrator.citizen_unnamed"))
        self.wait_for_text(key, heading(language, "ask.role"))
        self.press(key, messages.plain(language, "role.employee"))
        self.wait_for_text(key, heading(language, "ask.work_process"))
        self.press(key, messages.plain(language, "work_process.skip"))
        self.wait_for_text(key, heading(language, "ask.wish"))
        self.press(key, messages.plain(language, "wish.counsellor"))
        self.wait_for_text(key, heading(language, "summary"))
        self.press(key, messages.plain(language, "button.confirm"))
        confirmation = self.wait_for_text(key, heading(language, "submitted"))
        found = re.search(r"MB-[0-9A-Z]{4}-[0-9A-Z]{4}", confirmation)
        assert found is not None, confirmation
        return found.group(0)

    def acknowledge(self, reference: str) -> None:
        self.wait_for_text("counsellor", reference)
        self.press("counsellor", messages.plain("nl", "staff.button.acknowledge"))

    def assert_no_browser_errors(self) -> None:
        """Nothing refused by the page's security policy, no script errors, nothing that failed to load."""
        try:
            entries = self.driver.get_log("browser")
        except WebDriverException:
            entries = []
        assert [e["message"] for e in entries if e["level"] == "SEVERE"] == []


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "kras-op-de-auto.png"
    path.write_bytes(PNG)
    return path


def test_on_a_phone_sized_screen_a_report_is_filed_and_acknowledged(demo_url, tmp_path, photo):
    driver = chromium(tmp_path, 390, 844)
    try:
        page = DemoPage(driver, demo_url)
        driver.get(demo_url)
        page.until(lambda: page.phone("reporter").is_displayed(), "the reporter's phone does not show")
        assert not page.phone("counsellor").is_displayed()  # one phone at a time, chosen with tabs
        reference = page.file_report("reporter", "nl", photo, f"Hij riep {MARKUP}")

        page.open_tab("counsellor")
        page.acknowledge(reference)
        # What a reporter types is shown as the text it is, on every phone: never as markup.
        page.wait_for_text("counsellor", MARKUP)
        assert driver.find_elements(By.CSS_SELECTOR, ".text b, .text img") == []
        assert driver.title == "meldbot demo"
        page.until(
            lambda: page.phone("counsellor").find_elements(By.CSS_SELECTOR, ".msg.bot .media img"),
            "the counsellor does not see the photo",
        )
        page.open_tab("reporter")
        told = page.wait_for_text("reporter", "gelezen")
        assert reference in told
        driver.save_screenshot(str(tmp_path / "demo-phone.png"))
        page.assert_no_browser_errors()
    finally:
        driver.quit()


def test_in_english_on_a_wide_screen_an_english_speaking_reporter_is_added_and_heard(demo_url, tmp_path, photo):
    driver = chromium(tmp_path, 1500, 950)
    try:
        page = DemoPage(driver, demo_url)
        driver.get(demo_url + "?lang=en")
        page.until(lambda: driver.find_element(By.ID, "clock-label").text == "Time in the demo", "not in English")
        assert driver.find_element(By.ID, "add-label").text == "Add a phone"
        assert page.phone("counsellor").is_displayed() and page.phone("coordinator").is_displayed()
        Select(driver.find_element(By.ID, "add-phone")).select_by_value("english_reporter")
        page.until(lambda: page.phone("english_reporter").is_displayed(), "Emma's phone was not added")
        reference = page.file_report("english_reporter", "en", photo, "He said he would wait for me at the car park.")

        page.acknowledge(reference)
        told = page.wait_for_text("english_reporter", "has read your report")
        assert reference in told
        driver.save_screenshot(str(tmp_path / "demo-wide-en.png"))
        page.assert_no_browser_errors()
    finally:
        driver.quit()
