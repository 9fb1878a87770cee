"""The schema of every REST body and WebSocket message of the front (CONTRACTS.md sections 3-5).

Client messages are validated with these models before any handler runs; server messages are built
through them so that a reply can never drift from the contract. Unknown fields in client messages
are ignored (clients may be newer than the server); missing or mistyped ones are `bad_request`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MessageId = str | int

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

class ScanCreated(_Server):
    scan_id: str


class DevSessionBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["admin", "analyst", "viewer"] = "analyst"
    name: str | None = Field(default=None, max_length=200)


class SessionAnswer(_Server):
    token: str
    expires_at: str
    user: UserOut


class RestError(_Server):
    code: ErrorCode
    message: str

    def wire(self) -> dict[str, Any]:
        return {"error": self.model_dump(mode="json")}


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
