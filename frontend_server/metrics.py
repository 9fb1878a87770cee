"""The front's Prometheus metrics (CONTRACTS.md section 7), in a registry of their own.

One `Metrics` object per app holds exactly the section-7 metrics, with the ``cloudscreen_`` prefix,
in its own `CollectorRegistry` (not prometheus-client's global one, so several apps in one process
-- tests -- do not collide and nothing else leaks into ``/metrics``). ``render()`` gives the body
and content type of ``GET /metrics``.

Cardinality is bounded by construction: no scan, account or user id is ever a label, and every label
value comes from a fixed vocabulary (unknown values become ``other``):

* ``status`` of scans: completed, partial, failed, cancelled;
* ``service``: services with a registered collector; ``status`` of units: ok, error, skipped;
* ``severity``: the five severities (FAIL findings only, as in the findings.json summary);
* ``type`` of WebSocket messages: the CONTRACTS.md section 3 types; ``direction``: in, out;
* ``reason`` of auth failures: `AUTH_FAILURE_REASONS`;
* ``method``: the HTTP methods; ``route``: the route *template* (``/api/scans/<id>``, never the raw
  path), restricted to the app's routes once `allow_routes` was called, ``unmatched`` for 404s;
  ``status``: the numeric HTTP status.

Ray-side unit metrics (exported by Ray's agent as ``ray_cloudscreen_unit_*``) live in
`engine.runtime.metrics`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from engine.model import ScanStatus, Severity, Status, UnitResult
from engine.runtime.metrics import (
    OTHER,
    UNIT_DURATION_BUCKETS,
    UNIT_STATUSES,
    bounded,
    service_label,
    unit_status,
)

SCAN_STATUSES = tuple(s.value for s in ScanStatus if s.is_final)
SEVERITIES = tuple(s.value for s in Severity)
WS_MESSAGE_TYPES = (
    "auth", "auth.refresh", "auth.ok", "ping", "pong", "error",
    "scan.start", "scan.accepted", "scan.subscribe", "scan.cancel", "scan.list",
    "scan.progress", "scan.completed", "scan.failed", "scan.cancelled",
    "query", "query.result",
)
WS_DIRECTIONS = ("in", "out")
# Why a request was not authenticated or authorised. The auth module picks one of these.
AUTH_FAILURE_REASONS = (
    "missing_token", "malformed", "bad_signature", "bad_algorithm", "expired", "not_yet_valid",
    "wrong_audience", "wrong_issuer", "unknown_user", "zendesk_unavailable", "auth_timeout", "forbidden",
)
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
UNMATCHED_ROUTE = "unmatched"
# Seconds; a scan is one service of one account in seconds, or hundreds of accounts in hours.
SCAN_DURATION_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0,
                         14400.0, 28800.0)
_MAX_ROUTE_LEN = 200


class Metrics:
    """The section-7 metrics of one front, and helpers that keep their labels bounded."""

    def __init__(self, registry: CollectorRegistry | None = None, routes: Iterable[str] | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.scans_total = Counter("cloudscreen_scans_total", "Scans finished, by final status.",
                                   ["status"], registry=r)
        self.scan_duration_seconds = Histogram("cloudscreen_scan_duration_seconds",
                                               "Wall time of finished scans (started_at to finished_at).",
                                               buckets=SCAN_DURATION_BUCKETS, registry=r)
        self.scans_active = Gauge("cloudscreen_scans_active", "Scans running now.", registry=r)
        self.scan_queue_depth = Gauge("cloudscreen_scan_queue_depth",
                                      "Account jobs waiting for a slot (max concurrent accounts reached).", registry=r)
        self.units_total = Counter("cloudscreen_units_total", "Units (account x region x service) finished.",
                                   ["service", "status"], registry=r)
        self.unit_duration_seconds = Histogram("cloudscreen_unit_duration_seconds", "Wall time of one unit.",
                                               ["service"], buckets=UNIT_DURATION_BUCKETS, registry=r)
        self.findings_total = Counter("cloudscreen_findings_total", "FAIL findings of finished scans, by severity.",
                                      ["severity"], registry=r)
        self.aws_api_calls_total = Counter("cloudscreen_aws_api_calls_total", "AWS API calls made by units.",
                                           ["service"], registry=r)
        self.aws_throttles_total = Counter("cloudscreen_aws_throttles_total", "AWS throttling errors seen by units.",
                                           ["service"], registry=r)
        self.ws_connections = Gauge("cloudscreen_ws_connections", "Open WebSocket connections.", registry=r)
        self.ws_messages_total = Counter("cloudscreen_ws_messages_total", "WebSocket messages, by type and direction.",
                                         ["type", "direction"], registry=r)
        self.auth_failures_total = Counter("cloudscreen_auth_failures_total",
                                           "Rejected authentications and authorisations, by reason.",
                                           ["reason"], registry=r)
        self.http_requests_total = Counter("cloudscreen_http_requests_total", "HTTP requests answered.",
                                           ["method", "route", "status"], registry=r)
        self._routes: frozenset[str] | None = None
        if routes is not None:
            self.allow_routes(routes)
        # Series that dashboards rate() over exist from the start, at 0.
        for status in SCAN_STATUSES:
            self.scans_total.labels(status=status)
        for severity in SEVERITIES:
            self.findings_total.labels(severity=severity)

    def allow_routes(self, routes: Iterable[str]) -> None:
        """Restrict the `route` label to these templates (e.g. the app's ``url_map`` rules)."""
        self._routes = frozenset(routes)

    # -- scans and units ---------------------------------------------------------------------------

    def set_scan_load(self, active: int, queued: int) -> None:
        """Set `scans_active` and `scan_queue_depth` from the scan manager's current view."""
        self.scans_active.set(max(0, active))
        self.scan_queue_depth.set(max(0, queued))

    def record_unit(self, result: UnitResult) -> None:
        """Count one finished unit: outcome, duration, API calls and throttles by service."""
        svc = service_label(result.unit.service)
        self.units_total.labels(service=svc, status=unit_status(result)).inc()
        self.unit_duration_seconds.labels(service=svc).observe(max(0.0, float(result.duration_s)))
        if result.api_calls > 0:
            self.aws_api_calls_total.labels(service=svc).inc(result.api_calls)
        if result.throttles > 0:
            self.aws_throttles_total.labels(service=svc).inc(result.throttles)

    def record_scan(self, findings_doc: Mapping[str, Any], units: Iterable[UnitResult] = ()) -> None:
        """Count one finished scan from its findings.json document (CONTRACTS.md section 2) and units.

        Call it once per scan, by the front that saw it finish: status, duration (started_at to
        finished_at, when both are known), FAIL findings by severity, then `record_unit` for each unit.
        """
        self.scans_total.labels(status=bounded(findings_doc.get("status"), SCAN_STATUSES)).inc()
        duration = _duration_s(findings_doc.get("started_at"), findings_doc.get("finished_at"))
        if duration is not None:
            self.scan_duration_seconds.observe(duration)
        for severity, count in _fail_counts(findings_doc).items():
            if count > 0:
                self.findings_total.labels(severity=severity).inc(count)
        for unit in units:
            self.record_unit(unit)

    # -- front ------------------------------------------------------------------------------------

    def ws_message(self, type_: Any, direction: str) -> None:
        """Count one WebSocket message (`direction` ``in`` from the client, ``out`` to it)."""
        self.ws_messages_total.labels(type=bounded(type_, WS_MESSAGE_TYPES),
                                      direction=bounded(direction, WS_DIRECTIONS)).inc()

    def auth_failure(self, reason: str) -> None:
        """Count one rejected authentication or authorisation (`reason` from `AUTH_FAILURE_REASONS`)."""
        self.auth_failures_total.labels(reason=bounded(reason, AUTH_FAILURE_REASONS)).inc()

    def http_request(self, method: str, route: str | None, status: int) -> None:
        """Count one answered HTTP request; `route` is the matched rule template, None when none matched."""
        self.http_requests_total.labels(method=bounded(str(method).upper(), HTTP_METHODS),
                                        route=self._route_label(route), status=_status_label(status)).inc()

    def _route_label(self, route: str | None) -> str:
        if route is None:
            return UNMATCHED_ROUTE
        if self._routes is not None:
            return route if route in self._routes else OTHER
        return route if route.startswith("/") and len(route) <= _MAX_ROUTE_LEN else OTHER

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of this registry: (body, content type).

        Text format 0.0.4, which every scraper reads (and what prometheus-client itself answers a
        scrape without an Accept header); every name here is a legacy-valid name, so no escaping.
        """
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4


def _status_label(status: Any) -> str:
    try:
        code = int(status)
    except (TypeError, ValueError):
        return OTHER
    return str(code) if 100 <= code <= 599 else OTHER


def _duration_s(started: Any, finished: Any) -> float | None:
    try:
        seconds = (_parse_time(finished) - _parse_time(started)).total_seconds()
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError("not a timestamp")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _fail_counts(doc: Mapping[str, Any]) -> dict[str, int]:
    """FAIL findings by severity: the summary's `by_severity`, or counted from `findings` without one."""
    by_severity = (doc.get("summary") or {}).get("by_severity")
    counts = dict.fromkeys(SEVERITIES, 0)
    if isinstance(by_severity, Mapping):
        for severity, n in by_severity.items():
            if severity in counts and isinstance(n, int):
                counts[severity] += n
        return counts
    for f in doc.get("findings") or ():
        if f.get("status") == Status.FAIL.value and f.get("severity") in counts:
            counts[f["severity"]] += 1
    return counts


__all__ = ["Metrics", "UNIT_STATUSES", "SCAN_STATUSES", "SEVERITIES", "WS_MESSAGE_TYPES", "WS_DIRECTIONS",
           "AUTH_FAILURE_REASONS", "HTTP_METHODS", "UNMATCHED_ROUTE"]
