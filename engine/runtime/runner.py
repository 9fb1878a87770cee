"""Unit runners: the Ray processes that execute units.

A scan owns a small pool of threaded runner actors (one per CPU of the cluster by default,
spread over nodes). Account jobs fan their units out to the pool as actor tasks; inside a runner,
units run on threads (boto3 calls are I/O) and share the process's cached sessions and clients,
so a Ray worker process and its boto3 clients are paid for once per scan, not once per unit.
Each finished unit is written to the result store at once and reported to the progress actor.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

import ray

from engine import throttle
from engine.credentials import AwsOptions, account_session
from engine.errors import AssumeRoleError
from engine.model import Unit, severity_counts
from engine.runtime.metrics import record_unit, unit_status
from engine.runtime.progress import NAMESPACE, progress_actor_name
from engine.runtime.unit import error_unit_result, run_unit
from engine.store import ResultStore

log = logging.getLogger("cloudscreen.engine.runner")


def runner_name(scan_id: str, index: int) -> str:
    return f"cloudscreen-runner-{scan_id}-{index}"


class EngineOptions:
    """Everything a runner or account job needs, read from the stored scan document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        eng = doc["engine"]
        self.scan_id: str = doc["scan_id"]
        self.store_url: str = eng["store"]
        self.regions: tuple[str, ...] = tuple(doc["request"]["regions"])
        self.scan_time = datetime.fromisoformat(doc["scan_time"])
        self.self_account: str | None = eng.get("self_account")
        self.unit_threads: int = int(eng.get("unit_threads", 8))
        self.unit_parallelism: int = int(eng.get("unit_parallelism", 0))
        self.runners: list[str] = list(eng.get("runners", []))
        self.check_ids = frozenset(eng["check_ids"]) if eng.get("check_ids") else None
        self.params: dict[str, Any] = eng.get("params") or {}
        self.aws = AwsOptions(endpoint_url=eng.get("endpoint_url"), role_name=eng["role_name"],
                              external_id=eng.get("external_id"), max_attempts=int(eng.get("botocore_max_attempts", 3)),
                              api_rate_per_s=float(eng.get("api_rate_per_s", 25.0)),
                              assume_role_duration_s=int(eng.get("assume_role_duration_s", 3600)),
                              session_name=f"cloudscreen-{self.scan_id}")
        self.all_regions = bool(eng.get("all_regions"))
        self.retry_attempts = int(eng.get("retry_attempts", 3))
        self.retry_max_wait_s = float(eng.get("retry_max_wait_s", 8.0))

    def assume_for(self, account: str) -> bool:
        return account != self.self_account


class _UnitRunnerImpl:
    def __init__(self, scan_doc: dict[str, Any]) -> None:
        self.opts = EngineOptions(scan_doc)
        throttle.configure(self.opts.retry_attempts, self.opts.retry_max_wait_s)
        self.store = ResultStore.from_url(self.opts.store_url)
        self._progress: Any = None
        self._lock = threading.Lock()

    def _progress_actor(self) -> Any:
        with self._lock:
            if self._progress is None:
                self._progress = ray.get_actor(progress_actor_name(self.opts.scan_id), namespace=NAMESPACE)
            return self._progress

    def ping(self) -> bool:
        return True

    def run(self, account: str, region: str, service: str, cost: float) -> dict[str, Any]:
        """Run one unit, persist it, report it; return a small summary (findings stay in the store)."""
        unit = Unit(account, region, service, cost)
        progress = self._progress_actor()
        progress.unit_started.remote(unit.key)
        try:
            session = account_session(account, self.opts.aws, assume=self.opts.assume_for(account))
        except AssumeRoleError as exc:
            result = error_unit_result(unit, str(exc))
        else:
            result = run_unit(unit, session, scanned_regions=self.opts.regions, scan_time=self.opts.scan_time,
                              threads=self.opts.unit_threads, check_ids=self.opts.check_ids,
                              params=self.opts.params)
        self.store.save_unit(self.opts.scan_id, result)
        record_unit(service, unit_status(result), result.duration_s, result.api_calls, result.throttles)
        counts = severity_counts(result.findings)
        progress.unit_finished.remote(unit.key, counts)
        return {"key": unit.key, "service": service, "duration_s": result.duration_s, "error": result.error,
                "api_calls": result.api_calls, "throttles": result.throttles,
                "clients_created": result.clients_created, "findings": len(result.findings)}


UnitRunner = ray.remote(num_cpus=0, max_restarts=2, max_task_retries=2)(_UnitRunnerImpl)
