"""The real app in a real browser: `streamlit run` + Debian's headless Chromium (playwright).

Needs /usr/bin/chromium (`make browser-deps`) and the xLSTM paper in a mirror folder; the store
is built in a temp data dir and the tiny trained model comes from `tiny_run_dir`.
"""

from __future__ import annotations

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

from tests.conftest import mirror_pdf

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
XLSTM_PDF = "xlstm-2405.04517v2.pdf"
XLSTM_QUESTION = "What are the major improvements over the previous or vanilla LSTM architecture?"
UPLOAD_PAGES = [
    "Zebrafish heart regeneration relies on cardiomyocyte proliferation after injury. "
    "The regenerating zebrafish ventricle restores its muscle within sixty days.",
    "Fibroblasts deposit a transient collagen scar that later resolves completely.",
]
UPLOAD_QUESTION = "How long does the zebrafish ventricle take to restore its muscle?"
CITATION = re.compile(r"p\. \d+")
ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, tiny_run_dir: Path) -> Path:
    """A data dir holding the xLSTM paper in its store and the tiny model as the default run."""
    paper = mirror_pdf(XLSTM_PDF)
    if paper is None:
        pytest.skip(f"{XLSTM_PDF} is in no mirror folder ($XRAG_PAPER_MIRRORS)")
    root = tmp_path_factory.mktemp("browser-data")
    code = (
        "from ingest.pipeline import ingest_sources\n"
        "from ingest.settings import IngestSettings\n"
        "from ingest.store import open_store\n"
        "import sys\n"
        "with open_store() as store:\n"
        "    report = ingest_sources([sys.argv[1]], store, IngestSettings())\n"
        "    assert store.list_papers(), report\n"
    )
    env = {**os.environ, "XRAG_DATA_DIR": str(root)}
    # A child process: the embedded store's lock is released for the server when it exits.
    subprocess.run([sys.executable, "-c", code, str(paper)], env=env, cwd=REPO, check=True)
    models = root / "models"
    models.mkdir(exist_ok=True)
    shutil.copytree(tiny_run_dir, models / "default")
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


def wait_for_answers(page, names=("similarity", "compression")) -> dict[str, str]:  # noqa: ANN001
    """Waits until every column shows its latency line (drawn last); returns each column's text."""
    texts = {}
    for name in names:
        column = page.locator(f".st-key-result_{name}")
        column.get_by_text(re.compile(r"\d+ ms · retrieve")).wait_for()
        texts[name] = column.inner_text()
    return texts


def assert_no_errors(page) -> None:  # noqa: ANN001
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


def upload(page, path: Path) -> None:  # noqa: ANN001
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))


def test_ask_upload_and_ask_again(browser, app_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    from tests.ingest.pdf_factory import make_text_pdf

    page = open_app(browser, app_url)
    submit(page, XLSTM_QUESTION)
    texts = wait_for_answers(page)
    for name, text in texts.items():
        assert CITATION.search(text), f"{name} shows no page citation:\n{text}"
    page.get_by_text("Evidence").first.wait_for()
    assert_no_errors(page)
    page.locator(".st-key-result_similarity").get_by_text("Sources (").click()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui.png"), full_page=True)

    pdf = make_text_pdf(tmp_path / "zebrafish heart.pdf", UPLOAD_PAGES, title="Zebrafish Hearts")
    upload(page, pdf)
    page.get_by_text(re.compile(r"Ingested 1 of 1 PDF")).wait_for()
    assert page.locator('[data-testid="stSidebar"]').get_by_text("Zebrafish").count() >= 1
    submit(page, UPLOAD_QUESTION)
    texts = wait_for_answers(page)
    assert any("sixty days" in text for text in texts.values()), texts
    assert_no_errors(page)
    page.screenshot(path=str(ARTIFACTS / "ui-upload.png"), full_page=True)
    page.context.close()


def test_two_sessions_ask_while_a_third_ingests(browser, app_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    from tests.ingest.pdf_factory import make_text_pdf

    pages = [f"Page {i} on glacier ice cores and ancient climate records." for i in range(1, 41)]
    pdf = make_text_pdf(tmp_path / "glaciers.pdf", pages, title="Glacier Ice Cores")
    uploader, first, second = (open_app(browser, app_url) for _ in range(3))
    upload(uploader, pdf)
    submit(first, "What memory does the mLSTM have?")
    submit(second, "Why can LSTMs not be parallelized?")
    for page in (first, second):
        texts = wait_for_answers(page)
        assert all(CITATION.search(t) for t in texts.values()), texts
    uploader.get_by_text(re.compile(r"Ingested 1 of 1 PDF")).wait_for()
    for page in (uploader, first, second):
        assert_no_errors(page)
        page.context.close()
