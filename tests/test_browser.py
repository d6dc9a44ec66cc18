"""The console in a real headless browser (Debian's chromium driven by Playwright): log in,
filter, open a case, read the transcript, add a note, download an export and open it, open the
monthly figures with their charts. Screenshots go to test-artifacts/.

`.ci/run` installs chromium; elsewhere these tests are skipped when it is missing, except under
CI=true, where a missing browser fails them."""

from __future__ import annotations

import csv
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import ROOT
from tests.test_console import PASSWORD, accounts_made, submit  # noqa: F401 (fixtures)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (.ci/run installs it)", allow_module_level=True)


@pytest.fixture
def server(app) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(server: str) -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.base = server  # type: ignore[attr-defined]
        page.refused = []  # type: ignore[attr-defined]  # what the Content-Security-Policy blocked
        page.on("console", lambda m: "Content Security Policy" in m.text and page.refused.append(m.text))
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_coordinator_works_through_the_console(page, client, accounts_made) -> None:
    code = submit(client, "+6281234500009", "lompoe")
    other = submit(client, "+6281234500010", "lemoe")

    page.goto(f"{page.base}/console/cases")
    assert "/console/login" in page.url
    page.fill("input[name=username]", "pare")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#case-list")
    shot(page, "01-cases")
    assert code in page.inner_text("#case-list") and other in page.inner_text("#case-list")

    page.fill("input[name=code]", code.split("-")[1])
    page.click("#filters button[type=submit]")
    page.wait_for_load_state()
    listing = page.inner_text("#case-list")
    assert code in listing and other not in listing

    page.click(f"text={code}")
    page.wait_for_selector("#transcript")
    transcript = page.inner_text("#transcript")
    assert "kursi roda" in transcript and "0812-3456-7890" not in transcript
    page.fill("#note-form textarea[name=note]", "Sudah ditelepon, kunjungan Kamis")
    page.click("#note-form button")
    page.wait_for_selector("#timeline")
    assert "Sudah ditelepon, kunjungan Kamis" in page.inner_text("#timeline")
    shot(page, "02-case")

    page.click("text=Ekspor")
    page.select_option("select[name=format]", "csv")
    with page.expect_download() as download:
        page.click("#download")
    path = download.value.path()
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert any(code in cell for row in rows for cell in row)
    shot(page, "03-export")

    page.click("text=Angka bulanan")
    page.wait_for_selector("#figures svg")
    assert page.locator("#figures svg").count() >= 1
    shot(page, "04-figures")

    page.click("text=English")
    page.wait_for_selector("text=Monthly figures")
    page.click("#logout")
    page.wait_for_selector("#login")
    assert page.refused == []  # every page, the charts too, works under the console's CSP
