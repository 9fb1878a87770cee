"""The schema of every REST body and WebSocket message of the front (CONTRACTS.md sections 3-5).

Client messages are validated with these models before any handler runs; server messages are built
through them so that a reply can never drift from the contract. Unknown fields in client messages
are ignored (clients may be newer than the server); missing or mistyped ones are `bad_request`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MessageId = str | int


def _is_none(value: Any) -> bool:
    return value is None


def _omitted_when_none() -> Any:
    """An optional REST field that is left out of the answer (not sent as null) when it has no value."""
    return Field(default=None, exclude_if=_is_none)

ERROR_CODES = ("bad_request", "unauthorized", "forbidden", "not_found", "rate_limited", "too_large", "conflict",
               "internal")
ErrorCode = Literal["bad_request", "unauthorized", "forbidden", "not_found", "rate_limited", "too_large", "conflict",
                    "internal"]


class _Client(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: MessageId | None = None


class _Server(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def wire(self) -> dict[str, Any]:
        """The JSON object sent to the client (absent optional fields are left out)."""
        return self.model_dump(mode="json", exclude_none=True)


# ------------------------------------------------------------------------------------------ client → server

class AuthMessage(_Client):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=16_384)


class AuthRefreshMessage(_Client):
    type: Literal["auth.refresh"]
    token: str = Field(min_length=1, max_length=16_384)


class ScanStartBody(BaseModel):
    """What to scan: the body of `POST /api/scans` and of the `scan.start` message."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    accounts: list[str] | None = Field(default=None, max_length=1000)
    regions: list[str] | None = Field(default=None, max_length=100)
    services: list[str] | None = Field(default=None, max_length=200)
    ticket_id: str | int | None = None


class ScanStartMessage(ScanStartBody):
    type: Literal["scan.start"]
    id: MessageId | None = None


class ScanSubscribeMessage(_Client):
    type: Literal["scan.subscribe"]
    scan_id: str = Field(min_length=1, max_length=128)


class ScanCancelMessage(_Client):
    type: Literal["scan.cancel"]
    scan_id: str = Field(min_length=1, max_length=128)


class ScanListMessage(_Client):
    type: Literal["scan.list"]
    limit: int = Field(default=20, ge=1, le=200)


class QueryMessage(_Client):
    type: Literal["query"]
    text: str = Field(default="", max_length=4000)
    account_id: str | None = None
    region: str | None = None


class PingMessage(_Client):
    type: Literal["ping"]


# ------------------------------------------------------------------------------------------ server → client

class UserOut(_Server):
    id: str
    name: str
    role: str


class AuthOk(_Server):
    type: Literal["auth.ok"] = "auth.ok"
    id: MessageId | None = None
    user: UserOut
    expires_at: str


class PlanOut(_Server):
    units: int
    accounts: list[str]
    regions: list[str]
    services: list[str]


class ScanAccepted(_Server):
    type: Literal["scan.accepted"] = "scan.accepted"
    id: MessageId | None = None
    scan_id: str
    plan: PlanOut


class Current(_Server):
    account_id: str | None = None
    region: str | None = None
    service: str | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ScanProgress(_Server):
    type: Literal["scan.progress"] = "scan.progress"
    scan_id: str
    status: str
    percent: float
    done_units: int
    total_units: int
    eta_seconds: float | None
    current: Current
    message: str
    counts: dict[str, int]
    updated_at: str

    def wire(self) -> dict[str, Any]:
        # eta_seconds is part of the contract even when null ("null until it can be estimated").
        return self.model_dump(mode="json")


class ReportOut(_Server):
    name: str
    type: str
    url: str
    size: int
    generated_at: str | None = None


class ScanCompleted(_Server):
    type: Literal["scan.completed"] = "scan.completed"
    scan_id: str
    status: str
    summary: dict[str, Any]
    reports: list[ReportOut]
    duration_s: float | None = None


class ScanFailed(_Server):
    type: Literal["scan.failed"] = "scan.failed"
    scan_id: str
    error: str


class ScanCancelled(_Server):
    type: Literal["scan.cancelled"] = "scan.cancelled"
    id: MessageId | None = None
    scan_id: str


class ScanListItem(_Server):
    scan_id: str
    status: str
    started_at: str | None = None
    summary: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ScanListReply(_Server):
    type: Literal["scan.list"] = "scan.list"
    id: MessageId | None = None
    scans: list[ScanListItem]

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "scans": [s.wire() for s in self.scans]}
        if self.id is not None:
            out["id"] = self.id
        return out


class QueryResult(_Server):
    type: Literal["query.result"] = "query.result"
    id: MessageId | None = None
    kind: str
    summary: str
    data: Any = None


class Pong(_Server):
    type: Literal["pong"] = "pong"
    id: MessageId | None = None


class ErrorMessage(_Server):
    type: Literal["error"] = "error"
    id: MessageId | None = None
    code: ErrorCode
    message: str
    retry_after: float | None = None


# ------------------------------------------------------------------------------------------ REST bodies

