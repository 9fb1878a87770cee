"""The Zendesk-facing endpoints over a real Hypercorn: sign-in with the signed-URL token (and its security
matrix), the sidebar landing page, and the once-only ticket comment and follow-up task, against the
local Zendesk stub. No Ray: these endpoints only read stored scans."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.settings import Settings
from frontend_server.app import create_app
from frontend_server.auth import SessionTokens, zendesk_audience
from tests.test_front import SECRET, _Front
from tests.zendesk_stub import ZendeskStub

SUBDOMAIN = "acme"
INSTALLATION = 7
ISSUER = f"https://{SUBDOMAIN}.zendesk.com"
AUDIENCE = zendesk_audience(SUBDOMAIN, INSTALLATION)
ANALYST, VIEWER, END_USER, EVIL_NAME, ADMIN = 101, 105, 102, 103, 104
HOSTILE = "</script><script>alert(1)</script>"


class _Env:
    def __init__(self, front: _Front, stub: ZendeskStub, key: rsa.RSAPrivateKey, public_pem: bytes,
                 root: Path) -> None:
        self.front, self.stub, self.key, self.public_pem, self.root = front, stub, key, public_pem, root

    @property
    def app_state(self) -> Any:
        return self.front.app.extensions["cloudscreen"]

    def zendesk_token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(ANALYST), "iat": now, "exp": now + 300,
                                  "context": {"product": "support", "location": "ticket_sidebar"}}
        claims.update(overrides)
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, self.key, algorithm="RS256")

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (self.root / "audit.log").read_text().splitlines()]

    def auth_failures(self, reason: str) -> float:
        _, text, _ = self.front.http("GET", "/metrics")
        m = re.search('^cloudscreen_auth_failures_total' + re.escape(f'{{reason="{reason}"}}') + r' (\S+)$', text, re.M)
        return float(m.group(1)) if m else 0.0

    def session(self, user_id: int) -> str:
        status, body, _ = self.front.http("POST", "/api/session", {"zendesk_token": self.zendesk_token(sub=user_id)})
        assert status == 200, body
        return body["token"]


def _form(front: _Front, path: str, fields: dict[str, str]) -> tuple[int, str, Any]:
    req = urllib.request.Request(front.base + path, method="POST", data=urllib.parse.urlencode(fields).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode(), resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A JWT built by hand: pyjwt refuses to HMAC with a PEM key, which is exactly the forgery we need."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key is not None else ""
    return f"{signing_input}.{sig}"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Env]:
    root = tmp_path_factory.mktemp("front_zendesk")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    stub = ZendeskStub(public_key_pem=public_pem).start()
    stub.add_user(ANALYST, name="Ann Analyst", custom_role_id=55)
    stub.add_user(VIEWER, name="Vic Viewer")
    stub.add_user(END_USER, name="Eve Customer", role="end-user")
    stub.add_user(EVIL_NAME, name=HOSTILE, custom_role_id=55)
    stub.add_user(ADMIN, name="Ada Admin", role="admin")
    settings = Settings(
        session_secret=SECRET, store=f"file://{root}/store", audit_log=str(root / "audit.log"),
        zendesk_subdomain=SUBDOMAIN, zendesk_installation_id=str(INSTALLATION), zendesk_app_id="42",
        zendesk_base_url=stub.url, zendesk_email=stub.email, zendesk_api_token=stub.api_token,
        public_url="https://cloudscreen.example.com",
        extra={"roles": {"default": "viewer", "zendesk": {"admin": "admin"}, "custom_roles": {"55": "analyst"}}})
    front = _Front(create_app(settings, demo=False, ray_connect=lambda: None)).start()
    try:
        yield _Env(front, stub, key, public_pem, root)
    finally:
        front.stop()
        stub.stop()


def _save_scan(env: _Env, scan_id: str, findings: list[dict[str, Any]], ticket_id: str | None = "555") -> None:
    by_status: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    for f in findings:
        by_status[f["status"]] = by_status.get(f["status"], 0) + 1
        if f["status"] == "FAIL":
            by_severity[f["severity"]] = by_severity.get(f["severity"], 0) + 1
    doc = {"scan_id": scan_id, "status": "completed", "started_at": "2026-11-23T10:00:00Z",
           "finished_at": "2026-11-23T10:01:00Z",
           "request": {"accounts": ["111111111111"], "regions": ["us-east-1"], "services": ["s3"],
                       "ticket_id": ticket_id},
           "accounts": [{"account_id": "111111111111", "status": "completed", "error": None}],
           "summary": {"total": len(findings), "by_status": by_status, "by_severity": by_severity},
           "findings": findings}
    store = env.app_state.store
    store.save_findings(scan_id, doc)
    store.save_report(scan_id, "html", b"<!doctype html><title>report</title>")


def _finding(check_id: str, severity: str, status: str = "FAIL") -> dict[str, Any]:
    return {"check_id": check_id, "title": f"title of {check_id}", "service": "s3", "account_id": "111111111111",
            "region": "us-east-1", "resource_type": "bucket", "resource_id": "b", "resource_arn": None,
            "status": status, "severity": severity, "pillar": "security", "frameworks": {}, "message": "m",
            "remediation": "r"}


# ------------------------------------------------------------------------------------------ sign-in

def test_session_is_issued_for_a_mapped_agent(env: _Env) -> None:
    status, body, _ = env.front.http("POST", "/api/session", {"zendesk_token": env.zendesk_token()})
    assert status == 200, body
    assert body["user"] == {"id": str(ANALYST), "name": "Ann Analyst", "role": "analyst"}
    user = SessionTokens(SECRET).verify(body["token"])
    assert user.id == str(ANALYST) and user.role.value == "analyst" and body["expires_at"].endswith("Z")
    assert any(r["action"] == "auth.login" and r["user_id"] == str(ANALYST) for r in env.audit())
    # the form field works too, and a plain agent without the custom role gets the default role
    status, text, _ = _form(env.front, "/api/session", {"token": env.zendesk_token(sub=VIEWER)})
    assert status == 200 and json.loads(text)["user"]["role"] == "viewer"


def _matrix(env: _Env) -> dict[str, tuple[str, str, dict[str, Any], str]]:
    """case → (Zendesk token, where it goes, extra query, expected audit reason)."""
    now = int(time.time())
    good = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(ANALYST), "iat": now, "exp": now + 300}
    valid = env.zendesk_token()
    head, _payload, sig = valid.split(".")
    tampered = f"{head}.{_b64(json.dumps({**good, 'sub': str(ADMIN)}).encode())}.{sig}"
    return {
        "expired": (env.zendesk_token(iat=now - 1000, exp=now - 200), "body", {}, "expired"),
        "not_yet_valid": (env.zendesk_token(nbf=now + 600), "body", {}, "not_yet_valid"),
        "wrong_audience": (env.zendesk_token(aud=zendesk_audience(SUBDOMAIN, 8)), "body", {}, "bad_audience"),
        "wrong_issuer": (env.zendesk_token(iss="https://evil.zendesk.com"), "body", {}, "bad_issuer"),
        "hs256_with_public_key": (_unsigned({"alg": "HS256", "typ": "JWT"}, good, env.public_pem), "body", {},
                                  "bad_algorithm"),
        "alg_none": (_unsigned({"alg": "none", "typ": "JWT"}, good, None), "body", {}, "bad_algorithm"),
        "tampered_payload": (tampered, "body", {}, "bad_signature"),
        "token_only_in_url": (valid, "url", {}, "missing_token"),
    }


_METRIC = {"bad_audience": "wrong_audience", "bad_issuer": "wrong_issuer"}


@pytest.mark.parametrize("case", ["expired", "not_yet_valid", "wrong_audience", "wrong_issuer",
                                  "hs256_with_public_key", "alg_none", "tampered_payload", "token_only_in_url"])
def test_bad_zendesk_tokens_are_refused_counted_and_audited(env: _Env, case: str) -> None:
    token, where, _, reason = _matrix(env)[case]
    metric = _METRIC.get(reason, reason)
    before = env.auth_failures(metric)
    lines_before = len(env.audit())
    if where == "url":
        query = urllib.parse.urlencode({"token": token, "zendesk_token": token})
        status, body, _ = env.front.http("POST", f"/api/session?{query}", {})
    else:
        status, body, _ = env.front.http("POST", "/api/session", {"zendesk_token": token})
    assert status == 401 and body["error"]["code"] == "unauthorized", body
    new = env.audit()[lines_before:]
    assert [(r["action"], r["result"], r["reason"]) for r in new] == [("auth.denied", "denied", reason)]
    assert env.auth_failures(metric) == before + 1
    assert token.split(".")[0] + "." not in (env.root / "audit.log").read_text()  # the token is never logged


def test_an_end_user_is_forbidden_and_audited(env: _Env) -> None:
    before = env.auth_failures("forbidden")
    status, body, _ = env.front.http("POST", "/api/session", {"zendesk_token": env.zendesk_token(sub=END_USER)})
    assert status == 403 and body["error"]["code"] == "forbidden"
    last = env.audit()[-1]
    assert (last["action"], last["result"], last["reason"], last["user_id"]) == (
        "auth.denied", "denied", "end_user", str(END_USER))
    assert env.auth_failures("forbidden") == before + 1


def test_an_unknown_user_is_unauthorized(env: _Env) -> None:
    status, body, _ = env.front.http("POST", "/api/session", {"zendesk_token": env.zendesk_token(sub=999)})
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert env.audit()[-1]["reason"] == "unknown_user"


def test_sidebar_embeds_the_session_escaped_and_keeps_the_zaf_query(env: _Env) -> None:
    query = urllib.parse.urlencode({"origin": "https://acme.zendesk.com", "app_guid": "g-1"})
    status, page, headers = _form(env.front, f"/zendesk/sidebar?{query}",
                                  {"token": env.zendesk_token(sub=EVIL_NAME)})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    m = re.search(r'<script type="application/json" id="session">(.*?)</script>', page, re.S)
    assert m is not None
    assert page.count("<script") == 1 and "<script>alert" not in page
    data = json.loads(m.group(1))
    assert data["user"]["name"] == HOSTILE and data["zaf"] == {"origin": "https://acme.zendesk.com", "app_guid": "g-1"}
    assert SessionTokens(SECRET).verify(data["token"]).id == str(EVIL_NAME)
    # a refused token gets an HTML page with the 401, not a session
    status, page, _ = _form(env.front, "/zendesk/sidebar", {"token": "not-a-token"})
    assert status == 401 and 'id="session"' not in page


# ------------------------------------------------------------------------------------------ ticket writes

@pytest.mark.asyncio
async def test_comment_pressed_five_times_adds_one_note_and_one_upload(env: _Env) -> None:
    _save_scan(env, "scan-comment", [_finding("s3_public", "critical"), _finding("s3_public", "critical"),
                                     _finding("s3_versioning", "low"), _finding("s3_tls", "high", "PASS")])
    token = env.session(ANALYST)
    uploads_before = len(env.stub.uploads)

    def press() -> tuple[int, Any, str]:
        return env.front.http("POST", "/api/scans/scan-comment/zendesk/comment", None, token=token)

    answers = await asyncio.gather(*(asyncio.to_thread(press) for _ in range(5)))
    assert all(status == 200 for status, _, _ in answers), answers
    assert sorted(body["created"] for _, body, _ in answers) == [False] * 4 + [True]
    assert {body["ticket_id"] for _, body, _ in answers} == {"555"}
    assert len(env.stub.uploads) - uploads_before == 1
    assert env.stub.uploads[-1]["filename"] == "cloudscreen-scan-comment.html"
    notes = env.stub.comments["555"]
    assert len(notes) == 1 and notes[0]["public"] is False and len(notes[0]["uploads"]) == 1
    assert "[critical] s3_public" in notes[0]["body"] and "https://cloudscreen.example.com/" in notes[0]["body"]
    # a later press is still a no-op
    status, body, _ = env.front.http("POST", "/api/scans/scan-comment/zendesk/comment", None, token=token)
    assert (status, body["created"], len(env.stub.comments["555"])) == (200, False, 1)
    comments = [r for r in env.audit() if r["action"] == "zendesk.comment"]
    assert comments and all(r["scan_id"] == "scan-comment" and r["ticket_id"] == "555" for r in comments)


def test_a_viewer_cannot_comment_or_create_tasks(env: _Env) -> None:
    _save_scan(env, "scan-viewer", [_finding("s3_public", "critical")])
    token = env.session(VIEWER)
    for what in ("comment", "task"):
        status, body, _ = env.front.http("POST", f"/api/scans/scan-viewer/zendesk/{what}", {}, token=token)
        assert status == 403 and body["error"]["code"] == "forbidden"
    assert env.audit()[-1]["action"] == "access.denied"
    assert "555" not in env.stub.comments or not any("scan-viewer" in c["body"] for c in env.stub.comments["555"])


def test_task_endpoint_creates_one_task_or_says_why_not(env: _Env) -> None:
    _save_scan(env, "scan-task", [_finding("iam_root_mfa", "critical"), _finding("s3_versioning", "low")],
               ticket_id="777")
    _save_scan(env, "scan-clean", [_finding("s3_versioning", "low"), _finding("s3_tls", "high", "PASS")])
    token = env.session(ANALYST)
    status, first, _ = env.front.http("POST", "/api/scans/scan-task/zendesk/task", {}, token=token)
    assert status == 200, first
    assert first["created"] is True and first["findings"] == 1 and first["priority"] == "urgent"
    assert first["ticket_id"] == "777" and first["task_id"].isdigit()
    status, again, _ = env.front.http("POST", "/api/scans/scan-task/zendesk/task", {}, token=token)
    assert (status, again["created"], again["task_id"]) == (200, False, first["task_id"])
    tasks = [t for t in env.stub.tasks if "scan-task" in t["subject"]]
    assert len(tasks) == 1 and tasks[0]["type"] == "task" and tasks[0]["comment"]["public"] is False
    status, none, _ = env.front.http("POST", "/api/scans/scan-clean/zendesk/task", {}, token=token)
    assert status == 200 and none == {"created": False, "reason": "no_critical_or_high_fails",
                                      "scan_id": "scan-clean", "ticket_id": "555", "findings": 0}
    assert [r["details"]["created"] for r in env.audit() if r["action"] == "zendesk.task"][-3:] == [True, False, False]


def test_unknown_scan_and_bad_ticket_are_errors(env: _Env) -> None:
    token = env.session(ANALYST)
    status, body, _ = env.front.http("POST", "/api/scans/nope/zendesk/comment", {}, token=token)
    assert status == 404 and body["error"]["code"] == "not_found"
    _save_scan(env, "scan-noticket", [_finding("s3_public", "critical")], ticket_id=None)
    status, body, _ = env.front.http("POST", "/api/scans/scan-noticket/zendesk/comment", {}, token=token)
    assert status == 400 and body["error"]["code"] == "bad_request"
    status, body, _ = env.front.http("POST", "/api/scans/scan-noticket/zendesk/comment", {"ticket_id": "x<y"},
                                     token=token)
    assert status == 400


def test_zendesk_unreachable_is_503(env: _Env) -> None:
    env.stub.add_user(106, name="Late Agent")
    env.stub.fail(429, retry_after="120", path="/api/v2/users/106")  # longer than the client waits: fails at once
    status, body, _ = env.front.http("POST", "/api/session", {"zendesk_token": env.zendesk_token(sub=106)})
    assert status == 503 and body["error"]["code"] == "internal"
    last = env.audit()[-1]
    assert (last["action"], last["result"], last["reason"]) == ("auth.denied", "error", "zendesk_unavailable")


@pytest.mark.asyncio
async def test_missing_public_key_or_configuration_is_503(tmp_path: Path) -> None:
    base = {"session_secret": SECRET, "store": f"file://{tmp_path}/s", "audit_log": str(tmp_path / "a.log")}
    no_key = Settings(**base, zendesk_public_key_file=str(tmp_path / "missing.pem"), zendesk_subdomain=SUBDOMAIN,
                      zendesk_email="bot@example.com", zendesk_api_token="t")
    for settings in (no_key, Settings(**base)):
        app = create_app(settings, demo=False, ray_connect=lambda: None)
        response = await app.test_client().post("/api/session", json={"zendesk_token": "a.b.c"})
        if settings is no_key:  # a malformed token is refused before the key is needed
            assert response.status_code == 401
            token = jwt.encode({"sub": "1"}, rsa.generate_private_key(public_exponent=65537, key_size=2048),
                               algorithm="RS256")
            response = await app.test_client().post("/api/session", json={"zendesk_token": token})
        assert response.status_code == 503, await response.get_data()
        assert (await response.get_json())["error"]["code"] == "internal"
