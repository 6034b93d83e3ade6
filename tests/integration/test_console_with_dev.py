"""The browser console of an agent started by `omnia-operator dev`, in headless Chromium: the page loads from the
facade, its origin is accepted, and a conversation goes through the real runtime (the quickstart's mock LLM)."""

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from agentstack import REPO, free_port
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.integration
ARTIFACTS = REPO / "test-artifacts" / "console"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _adjacent_free_port() -> int:
    """A port P with P+1 free too (dev uses the next port for health)."""
    for _ in range(100):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no free port pair")


@pytest.fixture(scope="module")
def dev_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _adjacent_free_port()
    runtime_port = _adjacent_free_port()
    while abs(runtime_port - port) <= 1:
        runtime_port = _adjacent_free_port()
    argv = [sys.executable, "-m", "omnia_operator", "dev", "--port", str(port), "--runtime-port", str(runtime_port)]
    argv += ["--work-dir", str(tmp_path_factory.mktemp("dev-console"))]
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (lines and lines[-1].startswith("Press Ctrl-C")):
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
    try:
        assert lines, "omnia-operator dev printed nothing"
        assert lines[-1].startswith("Press Ctrl-C"), "".join(lines)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def test_console_of_a_dev_agent_holds_a_conversation(dev_console: str, tmp_path: Path) -> None:
    if not (shutil.which("/usr/bin/chromium") and shutil.which("/usr/bin/chromedriver")):
        pytest.fail("headless Chromium is missing: run `make setup` (installs Debian's chromium and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(dev_console)
        wait = WebDriverWait(driver, 20)
        wait.until(lambda d: d.find_element(By.ID, "status").text.startswith("connected"))
        assert driver.find_element(By.ID, "agent").text == "quickstart"
        driver.find_element(By.ID, "input").send_keys("hello from the browser")
        driver.find_element(By.ID, "send").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".msg.assistant:not(.streaming)"))
        answer = driver.find_elements(By.CSS_SELECTOR, ".msg.assistant")[-1].text
        assert "hello from the browser" in answer, "the quickstart's mock LLM answers about the message"
        assert driver.find_elements(By.CSS_SELECTOR, ".msg.error") == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "dev-quickstart.png"))
    finally:
        driver.quit()
