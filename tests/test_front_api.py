"""The REST surface as quart-schema declares it: OpenAPI completeness (every body, query string and
answer has a schema; the `/ws` messages are published too), validation before any handler runs, and
request ids in answers, logs and audit lines. Real Hypercorn where the transport matters."""

from __future__ import annotations

import io
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from engine.settings import Settings
from frontend_server.app import create_app
from frontend_server.schemas import CLIENT_MESSAGES
from frontend_server.ws import HANDLERS
from tests.test_front import SECRET, _Front

# The server → client message types of CONTRACTS.md section 3.
SERVER_TYPES = {"auth.ok", "scan.accepted", "scan.progress", "scan.completed", "scan.failed", "scan.cancelled",
                "scan.list", "query.result", "pong", "error"}


@pytest.fixture
def app(tmp_path: Path) -> Any:
    settings = Settings(session_secret=SECRET, store=f"file://{tmp_path}/store", audit_log=str(tmp_path / "audit.log"))
    return create_app(settings, demo=True, ray_connect=lambda: None)


async def _spec(app: Any) -> dict[str, Any]:
    response = await app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return await response.get_json()


async def _token(client: Any, role: str = "analyst") -> str:
    response = await client.post("/api/dev/session", json={"role": role})
    assert response.status_code == 200
    return (await response.get_json())["token"]


def _audit(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]


# ------------------------------------------------------------------------------------------ OpenAPI

@pytest.mark.asyncio
async def test_every_json_endpoint_documents_its_answer_and_errors(app: Any) -> None:
    spec = await _spec(app)
    file_answers = {"/metrics", "/api/scans/{scan_id}/reports/{kind}", "/zendesk/sidebar"}  # not JSON
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            responses = op.get("responses", {})
            if path not in file_answers:
                ok = [c for c in responses if c.startswith("2")]
                assert ok, f"{method.upper()} {path} documents no success answer"
                assert all("schema" in responses[c]["content"]["application/json"] for c in ok), (method, path)
            if path.startswith("/api/") and path != "/api/session" and path != "/api/dev/session":
                assert "401" in responses, f"{method.upper()} {path} does not document 401"
                assert op.get("security") == [{"session": []}] or {"session": []} in op.get("security", []), path


@pytest.mark.asyncio
async def test_every_body_and_query_string_has_a_schema(app: Any) -> None:
    spec = await _spec(app)
    for path, operations in spec["paths"].items():
        if "post" in operations and path not in ("/api/scans/{scan_id}/cancel",):
            assert "requestBody" in operations["post"], f"POST {path} has no documented body"
    names = {p["name"] for p in spec["paths"]["/api/scans/{scan_id}/findings"]["get"]["parameters"]
             if p["in"] == "query"}
    assert {"status", "severity", "service", "account_id", "region", "check_id", "offset", "limit"} <= names
    list_params = {p["name"] for p in spec["paths"]["/api/scans"]["get"]["parameters"] if p["in"] == "query"}
    assert "limit" in list_params
    body = spec["paths"]["/api/scans"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"accounts", "regions", "services", "ticket_id"} <= set(_resolve(spec, body)["properties"])


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


@pytest.mark.asyncio
async def test_openapi_publishes_every_websocket_message(app: Any) -> None:
    spec = await _spec(app)
    messages = spec["x-websocket"]["messages"]
    assert set(messages["client"]) == set(HANDLERS) == set(CLIENT_MESSAGES)
    assert set(messages["server"]) == SERVER_TYPES
    for side in ("client", "server"):
        for kind, ref in messages[side].items():
            schema = _resolve(spec, {"$ref": ref})
            assert schema["properties"]["type"].get("const", kind) == kind
            assert "type" in schema["properties"], (kind, schema)
    progress = _resolve(spec, {"$ref": messages["server"]["scan.progress"]})
    assert {"percent", "done_units", "total_units", "eta_seconds", "current", "counts"} <= set(progress["properties"])


# ------------------------------------------------------------------------------------------ validation

