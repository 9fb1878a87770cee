"""The Zendesk-facing endpoints: sign-in with the Zendesk signed-URL token and ticket writes.

* `POST /api/session` (JSON `{"zendesk_token"}` or form field `token`) and `POST /zendesk/sidebar` (the
  signed-URL landing, form field `token`) verify the token (`auth.ZendeskTokenVerifier`, RS256 only), look
  the user up in Zendesk, map them to a CloudScreen role and issue a session token. A token in the URL
  query is never read: URLs end up in logs, histories and Referer headers.
* `POST /api/scans/{id}/zendesk/comment` adds the scan's summary with the HTML report attached to its
  ticket, once per (scan, ticket) however often it is pressed; `POST /api/scans/{id}/zendesk/task`
  creates one follow-up task for the scan's critical/high FAILs, or answers `{"created": false,
  "reason": "no_critical_or_high_fails"}` when there are none (not an error: nothing needs following up).

Errors are section 3's `{"error": {"code", "message"}}`. Zendesk or its public key being unreachable is
HTTP 503 with code `internal` (the code vocabulary has no "unavailable"); nobody can sign in until then.
The Zendesk services are built from the settings on first use (`zendesk_*` fields) and kept in
`app.extensions["cloudscreen_zendesk"]`; tests may put a `ZendeskServices` there first.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from quart import Blueprint, Response, current_app, g, request
from quart.typing import ResponseReturnValue
from quart_schema import DataSource, document_request, document_response, validate_response

from engine.errors import UsageError
from engine.model import iso_z
from engine.settings import Settings
from frontend_server.api import ApiError, _guard, _model, authenticated, error_body, errors, metric_reason
from frontend_server.app import FrontState, state
from frontend_server.audit import Action as AuditAction
from frontend_server.audit import Result
from frontend_server.auth import (
    Action,
    AuthError,
    Forbidden,
    PublicKeyProvider,
    PublicKeyUnavailable,
    SessionUser,
    ZendeskTokenVerifier,
    zendesk_audience,
    zendesk_issuers,
)
from frontend_server.scans import ScanConflict, ScanNotFound
from frontend_server.schemas import (
    CommentResult,
    ErrorOut,
    RestError,
    SessionAnswer,
    SessionBody,
    SidebarForm,
    TaskResult,
    TicketBody,
    UserOut,
)
from frontend_server.zendesk import TicketAttacher, ZendeskClient, ZendeskError, ZendeskNotFound, ZendeskRateLimited
from reports.render import script_json

log = logging.getLogger("cloudscreen.front.zendesk")

blueprint = Blueprint("zendesk", __name__)

EXTENSION = "cloudscreen_zendesk"
TOP_CHECKS = 5
TASK_SEVERITIES = ("critical", "high")
# Follow-up tasks are due sooner the worse the worst finding is.
TASK_DUE = {"critical": timedelta(days=1), "high": timedelta(days=3)}
_SEVERITY_ORDER = ("critical", "high", "medium", "low", "informational")
_STATUS_ORDER = ("FAIL", "PASS", "MANUAL", "SKIPPED", "ERROR")


class Unavailable(Exception):
    """Zendesk (or its public key) cannot be reached: answered 503."""


@dataclass
class ZendeskServices:
    """What the Zendesk endpoints use: the token verifier, the API client and the once-only attacher."""

    verifier: ZendeskTokenVerifier
    client: ZendeskClient
    attacher: TicketAttacher

    @classmethod
    def from_settings(cls, settings: Settings) -> ZendeskServices:
        """Build them from `zendesk_*` settings; `UsageError` names what is missing."""
        keys = PublicKeyProvider(key_file=settings.zendesk_public_key_file, subdomain=settings.zendesk_subdomain,
                                 app_id=settings.zendesk_app_id, base_url=settings.zendesk_base_url,
                                 ttl_s=settings.zendesk_key_ttl_s)
        audience = None
        issuer = None
        if settings.zendesk_subdomain:
            issuer = list(zendesk_issuers(settings.zendesk_subdomain))
            if settings.zendesk_installation_id:
                audience = zendesk_audience(settings.zendesk_subdomain, settings.zendesk_installation_id)
        elif settings.zendesk_installation_id:
            raise UsageError("CLOUDSCREEN_ZENDESK_INSTALLATION_ID needs CLOUDSCREEN_ZENDESK_SUBDOMAIN too "
                             "(the token audience names the account)")
        client = ZendeskClient(settings.zendesk_subdomain, base_url=settings.zendesk_base_url,
                               email=settings.zendesk_email or "", api_token=settings.zendesk_api_token or "",
                               user_cache_ttl_s=settings.zendesk_user_cache_s)
        return cls(verifier=ZendeskTokenVerifier(keys, audience=audience, issuer=issuer), client=client,
                   attacher=TicketAttacher(client))


def services() -> ZendeskServices:
    """The app's Zendesk services, built on first use; `Unavailable` when the settings are incomplete."""
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        try:
            found = ZendeskServices.from_settings(state().settings)
        except UsageError as exc:
            log.error("the Zendesk integration is not configured: %s", exc)
            raise Unavailable("the Zendesk integration is not configured on this server; ask an administrator "
                              "to set the CLOUDSCREEN_ZENDESK_* settings") from None
        current_app.extensions[EXTENSION] = found
    return found


