"""A local HTTP stub of the Zendesk endpoints CloudScreen uses (no public fake Zendesk exists).

Runs a ThreadingHTTPServer on 127.0.0.1 (a free port) in a daemon thread, records every request and
can be told to fail: `stub.fail(429, retry_after="2", times=1)` answers the next matching requests with
that status instead of serving them (or after serving them, with `process=True`, to imitate a write that
Zendesk saved but whose answer was lost).

Endpoints: users/<id>.json, users/<id>/group_memberships.json, users/<id>/groups.json (paginated with
absolute `next_page` links), uploads.json, tickets/<id>.json (PUT: comment), tickets/<id>/comments.json,
tickets.json (POST, honouring Idempotency-Key) and apps/<app_id>/public_key.pem (anonymous).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    """One request the stub received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    """Answer `status` to matching requests `times` times (None: forever)."""

    status: int
    retry_after: str | None = None
    times: int | None = 1
    method: str | None = None
    path: str | None = None       # a prefix of the request path
    process: bool = False         # serve the request first, then answer the fault

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))


@dataclass
class ZendeskStub:
    """The stub's state: fill `users` and `groups`, read `requests`, `uploads`, `comments`, `tasks`."""

    email: str = "cloudscreen-bot@example.com"
    api_token: str = "stub-api-token-0123456789"
    public_key_pem: bytes | None = None
    page_size: int = 100
    next_page_base: str | None = None  # where next_page links point (default: the stub itself)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)   # user id -> [{"id", "name"}]
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # ticket id -> comments
    uploads: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    missing_tickets: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._idempotency: dict[str, str] = {}
        self._next_id = 9000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- control ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stub first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def expected_authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()

    def start(self) -> ZendeskStub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="zendesk-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ZendeskStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(self, status: int, *, retry_after: str | None = None, times: int | None = 1, method: str | None = None,
             path: str | None = None, process: bool = False) -> None:
        """Answer the next `times` matching requests with `status` (and Retry-After when given)."""
        with self._lock:
            self.faults.append(Fault(status, retry_after, times, method, path, process))

    def add_user(self, user_id: int, *, name: str = "Agent", role: str = "agent", custom_role_id: int | None = None,
                 groups: list[tuple[int, str]] = (), **extra: Any) -> None:  # type: ignore[assignment]
        self.users[str(user_id)] = {"id": user_id, "name": name, "email": f"user{user_id}@example.com",
                                    "role": role, "custom_role_id": custom_role_id, "active": True,
                                    "suspended": False, **extra}
        self.groups[str(user_id)] = [{"id": gid, "name": gname} for gid, gname in groups]

    def calls(self, method: str, path_prefix: str) -> list[Recorded]:
        """The recorded requests with this method whose path starts with `path_prefix`."""
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # ---- serving ----------------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.matches(method, path):
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            self.faults.remove(f)
                    return f
        return None

    def _serve(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = [p for p in path.split("/") if p]
        if method == "GET" and len(parts) == 5 and parts[:3] == ["api", "v2", "apps"] and parts[4] == "public_key.pem":
            if self.public_key_pem is None:
                return 404, {}, b""
            return 200, {"Content-Type": "application/x-pem-file"}, self.public_key_pem
        if headers.get("authorization") != self.expected_authorization:
            return _json(401, {"error": "Couldn't authenticate you"})
        with self._lock:
            return self._route(method, parts, query, headers, body)

    def _route(self, method: str, parts: list[str], query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        if parts[:2] != ["api", "v2"]:
            return _json(404, {"error": "InvalidEndpoint"})
        rest = parts[2:]
        if method == "GET" and len(rest) == 2 and rest[0] == "users":
            user = self.users.get(rest[1].removesuffix(".json"))
            return _json(200, {"user": user}) if user else _json(404, {"error": "RecordNotFound"})
        if method == "GET" and len(rest) == 3 and rest[0] == "users" and rest[2] in ("groups.json",
                                                                                     "group_memberships.json"):
            uid = rest[1]
            if uid not in self.users:
                return _json(404, {"error": "RecordNotFound"})
            rows = self.groups.get(uid, [])
            page = int(query.get("page", ["1"])[0])
            chunk = rows[(page - 1) * self.page_size: page * self.page_size]
            more = page * self.page_size < len(rows)
            base = self.next_page_base or self.url
            nxt = f"{base}/api/v2/users/{uid}/{rest[2]}?page={page + 1}" if more else None
            if rest[2] == "groups.json":
                return _json(200, {"groups": chunk, "next_page": nxt, "count": len(rows)})
            memberships = [{"id": 100 + i, "user_id": int(uid), "group_id": g["id"], "default": i == 0}
                           for i, g in enumerate(chunk)]
            return _json(200, {"group_memberships": memberships, "next_page": nxt, "count": len(rows)})
        if method == "POST" and rest == ["uploads.json"]:
            token = f"upload-token-{len(self.uploads) + 1}"
            name = query.get("filename", [""])[0]
            self.uploads.append({"token": token, "filename": name, "content_type": headers.get("content-type"),
                                 "size": len(body), "data": body})
            return _json(201, {"upload": {"token": token, "attachment": {"file_name": name, "size": len(body)}}})
        if method == "PUT" and len(rest) == 2 and rest[0] == "tickets":
            tid = rest[1].removesuffix(".json")
            if tid in self.missing_tickets:
                return _json(404, {"error": "RecordNotFound"})
            comment = json.loads(body)["ticket"]["comment"]
            comments = self.comments.setdefault(tid, [])
            comments.append({"id": 5000 + len(comments), "body": comment["body"], "public": comment["public"],
                             "uploads": comment.get("uploads", [])})
            return _json(200, {"ticket": {"id": int(tid)}, "audit": {"id": 7000 + len(comments)}})
        if method == "GET" and len(rest) == 3 and rest[0] == "tickets" and rest[2] == "comments.json":
            tid = rest[1]
            if tid in self.missing_tickets:
                return _json(404, {"error": "RecordNotFound"})
            rows = list(self.comments.get(tid, []))
            if query.get("sort_order", ["asc"])[0] == "desc":
                rows.reverse()
            per_page = int(query.get("per_page", ["100"])[0])
            return _json(200, {"comments": rows[:per_page], "next_page": None})
        if method == "POST" and rest == ["tickets.json"]:
            key = headers.get("idempotency-key")
            if key and key in self._idempotency:
                return _json(201, {"ticket": {"id": int(self._idempotency[key])}})
            self._next_id += 1
            ticket = json.loads(body)["ticket"]
            self.tasks.append({"id": self._next_id, **ticket})
            if key:
                self._idempotency[key] = str(self._next_id)
            return _json(201, {"ticket": {"id": self._next_id, **ticket}})
        return _json(404, {"error": "InvalidEndpoint"})


def _json(status: int, obj: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(obj).encode()


def _handler_for(stub: ZendeskStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            query = parse_qs(split.query)
            with stub._lock:
                stub.requests.append(Recorded(self.command, split.path, query, headers, body))
            fault = stub._take_fault(self.command, split.path)
            if fault is not None and fault.process:
                stub._serve(self.command, split.path, query, headers, body)
            if fault is not None:
                extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                status, hdrs, payload = _json(fault.status, {"error": f"stub fault {fault.status}"})
                hdrs.update(extra)
            else:
                status, hdrs, payload = stub._serve(self.command, split.path, query, headers, body)
            self.send_response(status)
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # quiet: tests read stub.requests instead

    return Handler


def running_stub(**kwargs: Any) -> Iterator[ZendeskStub]:
    """Generator for a pytest fixture: a started stub, stopped afterwards."""
    stub = ZendeskStub(**kwargs).start()
    try:
        yield stub
    finally:
        stub.stop()
