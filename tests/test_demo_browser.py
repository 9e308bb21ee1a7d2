"""The demo page in a real headless browser: `support-bridge demo` as a program, driven with
Selenium and the system's Chromium (`apt-get install chromium chromium-driver`).

Without selenium, chromium or chromedriver these tests are skipped and say which is missing;
CI sets DEMO_BROWSER_REQUIRED=1, which turns that skip into a failure. Every wait is on a
condition of the page, never a fixed sleep. A screenshot of the three panes is saved after each
test (into the pytest temporary folder, printed at the end); DEMO_SCREENSHOT=docs/demo.png
also writes the one the README shows.
"""

from __future__ import annotations

import importlib.util
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.faq.catalog import FaqCatalog
from tests.harness import ON_POSTGRES, SOURCE_ROOT

PROGRAM = str(Path(sys.executable).parent / "support-bridge")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
REQUIRED = os.environ.get("DEMO_BROWSER_REQUIRED") == "1"
WAIT_SECONDS = 30


def _missing() -> str | None:
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (it is in the dev extra: pip install -e '.[dev]')"
    if CHROMIUM is None:
        return "chromium is not installed (apt-get install chromium chromium-driver)"
    if CHROMEDRIVER is None:
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


MISSING = _missing()
pytestmark = [
    pytest.mark.skipif(
        MISSING is not None and not REQUIRED, reason=f"the browser tests need a browser: {MISSING}"
    ),
    pytest.mark.skipif(ON_POSTGRES, reason="the demo has a SQLite database of its own"),
]
TYPED: list[str] = []  # everything typed as a customer: none of it may reach the demo's log