@blueprint.after_app_serving
async def _close_client() -> None:
    found = current_app.extensions.get(EXTENSION)
    if found is not None:
        await found.client.aclose()


def _unavailable(message: str) -> ResponseReturnValue:
    return RestError(code="internal", message=message).wire(), 503  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ sign-in

class _Denied(Exception):
    """A sign-in refused with `status` (401/403) and a message safe to show."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def _deny_auth(front: FrontState, reason: str, metric: str, message: str, **audit: Any) -> _Denied:
    """Count and audit a refused sign-in (never with the token), and the 401 to raise."""
    front.metrics.auth_failure(metric)
    front.audit.record(AuditAction.AUTH_DENIED, result=Result.DENIED, reason=reason,
                       details={"remote": request.remote_addr, "via": request.path}, **audit)
    return _Denied(401, message)


async def _sign_in(front: FrontState, token: str | None) -> tuple[str, datetime, SessionUser]:
    """Zendesk token → session token; `_Denied` or `Unavailable` otherwise (both counted and audited)."""
    if not token or not token.strip():
        raise _deny_auth(front, "missing_token", "missing_token",
                         "Send the Zendesk signed-URL token in the request body (never in the URL).")
    zd = services()
    try:
        identity = await asyncio.to_thread(zd.verifier.verify, token.strip())
    except AuthError as exc:
        raise _deny_auth(front, exc.reason, metric_reason(exc), str(exc)) from None
    except PublicKeyUnavailable as exc:
        log.error("cannot verify Zendesk sign-ins: %s", exc)
        front.metrics.auth_failure("zendesk_unavailable")
        front.audit.record(AuditAction.AUTH_DENIED, result=Result.ERROR, reason="key_unavailable",
                           details={"via": request.path})
        raise Unavailable("CloudScreen cannot verify Zendesk sign-ins right now (Zendesk's public key is "
                          "unavailable); try again in a minute") from None
    try:
        directory_user = await zd.client.lookup_agent(identity.user_id)
    except ZendeskNotFound:
        raise _deny_auth(front, "unknown_user", "unknown_user", "Your Zendesk user was not found.",
                         user_id=identity.user_id) from None
    except ZendeskError as exc:
        log.error("Zendesk user look-up failed: %s", exc)
        front.metrics.auth_failure("zendesk_unavailable")
        front.audit.record(AuditAction.AUTH_DENIED, result=Result.ERROR, reason="zendesk_unavailable",
                           user_id=identity.user_id, details={"via": request.path})
        raise Unavailable("Zendesk did not answer CloudScreen's look-up of your user; try again in a "
                          "minute") from None
    try:
        user = front.roles.resolve(directory_user)
    except Forbidden as exc:
        front.metrics.auth_failure("forbidden")
        front.audit.record(AuditAction.AUTH_DENIED, result=Result.DENIED, reason=exc.reason,
                           user_id=identity.user_id, role=directory_user.role, details={"via": request.path})
        raise _Denied(403, str(exc)) from None
    session, expires = front.tokens.issue(user)
    front.audit.record(AuditAction.AUTH_LOGIN, user_id=user.id, role=user.role.value,
                       details={"mode": "zendesk", "via": request.path})
    return session, expires, user


async def _body_token(json_field: str | None) -> str | None:
    """The token from the body only: a JSON field, or the form field `token` (the URL query is ignored)."""
    if request.mimetype == "application/json" and json_field:
        body = await request.get_json(silent=True)
        value = body.get(json_field) if isinstance(body, dict) else None
        return value if isinstance(value, str) else None
    form = await request.form
    return form.get("token")


@blueprint.post("/api/session")
@validate_response(SessionAnswer)
@errors("unauthorized", "forbidden")
@document_response(ErrorOut, 503)
@document_request(SessionBody)
async def session() -> ResponseReturnValue:
    """Exchange a Zendesk signed-URL token for a session token: `{token, expires_at, user}`."""
    front = state()
    try:
        token, expires, user = await _sign_in(front, await _body_token("zendesk_token"))
    except _Denied as exc:
        return error_body("unauthorized" if exc.status == 401 else "forbidden", str(exc))
    except Unavailable as exc:
        return _unavailable(str(exc))
    return SessionAnswer(token=token, expires_at=iso_z(expires), user=UserOut(**user.public()))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>CloudScreen</title>
<style>body{{font:14px/1.4 system-ui,sans-serif;margin:12px;color:#2f3941}}.muted{{color:#68737d}}</style>
</head><body>
<h1 style="font-size:16px;margin:0 0 8px">CloudScreen</h1>
<p>{message}</p>
{data}</body></html>
"""
# No scripts, styles or images from anywhere: the page only carries data for the sidebar app.
_PAGE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                            "frame-ancestors https://*.zendesk.com"}


