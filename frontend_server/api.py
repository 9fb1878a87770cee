"""REST endpoints of CONTRACTS.md section 5 (the Zendesk ones live in `frontend_server.zendesk`).

Every endpoint but `/health`, `/ready` and `/metrics` needs `Authorization: Bearer <session token>`;
report downloads also accept a signed, expiring link (`?exp=...&sig=...`). Errors are
`{"error": {"code", "message"}}` with the codes of section 3.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import ray
from pydantic import ValidationError
from quart import Blueprint, Response, g, request
from quart.typing import ResponseReturnValue
from quart_schema import (
    RequestSchemaValidationError,
    document_request,
    document_response,
    security_scheme,
    validate_querystring,
    validate_request,
    validate_response,
)

from engine.errors import CloudScreenError, StoreError, UsageError
from engine.model import REPORT_FILES, iso_z
from engine.store import verify_report_link
from frontend_server.app import FrontState, state
from frontend_server.audit import Action as AuditAction
from frontend_server.audit import Result
from frontend_server.auth import Action, AuthError, Forbidden, Role, SessionUser
from frontend_server.scans import ActiveScan, ScanConflict, ScanNotFound, check_scan_id
from frontend_server.schemas import (
    CancelAccepted,
    DevSessionBody,
    ErrorOut,
    FindingsPage,
    FindingsQuery,
    HealthOut,
    ReadyOut,
    ReportLinkQuery,
    RestError,
    ScanCreated,
    ScanDetail,
    ScanListOut,
    ScanListQuery,
    ScanStartBody,
    SessionAnswer,
    UserOut,
)

log = logging.getLogger("cloudscreen.front.api")

blueprint = Blueprint("api", __name__)

_STATUS = {"bad_request": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404, "conflict": 409,
           "too_large": 413, "rate_limited": 429, "internal": 500}
# auth.AuthError reasons → the metric's reason vocabulary (frontend_server.metrics.AUTH_FAILURE_REASONS).
_METRIC_REASON = {"bad_audience": "wrong_audience", "bad_issuer": "wrong_issuer", "missing_claim": "malformed"}
READY_TIMEOUT_S = 5.0
FINDING_FILTERS = ("status", "severity", "service", "account_id", "region", "check_id")


class ApiError(CloudScreenError):
    """An error answer: `code` (section 3 vocabulary) and a message the user can act on."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def error_body(code: str, message: str) -> ResponseReturnValue:
    return RestError(code=code, message=message).wire(), _STATUS[code]  # type: ignore[arg-type]


@blueprint.app_errorhandler(ApiError)
async def _api_error(exc: ApiError) -> ResponseReturnValue:
    return error_body(exc.code, str(exc))


@blueprint.app_errorhandler(RequestSchemaValidationError)
async def _invalid_request(exc: RequestSchemaValidationError) -> ResponseReturnValue:
    """A body or query string that its quart-schema model refused: `bad_request` naming the field."""
    return error_body("bad_request", validation_message(exc.validation_error))


def validation_message(error: Exception | None, what: str = "body") -> str:
    """One line a user can act on, from a pydantic error: the first bad field and why."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        if not first.get("loc"):
            return f"the {what} must be a JSON object (Content-Type: application/json)"
        where = ".".join(str(p) for p in first.get("loc", ())) or what
        return f"{where}: {first.get('msg')}"
    return f"the {what} is not valid"


F = TypeVar("F", bound=Callable[..., Any])


def errors(*codes: str) -> Callable[[F], F]:
    """Document the `{"error": ...}` answers an endpoint may give (OpenAPI only)."""

    def decorator(func: F) -> F:
        for code in codes:
            func = document_response(ErrorOut, _STATUS[code])(func)
        return func

    return decorator


def authenticated(func: F) -> F:
    """Require `Authorization: Bearer <session token>` before anything else runs (the body and query
    are validated after it, so an anonymous caller learns nothing); the user is `g.user`."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.user = _user()
        return await func(*args, **kwargs)

    return security_scheme([{"session": []}])(errors("unauthorized")(wrapper))  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------ shared checks

def metric_reason(exc: AuthError) -> str:
    return _METRIC_REASON.get(exc.reason, exc.reason)