def typed(text: str) -> str:
    """Words a test types (each test its own; the demo starts afresh for every run)."""
    TYPED.append(text)
    return text


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`support-bridge demo --port 0` as a program; its URL, read from its one line."""
    if MISSING is not None:
        pytest.fail(f"DEMO_BROWSER_REQUIRED=1 but {MISSING}")
    workdir = tmp_path_factory.mktemp("demo-browser")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": SOURCE_ROOT,
        "HOME": str(workdir),
        "TIMEZONE": "Europe/Kyiv",
        "WORKING_HOURS": "mon-fri 08:00-18:00",
        "RATE_LIMIT_CHAT_PER_SECOND": "0",  # pacing is tested elsewhere; here it only slows
        "RATE_LIMIT_GROUP_PER_MINUTE": "0",
        "RATE_LIMIT_GLOBAL_PER_SECOND": "0",
    }
    log = workdir / "demo.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own program
            [PROGRAM, "demo", "--port", "0"],
            env=env,
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as waiting:
            waiting.register(process.stdout, selectors.EVENT_READ)
            assert waiting.select(timeout=60), "the demo printed no URL within 60 s"
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, f"no URL in {line!r}; its log:\n{log.read_text()[-3000:]}"
        yield found.group(0)
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
    assert status == 0
    lines = log.read_text(errors="replace").splitlines()
    leaks = [line for line in lines if any(text in line for text in TYPED)]
    assert leaks == [], "the demo logged what customers wrote"


@pytest.fixture(scope="module")
def browser(demo_url: str) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1600,1000",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.get(demo_url)
        page = Page(driver)
        page.until(lambda: driver.find_element("tag name", "body").get_attribute("data-ready"))
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-screenshots")


@pytest.fixture
def page(browser: Any, screenshots: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield Page(browser)
    shot = screenshots / f"{request.node.name}.png"
    browser.save_screenshot(str(shot))
    print(f"screenshot: {shot}")


class Page:
    """The demo page, found by its ids and labels, as a person would use it."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def until(self, condition: Callable[[], Any], within: float = WAIT_SECONDS) -> Any:
        from selenium.common.exceptions import (
            NoSuchElementException,
            StaleElementReferenceException,
        )
        from selenium.webdriver.support.ui import WebDriverWait

        ignored = (NoSuchElementException, StaleElementReferenceException)
        wait = WebDriverWait(self.driver, within, poll_frequency=0.1, ignored_exceptions=ignored)
        return wait.until(lambda _: condition())

    def text(self, element_id: str) -> str:
        return str(self.driver.find_element("id", element_id).text)

    def shows(self, element_id: str, words: str) -> None:
        self.until(lambda: words in self.text(element_id))

    def type_into(self, element_id: str, words: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box = self.driver.find_element("id", element_id)
        box.clear()
        box.send_keys(words + Keys.ENTER)
        self.until(lambda: box.get_attribute("value") == "")  # sent: the box is empty again

    def press(self, region_id: str, label: str, *, last: bool = True) -> None:
        """Press the button whose text starts with `label` in a region (the newest one)."""

        def pressed() -> bool:
            buttons = [
                b
                for b in self.driver.find_elements("css selector", f"#{region_id} button")
                if b.text.strip().startswith(label)
            ]
            if not buttons:
                return False
            (buttons[-1] if last else buttons[0]).click()
            return True

        self.until(pressed)

    def open_topic(self, name: str) -> None:
        """Pick the topic naming `name` in the list (until the page shows it picked)."""

        def picked() -> bool:
            for button in self.driver.find_elements("css selector", "#topics button"):
                if name in button.text:
                    if button.get_attribute("aria-pressed") == "true":
                        return True
                    button.click()
                    return False
            return False

        self.until(picked)

    def show_tab(self, name: str) -> None:
        """Pick a tab of the Telegram pane ("bot" or "business") with the keyboard."""
        from selenium.webdriver.common.keys import Keys

        tab = self.driver.find_element("id", f"tab-{name}")
        tab.send_keys(Keys.SPACE)
        self.until(lambda: tab.get_attribute("aria-selected") == "true")
        self.until(lambda: self.driver.find_element("id", f"panel-{name}").is_displayed())

    def count(self, element_id: str, words: str) -> int:
        return self.text(element_id).count(words)

    def set_value(self, element_id: str, value: str) -> None:
        element = self.driver.find_element("id", element_id)
        self.driver.execute_script("arguments[0].value = arguments[1]", element, value)

    def clock_to(self, weekday: str, wall: str, *, is_open: bool) -> None:
        """Move the bridge's clock with the page's control, to the next `weekday` at `wall`."""
        from selenium.webdriver.support.ui import Select

        Select(self.driver.find_element("id", "jump-day")).select_by_value(weekday)
        self.set_value("jump-time", wall)
        self.driver.find_element("id", "jump-go").click()
        self.until(lambda: self.text("clock-now").startswith(weekday.title()))
        self.until(lambda: self.text("clock-open").startswith("open" if is_open else "closed"))


def topic_name(page: Page, customer: str) -> None:
    """Wait until the topic list names the customer."""
    page.until(lambda: customer in page.text("topics"))


def test_the_page_loads_with_its_three_panes(page: Page) -> None:
    assert page.driver.title == "support-bridge demo"
    headings = [h.text for h in page.driver.find_elements("css selector", "main h2")]
    assert [h.split(" ·")[0] for h in headings] == ["Telegram", "Viber", "Operators' group"]
    boxes = ("telegram-text", "viber-text", "operator-text", "telegram-file", "jump-time")
    for box in (*boxes, "business-text", "business-file", "owner-text"):
        label = page.driver.find_element("css selector", f"label[for='{box}']")
        assert label.get_attribute("textContent").strip()  # the business tab's are hidden
    for button in page.driver.find_elements("css selector", ".new-customer"):
        assert "customer" in button.get_attribute("aria-label")
    # the Viber customer opened the chat: the bot's welcome with its keyboard
    page.until(lambda: "Talk to an operator" in page.text("viber-keyboard"))
    assert re.search(r"\d\d:\d\d \(Europe/Kyiv\)", page.text("clock-now"))


def test_a_customers_message_appears_in_a_new_topic(page: Page) -> None:
    page.clock_to("wed", "10:00", is_open=True)  # whatever day it is: operators at work
    words = typed("My car was scratched in the car park")
    page.type_into("telegram-text", words)
    topic_name(page, "Olha Kovalenko")
    page.open_topic("Olha Kovalenko")
    page.shows("topic-chat", words)
    page.until(lambda: "🙋 Take" in page.text("topic-chat"))  # the card with its buttons
    assert "Platform: Telegram" in page.text("topic-chat")


def test_an_operators_answer_reaches_the_customers_pane(page: Page) -> None:
    question = typed("Do you cover hail damage")
    page.type_into("viber-text", question)
    topic_name(page, "Mykola Shevchuk · Viber")
    page.open_topic("Mykola Shevchuk · Viber")
    page.shows("topic-chat", question)
    answer = typed("Yes, hail is covered by the full policy")
    page.type_into("operator-text", answer)
    page.shows("viber-chat", answer)

    words = typed("Where do I send the photos")
    page.type_into("telegram-text", words)
    page.open_topic("Olha Kovalenko")
    page.shows("topic-chat", words)
    answer = typed("Send them right here in this chat")
    page.type_into("operator-text", answer)
    page.shows("telegram-chat", answer)
    screenshot = os.environ.get("DEMO_SCREENSHOT")
    if screenshot:
        page.driver.save_screenshot(screenshot)


def test_faq_buttons_work_on_both_panes(page: Page) -> None:
    claims = next(c for c in FaqCatalog.shipped().categories if c.id == "claims")
    entry = claims.entries[0]
    answer_start = entry.answer.en.split("\n")[0][:40]

    page.type_into("telegram-text", "/start")
    page.until(lambda: claims.title.en in page.text("telegram-chat"))
    before = page.count("telegram-chat", answer_start)
    page.press("telegram-chat", claims.title.en)
    page.press("telegram-chat", entry.question.en[:20])
    page.until(lambda: page.count("telegram-chat", answer_start) > before)

    before = page.count("viber-chat", answer_start)
    page.press("viber-keyboard", claims.title.en)
    page.press("viber-keyboard", entry.question.en[:20])
    page.until(lambda: page.count("viber-chat", answer_start) > before)


def test_in_progress_close_and_rating(page: Page) -> None:
    words = typed("Is my claim being handled yet")
    page.type_into("telegram-text", words)
    page.open_topic("Olha Kovalenko")
    page.shows("topic-chat", words)
    page.press("topic-chat", "⏳ In progress", last=False)
    page.until(lambda: "We're looking into your question" in page.text("telegram-chat"))
    page.press("topic-chat", "🔒 Close", last=False)
    page.until(lambda: "Please rate how we helped you" in page.text("telegram-chat"))
    page.press("telegram-chat", "5⭐")
    page.shows("telegram-chat", "Thank you for the rating!")


def test_the_clock_control_triggers_an_offline_reply(page: Page) -> None:
    offline = "Our operators are offline now"
    page.clock_to("wed", "12:00", is_open=True)  # a working day first: a new offline period
    page.clock_to("sat", "20:00", is_open=False)
    before = page.count("telegram-chat", offline)
    page.type_into("telegram-text", typed("Hello, is anybody there on the weekend"))
    page.until(lambda: page.count("telegram-chat", offline) > before)


def test_a_business_customer_is_answered_from_the_account(page: Page, tmp_path: Path) -> None:
    page.show_tab("business")
    page.until(lambda: page.text("business-account") == "Olena (@insure_ua)")
    customer = page.text("business-who")
    words = typed("Is a broken side mirror covered by my policy")
    page.type_into("business-text", words)
    topic_name(page, customer)
    page.open_topic(customer)
    page.shows("topic-chat", words)
    page.until(lambda: "Platform: Telegram Business" in page.text("topic-chat"))

    receipt = tmp_path / "mirror-receipt.pdf"
    receipt.write_bytes(b"%PDF-1.4 a receipt")
    page.driver.find_element("id", "business-file").send_keys(str(receipt))
    page.driver.find_element("id", "business-send-file").click()
    page.shows("business-chat", "mirror-receipt.pdf")
    page.shows("topic-chat", "mirror-receipt.pdf")

    answer = typed("Yes, mirrors are covered; we will call you")
    page.type_into("operator-text", answer)
    page.shows("business-chat", answer)
    chat = page.text("business-chat")
    assert "Olena (@insure_ua)" in chat  # from the account
    assert "sent by the bot for the account" in chat
    page.until(lambda: "read ✓✓" in page.text("business-chat"))

    page.type_into("operator-text", "/close")
    page.press("business-chat", "5⭐")
    page.shows("business-chat", "Thank you for the rating!")
    page.shows("topic-chat", "rated the conversation")
    page.show_tab("bot")


def test_a_new_customer_opens_a_new_topic(page: Page) -> None:
    from selenium.webdriver.common.keys import Keys

    page.show_tab("bot")
    first = page.text("telegram-who")
    page.type_into("telegram-text", typed("Hello, I am the first customer"))
    topic_name(page, first)

    page.driver.find_element("id", "telegram-new").send_keys(Keys.ENTER)  # the keyboard works
    page.until(lambda: page.text("telegram-who") not in ("", first))
    second = page.text("telegram-who")
    page.shows("telegram-chat", "No messages yet")
    words = typed("I am new here and my windscreen cracked")
    page.type_into("telegram-text", words)
    topic_name(page, second)
    page.open_topic(second)
    page.shows("topic-chat", words)
    assert first in page.text("topics")  # the first customer's topic stays
    answer = typed("Welcome, we will replace it on Monday")
    page.type_into("operator-text", answer)
    page.shows("telegram-chat", answer)