def _page(message: str, status: int, data: dict[str, Any] | None = None) -> Response:
    block = ("" if data is None else
             f'<script type="application/json" id="session">{script_json(data)}</script>\n')
    body = _PAGE.format(message=html.escape(message), data=block)
    return Response(body, status=status, content_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


@blueprint.post("/zendesk/sidebar")
@document_request(SidebarForm, source=DataSource.FORM)
async def sidebar() -> ResponseReturnValue:
    """The signed-URL landing: verify the posted `token`, answer the sidebar page with the session inside.

    The query string (`origin`, `app_guid`) is kept in the page data: ZAF needs it to talk to Zendesk."""
    front = state()
    try:
        token, expires, user = await _sign_in(front, await _body_token(None))
    except _Denied as exc:
        return _page(str(exc), exc.status)
    except Unavailable as exc:
        return _page(str(exc), 503)
    zaf = {k: request.args[k] for k in ("origin", "app_guid") if k in request.args}
    data = {"token": token, "expires_at": iso_z(expires), "user": user.public(), "zaf": zaf}
    return _page(f"Signed in as {user.name} ({user.role.value}).", 200, data)


# ------------------------------------------------------------------------------------------ ticket writes

async def _scan_doc(front: FrontState, scan_id: str) -> dict[str, Any]:
    try:
        return await front.scans.findings(scan_id)
    except ScanNotFound as exc:
        raise ApiError("not_found", str(exc)) from None
    except ScanConflict as exc:
        raise ApiError("conflict", str(exc)) from None


async def _ticket_id(doc: dict[str, Any], required: bool) -> str | None:
    body = await request.get_json(force=True, silent=True)
    if body is not None and not isinstance(body, dict):
        raise ApiError("bad_request", "the body must be a JSON object (or empty)")
    raw = _model(TicketBody, body or {}).ticket_id
    if raw is None:
        raw = (doc.get("request") or {}).get("ticket_id")
    if raw is None or raw == "":
        if required:
            raise ApiError("bad_request", "this scan has no ticket: give {\"ticket_id\": ...} in the body")
        return None
    text = str(raw).strip()
    if isinstance(raw, bool) or not text.isdigit() or len(text) > 20:
        raise ApiError("bad_request", "ticket_id must be a Zendesk ticket number")
    return text


def _zendesk_error(exc: ZendeskError) -> ApiError | Unavailable:
    if isinstance(exc, ZendeskNotFound):
        return ApiError("not_found", "Zendesk has no such ticket (or CloudScreen may not see it)")
    if isinstance(exc, ZendeskRateLimited):
        return ApiError("rate_limited", "Zendesk is rate limiting CloudScreen; try again in a minute")
    return Unavailable(f"Zendesk did not accept the request; try again later ({type(exc).__name__})")


def summary_text(doc: dict[str, Any], report_url: str | None, attached: bool) -> str:
    """The internal note: counts by status and FAIL severity, the top failing checks, the report."""
    scan_id = doc.get("scan_id", "?")
    summary = doc.get("summary") or {}
    accounts = [str(a.get("account_id")) for a in doc.get("accounts") or []]
    by_status = summary.get("by_status") or {}
    by_severity = summary.get("by_severity") or {}
    lines = [f"CloudScreen scan {scan_id}: {doc.get('status', 'unknown')}",
             f"Accounts: {', '.join(accounts) or 'none'}",
             "Findings: " + ", ".join(f"{s} {by_status.get(s, 0)}" for s in _STATUS_ORDER if s in by_status),
             "Failed by severity: " + ", ".join(f"{s} {by_severity.get(s, 0)}" for s in _SEVERITY_ORDER
                                                 if s in by_severity)]
    top = _top_failing(doc)
    if top:
        lines.append("Top failing checks:")
        lines += [f"- [{sev}] {check_id} {title} ({n} resource{'s' if n != 1 else ''})"
                  for check_id, title, sev, n in top]
    if attached:
        lines.append("The full HTML report is attached.")
    if report_url:
        lines.append(f"Report: {report_url}")
    return "\n".join(lines)


def _top_failing(doc: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    counts: Counter[str] = Counter()
    info: dict[str, tuple[str, str]] = {}
    for f in doc.get("findings") or []:
        if f.get("status") == "FAIL":
            counts[f.get("check_id", "?")] += 1
            info.setdefault(f.get("check_id", "?"), (str(f.get("title", "")), str(f.get("severity", ""))))

    def rank(check_id: str) -> tuple[int, int, str]:
        sev = info[check_id][1]
        return (_SEVERITY_ORDER.index(sev) if sev in _SEVERITY_ORDER else 9, -counts[check_id], check_id)

    return [(c, info[c][0], info[c][1], counts[c]) for c in sorted(counts, key=rank)[:TOP_CHECKS]]


@blueprint.post("/api/scans/<scan_id>/zendesk/comment")
@validate_response(CommentResult)
@errors("bad_request", "forbidden", "not_found", "conflict", "rate_limited")
@document_response(ErrorOut, 503)
@authenticated
@document_request(TicketBody)
async def comment(scan_id: str) -> ResponseReturnValue:
    """Add the scan's summary (HTML report attached) to its ticket once: `{created, ticket_id, ...}`."""
    front = state()
    user: SessionUser = g.user
    _guard(user, Action.ATTACH, scan_id=scan_id)
    doc = await _scan_doc(front, scan_id)
    ticket_id = await _ticket_id(doc, required=True)
    assert ticket_id is not None
    try:
        zd = services()
        report = await asyncio.to_thread(front.store.load_report, scan_id, "html")
        url = None
        if report is not None and front.scans.report_base_url:
            url = await asyncio.to_thread(front.store.report_link, scan_id, "html",
                                          ttl_s=front.settings.report_link_ttl_s, base_url=front.scans.report_base_url,
                                          secret=front.settings.session_secret)
        files = [("cloudscreen-" + scan_id + ".html", report)] if report is not None else []
        result = await zd.attacher.attach_once(f"{scan_id}:{ticket_id}:comment", ticket_id=ticket_id,
                                               body=summary_text(doc, url, bool(files)), files=files)
    except (ZendeskError, Unavailable) as exc:
        err = _zendesk_error(exc) if isinstance(exc, ZendeskError) else exc
        front.audit.record(AuditAction.ZENDESK_COMMENT, result=Result.ERROR, user_id=user.id, role=user.role.value,
                           scan_id=scan_id, ticket_id=ticket_id, reason=type(exc).__name__)
        if isinstance(err, Unavailable):
            return _unavailable(str(err))
        raise err from None
    front.audit.record(AuditAction.ZENDESK_COMMENT, user_id=user.id, role=user.role.value, scan_id=scan_id,
                       ticket_id=ticket_id, details={"created": result.created, "attachments": len(files)})
    return {"created": result.created, "scan_id": scan_id, "ticket_id": result.ticket_id,
            "attachments": len(result.upload_tokens) if result.created else len(files),
            "audit_id": result.audit_id}


@blueprint.post("/api/scans/<scan_id>/zendesk/task")
@validate_response(TaskResult)
@errors("bad_request", "forbidden", "not_found", "conflict", "rate_limited")
@document_response(ErrorOut, 503)
@authenticated
@document_request(TicketBody)
async def task(scan_id: str) -> ResponseReturnValue:
    """Create one follow-up task for the scan's critical/high FAILs: `{created, task_id, ...}`, or
    `{created: false, reason: "no_critical_or_high_fails"}` when there are none."""
    front = state()
    user: SessionUser = g.user
    _guard(user, Action.ATTACH, scan_id=scan_id)
    doc = await _scan_doc(front, scan_id)
    ticket_id = await _ticket_id(doc, required=False)
    urgent = [f for f in doc.get("findings") or []
              if f.get("status") == "FAIL" and f.get("severity") in TASK_SEVERITIES]
    if not urgent:
        front.audit.record(AuditAction.ZENDESK_TASK, user_id=user.id, role=user.role.value, scan_id=scan_id,
                           ticket_id=ticket_id, details={"created": False, "reason": "no_critical_or_high_fails"})
        return {"created": False, "reason": "no_critical_or_high_fails", "scan_id": scan_id, "ticket_id": ticket_id,
                "findings": 0}
    worst = "critical" if any(f.get("severity") == "critical" for f in urgent) else "high"
    accounts = sorted({str(f.get("account_id")) for f in urgent})
    subject = f"CloudScreen: {len(urgent)} critical/high finding{'s' if len(urgent) != 1 else ''} in scan {scan_id}"
    lines = [f"Follow-up of CloudScreen scan {scan_id}" + (f" (ticket #{ticket_id})" if ticket_id else ""),
             f"Accounts: {', '.join(accounts)}", "Top failing checks:"]
    lines += [f"- [{sev}] {c} {title} ({n})" for c, title, sev, n in _top_failing({"findings": urgent})]
    try:
        zd = services()
        result = await zd.attacher.create_task_once(
            f"{scan_id}:{ticket_id or '-'}:task", subject=subject, body="\n".join(lines),
            due_at=datetime.now(UTC) + TASK_DUE[worst], priority="urgent" if worst == "critical" else "high",
            tags=["cloudscreen", f"cloudscreen_{worst}"])
    except (ZendeskError, Unavailable) as exc:
        err = _zendesk_error(exc) if isinstance(exc, ZendeskError) else exc
        front.audit.record(AuditAction.ZENDESK_TASK, result=Result.ERROR, user_id=user.id, role=user.role.value,
                           scan_id=scan_id, ticket_id=ticket_id, reason=type(exc).__name__)
        if isinstance(err, Unavailable):
            return _unavailable(str(err))
        raise err from None
    front.audit.record(AuditAction.ZENDESK_TASK, user_id=user.id, role=user.role.value, scan_id=scan_id,
                       ticket_id=ticket_id, accounts=accounts,
                       details={"created": result.created, "task_id": result.task_id, "findings": len(urgent)})
    return {"created": result.created, "task_id": result.task_id, "scan_id": scan_id, "ticket_id": ticket_id,
            "findings": len(urgent), "priority": "urgent" if worst == "critical" else "high"}