@pytest.mark.asyncio
@pytest.mark.parametrize(("raw", "expected"), [
    ("{not json", "malformed"),
    ("[1, 2]", "JSON object"),
    ('{"accounts": "111111111111"}', "accounts"),
    ('{"regions": [1]}', "regions"),
    ('{"services": ["iam"], "ticket_id": {"x": 1}}', "ticket_id"),
])
async def test_a_malformed_scan_body_is_a_bad_request_naming_the_problem(app: Any, tmp_path: Path, raw: str,
                                                                         expected: str) -> None:
    client = app.test_client()
    token = await _token(client)
    response = await client.post("/api/scans", data=raw, headers={"Authorization": f"Bearer {token}",
                                                                   "Content-Type": "application/json"})
    body = await response.get_json()
    assert response.status_code == 400 and body["error"]["code"] == "bad_request"
    assert expected in body["error"]["message"], body
    assert "Traceback" not in json.dumps(body)
    assert not [r for r in _audit(tmp_path) if r["action"] == "scan.start"]  # nothing was started


@pytest.mark.asyncio
async def test_an_anonymous_caller_is_refused_before_its_body_is_read(app: Any) -> None:
    response = await app.test_client().post("/api/scans", data="{not json",
                                            headers={"Content-Type": "application/json"})
    assert response.status_code == 401 and (await response.get_json())["error"]["code"] == "unauthorized"


@pytest.mark.asyncio
@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=201"])
async def test_a_bad_query_string_is_a_bad_request(app: Any, query: str) -> None:
    client = app.test_client()
    token = await _token(client, "viewer")
    response = await client.get(f"/api/scans?{query}", headers={"Authorization": f"Bearer {token}"})
    body = await response.get_json()
    assert response.status_code == 400 and body["error"]["message"].startswith("limit:"), body


# ------------------------------------------------------------------------------------------ request ids



def _post(base: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
    req = urllib.request.Request(base + path, method="POST", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


def test_request_ids_reach_the_answer_the_json_log_and_the_audit_line(app: Any, tmp_path: Path,
                                                                       json_log: io.StringIO) -> None:
    server = _Front(app).start()
    try:
        status, headers = _post(server.base, "/api/dev/session", {"role": "viewer"}, {"X-Request-ID": "ticket-42.a"})
        assert status == 200 and headers["X-Request-ID"] == "ticket-42.a"
        # A hostile id (log injection, too long) is replaced, not echoed.
        status, headers = _post(server.base, "/api/dev/session", {"role": "viewer"},
                                {"X-Request-ID": "x\" injected=1" + "a" * 80})
        assert status == 200 and re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
        # The Zendesk integration is not configured here: the sign-in fails, and says so in the log.
        status, headers = _post(server.base, "/api/session", {"zendesk_token": "a.b.c"}, {"X-Request-ID": "zd-1"})
        assert status == 503 and headers["X-Request-ID"] == "zd-1"
    finally:
        server.stop()
    logins = [r for r in _audit(tmp_path) if r["action"] == "auth.login"]
    assert [r["request_id"] for r in logins][:1] == ["ticket-42.a"]
    records = [json.loads(line) for line in json_log.getvalue().splitlines() if line.startswith("{")]
    failed = [r for r in records if "not configured" in r.get("message", "")]
    assert failed and failed[0]["request_id"] == "zd-1", records


# ------------------------------------------------------------------------------------------ WebSocket compression

async def _negotiated_extensions(app: Any, compression: bool) -> str | None:
    from websockets.asyncio.client import connect as ws_connect

    from frontend_server.app import set_websocket_compression

    server = _Front(app).start()
    try:
        set_websocket_compression(compression)
        async with ws_connect(server.ws_url) as ws:  # the client offers permessage-deflate, as browsers do
            return ws.response.headers.get("Sec-WebSocket-Extensions")
    finally:
        set_websocket_compression(False)
        server.stop()


@pytest.mark.asyncio
async def test_websocket_compression_is_declined_by_default_and_negotiated_when_enabled(app: Any) -> None:
    assert await _negotiated_extensions(app, compression=False) is None
    assert "permessage-deflate" in (await _negotiated_extensions(app, compression=True) or "")
