"""Append-only, hash-chained audit log (JSON lines) and its verifier (`cloudscreen audit verify FILE`).

Every scan request, cancellation, report download, ticket attachment, query, login and denial is
written as one JSON line through the dedicated logger ``cloudscreen.audit`` (``propagate=False``, so
audit lines never mix with the application log and application logs never enter the chain).

Line format and chain
---------------------
Each line is the *canonical JSON* of one record: ``json.dumps(record, sort_keys=True,
separators=(",", ":"), ensure_ascii=True, allow_nan=False)``, terminated by ``\\n``. The record has
the fields ``v`` (format version, 1), ``time`` (UTC, ISO-8601 with microseconds and ``Z``),
``action``, ``result`` (``ok | denied | error``), ``user_id``, ``role``, ``accounts``, ``scan_id``,
``ticket_id``, ``reason``, ``request_id``, ``connection_id``, ``details`` (null when not given), and:

* ``prev`` -- SHA-256 hex of the previous line's exact bytes (without its newline); the first line of a
  file carries ``GENESIS`` (64 zeros). Reopening a file continues from the hash of its last line, so
  restarts continue the chain.
* ``hash`` -- SHA-256 hex of the canonical JSON of the record *without* ``hash`` (so it covers
  ``prev``).

`verify` reads the file line by line and, for line *n*, checks that it is valid JSON, that its bytes
are exactly the canonical serialisation (so no byte can change without changing a value), that
``hash`` matches the content, and that ``prev`` equals the hash of line *n-1* (``GENESIS`` for line
1). Hence an edited field fails at the edited line (or, if the editor recomputed ``hash``, at the next
line); a deleted, inserted or reordered line breaks ``prev`` at the first line after the change; a
cut in the middle of a line leaves an invalid or incomplete line. The reported line is the first one
at which the chain breaks.

Limits (by design, say them out loud)
-------------------------------------
* The hashes are not keyed: someone who can rewrite the file can recompute the chain from the point
  of the edit onwards. Truncating the *tail* (dropping the last lines, or the whole file) also leaves
  a valid chain. Both are detectable only against an external anchor: copy `AuditLog.head` (or the
  ``head`` printed by ``cloudscreen audit verify``) somewhere the writer cannot change -- or ship the
  lines to an append-only sink (stdout mode + a log collector) -- and pass it as ``anchor`` to
  `verify`, which then checks that the anchored line is still present.
* Several threads of one process may share an `AuditLog`. Several *processes* may append to the same
  file: each write takes an exclusive ``fcntl.flock`` on the file, re-reads the hash of the last
  line when the file grew since this process last wrote, and appends one complete line with a single
  ``O_APPEND`` write. ``flock`` is advisory (only `AuditLog` writers honour it) and is only reliable
  on local file systems (NFS emulates it with POSIX locks, other network file systems may not).
* Lines are written with ``os.write`` (no user-space buffering) but not fsync'ed unless
  ``fsync=True``: a machine crash can lose the last lines the OS had not flushed (tail truncation).
* Stdout mode (``"-"``) keeps the chain in memory: each process start begins a new chain at
  ``GENESIS``, and only one process should write to one stream.
* Log rotation: move the file away and open a new `AuditLog` (the new file starts at ``GENESIS``);
  ``copytruncate`` rotation looks exactly like tampering.
* A file that ends with an incomplete line (a writer crashed mid-write, or the disk filled) is not
  extended: writing raises `AuditError` until an operator has looked at it.

Tokens and secrets are never written: there is no field for them, detail keys that look like secrets
are dropped, and JWT-like or ``Bearer``/``Basic`` credentials inside strings are replaced by
``[redacted]``.
"""

from __future__ import annotations

import argparse
import enum
import fcntl
import hashlib
import itertools
import json
import logging
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from engine.errors import CloudScreenError
from engine.logs import bound
from engine.model import iso_z

LOGGER_NAME = "cloudscreen.audit"
GENESIS = "0" * 64
FORMAT_VERSION = 1
EXIT_OK, EXIT_TAMPERED, EXIT_USAGE = 0, 1, 2