class _Query(BaseModel):
    """A query string: unknown parameters are ignored, values arrive as strings and are coerced."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class HealthOut(_Server):
    status: Literal["ok"] = "ok"


class ReadyOut(_Server):
    status: Literal["ready", "unavailable"]
    reasons: list[str] | None = _omitted_when_none()


class ScanCreated(_Server):
    scan_id: str


class ScanListQuery(_Query):
    limit: int = Field(default=20, ge=1, le=200)


class ScanListOut(_Server):
    scans: list[ScanListItem]


class ScanDetail(BaseModel):
    """`GET /api/scans/{id}`: a running scan carries `plan` and `progress` (a `scan.progress`); a finished
    one its `summary`, `accounts`, `duration_s` and signed `reports` links."""

    model_config = ConfigDict(extra="forbid")

    scan_id: str
    status: str
    started_at: str | None = None
    finished_at: str | None = _omitted_when_none()
    request: dict[str, Any] | None = None
    plan: PlanOut | None = _omitted_when_none()
    progress: dict[str, Any] | None = None
    accounts: list[dict[str, Any]] | None = _omitted_when_none()
    summary: dict[str, Any] | None = _omitted_when_none()
    duration_s: float | None = _omitted_when_none()
    reports: list[ReportOut] | None = _omitted_when_none()


class CancelAccepted(_Server):
    scan_id: str
    status: Literal["cancelling"] = "cancelling"


class FindingsQuery(_Query):
    """Filters (comma-separated values mean any of them) and the page of `GET /api/scans/{id}/findings`."""

    status: str | None = Field(default=None, max_length=200)
    severity: str | None = Field(default=None, max_length=200)
    service: str | None = Field(default=None, max_length=2000)
    account_id: str | None = Field(default=None, max_length=20000)
    region: str | None = Field(default=None, max_length=2000)
    check_id: str | None = Field(default=None, max_length=20000)
    offset: int = Field(default=0, ge=0, le=10**9)
    limit: int = Field(default=100, ge=1, le=1000)


class FindingsPage(_Server):
    scan_id: str
    status: str | None
    total: int
    offset: int
    limit: int
    next_offset: int | None
    findings: list[dict[str, Any]]


class ReportLinkQuery(_Query):
    """A signed report link (`?exp=&sig=`); without both, the bearer token is needed."""

    exp: str | None = Field(default=None, max_length=20)
    sig: str | None = Field(default=None, max_length=200)


class DevSessionBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["admin", "analyst", "viewer"] = "analyst"
    name: str | None = Field(default=None, max_length=200)


class SessionBody(BaseModel):
    """`POST /api/session` as JSON; the form field `token` is accepted as well (the signed-URL POST)."""

    model_config = ConfigDict(extra="ignore")

    zendesk_token: str = Field(min_length=1, max_length=16_384)


class SidebarForm(BaseModel):
    """The form Zendesk posts to `/zendesk/sidebar` when the app uses signed URLs."""

    model_config = ConfigDict(extra="ignore")

    token: str = Field(min_length=1, max_length=16_384)


class SessionAnswer(_Server):
    token: str
    expires_at: str
    user: UserOut


class TicketBody(BaseModel):
    """Optional body of the Zendesk endpoints: the ticket, when the scan was started without one."""

    model_config = ConfigDict(extra="ignore")

    ticket_id: str | int | None = None


class CommentResult(_Server):
    created: bool
    scan_id: str
    ticket_id: str
    attachments: int
    audit_id: str | None = None


class TaskResult(_Server):
    created: bool
    scan_id: str
    ticket_id: str | None = None
    findings: int
    task_id: int | str | None = _omitted_when_none()
    priority: Literal["urgent", "high"] | None = _omitted_when_none()
    reason: str | None = _omitted_when_none()


class RestError(_Server):
    code: ErrorCode
    message: str

    def wire(self) -> dict[str, Any]:
        return {"error": self.model_dump(mode="json")}


class ErrorOut(_Server):
    """Every REST error: `{"error": {code, message}}` with the codes of the WebSocket `error`."""

    error: RestError


CLIENT_MESSAGES: dict[str, type[BaseModel]] = {
    "auth": AuthMessage,
    "auth.refresh": AuthRefreshMessage,
    "scan.start": ScanStartMessage,
    "scan.subscribe": ScanSubscribeMessage,
    "scan.cancel": ScanCancelMessage,
    "scan.list": ScanListMessage,
    "query": QueryMessage,
    "ping": PingMessage,
}

SERVER_MESSAGES: dict[str, type[BaseModel]] = {
    "auth.ok": AuthOk,
    "scan.accepted": ScanAccepted,
    "scan.progress": ScanProgress,
    "scan.completed": ScanCompleted,
    "scan.failed": ScanFailed,
    "scan.cancelled": ScanCancelled,
    "scan.list": ScanListReply,
    "query.result": QueryResult,
    "pong": Pong,
    "error": ErrorMessage,
}
