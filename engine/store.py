"""The result store: where every finished unit, account outcome, scan document and report lives.

Two backends share one key layout: a local folder (`file:///path`, default `./.cloudscreen`) and an
S3 bucket (`s3://bucket/prefix`). Keys under the store root:

    scans/<scan_id>/scan.json                         request, plan, engine options (no secrets)
    scans/<scan_id>/units/<account>/<region>/<service>.json   one finished unit (written at once)
    scans/<scan_id>/accounts/<account>.json           an account job's outcome
    scans/<scan_id>/findings.json                     the final document (CONTRACTS.md section 2)
    scans/<scan_id>/reports/<name>                    rendered reports (report.html, findings.csv, ...)
    scans/<scan_id>/audit.json                        present when the scan must be kept for an audit
    history/unit_costs.json                           mean unit duration per service (plan costs)

Files are written atomically (temporary file + rename), so a crash never leaves half a document; S3
PutObject is atomic by nature and always asks for server-side encryption (SSE-S3 `AES256` by
default, or SSE-KMS with a configured key).

S3 options can ride on the URL (`s3://bucket/prefix?endpoint_url=...&region=...&sse=aws:kms&kms_key_id=...`)
so that processes which rebuild the store from a stored scan document (Ray runners) reach the same
bucket the same way; otherwise they come from the settings (`CLOUDSCREEN_AWS_ENDPOINT_URL`, and
`store_sse` / `store_kms_key_id` when configured).

Report links handed to browsers expire: presigned GET URLs in S3 mode, HMAC-signed
`/api/scans/<id>/reports/<type>?exp=...&sig=...` links (checked by `verify_report_link`) in file mode.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import botocore.config
import botocore.exceptions

from engine.errors import StoreError
from engine.model import REPORT_FILES, UnitResult, iso_z
from engine.throttle import aws_call, describe_error

log = logging.getLogger(__name__)

_REPORT_TYPES = {name: kind for kind, name in REPORT_FILES.items()}

SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
DEFAULT_SSE = "AES256"
# SigV4 presigned URLs cannot live longer than 7 days.
MAX_PRESIGN_TTL_S = 7 * 24 * 3600
# S3's own limits: ListObjectsV2 returns at most 1,000 keys a page, DeleteObjects takes at most 1,000.
_LIST_PAGE_SIZE = 1000
_DELETE_BATCH = 1000

_CONTENT_TYPES = {
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
}


def report_type(name_or_type: str) -> str:
    """The report type (`html|json|csv|ocsf`) of a report type or file name; StoreError if unknown."""
    if name_or_type in REPORT_FILES:
        return name_or_type
    if name_or_type in _REPORT_TYPES:
        return _REPORT_TYPES[name_or_type]
    raise StoreError(f"unknown report {name_or_type!r}: use one of {', '.join(REPORT_FILES)} "
                     f"(or {', '.join(REPORT_FILES.values())})")


def report_link_signature(scan_id: str, report_type: str, exp: int, secret: str) -> str:
    """HMAC-SHA256 (hex) of `"<scan_id>:<type>:<exp>"` under `secret`: the `sig` of a file-mode report link."""
    msg = f"{scan_id}:{report_type}:{exp}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def verify_report_link(scan_id: str, type: str, exp: int | str, sig: str, secret: str,
                       now: float | None = None) -> bool:
    """True when `sig` signs (scan_id, type, exp) under `secret` and `exp` (unix seconds) has not passed.

    Malformed input (non-numeric exp, empty secret) is simply not valid; the comparison is
    constant-time so the signature cannot be guessed byte by byte."""
    if not secret or not sig:
        return False
    try:
        exp_i = int(exp)
    except (TypeError, ValueError):
        return False
    if (time.time() if now is None else now) > exp_i:
        return False
    expected = report_link_signature(scan_id, type, exp_i, secret)
    return hmac.compare_digest(expected, sig.strip().lower())


class ResultStore:
    """The scan's durable state and reports, over a file or S3 backend (see the module docstring)."""

    def __init__(self, root: Path | None = None, *, backend: _Backend | None = None) -> None:
        if backend is None:
            if root is None:
                raise StoreError("a result store needs a root folder or a backend")
            backend = _FileBackend(root)
        self._backend = backend
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None, region: str | None = None,
                 sse: str | None = None, kms_key_id: str | None = None) -> ResultStore:
        """Open `file:///path` (or a bare path) or `s3://bucket/prefix`.

        For S3, keyword arguments win over options in the URL's query, which win over the settings
        (`CLOUDSCREEN_AWS_ENDPOINT_URL`, `store_sse`, `store_kms_key_id`)."""
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = (parts.netloc + parts.path) if parts.netloc in ("", ".", "..") else parts.path
            return cls(Path(path or ".").expanduser().resolve())
        if parts.scheme == "s3":
            return cls(backend=_S3Backend.from_url(url, endpoint_url=endpoint_url, region=region, sse=sse,
                                                   kms_key_id=kms_key_id))
        if parts.scheme == "" and url:
            return cls(Path(url).expanduser().resolve())
        raise StoreError(f"unsupported result store {url!r}: use file:///path or s3://bucket/prefix")

    @property
    def url(self) -> str:
        """The URL that reopens this very store (S3 options included) with `from_url`."""
        return self._backend.url

    @property
    def root(self) -> Path:
        """The folder of a file store (StoreError for S3, which has no local root)."""
        if isinstance(self._backend, _FileBackend):
            return self._backend.root
        raise StoreError(f"the result store {self.url} is not a local folder")

    @property
    def is_s3(self) -> bool:
        """True for an `s3://` store."""
        return isinstance(self._backend, _S3Backend)

    # -- raw objects --
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Write one object (atomically; SSE requested in S3 mode)."""
        self._backend.put(key, data, content_type or _content_type(key))

    def get_bytes(self, key: str) -> bytes | None:
        """Read one object; None when it does not exist."""
        return self._backend.get(key)

    def put_json(self, key: str, obj: Any) -> None:
        """Write `obj` as compact JSON (values JSON cannot hold are written as their `str`)."""
        data = json.dumps(obj, separators=(",", ":"), default=str).encode()
        self.put_bytes(key, data, "application/json")

    def get_json(self, key: str) -> Any:
        """Read a JSON object; None when it does not exist, StoreError when it is not JSON."""
        data = self.get_bytes(key)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError as exc:
            raise StoreError(f"cannot read {self._backend.describe(key)}: {exc}") from exc

    def list_keys(self, prefix: str) -> list[str]:
        """Sorted keys of the `.json` objects under the folder `prefix` (recursively)."""
        return sorted(k for k in self._backend.keys(prefix) if k.endswith(".json"))

    def delete(self, key: str) -> None:
        """Delete one object; deleting a missing object is not an error."""
        self._backend.delete(key)

    def check_writable(self) -> None:
        """Raise StoreError unless an object can be written (readiness probe)."""
        self.put_json("health/probe.json", {"ok": True})

    # -- scan documents --
    @staticmethod
    def _unit_key(scan_id: str, account: str, region: str, service: str) -> str:
        return f"scans/{scan_id}/units/{account}/{region}/{service}.json"

    def save_scan(self, scan_id: str, doc: dict[str, Any]) -> None:
        """Store the scan record (request, plan, engine options, `created_at`)."""
        self.put_json(f"scans/{scan_id}/scan.json", doc)

    def load_scan(self, scan_id: str) -> dict[str, Any] | None:
        return self.get_json(f"scans/{scan_id}/scan.json")

    def save_unit(self, scan_id: str, result: UnitResult) -> None:
        u = result.unit
        self.put_json(self._unit_key(scan_id, u.account_id, u.region, u.service), result.to_dict())

    def finished_units(self, scan_id: str, account: str) -> set[str]:
        """Keys (`account/region/service`) of the units of `account` already stored."""
        prefix = f"scans/{scan_id}/units/{account}"
        out = set()
        for key in self.list_keys(prefix):
            region, service = key.split("/")[-2], key.rsplit("/", 1)[-1][: -len(".json")]
            out.add(f"{account}/{region}/{service}")
        return out

    def load_unit(self, scan_id: str, account: str, region: str, service: str) -> UnitResult | None:
        """One stored unit result, or None when that unit has not finished."""
        d = self.get_json(self._unit_key(scan_id, account, region, service))
        return UnitResult.from_dict(d) if d else None

    def load_units(self, scan_id: str) -> list[UnitResult]:
        """Every stored unit result of the scan."""
        return [UnitResult.from_dict(self.get_json(k)) for k in self.list_keys(f"scans/{scan_id}/units")]

    def save_account(self, scan_id: str, account: str, status: str, error: str | None = None,
                     retryable: bool = False) -> None:
        self.put_json(f"scans/{scan_id}/accounts/{account}.json",
                      {"account_id": account, "status": status, "error": error, "retryable": retryable})

    def load_account(self, scan_id: str, account: str) -> dict[str, Any] | None:
        return self.get_json(f"scans/{scan_id}/accounts/{account}.json")

    def save_findings(self, scan_id: str, doc: dict[str, Any]) -> None:
        """Store the final findings document (CONTRACTS.md section 2), then its head (everything but the
        findings) so that listings need not read every finding of every scan."""
        self.put_json(f"scans/{scan_id}/findings.json", doc)
        self.put_json(f"scans/{scan_id}/summary.json", {k: v for k, v in doc.items() if k != "findings"})

    def load_findings(self, scan_id: str) -> dict[str, Any] | None:
        return self.get_json(f"scans/{scan_id}/findings.json")

    def load_summary(self, scan_id: str) -> dict[str, Any] | None:
        """The findings document of a finished scan without its findings (status, times, summary), or None."""
        head = self.get_json(f"scans/{scan_id}/summary.json")
        if head is None:  # stored before summaries were kept
            doc = self.load_findings(scan_id)
            head = None if doc is None else {k: v for k, v in doc.items() if k != "findings"}
        return head

    def list_scans(self) -> list[str]:
        """Scan ids in the store, newest id first."""
        return sorted(self._backend.folders("scans"), reverse=True)

    def delete_scan(self, scan_id: str) -> None:
        """Delete everything stored under `scans/<scan_id>/` (units, documents, reports, audit mark)."""
        _check_segment(scan_id, "scan id")
        self._backend.delete_folder(f"scans/{scan_id}")

    # -- reports --
    @staticmethod
    def report_key(scan_id: str, name: str) -> str:
        """The key of a report file: `scans/<id>/reports/<name>` (a type such as `html` names its file)."""
        _check_segment(scan_id, "scan id")
        _check_segment(name, "report name")
        return f"scans/{scan_id}/reports/{REPORT_FILES.get(name, name)}"

    def save_report(self, scan_id: str, name: str, data: bytes) -> str:
        """Store a rendered report file; returns its key."""
        key = self.report_key(scan_id, name)
        self.put_bytes(key, data)
        return key

    def load_report(self, scan_id: str, name: str) -> bytes | None:
        """A stored report file (by type or file name), or None."""
        return self.get_bytes(self.report_key(scan_id, name))

    def report_size(self, scan_id: str, name: str) -> int | None:
        """The size in bytes of a stored report (without reading it), or None when it does not exist."""
        return self._backend.size(self.report_key(scan_id, name))

    def report_link(self, scan_id: str, name: str, *, ttl_s: int, base_url: str, secret: str,
                    now: float | None = None) -> str:
        """A link a browser can open without a bearer header, valid for `ttl_s` seconds.

        S3 mode: a presigned GET URL of the report object (ExpiresIn=ttl_s; note that a URL signed
        with temporary credentials also stops working when those credentials expire).
        File mode: `{base_url}/api/scans/{scan_id}/reports/{type}?exp=<unix>&sig=<hex>` where sig is
        HMAC-SHA256(secret, "scan_id:type:exp"), checked by `verify_report_link`."""
        kind = report_type(name)
        ttl = int(ttl_s)
        if ttl <= 0:
            raise StoreError(f"report link lifetime must be positive, not {ttl_s!r} s")
        if isinstance(self._backend, _S3Backend):
            if ttl > MAX_PRESIGN_TTL_S:
                raise StoreError(f"report link lifetime {ttl} s exceeds the 7-day limit of S3 presigned URLs")
            return self._backend.presign_get(self.report_key(scan_id, kind), ttl)
        if not secret:
            raise StoreError("report links need a signing secret (CLOUDSCREEN_SESSION_SECRET)")
        _check_segment(scan_id, "scan id")
        exp = int(time.time() if now is None else now) + ttl
        sig = report_link_signature(scan_id, kind, exp, secret)
        return (f"{base_url.rstrip('/')}/api/scans/{quote(scan_id, safe='')}/reports/{kind}"
                f"?{urlencode({'exp': exp, 'sig': sig})}")

    # -- retention --
    def mark_audit_required(self, scan_id: str, reason: str) -> None:
        """Keep this scan through retention pruning (e.g. it is evidence in an audit or a ticket)."""
        _check_segment(scan_id, "scan id")
        self.put_json(f"scans/{scan_id}/audit.json",
                      {"scan_id": scan_id, "reason": reason, "marked_at": iso_z(datetime.now(UTC))})

    def audit_mark(self, scan_id: str) -> dict[str, Any] | None:
        """The audit-required mark of a scan (`{scan_id, reason, marked_at}`), or None."""
        return self.get_json(f"scans/{scan_id}/audit.json")

    def prune(self, older_than_days: float, *, keep_audit: bool = True, now: datetime | None = None) -> list[str]:
        """Delete whole scans created more than `older_than_days` days ago; returns the deleted ids.

        The age is the scan's `created_at` (scan.json), or its findings' `started_at` when scan.json
        is missing; a scan whose age is unknown is kept. Scans marked audit-required are kept while
        `keep_audit` is true."""
        if older_than_days <= 0:
            raise StoreError(f"retention must be a positive number of days, not {older_than_days!r}")
        cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
        deleted = []
        for scan_id in self.list_scans():
            created = self._created_at(scan_id)
            if created is None or created >= cutoff:
                continue
            if keep_audit and self.audit_mark(scan_id) is not None:
                continue
            self.delete_scan(scan_id)
            deleted.append(scan_id)
        if deleted:
            log.info("retention: deleted %d scans older than %s days from %s", len(deleted), older_than_days, self.url)
        return deleted

    def _created_at(self, scan_id: str) -> datetime | None:
        for key, field in ((f"scans/{scan_id}/scan.json", "created_at"),
                           (f"scans/{scan_id}/findings.json", "started_at")):
            try:
                doc = self.get_json(key)
            except StoreError:
                continue
            value = doc.get(field) if isinstance(doc, dict) else None
            if value:
                try:
                    dt = datetime.fromisoformat(str(value))
                except ValueError:
                    continue
                return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        return None

    # -- history of unit costs --
    def unit_costs(self) -> dict[str, float]:
        """Mean unit duration (s) per service from past scans: the plan's expected costs."""
        d = self.get_json("history/unit_costs.json") or {}
        return {k: float(v["mean_s"]) for k, v in d.items() if isinstance(v, dict) and v.get("mean_s")}

    def record_unit_costs(self, durations: dict[str, list[float]], alpha: float = 0.3) -> None:
        """Fold this scan's unit durations into an exponentially weighted mean per service."""
        with self._lock:
            d = self.get_json("history/unit_costs.json") or {}
            for service, values in durations.items():
                if not values:
                    continue
                mean = sum(values) / len(values)
                prev = d.get(service, {})
                old = prev.get("mean_s")
                d[service] = {"mean_s": mean if old is None else (1 - alpha) * old + alpha * mean,
                              "samples": int(prev.get("samples", 0)) + len(values)}
            self.put_json("history/unit_costs.json", d)