class AuditError(CloudScreenError):
    """The audit log cannot be written (or read for appending)."""


class Result(enum.StrEnum):
    OK = "ok"
    DENIED = "denied"
    ERROR = "error"


class Action(enum.StrEnum):
    """The actions the front audits. Other dotted lower-case names are accepted too."""

    SCAN_START = "scan.start"
    SCAN_CANCEL = "scan.cancel"
    SCAN_VIEW = "scan.view"
    SCAN_LIST = "scan.list"
    REPORT_DOWNLOAD = "report.download"
    ZENDESK_COMMENT = "zendesk.comment"
    ZENDESK_TASK = "zendesk.task"
    QUERY = "query"
    AUTH_LOGIN = "auth.login"
    AUTH_REFRESH = "auth.refresh"
    AUTH_DENIED = "auth.denied"
    ACCESS_DENIED = "access.denied"


_ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_SECRET_KEY_RE = re.compile(r"token|secret|passw|authorization|api_?key|private|credential|cookie|signature",
                            re.IGNORECASE)
# A JWT (three base64url parts; a JSON header '{"' encodes as "eyJ"), or an HTTP Authorization credential.
# Over-redacting a reason ("Basic authentication") is the safe direction.
_SECRET_VALUE_RE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"
                              r"|\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_MAX_STRING = 2000
_READ_CHUNK = 8192


def canonical_json(obj: Mapping[str, Any]) -> bytes:
    """The one serialisation that is hashed and written: sorted keys, no spaces, ASCII only."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _scrub(value: str) -> str:
    value = _SECRET_VALUE_RE.sub("[redacted]", value)
    return value if len(value) <= _MAX_STRING else value[:_MAX_STRING] + "…"


def _clean_detail(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _scrub(value)
    if isinstance(value, Mapping):
        return {str(k): _clean_detail(v) for k, v in value.items() if not _SECRET_KEY_RE.search(str(k))}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean_detail(v) for v in value]
    return _scrub(str(value))


def _opt_str(value: Any) -> str | None:
    return None if value is None else _scrub(str(value))


def _last_line_hash(fd: int, size: int, path: str) -> str:
    """Hash of the last line of the file (without its newline), GENESIS for an empty file."""
    if size == 0:
        return GENESIS
    if os.pread(fd, 1, size - 1) != b"\n":
        raise AuditError(f"audit log {path} ends with an incomplete line (a writer crashed or the disk filled): "
                         f"run `cloudscreen audit verify {path}`, then move the file away to start a new chain")
    # The last line is [start, size - 1): read backwards in chunks until the newline before it.
    buf = b""
    pos = size - 1
    while pos > 0:
        start = max(0, pos - _READ_CHUNK)
        buf = os.pread(fd, pos - start, start) + buf
        pos = start
        cut = buf.rfind(b"\n")
        if cut >= 0:
            return _sha256(buf[cut + 1:])
    return _sha256(buf)


class _ChainSink(logging.Handler):
    """Writes audit records of one `AuditLog` as chained lines, to a file or to stdout."""

    def __init__(self, path: str, sink_id: int, fsync: bool) -> None:
        super().__init__(level=logging.INFO)
        self.path = path
        self.sink_id = sink_id
        self.fsync = fsync
        self._fd: int | None = None
        self.closed = False
        self._known_size = -1
        self.head = GENESIS
        if path != "-":
            try:
                self._fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o640)
            except OSError as exc:
                raise AuditError(f"cannot open audit log {path}: {exc.strerror} "
                                 "(check CLOUDSCREEN_AUDIT_LOG and the folder's permissions)") from exc
            try:
                with self._locked() as size:
                    self.head = _last_line_hash(self._fd, size, path)
                    self._known_size = size
            except BaseException:
                os.close(self._fd)
                raise

    def _locked(self) -> _FileLock:
        assert self._fd is not None
        return _FileLock(self._fd)

    def emit(self, record: logging.LogRecord) -> None:
        # Audit failures propagate to the caller (no handleError): a lost audit record must be loud.
        if getattr(record, "audit_sink", None) != self.sink_id:
            return  # someone else's record on the shared logger, or a stray plain log call
        if self.closed:
            raise AuditError(f"audit log {self.path} is closed")
        fields: dict[str, Any] = dict(record.audit_fields)  # type: ignore[attr-defined]
        if self._fd is None:
            line = self._chain(fields, self.head)
            stream = sys.stdout  # looked up at write time, so redirections (and pytest capture) apply
            stream.write(line.decode("ascii") + "\n")
            stream.flush()
        else:
            with self._locked() as size:
                prev = self.head if size == self._known_size else _last_line_hash(self._fd, size, self.path)
                line = self._chain(fields, prev)
                try:
                    _write_all(self._fd, line + b"\n")
                    if self.fsync:
                        os.fsync(self._fd)
                except OSError as exc:
                    raise AuditError(f"cannot write audit log {self.path}: {exc.strerror}") from exc
                self._known_size = size + len(line) + 1
        self.head = _sha256(line)
        record.audit_out["line"] = line  # type: ignore[attr-defined]

    @staticmethod
    def _chain(fields: dict[str, Any], prev: str) -> bytes:
        # Stamped here, under the lock, so the chain's order is also the order of the times.
        fields["time"] = iso_z(timespec="microseconds")
        fields["prev"] = prev
        fields["hash"] = _sha256(canonical_json(fields))
        return canonical_json(fields)

    def close(self) -> None:
        self.acquire()
        try:
            self.closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        finally:
            self.release()
        super().close()


class _FileLock:
    """Exclusive flock around read-last-hash + append; yields the file size seen under the lock."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> int:
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return os.fstat(self.fd).st_size

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


