"""Running one unit: collect one service in one (account, region) once, evaluate its checks.

Plain Python, no Ray: the Ray runners call `run_unit`, and so do the check tests.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from engine import checks as check_registry
from engine import collectors as collector_registry
from engine.checks import CheckContext, account_finding, evaluate
from engine.collectors import CollectContext
from engine.credentials import AccountSession
from engine.model import GLOBAL_REGION, Finding, Status, Unit, UnitResult
from engine.regions import is_offered
from engine.throttle import CallStats, current_stats, describe_error

log = logging.getLogger("cloudscreen.engine.unit")


def run_unit(unit: Unit, session: AccountSession, *, scanned_regions: tuple[str, ...],
             scan_time: datetime | None = None, threads: int = 8,
             check_ids: frozenset[str] | None = None, params: dict[str, Any] | None = None) -> UnitResult:
    """Collect and evaluate one unit. Never raises for AWS errors: they become ERROR findings."""
    scan_time = scan_time or datetime.now(UTC)
    collectors = collector_registry.load_all()
    col = collectors[unit.service]
    chks = [c for c in check_registry.checks_for(unit.service) if check_ids is None or c.meta.id in check_ids]
    if unit.region != GLOBAL_REGION and not is_offered(unit.service, unit.region):
        return skipped_unit_result(unit, f"{unit.service} is not offered in {unit.region}", chks)
    stats = CallStats()
    token = current_stats.set(stats)
    t0 = time.perf_counter()
    error: str | None = None
    findings: list[Finding] = []
    try:
        ctx = CollectContext(account_id=unit.account_id, region=unit.region, session=session,
                             scan_time=scan_time, scanned_regions=scanned_regions, threads=threads,
                             params=params or {})
        try:
            data = col.fn(ctx)
        except Exception as exc:  # the whole service could not be collected
            error = describe_error(exc)
            log.warning("unit %s: collection failed: %s", unit.key, error, exc_info=True)
            findings = [account_finding(c, unit.account_id, unit.region, Status.ERROR,
                                        f"could not collect {unit.service}: {error}") for c in chks]
        else:
            cctx = CheckContext(unit.account_id, unit.region, scan_time, params or {})
            for c in chks:
                findings.extend(evaluate(c, data, cctx))
    finally:
        current_stats.reset(token)
    return UnitResult(unit=unit, findings=findings, duration_s=time.perf_counter() - t0,
                      api_calls=stats.api_calls, throttles=stats.throttles,
                      clients_created=stats.clients_created, error=error)


def error_unit_result(unit: Unit, reason: str) -> UnitResult:
    """The result of a unit that could not run at all (e.g. its worker died twice): an ERROR
    finding for every check of the service, so the failure is visible and nothing passes silently."""
    findings = [account_finding(c, unit.account_id, unit.region, Status.ERROR, reason)
                for c in check_registry.checks_for(unit.service)]
    return UnitResult(unit=unit, findings=findings, duration_s=0.0, error=reason)


def skipped_unit_result(unit: Unit, reason: str, chks: list[check_registry.Check] | None = None) -> UnitResult:
    """A unit that does not apply (service not offered in the region, region not enabled): one
    SKIPPED finding per check, reported on the account in that region."""
    chks = chks if chks is not None else check_registry.checks_for(unit.service)
    findings = [account_finding(c, unit.account_id, unit.region, Status.SKIPPED, reason) for c in chks]
    return UnitResult(unit=unit, findings=findings, duration_s=0.0)