# ---------------------------------------------------------------- helpers

def _content_type(key: str) -> str:
    return _CONTENT_TYPES.get(os.path.splitext(key)[1].lower(), "application/octet-stream")


def _check_segment(value: str, what: str) -> None:
    if not value or "/" in value or "\\" in value or value in (".", ".."):
        raise StoreError(f"{what} {value!r} is not a single path segment")


def _check_key(key: str) -> str:
    parts = key.strip("/").split("/")
    if not key.strip("/") or any(p in ("", ".", "..") for p in parts):
        raise StoreError(f"key {key!r} escapes the store or is empty")
    return "/".join(parts)


class _Backend(ABC):
    """Raw object operations on keys relative to the store root."""

    @property
    @abstractmethod
    def url(self) -> str:
        ...

    @abstractmethod
    def describe(self, key: str) -> str:
        ...

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str) -> None:
        ...

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        ...

    @abstractmethod
    def size(self, key: str) -> int | None:
        """The size of one object in bytes; None when it does not exist."""
        ...

    @abstractmethod
    def keys(self, prefix: str) -> list[str]:
        """Every key under the folder `prefix`, recursively, in no particular order."""
        ...

    @abstractmethod
    def folders(self, prefix: str) -> list[str]:
        """Names of the immediate sub-folders of `prefix`."""
        ...

    @abstractmethod
    def delete(self, key: str) -> None:
        ...

    @abstractmethod
    def delete_folder(self, prefix: str) -> None:
        ...


