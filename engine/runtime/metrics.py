"""Ray-side unit metrics (``ray.util.metrics``), and the bounded label vocabulary shared with the front.

Runner processes call `record_unit` once per finished unit. The metrics are created lazily, once per
process, on the first call inside a Ray worker or driver; outside Ray (`ray.is_initialized()` false)
the call is a no-op, so unit code and tests can call it unconditionally. Recording never raises:
a metrics problem must not fail a unit.

Names as exported by Ray's metrics agent (Ray prefixes custom metrics with ``ray_``; since Ray 2.10 a
Counter is exported as a Prometheus counter with the ``_total`` suffix, plus a legacy gauge without
it unless ``RAY_EXPORT_COUNTER_AS_GAUGE=0``), each also tagged by Ray with its own labels
(``Component``, ``NodeAddress``, ``SessionName``, ``WorkerId``, ...):

==========================================  =========  ==================
exported name                               type       labels
==========================================  =========  ==================
``ray_cloudscreen_unit_runs_total``         counter    service, status
``ray_cloudscreen_unit_duration_seconds``   histogram  service
``ray_cloudscreen_unit_api_calls_total``    counter    service
``ray_cloudscreen_unit_throttles_total``    counter    service
==========================================  =========  ==================

The front's own registry (``frontend_server.metrics``) has the CONTRACTS.md section 7 names
(``cloudscreen_units_total`` ...); the ``ray_`` prefix keeps the two apart when one Prometheus scrapes
both. Label values are bounded: services outside the collector registry and unknown statuses
become ``other``; no scan, account or user id is ever a label.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import ray

from engine.model import Status, UnitResult

log = logging.getLogger("cloudscreen.engine.metrics")

OTHER = "other"
# Outcome of one unit: ran (ok), failed (error: an unassumable role, a dead worker, a collection
# failure), or did not apply (skipped: service not offered in the region, region not enabled).
UNIT_STATUSES = ("ok", "error", "skipped")
# Seconds; units range from a cached single call to a large paginated service under throttling.
UNIT_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

_SERVICE_RE = re.compile(r"^[a-z0-9_-]{1,40}$")


@lru_cache(maxsize=1)
def known_services() -> frozenset[str]:
    """Services with a registered collector: the only values the `service` label takes besides `other`."""
    from engine.collectors import load_all

    return frozenset(load_all())


def service_label(service: Any) -> str:
    """`service` if it is a registered service, else ``other`` (keeps the label's cardinality bounded)."""
    s = str(service)
    return s if _SERVICE_RE.match(s) and s in known_services() else OTHER


def bounded(value: Any, allowed: Iterable[str]) -> str:
    """`value` as a label if it is one of `allowed`, else ``other``."""
    v = str(value)
    return v if v in allowed else OTHER


def unit_status(result: UnitResult) -> str:
    """The `status` label of a finished unit: error, skipped (every finding SKIPPED) or ok."""
    if result.error:
        return "error"
    if result.findings and all(f.status == Status.SKIPPED for f in result.findings):
        return "skipped"
    return "ok"


class _UnitMetrics:
    def __init__(self) -> None:
        from ray.util.metrics import Counter, Histogram

        self.runs = Counter("cloudscreen_unit_runs", description="Units finished, by service and outcome.",
                            tag_keys=("service", "status"))
        self.duration = Histogram("cloudscreen_unit_duration_seconds", description="Wall time of one unit.",
                                  boundaries=list(UNIT_DURATION_BUCKETS), tag_keys=("service",))
        self.api_calls = Counter("cloudscreen_unit_api_calls", description="AWS API calls made by units.",
                                 tag_keys=("service",))
        self.throttles = Counter("cloudscreen_unit_throttles", description="AWS throttling errors seen by units.",
                                 tag_keys=("service",))


_lock = threading.Lock()
_metrics: _UnitMetrics | None = None
_warned = False


def _unit_metrics() -> _UnitMetrics:
    global _metrics
    with _lock:
        if _metrics is None:
            _metrics = _UnitMetrics()
        return _metrics


def record_unit(service: str, status: str, duration_s: float, api_calls: int = 0, throttles: int = 0) -> None:
    """Record one finished unit in Ray's metrics; a no-op when Ray is not initialised. Never raises."""
    global _warned
    if not ray.is_initialized():
        return
    try:
        m = _unit_metrics()
        svc = service_label(service)
        m.runs.inc(1, tags={"service": svc, "status": bounded(status, UNIT_STATUSES)})
        m.duration.observe(max(0.0, float(duration_s)), tags={"service": svc})
        if api_calls > 0:
            m.api_calls.inc(api_calls, tags={"service": svc})
        if throttles > 0:
            m.throttles.inc(throttles, tags={"service": svc})
    except Exception:
        if not _warned:  # once per process: the metric path is broken, the units are fine
            _warned = True
            log.warning("cannot record Ray unit metrics; continuing without them", exc_info=True)
