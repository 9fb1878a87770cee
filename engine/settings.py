"""The one settings object: environment variables `CLOUDSCREEN_*` and an optional TOML file.

Precedence: explicit keyword arguments > environment > TOML file (`CLOUDSCREEN_CONFIG`) > defaults.
Every default is safe for demo mode; production checks (e.g. the session secret) live in the front.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

from engine.errors import UsageError

DEFAULT_SESSION_SECRET = "cloudscreen-demo-secret-change-me"


@dataclass(frozen=True)
class Settings:
    session_secret: str = DEFAULT_SESSION_SECRET
    store: str = "file://./.cloudscreen"
    ray_address: str | None = None
    role_name: str = "OrganizationAccountAccessRole"
    external_id: str | None = None
    aws_endpoint_url: str | None = None
    default_regions: tuple[str, ...] = ("us-east-1",)
    log_level: str = "INFO"
    log_format: str = "text"
    heartbeat_s: float = 30.0
    max_concurrent_accounts: int = 4
    # Threads per unit for per-resource API calls (boto3 calls are I/O bound).
    unit_threads: int = 8
    # Units of all accounts that one runner process works on at once.
    runner_concurrency: int = 32
    # Runner processes in the scan's pool; 0 = one per CPU of the Ray cluster.
    runners: int = 0
    # Retries after botocore's own (standard mode) retries gave up.
    retry_attempts: int = 3
    retry_max_wait_s: float = 8.0
    botocore_max_attempts: int = 3
    # Per-(account, region, API operation) request budget, requests per second (0 = unlimited).
    api_rate_per_s: float = 25.0
    assume_role_duration_s: int = 3600
    account_job_retries: int = 1
    # Result store: server-side encryption of S3 objects (AES256 or aws:kms with the key below).
    store_sse: str = "AES256"
    store_kms_key_id: str | None = None
    # Retention of stored scans and reports; 0 keeps everything. Audit-marked scans are kept if asked.
    retention_days: float = 0.0
    retention_keep_audit: bool = True
    report_link_ttl_s: int = 3600
    # Append-only, hash-chained audit log: a file path, or "-" for stdout.
    audit_log: str = "-"
    audit_fsync: bool = False
    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: str | None = None
    zendesk_public_key_file: str | None = None
    # Fetching the app's public key when no key file is given, and the signed-URL audience.
    zendesk_app_id: str | None = None
    zendesk_installation_id: str | None = None
    zendesk_base_url: str | None = None  # tests or a proxy; default https://<subdomain>.zendesk.com
    zendesk_key_ttl_s: float = 3600.0
    zendesk_user_cache_s: float = 60.0
    session_ttl_s: int = 900
    # The front: base of report links handed to browsers ("" = relative links), WebSocket limits.
    public_url: str = ""
    ws_auth_timeout_s: float = 10.0
    ws_rate_per_s: float = 20.0
    ws_burst: int = 40
    ws_max_violations: int = 20
    # Protocol-level WebSocket pings; a peer silent for ws_read_timeout_s is dropped.
    ws_ping_interval_s: float = 20.0
    ws_read_timeout_s: float = 60.0
    # permessage-deflate on WebSockets (off: small messages to many sockets, CPU matters more than bytes).
    ws_compression: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        values: dict[str, Any] = {}
        path = os.environ.get("CLOUDSCREEN_CONFIG")
        if path:
            try:
                with open(path, "rb") as fh:
                    values.update(tomllib.load(fh))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise UsageError(f"cannot read CLOUDSCREEN_CONFIG file {path}: {exc}") from exc
        names = {f.name: f for f in dataclasses.fields(cls) if f.name != "extra"}
        for name in names:
            env = os.environ.get("CLOUDSCREEN_" + name.upper())
            if env is not None and env != "":
                values[name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - set(names)
        extra = {k: values.pop(k) for k in unknown}
        return cls(**{k: _coerce(names[k], v) for k, v in values.items()}, extra=extra)

    def to_env(self) -> dict[str, str]:
        """The settings as CLOUDSCREEN_* variables, for processes started on our behalf."""
        env: dict[str, str] = {}
        for f in dataclasses.fields(self):
            if f.name in ("extra", "session_secret", "zendesk_api_token"):
                continue  # secrets are never copied into other processes' environments
            v = getattr(self, f.name)
            if v is None:
                continue
            env["CLOUDSCREEN_" + f.name.upper()] = ",".join(v) if isinstance(v, tuple) else str(v)
        return env


def _coerce(f: dataclasses.Field, value: Any) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if isinstance(value, str) and kind.startswith("bool"):
        if value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if value.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise UsageError(f"setting {f.name}: {value!r} is not true or false")
    if isinstance(value, str):
        try:
            if kind.startswith("int"):
                return int(value)
            if kind.startswith("float"):
                return float(value)
        except ValueError as exc:
            raise UsageError(f"setting {f.name}: {value!r} is not a number") from exc
        if kind.startswith("tuple"):
            return tuple(p.strip() for p in value.split(",") if p.strip())
    if isinstance(value, list):
        return tuple(value)
    return value
