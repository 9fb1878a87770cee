"""The `/ws` socket under abuse and over time: arbitrary frames (property tests), a client reconnecting
mid-scan, silent peers dropped by protocol pings, and JSON logs that carry the connection id while stack
traces stay out of client messages. A real Hypercorn, the `websockets` client and the session's Ray, as
in tests/test_front.py (whose helpers this module reuses)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import socket
import struct
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypercorn.asyncio import serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from engine.sandbox.server import EmulatorServer
from engine.settings import Settings
from frontend_server import ws as ws_module
from frontend_server.app import WsLimits, create_app, hypercorn_config
from tests.test_front import FINAL, SECRET, _ask, _auth, _collect, _Front
from tests.test_runtime import estate, ray_conn  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.ray]

# Hypercorn pings every PING_S; a peer silent (not even a pong) for READ_TIMEOUT_S is dropped.
PING_S = 0.25
READ_TIMEOUT_S = 1

ERROR_CODES = {"bad_request", "unauthorized", "forbidden", "not_found", "rate_limited", "too_large", "conflict",
               "internal"}
CLOSE_CODES = {1001, 1008, 1009, 1011, 4401, 4403}
# Replies a viewer may legitimately get to a well-formed message of a known type.
REPLY_TYPES = {"error", "pong", "scan.list", "auth.ok"}
_LEAKS = ("Traceback", 'File "')
_CLASS_PATH = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\.[A-Z]\w*(?:Error|Exception)\b")


class _PingingFront(_Front):
    """`_Front` with Hypercorn's protocol pings and a read timeout (the production config leaves
    `websocket_ping_interval` unset, so silent peers are never dropped there)."""

    def _main(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._started.set()
            config = hypercorn_config("127.0.0.1", self.port)
            config.websocket_ping_interval = PING_S
            config.read_timeout = READ_TIMEOUT_S
            config.graceful_timeout = 1.0
            await serve(self.app, config, shutdown_trigger=self._stop.wait)

        asyncio.run(run())


@pytest.fixture(scope="module")
def front(emulator: EmulatorServer, ray_conn, tmp_path_factory) -> Iterator[_PingingFront]:  # noqa: F811
    root = tmp_path_factory.mktemp("front_ws")
    settings_ = Settings(session_secret=SECRET, store=f"file://{root}/store", aws_endpoint_url=emulator.endpoint,
                         role_name="CloudScreenAudit", external_id="cloudscreen-demo", runners=1,
                         retry_attempts=2, retry_max_wait_s=0.1, audit_log=str(root / "audit.log"))
    # Generous rate limits: the property tests send hundreds of messages; flooding is tested elsewhere.
    app = create_app(settings_, demo=True, ray_connect=lambda: ray_conn,
                     ws_limits=WsLimits(auth_timeout_s=2.0, rate_per_s=1000.0, burst=1000, max_violations=5))
    server = _PingingFront(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def viewer(front: _PingingFront) -> str:
    return front.token("viewer")


def _ws_connections(front: _Front) -> float:
    _, text, _ = front.http("GET", "/metrics")
    for line in text.splitlines():
        if line.startswith("cloudscreen_ws_connections "):
            return float(line.split()[1])
    raise AssertionError("cloudscreen_ws_connections is missing from /metrics")


def _assert_clean(text: str, sent: str) -> None:
    """No stack trace or exception class path in `text` (unless the client itself sent it)."""
    for marker in _LEAKS:
        assert marker not in text or marker in sent, text
    for path in _CLASS_PATH.findall(text):
        assert path in sent, text


async def _probe(front: _Front, token: str, frame: str | bytes) -> None:
    """Send `frame` after auth; check the answer, then that the server still answers `ping`."""
    sent = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
    async with ws_connect(front.ws_url, max_size=None) as ws:
        await _auth(ws, token)
        await ws.send(frame)
        try:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code in CLOSE_CODES, exc
            _assert_clean(exc.rcvd.reason, sent)
            reply = None
        if reply is not None:
            _assert_clean(json.dumps(reply), sent)
            assert reply["type"] in REPLY_TYPES, reply
            if reply["type"] == "error":
                assert reply["code"] in ERROR_CODES, reply
            assert await _ask(ws, {"type": "ping", "id": "after"}) == {"type": "pong", "id": "after"}
            return
    async with ws_connect(front.ws_url) as ws:  # it closed: the server must still serve a new one
        await _auth(ws, token)
        assert await _ask(ws, {"type": "ping", "id": "after"}) == {"type": "pong", "id": "after"}


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10),
                                                                                           inner, max_size=4),
                     max_leaves=12)
_fields = st.dictionaries(st.sampled_from(["id", "token", "scan_id", "accounts", "regions", "services", "limit",
                                           "ticket_id", "text", "account_id", "region"]) | st.text(max_size=10),
                          _json, max_size=5)
_typed = st.builds(lambda kind, extra: {**extra, "type": kind},
                   st.sampled_from(sorted(ws_module.HANDLERS)) | st.text(max_size=20), _fields)

_PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY
@given(message=_json | _typed)
def test_arbitrary_json_never_crashes_or_leaks(front: _PingingFront, viewer: str, message: Any) -> None:
    """Property 1/6: arbitrary JSON sent to /ws after auth never crashes the server or leaks a stack
    trace — the reply is an `error` with a documented code (or the normal reply of a valid message),
    or a documented close code; afterwards the server still answers `ping`."""
    asyncio.run(_probe(front, viewer, json.dumps(message)))


@_PROPERTY
@given(frame=st.binary(max_size=300) | st.text(st.characters(codec="utf-8"), max_size=300))
def test_arbitrary_frames_never_crash_or_leak(front: _PingingFront, viewer: str, frame: str | bytes) -> None:
    """Property 1/6 (frames): arbitrary text and binary frames sent to /ws after auth never crash the
    server or leak a stack trace: an `error` with a documented code or a documented close code, and the
    server still answers `ping` afterwards."""
    asyncio.run(_probe(front, viewer, frame))


def test_unknown_types_get_bad_request_naming_the_known_ones(front: _PingingFront, viewer: str) -> None:
    async def run() -> None:
        async with ws_connect(front.ws_url) as ws:
            await _auth(ws, viewer)
            reply = await _ask(ws, {"type": "nope", "id": 9})
            assert reply["code"] == "bad_request" and reply["id"] == 9 and "scan.start" in reply["message"]
            await ws.send(b"\x00\x01")
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["code"] == "bad_request"

    asyncio.run(run())


# ------------------------------------------------------------------------------------------ reconnect

def _sandbox_config(emulator: EmulatorServer, body: dict) -> None:
    req = urllib.request.Request(f"{emulator.endpoint}/_sandbox/config", method="POST", data=json.dumps(body).encode())
    urllib.request.urlopen(req, timeout=10).read()


@pytest.mark.asyncio
async def test_reconnecting_mid_scan_resumes_the_stream_with_one_final(front: _PingingFront, estate,  # noqa: F811
                                                                       emulator: EmulatorServer) -> None:
    # Slow the emulator so the scan is still running when the client comes back (the `estate`
    # fixture resets the latency afterwards).
    await asyncio.to_thread(_sandbox_config, emulator, {"latency_ms": 40})
    token = await asyncio.to_thread(front.token, "analyst")
    async with ws_connect(front.ws_url) as ws:
        await _auth(ws, token)
        accepted = await _ask(ws, {"type": "scan.start", "id": "r", "accounts": [estate.accounts[0]],
                                   "regions": ["us-east-1"], "services": ["iam"]}, timeout=30)
        assert accepted["type"] == "scan.accepted", accepted
        scan_id = accepted["scan_id"]
        before = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert before["type"] == "scan.progress" and before["scan_id"] == scan_id, before

    async with ws_connect(front.ws_url) as ws:
        await _auth(ws, token)
        await ws.send(json.dumps({"type": "scan.subscribe", "scan_id": scan_id}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 3))  # the state at once
        assert first["type"] in ("scan.progress", *FINAL) and first["scan_id"] == scan_id
        after = [first] if first["type"] in FINAL else [first, *await _collect(ws)]

    # Exactly one final, last. Which one is the scan's business (test_front pins `scan.completed`):
    # this test is about the stream surviving the reconnect.
    finals = [m for m in after if m["type"] in FINAL]
    assert len(finals) == 1 and after[-1] is finals[0] and finals[0]["scan_id"] == scan_id, after
    percents = [m["percent"] for m in [before, *after] if m["type"] == "scan.progress"]
    assert percents == sorted(percents), percents


# ------------------------------------------------------------------------------------------ pings

def _raw_ws_handshake(port: int) -> socket.socket:
    """A bare TCP WebSocket client: handshake done, nothing else (it will never answer a ping)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    assert len(payload) < 65536
    header = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload)) if len(payload) > 125 else \
        struct.pack("!BB", 0x81, 0x80 | len(payload))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_a_peer_that_stops_answering_pings_is_dropped(front: _PingingFront, viewer: str) -> None:
    baseline = _ws_connections(front)
    sock = _raw_ws_handshake(front.port)
    try:
        sock.sendall(_masked_text_frame(json.dumps({"type": "auth", "token": viewer})))
        seen = b""
        deadline = time.monotonic() + 5
        while b"auth.ok" not in seen and time.monotonic() < deadline:
            seen += sock.recv(4096)
        assert b"auth.ok" in seen
        assert _ws_connections(front) == baseline + 1
        # From now on the peer is silent: it neither reads nor answers the server's pings.
        deadline = time.monotonic() + READ_TIMEOUT_S + 5
        while _ws_connections(front) != baseline and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _ws_connections(front) == baseline
    finally:
        sock.close()


