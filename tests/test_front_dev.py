"""The demo console (`/dev`): present only in demo mode, and in a real Chromium it signs in, runs a scan
over the WebSocket against the emulator's estate through the session's Ray, and links the reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from engine.settings import Settings
from frontend_server.app import create_app
from tests.test_front import SECRET, _Front, front  # noqa: F401  (shared fixture: a demo front on Hypercorn)
from tests.test_runtime import estate, ray_conn  # noqa: F401  (shared fixtures)


def _app(tmp_path: Path, demo: bool) -> Any:
    return create_app(Settings(session_secret=SECRET, store=f"file://{tmp_path}/s", audit_log=str(tmp_path / "a.log")),
                      demo=demo, ray_connect=lambda: None)


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/dev", "/dev/dev.js", "/dev/dev.css"])
async def test_the_console_does_not_exist_outside_demo_mode(tmp_path: Path, path: str) -> None:
    response = await _app(tmp_path, demo=False).test_client().get(path)
    assert response.status_code == 404
    assert (await response.get_json())["error"]["code"] == "not_found"


@pytest.mark.asyncio
async def test_the_console_is_served_in_demo_mode_with_a_strict_policy(tmp_path: Path) -> None:
    client = _app(tmp_path, demo=True).test_client()
    response = await client.get("/dev")
    assert response.status_code == 200 and response.content_type.startswith("text/html")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    page = (await response.get_data()).decode()
    assert '<script src="/dev/dev.js"' in page and "<script>" not in page  # no inline script
    assert (await client.get("/dev/dev.js")).status_code == 200
    assert (await client.get("/dev/other.js")).status_code == 404
    spec = await (await client.get("/openapi.json")).get_json()
    assert not [p for p in spec["paths"] if p.startswith("/dev")]


@pytest.fixture
def console(browser: Any, front: _Front) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(front.base + "/dev")
    page.wait_for_selector("body[data-ready=true]")
    yield page
    context.close()


def _sign_in(page: Any, role: str) -> None:
    page.select_option("#role", role)
    page.click("#signin-btn")
    expect(page.locator("#who")).to_have_attribute("data-state", "signed-in", timeout=10_000)


@pytest.mark.ray
def test_an_analyst_runs_a_scan_from_the_console_and_gets_report_links(console: Any, front: _Front,  # noqa: F811
                                                                        estate) -> None:  # noqa: F811
    page = console
    _sign_in(page, "analyst")
    expect(page.locator("#who")).to_contain_text("analyst")
    page.fill("#accounts", estate.accounts[0])
    page.fill("#regions", "us-east-1")
    page.fill("#services", "iam,s3")
    page.click("#start-btn")
    expect(page.locator("#status")).to_have_attribute("data-final", "completed", timeout=90_000)
    expect(page.locator("#percent")).to_have_text("100")
    links = page.locator("#reports a")
    expect(links).to_have_count(4)
    assert sorted(links.evaluate_all("els => els.map(e => e.dataset.type)")) == ["csv", "html", "json", "ocsf"]
    html_link = page.locator("#reports a[data-type=html]").get_attribute("href")
    assert "sig=" in html_link  # a signed link: no bearer header needed
    response = page.request.get(html_link if html_link.startswith("http") else front.base + html_link)
    assert response.status == 200 and "<html" in response.text()[:500].lower()
    expect(page.locator("#scans tr").first).to_be_visible()
    assert int(page.locator("#c-critical").inner_text()) + int(page.locator("#c-high").inner_text()) > 0
    assert page.errors == []


@pytest.mark.ray
def test_a_viewer_is_told_it_may_not_scan(console: Any) -> None:
    page = console
    _sign_in(page, "viewer")
    page.fill("#services", "iam")
    page.click("#start-btn")
    expect(page.locator("#error")).to_contain_text("forbidden", timeout=10_000)
    assert page.errors == []