def verify_token(front: FrontState, token: str, *, connection_id: str | None = None) -> SessionUser:
    """The user of a session token; an `AuthError` is counted and audited before it propagates."""
    try:
        return front.tokens.verify(token)
    except AuthError as exc:
        front.metrics.auth_failure(metric_reason(exc))
        front.audit.record(AuditAction.AUTH_DENIED, result=Result.DENIED, reason=exc.reason,
                           connection_id=connection_id, details={"remote": _remote()})
        raise


def authorize(front: FrontState, user: SessionUser, action: Action, accounts: Iterable[str] | None = None, *,
              scan_id: str | None = None, ticket_id: str | None = None, connection_id: str | None = None) -> None:
    """Raise `Forbidden` (counted and audited) unless `user` may do `action` on `accounts`."""
    accts = None if accounts is None else tuple(accounts)
    try:
        front.roles.authorize(user, action, accts)
    except Forbidden as exc:
        front.metrics.auth_failure("forbidden")
        front.audit.record(AuditAction.ACCESS_DENIED, result=Result.DENIED, user_id=user.id, role=user.role.value,
                           accounts=exc.accounts or accts or (), scan_id=scan_id, ticket_id=ticket_id,
                           reason=exc.reason, connection_id=connection_id, details={"action": exc.action})
        raise


async def start_scan_for(front: FrontState, user: SessionUser, body: ScanStartBody, *, via: str,
                         connection_id: str | None = None) -> ActiveScan:
    """Authorise (the role first: a viewer's request is not even resolved; then the resolved accounts
    against the allow-list), start and audit a scan. Raises Forbidden, UsageError or ScanConflict."""
    if user.role.rank < Role.ANALYST.rank:
        authorize(front, user, Action.START_SCAN, connection_id=connection_id)
    req = await front.scans.resolve(body)
    authorize(front, user, Action.START_SCAN, req.accounts, ticket_id=req.ticket_id, connection_id=connection_id)
    active = await front.scans.launch(req, user_id=user.id)
    front.audit.record(AuditAction.SCAN_START, user_id=user.id, role=user.role.value, accounts=req.accounts,
                       scan_id=active.scan_id, ticket_id=req.ticket_id, connection_id=connection_id,
                       details={"via": via, "units": active.units})
    return active


async def cancel_scan_for(front: FrontState, user: SessionUser, scan_id: str, *, via: str,
                          connection_id: str | None = None) -> None:
    """Authorise, cancel and audit (raises Forbidden, ScanNotFound or ScanConflict)."""
    accounts = front.scans.active_accounts(scan_id)
    authorize(front, user, Action.CANCEL_SCAN, accounts, scan_id=scan_id, connection_id=connection_id)
    await front.scans.cancel(scan_id)
    front.audit.record(AuditAction.SCAN_CANCEL, user_id=user.id, role=user.role.value, scan_id=scan_id,
                       accounts=accounts or (), connection_id=connection_id, details={"via": via})


def _remote() -> str | None:
    from quart import has_request_context, has_websocket_context, websocket

    if has_websocket_context():
        return websocket.remote_addr
    if has_request_context():
        return request.remote_addr
    return None


def _user() -> SessionUser:
    front = state()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        front.metrics.auth_failure("missing_token")
        raise ApiError("unauthorized", "send the session token as `Authorization: Bearer <token>`")
    try:
        return verify_token(front, token.strip())
    except AuthError as exc:
        raise ApiError("unauthorized", str(exc)) from None


def _guard(user: SessionUser, action: Action, accounts: Iterable[str] | None = None, **kw: Any) -> None:
    try:
        authorize(state(), user, action, accounts, **kw)
    except Forbidden as exc:
        raise ApiError("forbidden", str(exc)) from None


