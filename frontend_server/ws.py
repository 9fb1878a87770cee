"""The `/ws` protocol of CONTRACTS.md section 3, as a table of message type → handler (`HANDLERS`).

One `Connection` per socket: the first message must be `auth` within the auth timeout (else close
4401); the session expires unless refreshed (close 4401); every later message is rate-limited (a
token bucket: `error{rate_limited, retry_after}`, then close 1008 after sustained abuse), parsed
against its schema (`error{bad_request}` keeps the connection) and dispatched. Frames over 64 KiB
are closed with 1009 by Hypercorn (`hypercorn_config`) and, as a second line, here.

Scan streams are forwarded from the queues of `ScanService.subscribe`: one forwarding task per
(connection, scan), ending after the scan's final message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from quart import Blueprint, websocket

from engine.errors import UsageError
from engine.model import iso_z
from frontend_server.api import authorize, cancel_scan_for, start_scan_for, validation_message, verify_token
from frontend_server.app import MAX_WS_MESSAGE_BYTES, FrontState, state
from frontend_server.audit import Action as AuditAction
from frontend_server.audit import Result
from frontend_server.auth import Action, AuthError, Forbidden, SessionUser
from frontend_server.scans import FINAL_TYPES, ScanConflict, ScanNotFound
from frontend_server.schemas import (
    CLIENT_MESSAGES,
    AuthOk,
    ErrorMessage,
    Pong,
    ScanAccepted,
    ScanListReply,
    UserOut,
)

log = logging.getLogger("cloudscreen.front.ws")


class _ConnectionLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Adds the connection id (and the user id once known) as extra fields of every record, so JSON
    logs (CLOUDSCREEN_LOG_FORMAT=json) can be filtered by connection; per-call extras are kept."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs

blueprint = Blueprint("ws", __name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
# Violations older than this are forgiven: only sustained abuse closes the connection.
_VIOLATION_WINDOW_S = 10.0


class _Close(Exception):
    """End the connection with this close code."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(reason)


class _Reply(Exception):
    """Answer the current message with an `error` (the connection stays)."""

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        self.code = code
        self.retry_after = retry_after
        super().__init__(message)


@dataclass
class _Bucket:
    rate: float
    burst: int
    tokens: float = 0.0
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self) -> float:
        """0 when a message may pass, else the seconds until one may."""
        now = time.monotonic()
        self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return round((1.0 - self.tokens) / self.rate, 3) if self.rate > 0 else 60.0


