"""The bundled AWS emulator: moto in server mode behind a small WSGI middleware.

The middleware adds what a realistic sandbox needs and moto lacks:
* `latency_ms`: every AWS response is delayed at the server, to model real AWS (30–300 ms a call);
* assume-role enforcement: AssumeRole fails with AccessDenied unless the role exists in the target
  account and its trust policy's `sts:ExternalId` condition (if any) matches — so "an account whose
  role cannot be assumed" is a real, testable state;
* fault injection for tests (`POST /_sandbox/faults`): throttle the next N calls of an action
  (`{"throttle": {"DescribeVolumes": 3}}`), or fail them with any AWS error
  (`{"fail": {"DescribeVolumes": {"code": "ExpiredToken", "status": 400, "count": 1}}}`);
* counters (`GET /_sandbox/stats`): requests served, by action.

It runs in process (`EmulatorServer.start()`, a thread) or as a subprocess
(`python -m engine.sandbox.server`, which prints one JSON line with the endpoint when ready).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

# Must be set before moto is imported anywhere in this process.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

SANDBOX_PREFIX = "/_sandbox/"
MANAGEMENT_ACCOUNT = "123456789012"


def _action_of(environ: dict[str, Any], body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in qs:
        return qs["Action"][0]
    if body and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '/')}"


class SandboxMiddleware:
    def __init__(self, app: Any, latency_ms: float = 0.0, enforce_assume_role: bool = True) -> None:
        self.app = app
        self.latency_s = latency_ms / 1000.0
        self.enforce_assume_role = enforce_assume_role
        self.requests: Counter[str] = Counter()
        self.faults: dict[str, int] = {}
        self.failures: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(SANDBOX_PREFIX):
            return self._control(path[len(SANDBOX_PREFIX):], environ, start_response)
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        body = self._read_body(environ)
        action = _action_of(environ, body)
        with self._lock:
            self.requests[action] += 1
            throttled = self.faults.get(action, 0) > 0
            if throttled:
                self.faults[action] -= 1
            failure = self.failures.get(action)
            if failure and failure["count"] > 0:
                failure["count"] -= 1
            else:
                failure = None
        if self.latency_s:
            time.sleep(self.latency_s)
        if throttled:
            return _error(environ, start_response, 400, "Throttling", "Rate exceeded")
        if failure is not None:
            return _error(environ, start_response, int(failure.get("status", 400)), failure["code"],
                          failure.get("message", "injected"))
        if action == "AssumeRole" and self.enforce_assume_role:
            denial = self._check_assume_role(body)
            if denial:
                xml = ('<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type>'
                       f"<Code>AccessDenied</Code><Message>{denial}</Message></Error>"
                       "<RequestId>sandbox</RequestId></ErrorResponse>").encode()
                start_response("403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(xml)))])
                return [xml]
        try:
            return self.app(environ, start_response)
        except NotImplementedError as exc:
            # moto raises this for operations it lacks; answer like AWS would for an unknown one,
            # as a non-retryable 501, instead of the dev server's generic 500 page.
            xml = ('<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Receiver</Type>'
                   f"<Code>NotImplemented</Code><Message>{exc}</Message></Error>"
                   "<RequestId>sandbox</RequestId></ErrorResponse>").encode()
            start_response("501 Not Implemented", [("Content-Type", "text/xml"),
                                                   ("x-amzn-ErrorType", "NotImplemented"),
                                                   ("Content-Length", str(len(xml)))])
            return [xml]

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0 or length > 1 << 20:
            return b""
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    @staticmethod
    def _check_assume_role(body: bytes) -> str | None:
        from moto.iam.models import iam_backends

        form = parse_qs(body.decode("utf-8", "replace"))
        arn = (form.get("RoleArn") or [""])[0]
        external_id: str | None = (form.get("ExternalId") or [None])[0]  # type: ignore[list-item]
        parts = arn.split(":")
        if len(parts) < 6 or not parts[5].startswith("role/"):
            return f"RoleArn {arn} is not a role ARN"
        account, name = parts[4], parts[5].split("/")[-1]
        backend = iam_backends[account]["global"]
        role = next((r for r in backend.roles.values() if r.name == name), None)
        who = f"User is not authorized to perform: sts:AssumeRole on resource: {arn}"
        if role is None:
            return who
        try:
            doc = json.loads(role.assume_role_policy_document)
        except (TypeError, ValueError):
            return who
        wanted = _external_ids(doc)
        if wanted and external_id not in wanted:
            return who
        return None

    def _control(self, cmd: str, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if cmd == "stats":
            with self._lock:
                payload = {"requests": sum(self.requests.values()), "by_action": dict(self.requests)}
        elif cmd == "faults" and environ.get("REQUEST_METHOD") == "POST":
            spec = json.loads(self._read_body(environ) or b"{}")
            with self._lock:
                for action, n in (spec.get("throttle") or {}).items():
                    self.faults[action] = int(n)
                for action, f in (spec.get("fail") or {}).items():
                    self.failures[action] = {"code": str(f["code"]), "status": int(f.get("status", 400)),
                                             "count": int(f.get("count", 1)),
                                             "message": str(f.get("message", "injected"))}
            payload = {"faults": self.faults, "failures": self.failures}
        elif cmd == "reset-stats" and environ.get("REQUEST_METHOD") == "POST":
            with self._lock:
                self.requests.clear()
                self.faults.clear()
                self.failures.clear()
            payload = {"ok": True}
        elif cmd == "config" and environ.get("REQUEST_METHOD") == "POST":
            spec = json.loads(self._read_body(environ) or b"{}")
            if "latency_ms" in spec:
                self.latency_s = float(spec["latency_ms"]) / 1000.0
            if "enforce_assume_role" in spec:
                self.enforce_assume_role = bool(spec["enforce_assume_role"])
            payload = {"latency_ms": self.latency_s * 1000, "enforce_assume_role": self.enforce_assume_role}
        else:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"error":"unknown sandbox command"}']
        data = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def _error(environ: dict[str, Any], start_response: Any, status: int, code: str, message: str) -> list[bytes]:
    """An AWS error answer in the request's protocol: JSON for JSON-protocol services (X-Amz-Target or
    a JSON content type), XML otherwise — so botocore parses the code and retries throttling."""
    ctype = environ.get("CONTENT_TYPE", "")
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in ctype:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
    else:
        from xml.sax.saxutils import escape

        body = ('<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type>'
                f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
                "<RequestId>sandbox</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml")]
    start_response(f"{status} Error", [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _external_ids(doc: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    stmts = doc.get("Statement", [])
    for st in stmts if isinstance(stmts, list) else [stmts]:
        for cond in (st.get("Condition") or {}).values():
            v = cond.get("sts:ExternalId") if isinstance(cond, dict) else None
            if v:
                ids.update([v] if isinstance(v, str) else v)
    return ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmulatorServer:
    """moto + the sandbox middleware on a loopback port, in a background thread of this process."""

    def __init__(self, port: int = 0, latency_ms: float = 0.0, enforce_assume_role: bool = True) -> None:
        self.port = port or free_port()
        self.latency_ms = latency_ms
        self.enforce_assume_role = enforce_assume_role
        self.middleware: SandboxMiddleware | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmulatorServer:
        import logging

        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns real logs
        with socket.socket() as probe:  # werkzeug would sys.exit() on a busy port; raise instead
            probe.bind(("127.0.0.1", self.port))
        app = DomainDispatcherApplication(create_backend_app)
        self.middleware = SandboxMiddleware(app, self.latency_ms, self.enforce_assume_role)
        self._server = make_server("127.0.0.1", self.port, self.middleware, threaded=True,
                                   request_handler=MotoRequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Clear all emulator state (POST /moto-api/reset) and the sandbox counters."""
        import urllib.request

        for path in ("/moto-api/reset", SANDBOX_PREFIX + "reset-stats"):
            urllib.request.urlopen(urllib.request.Request(self.endpoint + path, method="POST", data=b""),
                                   timeout=30).read()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class EmulatorProcess:
    """The emulator (optionally seeded with the demo estate) in a child process.

    Used by the CLI and benchmarks so the emulator's CPU does not share the scanner's GIL."""

    def __init__(self, port: int = 0, latency_ms: float = 0.0, accounts: int = 3,
                 regions: tuple[str, ...] = ("us-east-1", "eu-west-1"), seed: bool = True,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.args = [sys.executable, "-m", "engine.sandbox.server", "--port", str(port or free_port()),
                     "--latency-ms", str(latency_ms), "--accounts", str(accounts),
                     "--regions", ",".join(regions), *(() if seed else ("--no-seed",)), *extra_args]
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout: float = 180.0) -> dict[str, Any]:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"the sandbox emulator exited before it was ready: {err.strip()[-2000:]}")
            if line.startswith("{"):
                self.info = json.loads(line)
                return self.info
        self.stop()
        raise RuntimeError("the sandbox emulator did not become ready in time")

    @property
    def endpoint(self) -> str:
        return self.info["endpoint"]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def __enter__(self) -> EmulatorProcess:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.sandbox.server")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--accounts", type=int, default=3)
    p.add_argument("--regions", default="us-east-1,eu-west-1")
    p.add_argument("--no-seed", action="store_true")
    p.add_argument("--iam-roles", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    server = EmulatorServer(args.port, latency_ms=0.0).start()
    info: dict[str, Any] = {"endpoint": server.endpoint, "latency_ms": args.latency_ms}
    if not args.no_seed:
        from engine.sandbox.estate import seed_demo_estate

        manifest = seed_demo_estate(server, accounts=args.accounts,
                                    regions=tuple(r for r in args.regions.split(",") if r))
        info.update(accounts=manifest.accounts, regions=list(manifest.regions),
                    role_name=manifest.role_name, external_id=manifest.external_id,
                    manifest=manifest.to_dict())
    assert server.middleware is not None
    server.middleware.latency_s = args.latency_ms / 1000.0
    print(json.dumps(info), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