def _model(model: type[Any], body: Any) -> Any:
    """Validate a body the endpoint reads itself (optional or form bodies) against its schema."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError("bad_request", validation_message(exc)) from None


def _scan_errors(exc: Exception) -> ApiError:
    if isinstance(exc, Forbidden):
        return ApiError("forbidden", str(exc))
    if isinstance(exc, ScanNotFound):
        return ApiError("not_found", str(exc))
    if isinstance(exc, ScanConflict):
        return ApiError("conflict", str(exc))
    if isinstance(exc, UsageError):
        return ApiError("bad_request", str(exc))
    raise exc


# ------------------------------------------------------------------------------------------ probes

@blueprint.get("/health")
@validate_response(HealthOut)
async def health() -> ResponseReturnValue:
    """Liveness: the process answers."""
    return HealthOut()


@blueprint.get("/ready")
@validate_response(ReadyOut)
@document_response(ReadyOut, 503)
async def ready() -> ResponseReturnValue:
    """Readiness: Ray reachable and the result store writable; 503 with the reasons otherwise."""
    front = state()
    reasons: list[str] = []
    try:
        if not ray.is_initialized():
            raise RuntimeError("this front is not connected to Ray")
        await asyncio.wait_for(asyncio.to_thread(ray.cluster_resources), READY_TIMEOUT_S)
    except Exception as exc:
        reasons.append(f"ray: {exc or type(exc).__name__}")
    try:
        await asyncio.wait_for(asyncio.to_thread(front.store.check_writable), READY_TIMEOUT_S)
    except Exception as exc:
        reasons.append(f"store: {exc or type(exc).__name__}")
    if reasons:
        return ReadyOut(status="unavailable", reasons=reasons).wire(), 503
    return ReadyOut(status="ready").wire()


@blueprint.get("/metrics")
async def metrics() -> ResponseReturnValue:
    """Prometheus text exposition of the front's metrics."""
    body, content_type = state().metrics.render()
    return Response(body, content_type=content_type)


# ------------------------------------------------------------------------------------------ sessions

@blueprint.post("/api/dev/session")
@validate_response(SessionAnswer)
@errors("bad_request", "not_found")
@document_request(DevSessionBody)
async def dev_session() -> ResponseReturnValue:
    """Demo mode only (404 otherwise): a session token for the asked role, without Zendesk.
    Body: `{"role": "admin|analyst|viewer", "name"?}` (empty = analyst)."""
    front = state()
    if not front.demo:
        raise ApiError("not_found", "no such endpoint")
    body = _model(DevSessionBody, await request.get_json(force=True, silent=True) or {})
    role = Role(body.role)
    user = SessionUser(id=f"demo-{role.value}", name=body.name or f"Demo {role.value}", role=role)
    token, expires = front.tokens.issue(user)
    front.audit.record(AuditAction.AUTH_LOGIN, user_id=user.id, role=role.value, details={"mode": "demo"})
    return SessionAnswer(token=token, expires_at=iso_z(expires), user=UserOut(**user.public()))


# ------------------------------------------------------------------------------------------ scans

@blueprint.post("/api/scans")
@validate_response(ScanCreated, 202)
@errors("bad_request", "forbidden", "conflict")
@authenticated
@validate_request(ScanStartBody)
async def start_scan(data: ScanStartBody) -> ResponseReturnValue:
    """Start a scan (body as `scan.start`); 202 `{scan_id}`."""
    try:
        active = await start_scan_for(state(), g.user, data, via="rest")
    except Exception as exc:
        raise _scan_errors(exc) from None
    return ScanCreated(scan_id=active.scan_id), 202


@blueprint.get("/api/scans")
@validate_response(ScanListOut)
@errors("bad_request", "forbidden")
@authenticated
@validate_querystring(ScanListQuery)
async def list_scans(query_args: ScanListQuery) -> ResponseReturnValue:
    """Active scans, then the newest stored ones (`?limit=`, default 20, at most 200)."""
    _guard(g.user, Action.VIEW)
    return ScanListOut(scans=await state().scans.list(query_args.limit))


@blueprint.get("/api/scans/<scan_id>")
@validate_response(ScanDetail)
@errors("forbidden", "not_found")
@authenticated
async def get_scan(scan_id: str) -> ResponseReturnValue:
    """One scan: its progress while it runs, its summary and report links once finished."""
    _guard(g.user, Action.VIEW, scan_id=scan_id)
    try:
        return await state().scans.describe(scan_id)
    except Exception as exc:
        raise _scan_errors(exc) from None


