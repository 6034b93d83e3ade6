"""The browser console in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

The facade runs as a process with the demo handler (streamed canned replies; "weather" asks the browser for a
client-side tool), local media and the console on. Screenshots go to test-artifacts/console/. Without Chromium the
tests fail with what to install: CI installs it with `make setup` (scripts/ensure-tools.sh).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[4]
ARTIFACTS = REPO / "test-artifacts" / "console"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_S = 20.0
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,800",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-media")


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory, media_dir: Path) -> Iterator[str]:
    port, health = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIA_")}
    env.update(
        OMNIA_AGENT_NAME="console-agent",
        OMNIA_BIND_HOST="127.0.0.1",
        OMNIA_FACADE_PORT=str(port),
        OMNIA_HEALTH_PORT=str(health),
        OMNIA_HANDLER_MODE="demo",
        OMNIA_FACADE_DEMO_DELAY="5ms",
        OMNIA_FACADE_CONSOLE_ENABLED="true",
        OMNIA_FACADE_ALLOW_UNAUTHENTICATED="true",
        OMNIA_ALLOWED_ORIGINS=f"http://127.0.0.1:{port}",
        OMNIA_MEDIA_STORAGE_TYPE="local",
        OMNIA_MEDIA_STORAGE_PATH=str(media_dir),
        OMNIA_LOG_FORMAT="text",
    )
    log = tmp_path_factory.mktemp("console-logs") / "facade.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "omnia_facade", "serve"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{health}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"facade not ready: {log.read_text()}"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.fail(
            f"headless Chromium is needed for the console tests but {', '.join(missing)} is missing: run "
            "`make setup` (scripts/ensure-tools.sh installs Debian's chromium and chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_S)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, condition: str, *args: object) -> object:
    """Wait until a JavaScript expression is truthy (bounded)."""
    return WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script(condition, *args))


def _texts(driver: WebDriver, selector: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def _send(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "input")
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()


def _assistant_count(driver: WebDriver) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, ".msg.assistant:not(.streaming)"))


def _wait_answers(driver: WebDriver, count: int) -> None:
    _wait(driver, "return document.querySelectorAll('.msg.assistant:not(.streaming)').length >= arguments[0]", count)


@pytest.fixture(scope="module")
def page(browser: WebDriver, console_url: str) -> WebDriver:
    browser.get(console_url)
    _wait(browser, "return document.getElementById('status').textContent.startsWith('connected')")
    return browser


def test_console_connects_and_streams_a_reply(page: WebDriver) -> None:
    assert page.find_element(By.ID, "agent").text == "console-agent"
    _send(page, "hello")
    _wait_answers(page, 1)
    answer = _texts(page, ".msg.assistant")[-1]
    assert answer.startswith("Hello! This is the Omnia demo handler.")
    assert _texts(page, ".msg.user")[-1] == "hello"
    page.save_screenshot(str(ARTIFACTS / "01-reply.png"))


def test_console_shows_a_client_tool_call_and_sends_the_answer(page: WebDriver) -> None:
    before = _assistant_count(page)
    _send(page, "what is the weather?")
    _wait(page, "return document.querySelector('form.tool-answer') !== null")
    tool = page.find_elements(By.CSS_SELECTOR, ".msg.tool")[-1]
    assert "get_weather" in tool.text
    page.save_screenshot(str(ARTIFACTS / "02-tool-call.png"))
    tool.find_element(By.NAME, "result").send_keys("sunny and warm")
    tool.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait_answers(page, before + 1)
    assert "The weather tool says" in _texts(page, ".msg.assistant")[-1]
    assert "sunny and warm" in _texts(page, ".msg.assistant")[-1]
    assert "answered: sunny and warm" in tool.text


def test_console_shows_errors_from_the_facade(page: WebDriver, tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    errors = len(page.find_elements(By.CSS_SELECTOR, ".msg.error"))
    page.find_element(By.ID, "file").send_keys(str(archive))
    _wait(page, "return document.querySelectorAll('.msg.error').length > arguments[0]", errors)
    shown = _texts(page, ".msg.error")[-1]
    assert shown.startswith("UPLOAD_FAILED:")
    assert "application/zip" in shown
    page.save_screenshot(str(ARTIFACTS / "03-error.png"))


def test_console_uploads_a_file_and_sends_it_with_the_message(page: WebDriver, media_dir: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("a note for the agent")
    page.find_element(By.ID, "file").send_keys(str(note))
    _wait(page, "return document.getElementById('attachments').textContent.includes('note.txt')")
    stored = [p for p in media_dir.rglob("*") if p.is_file() and p.read_bytes() == b"a note for the agent"]
    assert stored, "the browser PUT the file into the facade's media storage"
    before = _assistant_count(page)
    _send(page, "read my note")
    _wait_answers(page, before + 1)
    assert "[note.txt]" in _texts(page, ".msg.user")[-1]
    assert page.find_element(By.ID, "attachments").text == ""
    page.save_screenshot(str(ARTIFACTS / "04-upload.png"))


def test_console_resumes_the_session_after_a_reload(page: WebDriver) -> None:
    session_before = page.execute_script("return document.getElementById('session').textContent")
    assert session_before.startswith("session ")
    answers_before = _texts(page, ".msg.assistant")
    page.refresh()
    _wait(page, "return document.getElementById('status').textContent.startsWith('connected')")
    assert page.execute_script("return document.getElementById('session').textContent") == session_before
    assert _texts(page, ".msg.assistant") == answers_before, "the transcript is restored"
    _send(page, "hello again")
    _wait_answers(page, len(answers_before) + 1)
    assert page.execute_script("return document.getElementById('session').textContent") == session_before
    page.save_screenshot(str(ARTIFACTS / "05-resumed.png"))
