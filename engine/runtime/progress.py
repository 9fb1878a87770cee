"""Scan progress: a pure state machine (`ProgressState`) and the Ray actor that serves it.

Units report fire-and-forget; readers long-poll `wait_for_change(since_version, timeout)`.
Percent is weighted by the units' expected cost and never decreases; the ETA appears once at
least one unit has finished in this run; a heartbeat bumps the version at least every
`heartbeat_s` while the scan runs, so a watcher always hears from a live scan.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from engine.model import ScanStatus, Severity, iso_z


class ProgressState:
    """Progress of one scan. Plain Python so it can be property-tested without Ray."""

    def __init__(self, scan_id: str, units: list[tuple[str, float]], clock: Any = time.monotonic) -> None:
        self.scan_id = scan_id
        self.costs = {key: max(float(cost), 1e-6) for key, cost in units}
        self.total_cost = sum(self.costs.values()) or 1.0
        self.done: set[str] = set()
        self.done_cost = 0.0
        self.run_cost = 0.0  # cost finished in this run (restored units excluded): drives the ETA
        self.counts = {s.value: 0 for s in Severity}
        self.status = ScanStatus.PENDING
        self.current: dict[str, str | None] = {"account_id": None, "region": None, "service": None}
        self.message = "queued"
        self.accounts: dict[str, dict[str, Any]] = {}
        self.percent = 0.0
        self.version = 0
        self.updated_at = iso_z(timespec="milliseconds")
        self.started_at: str | None = None
        self.finished_at: str | None = None
        self.error: str | None = None
        self.summary: dict[str, Any] | None = None
        self._clock = clock
        self._t0: float | None = None

    def _bump(self) -> None:
        self.version += 1
        self.updated_at = iso_z(timespec="milliseconds")

    def start(self) -> None:
        if self.status is ScanStatus.PENDING:
            self.status = ScanStatus.RUNNING
            self._t0 = self._clock()
            self.started_at = iso_z(timespec="milliseconds")
            self.message = "started"
            self._bump()

    def unit_started(self, key: str) -> None:
        if self.status.is_final or key in self.done:
            return
        account, region, service = key.split("/")
        self.current = {"account_id": account, "region": region, "service": service}
        self.message = f"scanning {service} in {region} of {account}"
        self._bump()

    def unit_finished(self, key: str, counts: dict[str, int] | None = None, restored: bool = False,
                      message: str | None = None) -> None:
        """Record a finished unit. Unknown or repeated keys change nothing (reports may be retried)."""
        if key not in self.costs or key in self.done or self.status.is_final:
            return
        self.done.add(key)
        self.done_cost += self.costs[key]
        if not restored:
            self.run_cost += self.costs[key]
        for sev, n in (counts or {}).items():
            if sev in self.counts and n > 0:
                self.counts[sev] += int(n)
        account, region, service = key.split("/")
        self.current = {"account_id": account, "region": region, "service": service}
        self.message = message or f"finished {service} in {region} of {account}"
        self.percent = max(self.percent, min(100.0, round(100.0 * self.done_cost / self.total_cost, 2)))
        if len(self.done) == len(self.costs):
            self.percent = 100.0
        self._bump()

    def account_update(self, account: str, status: str, error: str | None = None) -> None:
        self.accounts[account] = {"account_id": account, "status": status, "error": error}
        if error:
            self.message = f"account {account}: {error}"
        self._bump()

    def heartbeat(self) -> None:
        if self.status is ScanStatus.RUNNING:
            self._bump()

    def finish(self, status: ScanStatus, summary: dict[str, Any] | None = None, error: str | None = None) -> None:
        if self.status.is_final:
            return
        self.status = status
        self.summary = summary
        self.error = error
        self.finished_at = iso_z(timespec="milliseconds")
        if status is ScanStatus.COMPLETED or (status is ScanStatus.PARTIAL and len(self.done) == len(self.costs)):
            self.percent = 100.0
        self.message = status.value
        self._bump()

    def eta_seconds(self) -> float | None:
        if self.status is not ScanStatus.RUNNING or self._t0 is None or self.run_cost <= 0:
            return None
        elapsed = self._clock() - self._t0
        if elapsed <= 0:
            return None
        remaining = self.total_cost - self.done_cost
        return round(max(0.0, remaining * elapsed / self.run_cost), 1)

    def snapshot(self) -> dict[str, Any]:
        return {
            "scan_id": self.scan_id,
            "status": self.status.value,
            "percent": self.percent,
            "done_units": len(self.done),
            "total_units": len(self.costs),
            "eta_seconds": self.eta_seconds(),
            "current": dict(self.current),
            "message": self.message,
            "counts": dict(self.counts),
            "updated_at": self.updated_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "accounts": list(self.accounts.values()),
            "error": self.error,
            "summary": self.summary,
            "version": self.version,
        }


try:
    import ray
except ImportError:  # pragma: no cover - ray is a hard dependency; this keeps ProgressState importable
    ray = None  # type: ignore[assignment]


class _ProgressActorImpl:
    """Async actor wrapping ProgressState; one per scan, detached and killed when the scan ends."""

    def __init__(self, scan_id: str, units: list[tuple[str, float]], heartbeat_s: float = 30.0,
                 idle_ttl_s: float = 6 * 3600) -> None:
        self.state = ProgressState(scan_id, units)
        self.heartbeat_s = heartbeat_s
        self.idle_ttl_s = idle_ttl_s
        self._cond: asyncio.Condition | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_touch = time.monotonic()

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
            self._task = asyncio.get_running_loop().create_task(self._heartbeat())
        return self._cond

    async def _notify(self) -> None:
        cond = self._condition()
        self._last_touch = time.monotonic()
        async with cond:
            cond.notify_all()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(max(0.05, min(self.heartbeat_s / 2, 5.0)))
            quiet_for = _seconds_since(self.state.updated_at)
            if self.state.status is ScanStatus.RUNNING and quiet_for >= self.heartbeat_s * 0.9:
                self.state.heartbeat()
                await self._notify()
            # A detached actor must never outlive its scan: exit if nobody touched it for too long.
            if time.monotonic() - self._last_touch > self.idle_ttl_s:
                ray.actor.exit_actor()

    async def start(self) -> dict[str, Any]:
        self.state.start()
        await self._notify()
        return self.state.snapshot()

    async def unit_started(self, key: str) -> None:
        self.state.unit_started(key)
        await self._notify()

    async def unit_finished(self, key: str, counts: dict[str, int] | None = None, restored: bool = False,
                            message: str | None = None) -> None:
        self.state.unit_finished(key, counts, restored, message)
        await self._notify()

    async def account_update(self, account: str, status: str, error: str | None = None) -> None:
        self.state.account_update(account, status, error)
        await self._notify()

    async def finish(self, status: str, summary: dict[str, Any] | None = None,
                     error: str | None = None) -> dict[str, Any]:
        self.state.finish(ScanStatus(status), summary, error)
        await self._notify()
        return self.state.snapshot()

    async def snapshot(self) -> dict[str, Any]:
        self._condition()
        return self.state.snapshot()

    async def wait_for_change(self, since_version: int, timeout: float = 30.0) -> dict[str, Any]:
        """Answer as soon as the version passes `since_version`, or after `timeout` seconds."""
        cond = self._condition()
        self._last_touch = time.monotonic()
        if self.state.version > since_version:
            return self.state.snapshot()
        try:
            async with cond:
                await asyncio.wait_for(cond.wait_for(lambda: self.state.version > since_version), timeout)
        except TimeoutError:
            pass
        return self.state.snapshot()


def _seconds_since(iso: str) -> float:
    t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (datetime.now(UTC) - t).total_seconds()


ProgressActor: Any = (ray.remote(num_cpus=0, max_concurrency=1000)(_ProgressActorImpl)  # type: ignore[call-overload]
                      if ray else None)
NAMESPACE = "cloudscreen"


def progress_actor_name(scan_id: str) -> str:
    return f"cloudscreen-progress-{scan_id}"
