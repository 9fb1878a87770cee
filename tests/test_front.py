"""The front end to end: a real Hypercorn on a loopback port, the real `websockets` client, the session's
Ray and the emulator's demo estate. Protocol: CONTRACTS.md sections 3-5."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypercorn.asyncio import serve
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from engine.sandbox.server import EmulatorServer
from engine.settings import Settings
from frontend_server.app import WsLimits, create_app, hypercorn_config
from tests.test_runtime import _cloudscreen_actors_alive, estate, ray_conn  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.ray]

SECRET = "front-test-secret-0123456789abcdef-0123456789"
FINAL = ("scan.completed", "scan.failed", "scan.cancelled")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Front:
    """A real Hypercorn serving the app in a thread of its own (its own event loop)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._started.set()
            config = hypercorn_config("127.0.0.1", self.port)
            # Hypercorn's ping loop of a closed socket sleeps out its interval; at teardown do not wait for it.
            config.graceful_timeout = 1.0
            await serve(self.app, config, shutdown_trigger=self._stop.wait)

        asyncio.run(run())

    def start(self) -> _Front:
        self._thread.start()
        self._started.wait(10)
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                threading.Event().wait(0.05)
        raise RuntimeError("the front did not start")

    def stop(self) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    # -- HTTP (blocking; call through asyncio.to_thread from async tests) --
    def http(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any, str]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            status, raw, ctype = exc.code, exc.read(), exc.headers.get("Content-Type", "")
        parsed = json.loads(raw) if "json" in ctype else raw.decode()
        return status, parsed, ctype

    def token(self, role: str) -> str:
        status, body, _ = self.http("POST", "/api/dev/session", {"role": role})
        assert status == 200, body
        return body["token"]


@pytest.fixture(scope="module")
def front(emulator: EmulatorServer, ray_conn, tmp_path_factory) -> Iterator[_Front]:  # noqa: F811
    root = tmp_path_factory.mktemp("front")
    # Role name and external id are the demo estate's defaults (the `estate` fixture seeds them).
    settings = Settings(session_secret=SECRET, store=f"file://{root}/store", aws_endpoint_url=emulator.endpoint,
                        role_name="CloudScreenAudit", external_id="cloudscreen-demo", runners=1,
                        retry_attempts=2, retry_max_wait_s=0.1, audit_log=str(root / "audit.log"))
    app = create_app(settings, demo=True, ray_connect=lambda: ray_conn,
                     ws_limits=WsLimits(auth_timeout_s=1.0, rate_per_s=5.0, burst=10, max_violations=5))
    server = _Front(app).start()
    server.audit_path = root / "audit.log"  # type: ignore[attr-defined]
    yield server
    server.stop()


async def _auth(ws: Any, token: str) -> dict:
    await ws.send(json.dumps({"type": "auth", "token": token}))
    reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert reply["type"] == "auth.ok", reply
    return reply


async def _ask(ws: Any, message: dict, timeout: float = 5) -> dict:
    await ws.send(json.dumps(message))
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def _closed_code(ws: Any, timeout: float = 5) -> int | None:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None


# ------------------------------------------------------------------------------------------ probes