@pytest.mark.asyncio
async def test_a_peer_answering_pings_outlives_the_read_timeout(front: _PingingFront, viewer: str) -> None:
    async with ws_connect(front.ws_url, ping_interval=None) as ws:  # only the server pings
        await _auth(ws, viewer)
        await asyncio.sleep(READ_TIMEOUT_S * 2.5)
        assert await _ask(ws, {"type": "ping", "id": 1}) == {"type": "pong", "id": 1}


# ------------------------------------------------------------------------------------------ logs



@pytest.mark.asyncio
async def test_ws_logs_carry_the_connection_id_and_keep_stack_traces_from_clients(
        front: _PingingFront, viewer: str, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(conn: Any, msg: Any) -> None:
        raise RuntimeError("pong machine broke: secret-internal-detail")

    monkeypatch.setitem(ws_module.HANDLERS, "ping", ws_module.Route(broken))
    async with ws_connect(front.ws_url) as ws:
        await _auth(ws, viewer)
        reply = await _ask(ws, {"type": "ping", "id": "boom"})
    assert reply == {"type": "error", "id": "boom", "code": "internal", "message": "internal error; see the server log"}

    def ws_records() -> list[dict]:
        lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.startswith("{")]
        return [r for r in lines if r.get("logger") == "cloudscreen.front.ws"]

    failed = [r for r in ws_records() if r["message"].startswith("ws handler of")]
    assert len(failed) == 1, ws_records()
    conn_id = failed[0]["connection_id"]
    assert re.fullmatch(r"[0-9a-f]{12}", conn_id) and failed[0]["user_id"] == "demo-viewer"
    assert "Traceback" in failed[0]["exc_info"] and "secret-internal-detail" in failed[0]["exc_info"]
    assert "secret-internal-detail" not in json.dumps(reply) and "Traceback" not in json.dumps(reply)
    async with asyncio.timeout(5):  # the whole session is traceable by its id, up to its close
        while not [r for r in ws_records() if r.get("connection_id") == conn_id and r["message"] ==
                   "ws connection closed"]:
            await asyncio.sleep(0.05)
    mine = [r["message"] for r in ws_records() if r.get("connection_id") == conn_id]
    assert mine[0].startswith("ws connection authenticated as demo-viewer") and mine[-1] == "ws connection closed"

