"""Web Chat in headless Debian Chromium against `btassist serve --demo`: for the browser test and
the card gallery (scripts/card_gallery.py).

Chromium and its driver come from Debian (`apt-get install chromium chromium-driver`), driven by
Selenium; nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tests.support.processes import free_port, wait_until_healthy

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = Path(__file__).resolve().parents[2]
WAIT = 15.0  # seconds for anything to show up; Web Chat polls every 0.5 s
T = TypeVar("T")


def course_title(code: str, language: str = "sv") -> str:
    """A course's title as the shipped catalogue names it (e.g. halland-forsakringsmedicin)."""
    catalogue = REPO / "src" / "btassist" / "courses" / "catalogue" / f"{code.split('-')[0]}.yaml"
    courses = yaml.safe_load(catalogue.read_text("utf-8"))["courses"]
    title: str = next(c for c in courses if c["code"] == code)["title"][language]
    return title


def missing_browser() -> str | None:
    """Why the browser cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


@dataclass
class Served:
    """A running `btassist serve --demo`: its address and everything it printed so far."""

    url: str
    output: Path


@contextmanager
def serve_demo(home: Path) -> Iterator[Served]:
    """`btassist serve --demo` as a real process on a free loopback port, with its own SQLite
    file in `home`; stopped afterwards."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("Microsoft", "BTASSIST_"))  # local mode, whatever the shell says
    }
    env |= {
        "BTASSIST_DATABASE_URL": f"sqlite:///{home / 'demo.db'}",
        "PYTHONPATH": str(REPO / "src"),
    }
    output = home / "serve.out"
    with (
        output.open("w") as sink,
        subprocess.Popen(
            [sys.executable, "-m", "btassist", "serve", "--demo", "--port", str(port)],
            cwd=home,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process,
    ):
        try:
            wait_until_healthy(process, port, timeout=60)
            yield Served(f"http://127.0.0.1:{port}", output)
        finally:
            process.terminate()
            process.wait(timeout=10)


@contextmanager
def chromium(*, width: int = 900, height: int = 1000) -> Iterator[Any]:
    """Headless Debian Chromium through its own chromium-driver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_until(driver: Any, condition: Callable[[], T | None], what: Callable[[], str]) -> T:
    """Poll `condition` until it returns something (Selenium's wait); else say `what()` is seen."""
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    def attempt(_: object) -> T | bool:
        try:
            found = condition()
        except (StaleElementReferenceException, ElementClickInterceptedException):
            return False  # Web Chat re-rendered or scrolled meanwhile: look again
        return False if found is None else found

    try:
        result: T = WebDriverWait(driver, WAIT, poll_frequency=0.1).until(attempt)
    except TimeoutException as error:
        raise AssertionError(what()) from error
    return result


class ChatWindow:
    """A browser window with Web Chat open as one person (`focus()` to act in it)."""

    def __init__(
        self, driver: Any, served: Served, email: str, *, lang: str = "sv", new_window: bool
    ) -> None:
        self.driver = driver
        if new_window:
            driver.switch_to.new_window("window")
        self.handle = driver.current_window_handle
        driver.get(f"{served.url}/chat?as={email}&lang={lang}")

    def focus(self) -> ChatView:
        self.driver.switch_to.window(self.handle)
        return ChatView(self.driver)


class ChatView:
    """What a person sees and does in the focused Web Chat."""

    def __init__(self, driver: Any) -> None:
        from selenium.webdriver.common.by import By

        self.driver = driver
        self.by = By

    def text(self) -> str:
        return str(self.driver.find_element(self.by.ID, "webchat").text)

    def sees(self, *wanted: str) -> None:
        """Wait until every piece of text is in the chat."""
        wait_until(
            self.driver,
            lambda: True if all(part in self.text() for part in wanted) else None,
            lambda: f"never saw {wanted!r}; the chat shows:\n{self.text()}",
        )

    def says(self, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box = self.driver.find_element(self.by.CSS_SELECTOR, "[data-id='webchat-sendbox-input']")
        box.send_keys(text, Keys.ENTER)

    def clicks(self, title: str) -> None:
        """Click the latest card button whose title starts with `title`."""

        def click() -> bool | None:
            buttons = self.driver.find_elements(self.by.CSS_SELECTOR, "button.ac-pushButton")
            found = [b for b in buttons if b.text.strip().startswith(title)]
            if not found:
                return None
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", found[-1])
            found[-1].click()
            return True

        wait_until(
            self.driver, click, lambda: f"no button {title!r}; the chat shows:\n{self.text()}"
        )

    def message_showing(self, text: str) -> Any:
        """The latest message showing `text` (a WebElement), scrolled into view."""

        def find() -> Any:
            activities = self.driver.find_elements(
                self.by.CSS_SELECTOR, ".webchat__basic-transcript__activity"
            )
            found = [a for a in activities if text in a.text]
            return found[-1] if found else None

        element = wait_until(self.driver, find, lambda: f"no message shows {text!r}")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'end'});", element)
        return element
