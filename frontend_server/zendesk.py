"""The Zendesk REST API client: who a user is (role, custom role, groups) and writing to tickets.

* `ZendeskClient` speaks the endpoints in shared/notes/zendesk.md over aiohttp (already installed with
  Ray's dashboard extras, so no new dependency), with Basic auth `<email>/token:<api_token>`. The
  credential lives in one private attribute and is never logged, put in an error or shown by `repr`.
* Retries (tenacity): 429 always (Zendesk did not process the request), honouring `Retry-After`, with
  exponential back-off and jitter when it is missing, capped at `max_wait_s`; a `Retry-After` longer
  than that cap fails at once with `ZendeskRateLimited.retry_after` so the caller can tell the user
  when to come back. 5xx answers and broken connections are retried for reads and for writes that
  carry an `Idempotency-Key`; other writes are retried only when the request certainly never left
  (connection refused), because a retried ticket update could add the same comment twice.
* User, group and membership look-ups are cached briefly (`user_cache_ttl_s`, default 60 s).
* `TicketAttacher` makes "one comment and one upload per attach request, however often the button is
  pressed" hold: see its docstring.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import json
import logging
import mimetypes
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from engine.errors import CloudScreenError, UsageError
from frontend_server.auth import zendesk_base_url

log = logging.getLogger("cloudscreen.zendesk")

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Zendesk's attachment limit
PRIORITIES = ("low", "normal", "high", "urgent")
_USER_AGENT = "CloudScreen"


# ---------------------------------------------------------------------------------------------------
# errors

class ZendeskError(CloudScreenError):
    """A Zendesk API call failed. The message names the call (method and path), never credentials."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class ZendeskAuthError(ZendeskError):
    """Zendesk refused the API credentials (401) or their permissions (403)."""


class ZendeskNotFound(ZendeskError):
    """The user, ticket or group does not exist (404)."""


class ZendeskRequestError(ZendeskError):
    """Zendesk refused the request itself (other 4xx, e.g. 422 for a closed ticket)."""


class ZendeskRateLimited(ZendeskError):
    """Zendesk kept answering 429. `retry_after` is its last advice in seconds, when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=429)


class ZendeskUnavailable(ZendeskError):
    """Zendesk answered 5xx, timed out or could not be reached. `sent` is False only when the request
    certainly never reached Zendesk (so a write is safe to repeat)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None,
                 sent: bool = True) -> None:
        self.retry_after = retry_after
        self.sent = sent
        super().__init__(message, status=status)


# ---------------------------------------------------------------------------------------------------
# data

@dataclass(frozen=True)
class ZendeskGroup:
    """A Zendesk group; `name` is None when only the id is known (memberships)."""

    id: str
    name: str | None = None


@dataclass(frozen=True)
class ZendeskUser:
    """The parts of a Zendesk user that decide their CloudScreen role."""

    id: str
    name: str
    email: str | None
    role: str                       # "admin" | "agent" | "end-user"
    custom_role_id: str | None = None
    active: bool = True
    suspended: bool = False
    groups: tuple[ZendeskGroup, ...] = ()


@dataclass(frozen=True)
class NoteResult:
    """An internal note that was added: the ticket and the audit that recorded it."""

    ticket_id: str
    audit_id: str | None