def test_health_ready_and_metrics_answer_without_a_token(front: _Front) -> None:
    assert front.http("GET", "/health")[:2] == (200, {"status": "ok"})
    assert front.http("GET", "/ready")[:2] == (200, {"status": "ready"})
    status, text, ctype = front.http("GET", "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert "cloudscreen_ws_connections" in text
    assert 'cloudscreen_http_requests_total{method="GET",route="/ready",status="200"}' in text
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: install the Debian package `prometheus`")
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr


def test_openapi_lists_the_rest_api_and_docs_are_served(front: _Front) -> None:
    status, spec, _ = front.http("GET", "/openapi.json")
    assert status == 200 and spec["info"]["title"] == "CloudScreen"
    for path in ("/api/scans", "/api/scans/{scan_id}", "/api/scans/{scan_id}/findings", "/health", "/ready"):
        assert path in spec["paths"], sorted(spec["paths"])
    status, page, ctype = front.http("GET", "/docs")
    assert status == 200 and ctype.startswith("text/html") and "/openapi.json" in page


@pytest.mark.asyncio
async def test_ready_is_503_with_reasons_when_the_store_is_not_writable(tmp_path: Path, ray_conn) -> None:  # noqa: F811
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    app = create_app(Settings(session_secret=SECRET, store=f"file://{blocker}", audit_log=str(tmp_path / "a.log")),
                     demo=False, ray_connect=lambda: ray_conn)
    response = await app.test_client().get("/ready")
    body = await response.get_json()
    assert response.status_code == 503 and body["status"] == "unavailable"
    assert [r for r in body["reasons"] if r.startswith("store:")]


@pytest.mark.asyncio
async def test_dev_session_exists_only_in_demo_mode(tmp_path: Path, ray_conn) -> None:  # noqa: F811
    app = create_app(Settings(session_secret=SECRET, store=f"file://{tmp_path}/s", audit_log=str(tmp_path / "a.log")),
                     demo=False, ray_connect=lambda: ray_conn)
    response = await app.test_client().post("/api/dev/session", json={"role": "admin"})
    assert response.status_code == 404


def test_production_refuses_the_default_session_secret(tmp_path: Path) -> None:
    from frontend_server.auth import InsecureSecretError

    with pytest.raises(InsecureSecretError):
        create_app(Settings(store=f"file://{tmp_path}/s", audit_log=str(tmp_path / "a.log")), demo=False)


def test_rest_needs_a_bearer_token(front: _Front) -> None:
    status, body, _ = front.http("GET", "/api/scans")
    assert status == 401 and body["error"]["code"] == "unauthorized"


# ------------------------------------------------------------------------------------------ socket

@pytest.mark.asyncio
async def test_socket_without_auth_is_closed_4401_after_the_auth_timeout(front: _Front) -> None:
    async with ws_connect(front.ws_url) as ws:
        assert await _closed_code(ws) == 4401


@pytest.mark.asyncio
async def test_bad_token_is_closed_4401_and_audited(front: _Front) -> None:
    async with ws_connect(front.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."}))
        assert await _closed_code(ws) == 4401
    lines = [json.loads(line) for line in front.audit_path.read_text().splitlines()]  # type: ignore[attr-defined]
    assert any(r["action"] == "auth.denied" and r["result"] == "denied" for r in lines)
    assert "eyJ" not in front.audit_path.read_text()  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_malformed_and_unknown_messages_get_errors_and_the_connection_stays(front: _Front) -> None:
    async with ws_connect(front.ws_url) as ws:
        await _auth(ws, await asyncio.to_thread(front.token, "viewer"))
        assert (await _ask(ws, {"nope": 1}))["code"] == "bad_request"
        await ws.send("{not json")
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["code"] == "bad_request"
        assert (await _ask(ws, {"type": "scan.subscribe", "id": 3}))["code"] == "bad_request"
        assert (await _ask(ws, {"type": "scan.subscribe", "scan_id": "no-such-scan"}))["code"] == "not_found"
        assert (await _ask(ws, {"type": "scan.subscribe", "scan_id": "../../etc"}))["code"] == "not_found"
        assert (await _ask(ws, {"type": "scan.cancel", "scan_id": "x"}))["code"] == "forbidden"
        reply = await _ask(ws, {"type": "query", "id": "q", "text": "who", "account_id": "111111111111"})
        assert reply == {"type": "error", "id": "q", "code": "not_found", "message": "query is not available yet"}
        assert await _ask(ws, {"type": "ping", "id": 7}) == {"type": "pong", "id": 7}


@pytest.mark.asyncio
async def test_viewer_cannot_start_a_scan_and_the_connection_stays(front: _Front) -> None:
    async with ws_connect(front.ws_url) as ws:
        await _auth(ws, await asyncio.to_thread(front.token, "viewer"))
        reply = await _ask(ws, {"type": "scan.start", "id": "s1", "accounts": ["111111111111"], "services": ["iam"]})
        assert reply["type"] == "error" and reply["code"] == "forbidden" and reply["id"] == "s1"
        assert (await _ask(ws, {"type": "ping"}))["type"] == "pong"


@pytest.mark.asyncio
async def test_frame_over_64_kib_closes_1009(front: _Front) -> None:
    async with ws_connect(front.ws_url, max_size=None) as ws:
        await _auth(ws, await asyncio.to_thread(front.token, "viewer"))
        await ws.send(json.dumps({"type": "ping", "pad": "x" * 70 * 1024}))
        assert await _closed_code(ws) == 1009


@pytest.mark.asyncio
async def test_flooding_gets_rate_limited_then_closed_1008(front: _Front) -> None:
    # The fixture allows a burst of 10 and closes after more than 5 refusals. The client sends just past
    # that, then one message per reply: flooding further while the server closes would race a TCP reset
    # against the close frame.
    seen: list[dict] = []
    code = None
    async with ws_connect(front.ws_url) as ws:
        await _auth(ws, await asyncio.to_thread(front.token, "viewer"))
        for _ in range(16):
            await ws.send(json.dumps({"type": "ping"}))
        try:
            for _ in range(100):
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
                if len(seen) >= 16:
                    await ws.send(json.dumps({"type": "ping"}))
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
    limited = [m for m in seen if m.get("code") == "rate_limited"]
    assert limited and all(m["retry_after"] > 0 for m in limited)
    assert [m["type"] for m in seen[:10]] == ["pong"] * 10
    assert code == 1008


async def _collect(ws: Any, timeout: float = 90) -> list[dict]:
    """Messages until the first final one, then anything else that arrives within a second."""
    out: list[dict] = []
    async with asyncio.timeout(timeout):
        while not out or out[-1]["type"] not in FINAL:
            out.append(json.loads(await ws.recv()))
    try:
        while True:
            out.append(json.loads(await asyncio.wait_for(ws.recv(), 1.0)))
    except TimeoutError:
        pass
    return out


@pytest.mark.asyncio
async def test_scan_over_the_socket_streams_progress_and_exactly_one_completion(front: _Front, estate) -> None:  # noqa: F811
    assert (estate.role_name, estate.external_id) == ("CloudScreenAudit", "cloudscreen-demo")
    account = estate.accounts[0]
    token = await asyncio.to_thread(front.token, "analyst")
    async with ws_connect(front.ws_url) as ws, ws_connect(front.ws_url) as second:
        await _auth(ws, token)
        await _auth(second, token)
        accepted = await _ask(ws, {"type": "scan.start", "id": "a", "accounts": [account], "regions": ["us-east-1"],
                                   "services": ["iam"]}, timeout=30)
        assert accepted["type"] == "scan.accepted" and accepted["id"] == "a", accepted
        assert accepted["plan"] == {"units": 1, "accounts": [account], "regions": ["us-east-1"], "services": ["iam"]}
        scan_id = accepted["scan_id"]

        # A second socket subscribing mid-scan hears the state at once.
        first = await _ask(second, {"type": "scan.subscribe", "scan_id": scan_id}, timeout=3)
        assert first["type"] in ("scan.progress", *FINAL) and first["scan_id"] == scan_id

        messages = await _collect(ws)
        others = [first, *await _collect(second)] if first["type"] not in FINAL else [first]

    progress = [m for m in messages if m["type"] == "scan.progress"]
    percents = [m["percent"] for m in progress]
    assert progress and percents == sorted(percents)
    assert {"scan_id", "percent", "done_units", "total_units", "eta_seconds", "current", "message", "counts",
            "updated_at"} <= set(progress[-1])
    finals = [m for m in messages if m["type"] in FINAL]
    assert [m["type"] for m in finals] == ["scan.completed"], finals
    done = finals[0]
    assert done["scan_id"] == scan_id and done["summary"]["total"] > 0
    assert {r["type"] for r in done["reports"]} == {"html", "json", "csv", "ocsf"}
    assert [m["type"] for m in others if m["type"] in FINAL] == ["scan.completed"]

    # The signed report link works without a bearer header; a tampered one does not.
    link = next(r["url"] for r in done["reports"] if r["type"] == "json")
    status, body, _ = await asyncio.to_thread(front.http, "GET", link)
    assert status == 200 and body["scan_id"] == scan_id
    status, _, _ = await asyncio.to_thread(front.http, "GET", link[:-1] + ("0" if link[-1] != "0" else "1"))
    assert status == 401

    # A finished scan answers a subscription with its final message only.
    async with ws_connect(front.ws_url) as ws:
        await _auth(ws, token)
        again = await _ask(ws, {"type": "scan.subscribe", "scan_id": scan_id})
        assert again["type"] == "scan.completed" and again["summary"] == done["summary"]
        listed = await _ask(ws, {"type": "scan.list", "id": 1})
        assert scan_id in [s["scan_id"] for s in listed["scans"]]


@pytest.mark.asyncio
async def test_rest_starts_a_scan_and_serves_its_findings(front: _Front, estate) -> None:  # noqa: F811
    account = estate.accounts[0]
    token = await asyncio.to_thread(front.token, "analyst")
    viewer = await asyncio.to_thread(front.token, "viewer")
    body = {"accounts": [account], "regions": ["us-east-1"], "services": ["iam"]}
    status, answer, _ = await asyncio.to_thread(front.http, "POST", "/api/scans", body, viewer)
    assert status == 403 and answer["error"]["code"] == "forbidden"
    status, answer, _ = await asyncio.to_thread(front.http, "POST", "/api/scans", {"accounts": ["12"]}, token)
    assert status == 400 and "12-digit" in answer["error"]["message"]
    status, answer, _ = await asyncio.to_thread(front.http, "POST", "/api/scans", body, token)
    assert status == 202, answer
    scan_id = answer["scan_id"]

    async with asyncio.timeout(90):
        while True:
            status, scan, _ = await asyncio.to_thread(front.http, "GET", f"/api/scans/{scan_id}", None, viewer)
            assert status == 200
            if scan["status"] in ("completed", "partial", "failed", "cancelled") and scan.get("reports"):
                break
            await asyncio.sleep(0.5)
    assert scan["status"] == "completed" and scan["summary"]["total"] > 0

    status, listed, _ = await asyncio.to_thread(front.http, "GET", "/api/scans?limit=5", None, viewer)
    assert status == 200 and scan_id in [s["scan_id"] for s in listed["scans"]]

    status, page, _ = await asyncio.to_thread(front.http, "GET", f"/api/scans/{scan_id}/findings?status=FAIL&limit=2",
                                              None, viewer)
    assert status == 200 and page["total"] == scan["summary"]["by_status"]["FAIL"]
    assert len(page["findings"]) == min(2, page["total"]) and all(f["status"] == "FAIL" for f in page["findings"])
    assert page["next_offset"] == (2 if page["total"] > 2 else None)
    status, missing, _ = await asyncio.to_thread(front.http, "GET", "/api/scans/nope-1/findings", None, viewer)
    assert status == 404 and missing["error"]["code"] == "not_found"
    status, _, ctype = await asyncio.to_thread(front.http, "GET", f"/api/scans/{scan_id}/reports/csv", None, viewer)
    assert status == 200 and ctype.startswith("text/csv")
    status, done, _ = await asyncio.to_thread(front.http, "POST", f"/api/scans/{scan_id}/cancel", None, token)
    assert status == 409 and done["error"]["code"] == "conflict"

    # Cancelling a running scan over the socket: its stream ends with exactly one scan.cancelled.
    async with ws_connect(front.ws_url) as ws:
        await _auth(ws, token)
        accepted = await _ask(ws, {"type": "scan.start", **body}, timeout=30)
        await ws.send(json.dumps({"type": "scan.cancel", "scan_id": accepted["scan_id"]}))
        messages = await _collect(ws)
    assert [m["type"] for m in messages if m["type"] in FINAL] == ["scan.cancelled"]
    status, scan, _ = await asyncio.to_thread(front.http, "GET", f"/api/scans/{accepted['scan_id']}", None, viewer)
    assert scan["status"] == "cancelled"

    async with asyncio.timeout(10):  # no actor outlives its scan (ray.kill is asynchronous)
        while await asyncio.to_thread(_cloudscreen_actors_alive):
            await asyncio.sleep(0.2)


@pytest.mark.asyncio
async def test_session_expiry_closes_4401_unless_refreshed(front: _Front) -> None:
    from frontend_server.auth import Role, SessionTokens, SessionUser

    user = SessionUser(id="demo-viewer", name="Demo viewer", role=Role.VIEWER)
    short, _ = SessionTokens(SECRET, ttl_s=2).issue(user)
    long, _ = SessionTokens(SECRET, ttl_s=900).issue(user)
    async with ws_connect(front.ws_url) as refreshed, ws_connect(front.ws_url) as lapsed:
        await _auth(refreshed, short)
        await _auth(lapsed, short)
        again = await _ask(refreshed, {"type": "auth.refresh", "id": "r", "token": long})
        assert again["type"] == "auth.ok" and again["id"] == "r"
        assert await _closed_code(lapsed, timeout=5) == 4401
        assert (await _ask(refreshed, {"type": "ping"}))["type"] == "pong"


@pytest.mark.asyncio
async def test_analyst_cannot_scan_an_account_outside_the_allow_list(tmp_path: Path, ray_conn) -> None:  # noqa: F811
    settings = Settings(session_secret=SECRET, store=f"file://{tmp_path}/s", audit_log=str(tmp_path / "a.log"),
                        extra={"roles": {"accounts": {"analyst": ["222222222222"]}}})
    app = create_app(settings, demo=True, ray_connect=lambda: ray_conn)
    client = app.test_client()
    token = (await (await client.post("/api/dev/session", json={"role": "analyst"})).get_json())["token"]
    response = await client.post("/api/scans", json={"accounts": ["111111111111"], "services": ["iam"]},
                                 headers={"Authorization": f"Bearer {token}"})
    body = await response.get_json()
    assert response.status_code == 403 and "111111111111" in body["error"]["message"]
    denied = [json.loads(line) for line in (tmp_path / "a.log").read_text().splitlines()]
    assert denied[-1]["action"] == "access.denied" and denied[-1]["accounts"] == ["111111111111"]