@blueprint.post("/api/scans/<scan_id>/cancel")
@validate_response(CancelAccepted, 202)
@errors("forbidden", "not_found", "conflict")
@authenticated
async def cancel_scan(scan_id: str) -> ResponseReturnValue:
    """Ask a running scan to stop; 202 (the scan ends `cancelled` once its jobs stopped)."""
    try:
        await cancel_scan_for(state(), g.user, scan_id, via="rest")
    except Exception as exc:
        raise _scan_errors(exc) from None
    return CancelAccepted(scan_id=scan_id), 202


@blueprint.get("/api/scans/<scan_id>/findings")
@validate_response(FindingsPage)
@errors("bad_request", "forbidden", "not_found", "conflict")
@authenticated
@validate_querystring(FindingsQuery)
async def findings(scan_id: str, query_args: FindingsQuery) -> ResponseReturnValue:
    """Findings of a finished scan, filtered (`status`, `severity`, `service`, `account_id`, `region`,
    `check_id`; comma-separated values mean any of them) and paginated (`offset`, `limit` ≤ 1000)."""
    _guard(g.user, Action.VIEW, scan_id=scan_id)
    try:
        doc = await state().scans.findings(scan_id)
    except Exception as exc:
        raise _scan_errors(exc) from None
    raw = query_args.model_dump()
    wanted = {k: {v.strip() for v in raw[k].split(",") if v.strip()} for k in FINDING_FILTERS if raw.get(k)}
    selected = [f for f in doc.get("findings", []) if all(_matches(f.get(k), v, k) for k, v in wanted.items())]
    offset, limit = query_args.offset, query_args.limit
    page = selected[offset:offset + limit]
    next_offset = offset + len(page) if offset + len(page) < len(selected) else None
    return FindingsPage(scan_id=scan_id, status=doc.get("status"), total=len(selected), offset=offset, limit=limit,
                        next_offset=next_offset, findings=page)


def _matches(value: Any, wanted: set[str], key: str) -> bool:
    text = str(value) if value is not None else ""
    # Statuses are upper case and severities lower case in the document; accept either from the URL.
    if key in ("status", "severity"):
        return text.lower() in {w.lower() for w in wanted}
    return text in wanted


@blueprint.get("/api/scans/<scan_id>/reports/<kind>")
@errors("unauthorized", "forbidden", "not_found")
@security_scheme([{"session": []}, {}])
@validate_querystring(ReportLinkQuery)
async def report(scan_id: str, kind: str, query_args: ReportLinkQuery) -> ResponseReturnValue:
    """A report file (`html`, `json`, `csv` or `ocsf`): with a bearer token, or with the signed
    `?exp=&sig=` of a report link (no header needed; it stops working when it expires)."""
    front = state()
    if kind not in REPORT_FILES:
        raise ApiError("not_found", f"unknown report type {kind[:20]!r}: use one of {', '.join(REPORT_FILES)}")
    try:
        check_scan_id(scan_id)
    except ScanNotFound as exc:
        raise ApiError("not_found", str(exc)) from None
    exp, sig = query_args.exp, query_args.sig
    user: SessionUser | None = None
    if exp is not None or sig is not None:
        if not verify_report_link(scan_id, kind, exp or "", sig or "", front.settings.session_secret):
            front.metrics.auth_failure("bad_signature")
            raise ApiError("unauthorized", "this report link is invalid or has expired; open the report again "
                                           "from CloudScreen to get a fresh link")
    else:
        user = _user()
        _guard(user, Action.VIEW, scan_id=scan_id)
    try:
        data = await asyncio.to_thread(front.store.load_report, scan_id, kind)
    except StoreError as exc:
        raise ApiError("not_found", str(exc)) from None
    if data is None:
        raise ApiError("not_found", f"scan {scan_id} has no {kind} report (is it finished?)")
    front.audit.record(AuditAction.REPORT_DOWNLOAD, user_id=user.id if user else None,
                       role=user.role.value if user else None, scan_id=scan_id,
                       details={"type": kind, "via": "link" if user is None else "bearer"})
    name = REPORT_FILES[kind]
    content_type = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8"}.get(kind, "application/json")
    headers = {"Content-Disposition": f'{"inline" if kind == "html" else "attachment"}; filename="{name}"',
               "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    return Response(data, content_type=content_type, headers=headers)