class _TTLCache:
    """A small time-bounded cache (oldest entries dropped beyond `max_items`)."""

    def __init__(self, ttl_s: float, max_items: int = 2048, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._max = max_items
        self._clock = clock
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any) -> Any | None:
        item = self._items.get(key)
        if item is None:
            return None
        if self._clock() >= item[0]:
            del self._items[key]
            return None
        return item[1]

    def put(self, key: Any, value: Any) -> None:
        if self._ttl_s <= 0:
            return
        self._items[key] = (self._clock() + self._ttl_s, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


# ---------------------------------------------------------------------------------------------------
# client

class ZendeskClient:
    """Async client of the Zendesk Support API (one per front; use as `async with` or call `aclose`)."""

    def __init__(self, subdomain: str | None = None, *, base_url: str | None = None, email: str,
                 api_token: str, timeout_s: float = 15.0, max_attempts: int = 5, initial_wait_s: float = 1.0,
                 max_wait_s: float = 30.0, user_cache_ttl_s: float = 60.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if base_url:
            if not base_url.startswith(("https://", "http://")):
                raise UsageError(f"Zendesk base URL {base_url!r} must start with https://")
            self.base_url = base_url.rstrip("/")
        elif subdomain:
            self.base_url = zendesk_base_url(subdomain)
        else:
            raise UsageError("the Zendesk client needs CLOUDSCREEN_ZENDESK_SUBDOMAIN (or a base URL)")
        if not email or not api_token:
            raise UsageError("the Zendesk client needs CLOUDSCREEN_ZENDESK_EMAIL and CLOUDSCREEN_ZENDESK_API_TOKEN")
        self._authorization = "Basic " + base64.b64encode(f"{email}/token:{api_token}".encode()).decode()
        self._timeout_s = timeout_s
        self.max_attempts = max(1, max_attempts)
        self.initial_wait_s = initial_wait_s
        self.max_wait_s = max_wait_s
        self._sleep = sleep
        self._cache = _TTLCache(user_cache_ttl_s, clock=clock)
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"ZendeskClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> ZendeskClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def forget_cached(self) -> None:
        """Drop cached user and group look-ups."""
        self._cache.clear()

    # ---- users and groups -------------------------------------------------------------------------

    async def get_user(self, user_id: str | int) -> ZendeskUser:
        """A user's name, email, role and custom role (cached briefly). `ZendeskNotFound` if unknown."""
        uid = _id(user_id, "user")
        cached = self._cache.get(("user", uid))
        if cached is not None:
            return cached
        data = await self._request("GET", f"/api/v2/users/{uid}.json")
        raw = data.get("user")
        if not isinstance(raw, Mapping) or raw.get("id") is None:
            raise ZendeskError(f"Zendesk's answer for user {uid} has no user in it")
        custom = raw.get("custom_role_id")
        user = ZendeskUser(id=str(raw["id"]), name=str(raw.get("name") or ""), email=raw.get("email"),
                           role=str(raw.get("role") or "end-user"),
                           custom_role_id=str(custom) if custom is not None else None,
                           active=bool(raw.get("active", True)), suspended=bool(raw.get("suspended", False)))
        self._cache.put(("user", uid), user)
        return user

    async def get_group_memberships(self, user_id: str | int) -> tuple[ZendeskGroup, ...]:
        """The groups a user belongs to, by id (names unknown), from their group memberships (cached)."""
        uid = _id(user_id, "user")
        cached = self._cache.get(("memberships", uid))
        if cached is not None:
            return cached
        rows = await self._get_all(f"/api/v2/users/{uid}/group_memberships.json", "group_memberships")
        groups = tuple(dict.fromkeys(ZendeskGroup(id=str(r["group_id"])) for r in rows if r.get("group_id")))
        self._cache.put(("memberships", uid), groups)
        return groups

    async def get_user_groups(self, user_id: str | int) -> tuple[ZendeskGroup, ...]:
        """The groups a user belongs to, with ids and names (cached)."""
        uid = _id(user_id, "user")
        cached = self._cache.get(("groups", uid))
        if cached is not None:
            return cached
        rows = await self._get_all(f"/api/v2/users/{uid}/groups.json", "groups")
        groups = tuple(ZendeskGroup(id=str(r["id"]), name=r.get("name")) for r in rows if r.get("id") is not None)
        self._cache.put(("groups", uid), groups)
        return groups

    async def lookup_agent(self, user_id: str | int) -> ZendeskUser:
        """The user with their groups: what `RoleMapping.resolve` needs (two calls, in parallel, cached)."""
        user, groups = await asyncio.gather(self.get_user(user_id), self.get_user_groups(user_id))
        return replace(user, groups=groups)

    # ---- tickets ----------------------------------------------------------------------------------

    async def upload(self, filename: str, data: bytes, content_type: str | None = None) -> str:
        """Upload a file; the token it answers attaches it to a comment within 60 minutes."""
        name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
        if not name:
            raise UsageError("an upload needs a file name")
        if len(data) > MAX_UPLOAD_BYTES:
            raise UsageError(f"{name} is {len(data) / 1048576:.1f} MiB; Zendesk accepts attachments up to "
                             f"{MAX_UPLOAD_BYTES // 1048576} MiB")
        ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        answer = await self._request("POST", "/api/v2/uploads.json", params={"filename": name}, body=data,
                                     content_type=ctype)
        token = (answer.get("upload") or {}).get("token")
        if not isinstance(token, str) or not token:
            raise ZendeskError(f"Zendesk's answer to the upload of {name} has no upload token")
        return token

    async def add_internal_note(self, ticket_id: str | int, body: str,
                                upload_tokens: Sequence[str] = ()) -> NoteResult:
        """Add a private (internal) comment to a ticket, with uploaded files attached."""
        tid = _id(ticket_id, "ticket")
        comment: dict[str, Any] = {"body": body, "public": False}
        if upload_tokens:
            comment["uploads"] = list(upload_tokens)
        answer = await self._request("PUT", f"/api/v2/tickets/{tid}.json", json_body={"ticket": {"comment": comment}})
        audit = answer.get("audit") or {}
        return NoteResult(ticket_id=tid, audit_id=str(audit["id"]) if audit.get("id") is not None else None)

    async def create_task(self, subject: str, body: str, due_at: datetime | str, priority: str = "urgent",
                          tags: Iterable[str] = (), custom_fields: Mapping[int | str, Any] | None = None, *,
                          idempotency_key: str | None = None) -> str:
        """Create a follow-up task ticket (internal first comment); answers the new ticket's id.

        With `idempotency_key`, Zendesk answers the first ticket again for repeats of the same key
        (for two hours), which also makes the request safe to retry after a 5xx."""
        if priority not in PRIORITIES:
            raise UsageError(f"priority {priority!r} is not one of {', '.join(PRIORITIES)}")
        if isinstance(due_at, datetime):
            due = due_at.astimezone(UTC) if due_at.tzinfo else due_at.replace(tzinfo=UTC)
            due_text = due.isoformat().replace("+00:00", "Z")
        else:
            due_text = due_at
        ticket: dict[str, Any] = {"subject": subject, "comment": {"body": body, "public": False}, "type": "task",
                                  "due_at": due_text, "priority": priority, "tags": list(tags)}
        if custom_fields:
            ticket["custom_fields"] = [{"id": int(k), "value": v} for k, v in custom_fields.items()]
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        answer = await self._request("POST", "/api/v2/tickets.json", json_body={"ticket": ticket}, headers=headers,
                                     idempotent=idempotency_key is not None)
        new_id = (answer.get("ticket") or {}).get("id")
        if new_id is None:
            raise ZendeskError("Zendesk's answer to the task creation has no ticket id")
        return str(new_id)

    async def ticket_has_comment_with(self, ticket_id: str | int, marker: str, recent: int = 100) -> bool:
        """True when one of the ticket's `recent` latest comments contains `marker`."""
        tid = _id(ticket_id, "ticket")
        answer = await self._request("GET", f"/api/v2/tickets/{tid}/comments.json",
                                     params={"sort_order": "desc", "per_page": str(min(max(recent, 1), 100))})
        for c in answer.get("comments") or []:
            if any(marker in str(c.get(k) or "") for k in ("body", "plain_body", "html_body")):
                return True
        return False

    # ---- HTTP -------------------------------------------------------------------------------------

    async def _get_all(self, path: str, key: str, max_pages: int = 20) -> list[dict[str, Any]]:
        """Every row of a paginated list, following Zendesk's next-page links on the same host only."""
        rows: list[dict[str, Any]] = []
        target: str | None = path
        for _ in range(max_pages):
            if target is None:
                break
            answer = await self._request("GET", target)
            rows.extend(r for r in answer.get(key) or [] if isinstance(r, dict))
            nxt = answer.get("next_page") or (
                (answer.get("links") or {}).get("next") if (answer.get("meta") or {}).get("has_more") else None)
            target = nxt if isinstance(nxt, str) and nxt.startswith(self.base_url + "/") else None
        return rows

    async def _request(self, method: str, target: str, *, params: Mapping[str, str] | None = None,
                       json_body: Any = None, body: bytes | None = None, content_type: str | None = None,
                       headers: Mapping[str, str] | None = None, idempotent: bool | None = None) -> dict[str, Any]:
        """One API call under the retry policy; the decoded JSON answer."""
        safe_to_repeat = method == "GET" if idempotent is None else idempotent
        url = target if target.startswith(self.base_url + "/") else self.base_url + target
        path = url[len(self.base_url):].split("?", 1)[0]
        what = f"{method} {path}"

        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, ZendeskRateLimited):
                return exc.retry_after is None or exc.retry_after <= self.max_wait_s
            if isinstance(exc, ZendeskUnavailable):
                return (safe_to_repeat or not exc.sent) and (exc.retry_after is None
                                                             or exc.retry_after <= self.max_wait_s)
            return False

        retrying = AsyncRetrying(retry=retry_if_exception(should_retry), stop=stop_after_attempt(self.max_attempts),
                                 wait=self._wait, sleep=self._sleep, before_sleep=_log_retry(what), reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send(method, url, what, params=params, json_body=json_body, body=body,
                                            content_type=content_type, headers=headers)
        except ZendeskRateLimited as exc:
            tries = retrying.statistics.get("attempt_number", 1)
            if exc.retry_after is not None and exc.retry_after > self.max_wait_s:
                raise ZendeskRateLimited(f"Zendesk is rate-limiting CloudScreen ({what}) and asks to wait "
                                         f"{exc.retry_after:g} s; try again then",
                                         retry_after=exc.retry_after) from None
            raise ZendeskRateLimited(f"Zendesk is still rate-limiting CloudScreen after {tries} attempts ({what}); "
                                     "try again in a minute", retry_after=exc.retry_after) from None
        except ZendeskUnavailable as exc:
            tries = retrying.statistics.get("attempt_number", 1)
            raise ZendeskUnavailable(f"{exc} (gave up after {tries} attempt{'s' if tries != 1 else ''})",
                                     status=exc.status, retry_after=exc.retry_after, sent=exc.sent) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _wait(self, state: RetryCallState) -> float:
        """Retry-After when Zendesk gave it (plus a little jitter so fronts do not retry in step), else
        exponential back-off with jitter, never above max_wait_s."""
        exc = state.outcome.exception() if state.outcome else None
        advised = getattr(exc, "retry_after", None)
        if advised is not None:
            return min(advised + random.uniform(0, min(1.0, 0.1 * advised)), self.max_wait_s)
        base = self.initial_wait_s * 2 ** (state.attempt_number - 1)
        return min(base + random.uniform(0, self.initial_wait_s), self.max_wait_s)

    async def _send(self, method: str, url: str, what: str, *, params: Mapping[str, str] | None, json_body: Any,
                    body: bytes | None, content_type: str | None,
                    headers: Mapping[str, str] | None) -> dict[str, Any]:
        hdrs = {"Authorization": self._authorization, "Accept": "application/json", "User-Agent": _USER_AGENT}
        if headers:
            hdrs.update(headers)
        data: bytes | None = body
        if json_body is not None:
            data = json.dumps(json_body).encode()
            hdrs["Content-Type"] = "application/json"
        elif content_type:
            hdrs["Content-Type"] = content_type
        session = self._get_session()
        started = time.monotonic()
        try:
            # No redirects: following one could carry the credential to another host.
            async with session.request(method, url, params=params, data=data, headers=hdrs,
                                       allow_redirects=False) as resp:
                status = resp.status
                retry_after = _retry_after(resp.headers.get("Retry-After"))
                raw = await resp.read()
        except aiohttp.ClientConnectorError as exc:
            raise ZendeskUnavailable(f"cannot reach Zendesk for {what}: {exc.os_error or type(exc).__name__}",
                                     sent=False) from None
        except TimeoutError:
            raise ZendeskUnavailable(f"Zendesk did not answer {what} within {self._timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            raise ZendeskUnavailable(f"connection to Zendesk broke during {what}: {type(exc).__name__}") from None
        log.debug("zendesk %s -> %s in %.0f ms", what, status, (time.monotonic() - started) * 1000)
        if status == 429:
            raise ZendeskRateLimited(f"Zendesk answered 429 to {what}", retry_after=retry_after)
        if status >= 500:
            raise ZendeskUnavailable(f"Zendesk answered {status} to {what}", status=status, retry_after=retry_after)
        if status in (401, 403):
            raise ZendeskAuthError(f"Zendesk refused CloudScreen's API credentials ({status} to {what}): check "
                                   "CLOUDSCREEN_ZENDESK_EMAIL, CLOUDSCREEN_ZENDESK_API_TOKEN and that the user "
                                   "is an agent or admin", status=status)
        if status == 404:
            raise ZendeskNotFound(f"Zendesk has no such object ({what} answered 404)", status=status)
        if status >= 300:
            raise ZendeskRequestError(f"Zendesk refused {what} ({status}){_zendesk_reason(raw)}", status=status)
        if not raw.strip():
            return {}
        try:
            answer = json.loads(raw)
        except ValueError:
            raise ZendeskError(f"Zendesk's answer to {what} is not JSON", status=status) from None
        return answer if isinstance(answer, dict) else {}

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout_s))
            self._session_loop = loop
        return self._session


def _id(value: str | int, what: str) -> str:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 20:
        raise UsageError(f"Zendesk {what} id {value!r} is not a number")
    return text


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if seconds == seconds else None  # NaN guard


def _zendesk_reason(raw: bytes) -> str:
    """Zendesk's short error text (its `error`/`description`), for a 4xx message."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(obj, dict):
        return ""
    parts = [str(obj[k]) for k in ("error", "description") if isinstance(obj.get(k), str)]
    return (": " + " — ".join(parts))[:300] if parts else ""


def _log_retry(what: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s; retrying %s in %.1f s (attempt %d)", exc, what, wait, state.attempt_number + 1)
    return before_sleep


# ---------------------------------------------------------------------------------------------------
# exactly once per key

class LedgerStore(Protocol):
    """Where completed keys are remembered beyond this process (e.g. the result store)."""

    async def get(self, key: str) -> Mapping[str, Any] | None:
        """The record of a completed key, or None."""
        ...

    async def put(self, key: str, record: Mapping[str, Any]) -> None:
        """Remember a completed key."""
        ...


class IdempotencyLedger:
    """Runs an action at most once per key.

    Concurrent calls with the same key share the one run in flight; completed keys are remembered in
    memory (the newest `max_keys`) and, when a store is given, in the store, which a restarted front or
    another front consults before acting. A failed run is not remembered: the next call tries again."""

    def __init__(self, store: LedgerStore | None = None, *, max_keys: int = 10_000) -> None:
        self._store = store
        self._max_keys = max_keys
        self._done: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[tuple[dict[str, Any], bool]]] = {}

    async def run(self, key: str,
                  action: Callable[[], Awaitable[Mapping[str, Any]]]) -> tuple[dict[str, Any], bool]:
        """The action's record and whether this call is the one that ran it (False for repeats)."""
        if key in self._done:
            return dict(self._done[key]), False
        task = self._inflight.get(key)
        owner = task is None
        if task is None:
            task = asyncio.ensure_future(self._first(key, action))
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._settled(key, t))
        # shield: a caller that goes away (closed socket) must not cancel the write the others wait for
        record, ran = await asyncio.shield(task)
        return dict(record), ran and owner

    def remembered(self, key: str) -> bool:
        """True when this process knows the key completed."""
        return key in self._done

    async def _first(self, key: str,
                     action: Callable[[], Awaitable[Mapping[str, Any]]]) -> tuple[dict[str, Any], bool]:
        if self._store is not None:
            try:
                stored = await self._store.get(key)
            except Exception:  # an unreadable store must not block the write; the ticket check still guards it
                log.exception("could not read the completion record of %s; going on without it", key)
                stored = None
            if stored is not None:
                self._remember(key, dict(stored))
                return dict(stored), False
        record = dict(await action())
        self._remember(key, record)
        if self._store is not None:
            try:
                await self._store.put(key, record)
            except Exception:  # the write happened; losing the record only costs a later re-check
                log.exception("could not store the completion of %s", key)
        return record, True

    def _remember(self, key: str, record: dict[str, Any]) -> None:
        self._done[key] = record
        self._done.move_to_end(key)
        while len(self._done) > self._max_keys:
            self._done.popitem(last=False)

    def _settled(self, key: str, task: asyncio.Future[Any]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure does not warn at shutdown


@dataclass(frozen=True)
class AttachResult:
    """The internal note of one attach request. `created` is False when an earlier press (or another
    front) had already added it; `upload_tokens` are then those it recorded, if known."""

    key: str
    ticket_id: str
    marker: str
    upload_tokens: tuple[str, ...]
    audit_id: str | None
    created: bool


@dataclass(frozen=True)
class TaskResult:
    """The follow-up task of one request; `created` as in `AttachResult`."""

    key: str
    task_id: str
    created: bool


def attach_marker(key: str) -> str:
    """The reference line that identifies an attach request's note inside the ticket."""
    return "CloudScreen ref " + hashlib.sha256(key.encode()).hexdigest()[:16]


class TicketAttacher:
    """Ticket writes that happen once per request key, however often the button is pressed.

    `attach_once(key, ...)` uploads the files and adds one internal note carrying `attach_marker(key)`:
    * presses while it runs wait for the same run, presses after it get its result (the ledger);
    * before writing, the ticket's latest comments are searched for the marker, so a note whose
      request failed ambiguously (timeout, 5xx after Zendesk saved it), or that another front or a
      restarted one wrote, is found instead of written twice — and no second upload is made;
    * when the note itself failed, the next press attaches the files already uploaded (their tokens
      stay valid for an hour) instead of uploading them again.
    The caller picks the key: e.g. `f"{scan_id}:{ticket_id}:summary"` for "this scan's summary on this
    ticket". `create_task_once` does the same for follow-up tasks, with Zendesk's Idempotency-Key."""

    # Zendesk keeps an upload token usable for 60 minutes; reuse it for a bit less.
    UPLOAD_REUSE_S = 50 * 60

    def __init__(self, client: ZendeskClient, ledger: IdempotencyLedger | None = None, *,
                 check_ticket: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._ledger = ledger or IdempotencyLedger()
        self._check_ticket = check_ticket
        self._clock = clock
        # uploads of attach requests whose note failed: a retry attaches them instead of uploading again
        self._pending_uploads: dict[str, tuple[float, list[str]]] = {}

    async def attach_once(self, key: str, *, ticket_id: str | int, body: str,
                          files: Sequence[tuple[str, bytes]] = ()) -> AttachResult:
        """Add the note (with `files` as attachments) unless this key's note already exists."""
        tid = _id(ticket_id, "ticket")
        marker = attach_marker(key)

        async def attach() -> dict[str, Any]:
            if self._check_ticket and await self._client.ticket_has_comment_with(tid, marker):
                log.info("the note of %s is already on ticket %s; not adding it again", marker, tid)
                self._pending_uploads.pop(key, None)
                return {"ticket_id": tid, "upload_tokens": [], "audit_id": None, "found": True}
            pending = self._pending_uploads.get(key)
            if pending is not None and self._clock() - pending[0] < self.UPLOAD_REUSE_S:
                tokens = pending[1]
            else:
                tokens = [await self._client.upload(name, data) for name, data in files]
                self._pending_uploads[key] = (self._clock(), tokens)
            note = await self._client.add_internal_note(tid, f"{body.rstrip()}\n\n{marker}", tokens)
            self._pending_uploads.pop(key, None)
            return {"ticket_id": tid, "upload_tokens": tokens, "audit_id": note.audit_id, "found": False}

        record, ran = await self._ledger.run(f"note:{key}", attach)
        return AttachResult(key=key, ticket_id=str(record["ticket_id"]), marker=marker,
                            upload_tokens=tuple(record.get("upload_tokens") or ()), audit_id=record.get("audit_id"),
                            created=ran and not record.get("found", False))

    async def create_task_once(self, key: str, *, subject: str, body: str, due_at: datetime | str,
                               priority: str = "urgent", tags: Iterable[str] = (),
                               custom_fields: Mapping[int | str, Any] | None = None) -> TaskResult:
        """Create the follow-up task unless this key's task already exists."""
        tags = list(tags)

        async def create() -> dict[str, Any]:
            idem = "cloudscreen-" + hashlib.sha256(key.encode()).hexdigest()[:40]
            task_id = await self._client.create_task(subject, body, due_at, priority, tags, custom_fields,
                                                     idempotency_key=idem)
            return {"task_id": task_id}

        record, ran = await self._ledger.run(f"task:{key}", create)
        return TaskResult(key=key, task_id=str(record["task_id"]), created=ran)