_sink_ids = itertools.count(1)


class AuditLog:
    """The audit trail: `record()` appends one chained JSON line to `path` (``"-"`` = stdout).

    Thread-safe; several processes may append to one file (see the module docstring for limits).
    Several `AuditLog` objects may share the ``cloudscreen.audit`` logger: each writes only its own
    records to its own sink.
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False, logger_name: str = LOGGER_NAME) -> None:
        self.path = os.fspath(path)
        self._sink_id = next(_sink_ids)
        self._sink = _ChainSink(self.path, self._sink_id, fsync)
        self._logger = logging.getLogger(logger_name)
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        # logging.config.dictConfig disables loggers created before it; the audit logger must stay on.
        self._logger.disabled = False
        self._logger.addHandler(self._sink)

    @property
    def head(self) -> str:
        """SHA-256 of the last line written (or found when opening): the value to anchor externally."""
        return self._sink.head

    def record(self, action: str | Action, *, result: str | Result = Result.OK, user_id: str | int | None = None,
               role: str | None = None, accounts: Iterable[str] = (), scan_id: str | None = None,
               ticket_id: str | int | None = None, reason: str | None = None, request_id: str | None = None,
               connection_id: str | None = None, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Append one record and return it as written (with ``prev`` and ``hash``).

        Raises `ValueError` for an unknown result or a malformed action name (programming errors) and
        `AuditError` when the line cannot be written -- callers should treat that as a failed request.
        """
        if self._sink.closed:
            raise AuditError(f"audit log {self.path} is closed")
        action = str(action)
        if not _ACTION_RE.match(action) or len(action) > 64:
            raise ValueError(f"audit action {action!r} is not a dotted lower-case name like 'scan.start'")
        result = Result(str(result))  # ValueError for anything but ok/denied/error
        fields: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "action": action,
            "result": result.value,
            "user_id": _opt_str(user_id),
            "role": _opt_str(role),
            "accounts": [_scrub(str(a)) for a in accounts],
            "scan_id": _opt_str(scan_id),
            "ticket_id": _opt_str(ticket_id),
            "reason": _opt_str(reason),
            "request_id": _opt_str(request_id if request_id is not None else bound("request_id")),
            "connection_id": _opt_str(connection_id),
            "details": _clean_detail(dict(details)) if details else None,
        }
        out: dict[str, bytes] = {}
        self._logger.info("%s %s", action, result.value,
                          extra={"audit_fields": fields, "audit_sink": self._sink_id, "audit_out": out})
        if "line" not in out:
            raise AuditError(f"audit record {action} was not written: the {self._logger.name!r} logger is disabled "
                             "or filtered (logging.disable or a logging config) -- audit records must not be dropped")
        return json.loads(out["line"])

    def close(self) -> None:
        """Detach from the logger and close the file. Further `record` calls raise `AuditError`."""
        self._logger.removeHandler(self._sink)
        self._sink.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of `verify`: `lines` intact lines before the first bad one (all of them when ok)."""

    ok: bool
    lines: int
    first_bad_line: int | None = None
    reason: str | None = None
    # Hash of the last intact line (GENESIS for an empty file): the value to anchor externally.
    head: str = GENESIS


def _check_line(raw: bytes, prev: str) -> str | None:
    """Why this line (without newline) breaks the chain after `prev`, or None when it is intact."""
    try:
        rec = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "not valid JSON (edited, or cut in the middle)"
    if not isinstance(rec, dict) or not isinstance(rec.get("hash"), str) or not isinstance(rec.get("prev"), str):
        return "not an audit record (no prev/hash fields)"
    try:
        canonical = canonical_json(rec)
    except ValueError:
        return "not canonical JSON"
    if canonical != raw:
        return "not in canonical form (the line's bytes were edited)"
    claimed = rec.pop("hash")
    if _sha256(canonical_json(rec)) != claimed:
        return "content does not match its hash (a field was edited)"
    if rec["prev"] != prev:
        expected = "the genesis value" if prev == GENESIS else "the hash of the line before"
        return f"prev is not {expected} (a line was deleted, inserted or reordered here)"
    return None


def verify(path: str | os.PathLike[str], *, anchor: str | None = None) -> VerifyResult:
    """Check the whole chain of an audit log file; with `anchor` (a `head` recorded earlier, outside
    the writer's reach) also check that the anchored line is still there (detects tail truncation).

    Raises `OSError` when the file cannot be read.
    """
    prev = GENESIS
    seen_anchor = anchor is None or anchor == GENESIS
    n = 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                return VerifyResult(False, n - 1, n, "incomplete last line (no newline: cut or crashed write)", prev)
            line = raw[:-1]
            reason = "empty line" if not line else _check_line(line, prev)
            if reason:
                return VerifyResult(False, n - 1, n, reason, prev)
            prev = _sha256(line)
            seen_anchor = seen_anchor or prev == anchor
    if not seen_anchor:
        return VerifyResult(False, n, n + 1, f"anchor {anchor} not found: lines were removed from the end "
                                             "(or the log was rewritten) after the anchor was taken", prev)
    return VerifyResult(True, n, None, None, prev)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def main(argv: Sequence[str] | None = None) -> int:
    """``cloudscreen audit verify FILE [--anchor HASH]`` (argv is what follows ``audit``).

    Exit 0: the chain verifies (prints lines and head on stdout); 1: tampered (line number and reason on
    stderr); 2: usage error or unreadable file (one line on stderr).
    """
    p = _Parser(prog="cloudscreen audit", description="Audit log tools.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    v = sub.add_parser("verify", help="check the hash chain of an audit log file")
    v.add_argument("file", help="the audit log (JSON lines)")
    v.add_argument("--anchor", help="a head hash recorded earlier: fail if the log no longer contains it")
    try:
        args = p.parse_args(list(sys.argv[2:] if argv is None else argv))
        if args.anchor is not None and not re.fullmatch(r"[0-9a-f]{64}", args.anchor):
            raise _UsageError(f"--anchor {args.anchor!r} is not a 64-character lower-case SHA-256 hex digest")
        result = verify(args.file, anchor=args.anchor)
    except _UsageError as exc:
        sys.stderr.write(f"cloudscreen audit: error: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        sys.stderr.write(f"cloudscreen audit: error: cannot read {args.file}: {exc.strerror}\n")
        return EXIT_USAGE
    if not result.ok:
        sys.stderr.write(f"{args.file}: line {result.first_bad_line}: {result.reason}\n")
        return EXIT_TAMPERED
    sys.stdout.write(f"{args.file}: ok, {result.lines} lines, head {result.head}\n")
    return EXIT_OK
