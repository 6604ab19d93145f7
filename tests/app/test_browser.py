"""The real app in a real browser: `streamlit run` + Debian's headless Chromium (playwright).

Needs /usr/bin/chromium (`make browser-deps`). The store is a copy of `xlstm_data_dir` (the real
xLSTM paper, ingested once per session); the model is the tiny trained `tiny_run_dir`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XLSTM_QUESTION = "What are the major improvements over the previous or vanilla LSTM architecture?"
UPLOAD_PAGES = [
    "Zebrafish heart regeneration relies on cardiomyocyte proliferation after injury. "
    "The regenerating zebrafish ventricle restores its muscle within sixty days.",
    "Fibroblasts deposit a transient collagen scar that later resolves completely.",
]
UPLOAD_QUESTION = "How long does the zebrafish ventricle take to restore its muscle?"
COMPARED = ("similarity", "compression")
CITATION = re.compile(r"p\. \d+")
ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def data_dir(
    tmp_path_factory: pytest.TempPathFactory, xlstm_data_dir: Path, tiny_run_dir: Path
) -> Path:
    """A copy of the store holding the real xLSTM paper (uploads change it), the tiny model."""
    root = tmp_path_factory.mktemp("browser") / "data"
    shutil.copytree(xlstm_data_dir, root)
    shutil.copytree(tiny_run_dir, root / "models" / "default", dirs_exist_ok=True)
    return root


@pytest.fixture(scope="module")
def app_url(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run app/streamlit_app.py` on a free port; killed at the end."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium; run `make browser-deps`")
    port = free_port()
    log = tmp_path_factory.mktemp("browser-log") / "streamlit.log"
    env = {**os.environ, "XRAG_DATA_DIR": str(data_dir), "XRAG_MAX_UPLOAD_MB": "5"}
    command = [
        str(Path(sys.executable).with_name("streamlit")),
        "run",
        "app/streamlit_app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_serving(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not serve {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def screenshot_on_failure(page, name: str) -> Iterator[None]:  # noqa: ANN001
    """Saves test-artifacts/<name>-failure.png when the block fails."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-failure.png"), full_page=True)
        raise


def open_app(browser, url: str):  # noqa: ANN001, ANN201 (playwright types)
    page = browser.new_context(viewport={"width": 1440, "height": 1400}).new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.locator(".st-key-question input").wait_for()
    return page


def submit(page, question: str) -> None:  # noqa: ANN001
    box = page.locator(".st-key-question input")
    box.fill(question)
    box.press("Enter")


def wait_for_answers(page, question: str, names=COMPARED, timeout: float = 150) -> dict[str, str]:  # noqa: ANN001
    """Waits for this question's run to finish (its heading shown, nothing stale left, every
    column's latency line drawn); returns each column's text."""
    page.locator("h4", has_text=question).wait_for()
    columns = {name: page.locator(f".st-key-result_{name}") for name in names}
    latency = re.compile(r"\d (ms|s) · retrieve")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stale = page.locator('[data-stale="true"]').count()
        drawn = all(c.get_by_text(latency).count() for c in columns.values())
        if drawn and not stale:
            return {name: column.inner_text() for name, column in columns.items()}
        time.sleep(0.25)
    pytest.fail(f"no answers to {question!r} within {timeout:.0f} s")


def assert_no_errors(page) -> None:  # noqa: ANN001
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


def upload(page, path: Path) -> None:  # noqa: ANN001
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))


def ask_about_xlstm(page) -> None:  # noqa: ANN001
    submit(page, XLSTM_QUESTION)
    texts = wait_for_answers(page, XLSTM_QUESTION)
    for name, text in texts.items():
        assert CITATION.search(text), f"{name} shows no page citation:\n{text}"
    assert page.get_by_text("Evidence").count() >= 1  # the shared-vs-unique line
    assert_no_errors(page)
    page.locator(".st-key-result_similarity").get_by_text("Sources (").click()
    page.get_by_text("score ").first.wait_for()
    page.wait_for_timeout(1000)  # the expander's opening animation
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui.png"), full_page=True)


def upload_and_ask_about_it(page, tmp_path: Path) -> None:  # noqa: ANN001
    from tests.ingest.pdf_factory import make_text_pdf

    pdf = make_text_pdf(tmp_path / "zebrafish heart.pdf", UPLOAD_PAGES, title="Zebrafish Hearts")
    upload(page, pdf)
    page.get_by_text(re.compile(r"Ingested \d+ of 1 PDF")).wait_for()
    page.get_by_text("Ingested 1 of 1 PDF").wait_for(timeout=1000)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("Zebrafish").count() >= 1
    submit(page, UPLOAD_QUESTION)
    texts = wait_for_answers(page, UPLOAD_QUESTION)
    assert any("sixty days" in text for text in texts.values()), texts
    assert_no_errors(page)
    page.screenshot(path=str(ARTIFACTS / "ui-upload.png"), full_page=True)


def test_ask_upload_and_ask_again(browser, app_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    page = open_app(browser, app_url)
    with screenshot_on_failure(page, "ask-upload"):
        ask_about_xlstm(page)
        upload_and_ask_about_it(page, tmp_path)
    page.context.close()


def test_two_sessions_ask_while_a_third_ingests(browser, app_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    from tests.ingest.pdf_factory import make_text_pdf

    text = "Glacier ice cores keep ancient climate records in their air bubbles and dust layers. "
    pages = [f"Page {i}. " + text * 12 for i in range(1, 41)]  # ~200 chunks: ingests for a while
    pdf = make_text_pdf(tmp_path / "glaciers.pdf", pages, title="Glacier Ice Cores")
    uploader, first, second = (open_app(browser, app_url) for _ in range(3))
    questions = {
        first: "What memory does the mLSTM have?",
        second: "Why is the sLSTM not parallel?",
    }
    with screenshot_on_failure(first, "concurrent"):
        upload(uploader, pdf)
        uploader.get_by_text(re.compile(r"Ingesting|reading|embedding")).first.wait_for()
        for page, question in questions.items():
            submit(page, question)
        for page, question in questions.items():
            texts = wait_for_answers(page, question)
            assert all(CITATION.search(t) for t in texts.values()), texts
        uploader.get_by_text("Ingested 1 of 1 PDF").wait_for()
        for page in (uploader, first, second):
            assert_no_errors(page)
    for page in (uploader, first, second):
        page.context.close()