class Connection:
    """One authenticated socket: its user, its scan streams and its limits."""

    def __init__(self, front: FrontState) -> None:
        self.front = front
        self.id = uuid.uuid4().hex[:12]
        self.user: SessionUser | None = None
        self.log = _ConnectionLog(log, {"connection_id": self.id})
        self.streams: dict[str, asyncio.Task[None]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        limits = front.ws_limits
        self.bucket = _Bucket(limits.rate_per_s, limits.burst)
        self.violations = 0
        self.last_violation = 0.0
        self._send_lock = asyncio.Lock()

    # -------------------------------------------------------------------------- sending
    async def send(self, message: dict[str, Any]) -> None:
        text = _encode(message)
        async with self._send_lock:
            await websocket.send(text)
        self.front.metrics.ws_message(message.get("type"), "out")

    async def error(self, code: str, message: str, msg_id: Any = None, retry_after: float | None = None) -> None:
        await self.send(ErrorMessage(id=msg_id, code=code, message=message, retry_after=retry_after).wire())

    # -------------------------------------------------------------------------- life cycle
    async def serve(self) -> None:
        await self._authenticate()
        while True:
            raw = await self._receive(self._until_expiry())
            if not await self._admit():
                continue
            await self._dispatch(raw)

    def _until_expiry(self) -> float:
        assert self.user is not None and self.user.expires_at is not None
        return (self.user.expires_at - datetime.now(UTC)).total_seconds()

    async def _receive(self, timeout: float) -> str | bytes:
        try:
            raw = await asyncio.wait_for(websocket.receive(), max(0.0, timeout))
        except TimeoutError:
            if self.user is None:
                self.front.metrics.auth_failure("auth_timeout")
                self.front.audit.record(AuditAction.AUTH_DENIED, result=Result.DENIED, reason="auth_timeout",
                                        connection_id=self.id)
                raise _Close(CLOSE_UNAUTHENTICATED, "authenticate first: send auth within "
                                                    f"{self.front.ws_limits.auth_timeout_s:g} s") from None
            self.front.metrics.auth_failure("expired")
            raise _Close(CLOSE_UNAUTHENTICATED, "the session expired; sign in again") from None
        if len(raw) > MAX_WS_MESSAGE_BYTES:
            raise _Close(CLOSE_TOO_BIG, "messages are limited to 64 KiB")
        return raw

    async def _authenticate(self) -> None:
        raw = await self._receive(self.front.ws_limits.auth_timeout_s)
        msg = _parse(raw)
        if msg is None or msg.get("type") != "auth" or not isinstance(msg.get("token"), str):
            self.front.metrics.auth_failure("missing_token")
            self.front.audit.record(AuditAction.AUTH_DENIED, result=Result.DENIED, reason="auth_not_first",
                                    connection_id=self.id)
            raise _Close(CLOSE_UNAUTHENTICATED, "the first message must be auth with a session token")
        self.front.metrics.ws_message("auth", "in")
        try:
            self.user = verify_token(self.front, msg["token"], connection_id=self.id)
        except AuthError as exc:
            raise _Close(CLOSE_UNAUTHENTICATED, str(exc)[:120]) from None
        self.front.audit.record(AuditAction.AUTH_LOGIN, user_id=self.user.id, role=self.user.role.value,
                                connection_id=self.id, details={"via": "ws"})
        self.log.extra = {"connection_id": self.id, "user_id": self.user.id}
        self.log.info("ws connection authenticated as %s (%s)", self.user.id, self.user.role.value)
        await self.auth_ok(msg.get("id"))

    async def auth_ok(self, msg_id: Any) -> None:
        """Send `auth.ok` for the current session."""
        assert self.user is not None and self.user.expires_at is not None
        await self.send(AuthOk(id=msg_id, user=UserOut(**self.user.public()),
                               expires_at=iso_z(self.user.expires_at)
                               ).wire())

    async def _admit(self) -> bool:
        wait = self.bucket.take()
        if wait == 0.0:
            return True
        now = time.monotonic()
        if now - self.last_violation > _VIOLATION_WINDOW_S:
            self.violations = 0
        self.violations += 1
        self.last_violation = now
        if self.violations > self.front.ws_limits.max_violations:
            raise _Close(CLOSE_POLICY, "too many messages")
        await self.error("rate_limited", f"too many messages; retry in {wait:g} s", retry_after=wait)
        return False

    async def _dispatch(self, raw: str | bytes) -> None:
        msg = _parse(raw)
        if msg is None:
            self.front.metrics.ws_message("other", "in")
            await self.error("bad_request", "send one JSON object per text frame, with a `type`")
            return
        msg_id = msg.get("id") if isinstance(msg.get("id"), str | int) else None
        kind = msg.get("type")
        self.front.metrics.ws_message(kind, "in")
        entry = HANDLERS.get(kind) if isinstance(kind, str) else None
        if entry is None:
            await self.error("bad_request", f"unknown message type {str(kind)[:40]!r}; known: "
                                            f"{', '.join(HANDLERS)}", msg_id)
            return
        try:
            body = CLIENT_MESSAGES[kind].model_validate(msg)
        except ValidationError as exc:
            await self.error("bad_request", f"{kind}: {validation_message(exc, kind)}", msg_id)
            return
        if entry.background:
            self._spawn(self._run(entry.handler, body, msg_id))
        else:
            await self._run(entry.handler, body, msg_id)

    async def _run(self, handler: Handler, body: Any, msg_id: Any) -> None:
        try:
            await handler(self, body)
        except _Reply as exc:
            await self.error(exc.code, str(exc), msg_id, exc.retry_after)
        except Forbidden as exc:
            await self.error("forbidden", str(exc), msg_id)
        except ScanNotFound as exc:
            await self.error("not_found", str(exc), msg_id)
        except ScanConflict as exc:
            await self.error("conflict", str(exc), msg_id)
        except UsageError as exc:
            await self.error("bad_request", str(exc), msg_id)
        except (_Close, asyncio.CancelledError):
            raise
        except Exception:
            self.log.exception("ws handler of %s failed", type(body).__name__)
            await self.error("internal", "internal error; see the server log", msg_id)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -------------------------------------------------------------------------- streams
    async def watch(self, scan_id: str) -> None:
        """Forward the scan's stream to this socket (replacing an earlier stream of the same scan)."""
        old = self.streams.pop(scan_id, None)
        if old is not None:
            old.cancel()
        queue = await self.front.scans.subscribe(scan_id)
        self.streams[scan_id] = asyncio.ensure_future(self._forward(scan_id, queue))

    async def _forward(self, scan_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        try:
            while True:
                message = await queue.get()
                # A socket that fell behind skips superseded progress: the newest state is what matters,
                # and the final message is never skipped (it is always the last one queued).
                while message.get("type") == "scan.progress" and not queue.empty():
                    message = queue.get_nowait()
                await self.send(message)
                if message.get("type") in FINAL_TYPES:
                    return
        finally:
            self.front.scans.unsubscribe(scan_id, queue)
            if self.streams.get(scan_id) is asyncio.current_task():
                del self.streams[scan_id]

    async def close_all(self) -> None:
        for task in [*self.streams.values(), *self.tasks]:
            task.cancel()
        for task in [*self.streams.values(), *self.tasks]:
            with contextlib.suppress(BaseException):
                await task
        self.streams.clear()
        self.tasks.clear()

    def audit(self, action: AuditAction, **kw: Any) -> None:
        assert self.user is not None
        self.front.audit.record(action, user_id=self.user.id, role=self.user.role.value, connection_id=self.id, **kw)


# A scan's stream hands the same message object to every socket watching it: encode it once, not once
# per socket. Entries hold the object itself, so an id is never reused while its entry lives.
_ENCODED: OrderedDict[int, tuple[dict[str, Any], str]] = OrderedDict()
_ENCODED_MAX = 64


def _encode(message: dict[str, Any]) -> str:
    hit = _ENCODED.get(id(message))
    if hit is not None and hit[0] is message:
        return hit[1]
    text = json.dumps(message, separators=(",", ":"))
    _ENCODED[id(message)] = (message, text)
    if len(_ENCODED) > _ENCODED_MAX:
        _ENCODED.popitem(last=False)
    return text


def _parse(raw: str | bytes) -> dict[str, Any] | None:
    if not isinstance(raw, str):
        return None
    try:
        msg = json.loads(raw)
    except ValueError:
        return None
    return msg if isinstance(msg, dict) else None


# ------------------------------------------------------------------------------------------ handlers

async def on_auth_refresh(conn: Connection, msg: Any) -> None:
    """`auth` / `auth.refresh`: replace the session with a newer token of the same user."""
    assert conn.user is not None
    try:
        user = verify_token(conn.front, msg.token, connection_id=conn.id)
    except AuthError as exc:
        raise _Reply("unauthorized", str(exc)) from None
    if user.id != conn.user.id:
        conn.front.metrics.auth_failure("forbidden")
        raise _Reply("unauthorized", "the new token is for another user; open a new connection for them")
    conn.user = user
    conn.audit(AuditAction.AUTH_REFRESH)
    await conn.auth_ok(msg.id)


async def on_scan_start(conn: Connection, msg: Any) -> None:
    """`scan.start`: validate, authorise (role, then account allow-list), start, stream."""
    assert conn.user is not None
    active = await start_scan_for(conn.front, conn.user, msg, via="ws", connection_id=conn.id)
    await conn.send(ScanAccepted(id=msg.id, scan_id=active.scan_id, plan=active.plan_out()).wire())
    await conn.watch(active.scan_id)


async def on_scan_subscribe(conn: Connection, msg: Any) -> None:
    """`scan.subscribe`: the latest progress at once, then the stream (or the final message)."""
    assert conn.user is not None
    authorize(conn.front, conn.user, Action.VIEW, scan_id=msg.scan_id, connection_id=conn.id)
    await conn.watch(msg.scan_id)


async def on_scan_cancel(conn: Connection, msg: Any) -> None:
    """`scan.cancel`: stop the scan; the stream (subscribed if needed) ends with `scan.cancelled`."""
    assert conn.user is not None
    await cancel_scan_for(conn.front, conn.user, msg.scan_id, via="ws", connection_id=conn.id)
    if msg.scan_id not in conn.streams:
        await conn.watch(msg.scan_id)


async def on_scan_list(conn: Connection, msg: Any) -> None:
    """`scan.list`: active scans, then the newest stored ones."""
    assert conn.user is not None
    authorize(conn.front, conn.user, Action.VIEW, connection_id=conn.id)
    await conn.send(ScanListReply(id=msg.id, scans=await conn.front.scans.list(msg.limit)).wire())


async def on_query(conn: Connection, msg: Any) -> None:
    """`query`: not part of this release yet."""
    raise _Reply("not_found", "query is not available yet")


async def on_ping(conn: Connection, msg: Any) -> None:
    """`ping`: `pong` (keeps proxies from closing an idle socket)."""
    await conn.send(Pong(id=msg.id).wire())


Handler = Callable[[Connection, Any], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """A message type's handler; `background` ones run beside the read loop (they take seconds)."""

    handler: Handler
    background: bool = False


HANDLERS: dict[str, Route] = {
    "auth": Route(on_auth_refresh),
    "auth.refresh": Route(on_auth_refresh),
    "scan.start": Route(on_scan_start, background=True),
    "scan.subscribe": Route(on_scan_subscribe),
    "scan.cancel": Route(on_scan_cancel),
    "scan.list": Route(on_scan_list),
    "query": Route(on_query),
    "ping": Route(on_ping),
}


@blueprint.websocket("/ws")
async def ws() -> None:
    """The socket: see the module docstring and CONTRACTS.md section 3."""
    front = state()
    await websocket.accept()
    conn = Connection(front)
    front.metrics.ws_connections.inc()
    conn.log.debug("ws connection opened")
    close_code: int | None = None
    try:
        await conn.serve()
    except _Close as close:
        close_code = close.code
        await conn.close_all()
        with contextlib.suppress(Exception):
            await websocket.close(close.code, close.reason[:120])
    except asyncio.CancelledError:
        raise
    except Exception:
        close_code = CLOSE_INTERNAL
        conn.log.exception("ws connection %s failed", conn.id)
        with contextlib.suppress(Exception):
            await websocket.close(CLOSE_INTERNAL, "internal error")
    finally:
        await conn.close_all()
        front.metrics.ws_connections.dec()
        conn.log.info("ws connection closed", extra={"close_code": close_code})


__all__ = ["HANDLERS", "Connection", "Route", "blueprint"]