class _FileBackend(_Backend):
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def url(self) -> str:
        return "file://" + str(self.root)

    def _path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if self.root not in p.parents and p != self.root:
            raise StoreError(f"key {key!r} escapes the store")
        return p

    def describe(self, key: str) -> str:
        return str(self._path(key))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
            raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc

    def size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc

    def keys(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return [p.relative_to(self.root).as_posix() for p in base.rglob("*")
                if p.is_file() and not p.name.startswith(".tmp-")]

    def folders(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return [p.name for p in base.iterdir() if p.is_dir()]

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def delete_folder(self, prefix: str) -> None:
        path = self._path(prefix)
        if path == self.root:
            raise StoreError("refusing to delete the whole result store")
        try:
            shutil.rmtree(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"cannot delete {path}: {exc.strerror or exc}") from exc


class _S3Backend(_Backend):
    """Objects under `s3://bucket/prefix/`. Every call goes through the engine's retry policy."""

    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None, region: str | None,
                 sse: str, kms_key_id: str | None, url_options: dict[str, str]) -> None:
        if sse not in SSE_ALGORITHMS:
            raise StoreError(f"unsupported server-side encryption {sse!r}: use one of {', '.join(SSE_ALGORITHMS)}")
        if kms_key_id and sse == "AES256":
            sse = "aws:kms"  # a KMS key only makes sense with SSE-KMS
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.sse = sse
        self.kms_key_id = kms_key_id or None
        self._url_options = url_options
        self._client = _s3_client(endpoint_url, region)

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None, region: str | None, sse: str | None,
                 kms_key_id: str | None) -> _S3Backend:
        parts = urlsplit(url)
        if not parts.netloc:
            raise StoreError(f"result store {url!r} names no bucket: use s3://bucket/prefix")
        query = dict(parse_qsl(parts.query))
        unknown = set(query) - {"endpoint_url", "region", "sse", "kms_key_id"}
        if unknown:
            raise StoreError(f"result store {url!r}: unknown option(s) {', '.join(sorted(unknown))}")
        settings = _settings()
        opts = {
            "endpoint_url": endpoint_url or query.get("endpoint_url") or _setting(settings, "aws_endpoint_url"),
            "region": region or query.get("region"),
            "sse": sse or query.get("sse") or _setting(settings, "store_sse") or DEFAULT_SSE,
            "kms_key_id": kms_key_id or query.get("kms_key_id") or _setting(settings, "store_kms_key_id"),
        }
        # Everything but the default SSE rides on `url`, so a process without these settings (a Ray
        # runner rebuilding the store from the scan document) reopens the very same store.
        url_options = {k: v for k, v in opts.items() if v and not (k == "sse" and v == DEFAULT_SSE)}
        return cls(parts.netloc, parts.path, endpoint_url=opts["endpoint_url"], region=opts["region"],
                   sse=opts["sse"] or DEFAULT_SSE, kms_key_id=opts["kms_key_id"], url_options=url_options)

    @property
    def url(self) -> str:
        base = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        return f"{base}?{urlencode(self._url_options)}" if self._url_options else base

    def _key(self, key: str) -> str:
        key = _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _folder(self, prefix: str) -> str:
        prefix = prefix.strip("/")
        if not prefix:
            return f"{self.prefix}/" if self.prefix else ""
        return self._key(prefix) + "/"

    def _relative(self, full_key: str) -> str:
        return full_key[len(self.prefix) + 1:] if self.prefix else full_key

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return aws_call(fn, **kwargs)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("NoSuchBucket",):
                raise StoreError(f"cannot {what}: bucket {self.bucket!r} does not exist "
                                 "(create it, or fix CLOUDSCREEN_STORE)") from None
            if code in ("AccessDenied", "AccessDeniedException", "Forbidden", "403"):
                raise StoreError(f"cannot {what}: access denied — the credentials need s3:GetObject, "
                                 f"s3:PutObject, s3:ListBucket and s3:DeleteObject on {self.bucket!r}"
                                 + (" and kms:GenerateDataKey/kms:Decrypt on the store's KMS key"
                                    if self.sse.startswith("aws:kms") else "")) from None
            raise StoreError(f"cannot {what}: {describe_error(exc)}") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise StoreError(f"cannot {what}: {describe_error(exc)}") from None

    def put(self, key: str, data: bytes, content_type: str) -> None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": data,
                                  "ContentType": content_type, "ServerSideEncryption": self.sse}
        if self.kms_key_id:
            kwargs["SSEKMSKeyId"] = self.kms_key_id
        self._call(f"write {self.describe(key)}", self._client.put_object, **kwargs)

    def get(self, key: str) -> bytes | None:
        resp = self._read(self._client.get_object, key)
        return None if resp is None else resp["Body"].read()

    def size(self, key: str) -> int | None:
        resp = self._read(self._client.head_object, key)
        return None if resp is None else int(resp["ContentLength"])

    def _read(self, fn: Any, key: str) -> Any:
        """One read call on `key`: its answer, or None when the object does not exist."""
        where = self.describe(key)
        try:
            return aws_call(fn, Bucket=self.bucket, Key=self._key(key))
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise StoreError(f"cannot read {where}: {describe_error(exc)}") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise StoreError(f"cannot read {where}: {describe_error(exc)}") from None

    def _pages(self, **kwargs: Any) -> Any:
        """ListObjectsV2 page by page; each page is one retried call, resumed from its token."""
        params = {"Bucket": self.bucket, "MaxKeys": _LIST_PAGE_SIZE, **kwargs}
        while True:
            page = self._call(f"list s3://{self.bucket}/{kwargs.get('Prefix', '')}",
                              self._client.list_objects_v2, **params)
            yield page
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            params["ContinuationToken"] = token

    def keys(self, prefix: str) -> list[str]:
        return [self._relative(obj["Key"]) for page in self._pages(Prefix=self._folder(prefix))
                for obj in page.get("Contents", [])]

    def folders(self, prefix: str) -> list[str]:
        folder = self._folder(prefix)
        return [cp["Prefix"][len(folder):].rstrip("/")
                for page in self._pages(Prefix=folder, Delimiter="/") for cp in page.get("CommonPrefixes", [])]

    def delete(self, key: str) -> None:
        self._call(f"delete {self.describe(key)}", self._client.delete_object, Bucket=self.bucket,
                   Key=self._key(key))

    def delete_folder(self, prefix: str) -> None:
        if not prefix.strip("/"):
            raise StoreError("refusing to delete the whole result store")
        full = [obj["Key"] for page in self._pages(Prefix=self._folder(prefix)) for obj in page.get("Contents", [])]
        for i in range(0, len(full), _DELETE_BATCH):
            batch = full[i:i + _DELETE_BATCH]
            resp = self._call(f"delete {self.describe(prefix)}/", self._client.delete_objects, Bucket=self.bucket,
                              Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
            errors = resp.get("Errors") or []
            if errors:
                first = errors[0]
                raise StoreError(f"cannot delete {len(errors)} objects under {self.describe(prefix)}/: "
                                 f"{first.get('Key')}: {first.get('Code')} — {first.get('Message', '')}")

    def presign_get(self, key: str, ttl_s: int) -> str:
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=ttl_s)


def _settings() -> Any:
    from engine.settings import Settings

    return Settings.load()


def _setting(settings: Any, name: str) -> Any:
    """A setting by name, whether it is a declared field or (until declared) an extra from the TOML file."""
    value = getattr(settings, name, None)
    if value is None:
        value = (getattr(settings, "extra", None) or {}).get(name)
    return value or None


def _s3_client(endpoint_url: str | None, region: str | None) -> Any:
    """The store's S3 client: the base credentials of the environment (never an assumed audit role)."""

    from engine.credentials import AwsOptions, base_session

    session = base_session()
    # SigV4 everywhere: presigned URLs carry X-Amz-Expires, and SSE-KMS objects cannot be read with SigV2.
    config = AwsOptions(endpoint_url=endpoint_url).botocore_config().merge(
        botocore.config.Config(signature_version="s3v4"))
    return session.client("s3", region_name=region or session.region_name or "us-east-1",
                          endpoint_url=endpoint_url or None, config=config)
