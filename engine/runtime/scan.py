"""The scan coordinator: plan → progress actor + unit runners → one Ray job per account → findings.

A bounded number of account jobs run at once (`max_concurrent_accounts`); the rest queue. An
account job that crashes is re-submitted (up to `account_job_retries` times) and skips the units
its earlier attempt finished. Cancellation stops the jobs, keeps every finished unit and marks the
scan `cancelled`. The progress actor and runners are killed when the scan ends: no actor outlives
its scan.
"""

from __future__ import annotations

import functools
import logging
import shlex
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ray
from ray.job_submission import JobStatus, JobSubmissionClient
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential_jitter

from engine.model import AccountStatus, ScanPlan, ScanStatus, UnitResult, iso_z
from engine.mutelist import MuteRule, apply_mutelist
from engine.plan import build_plan
from engine.results import findings_document
from engine.runtime.cluster import RayConnection, cluster_cpus
from engine.runtime.progress import NAMESPACE, ProgressActor, progress_actor_name
from engine.runtime.runner import UnitRunner, runner_name
from engine.settings import Settings
from engine.store import ResultStore

log = logging.getLogger("cloudscreen.engine.scan")

ProgressCallback = Callable[[dict[str, Any]], None]


def _jobs_api_transient(exc: BaseException) -> bool:
    # A fresh Ray's dashboard answers "No available agent to submit job" until its agent registers;
    # connection errors cover a dashboard restarting. Anything else is a real error.
    text = str(exc)
    return ("No available agent" in text or "please try again later" in text
            or isinstance(exc, (ConnectionError, TimeoutError)) or type(exc).__name__ in ("ConnectionError", "Timeout"))


_JOBS_API_RETRY = Retrying(retry=retry_if_exception(_jobs_api_transient), stop=stop_after_delay(90),
                           wait=wait_exponential_jitter(initial=0.5, max=5.0), reraise=True)


def new_scan_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


@dataclass
class _AccountRun:
    account_id: str
    attempts: int = 0
    job_id: str | None = None
    status: AccountStatus = AccountStatus.PENDING
    error: str | None = None


@dataclass(frozen=True)
class ScanResultSpec:
    """Everything building a finished scan's findings document needs, and nothing that cannot be
    pickled: it may be built in another process (the front hands it to a Ray task)."""

    scan_id: str
    request: dict[str, Any]
    started: datetime
    accounts: list[dict[str, Any]]
    cancelled: bool
    mutelist: list[MuteRule] = field(default_factory=list)
    framework: str | None = None


def build_findings(spec: ScanResultSpec, store: ResultStore) -> tuple[dict[str, Any], list[UnitResult]]:
    """Assemble the findings document from the stored units (mutelist applied, final status decided),
    store it with the observed unit costs, and return it with the units."""
    units = store.load_units(spec.scan_id)
    findings = apply_mutelist([f for u in units for f in u.findings], spec.mutelist, spec.started)
    failed = [a for a in spec.accounts if a["status"] == AccountStatus.FAILED.value]
    if spec.cancelled:
        status = ScanStatus.CANCELLED
    elif len(failed) == len(spec.accounts):
        status = ScanStatus.FAILED
    elif failed or any(u.error for u in units):
        status = ScanStatus.PARTIAL
    else:
        status = ScanStatus.COMPLETED
    doc = findings_document(
        scan_id=spec.scan_id, status=status.value, started_at=iso_z(spec.started),
        finished_at=iso_z(datetime.now(UTC)), request=spec.request, accounts=spec.accounts, findings=findings,
        framework=spec.framework)
    store.save_findings(spec.scan_id, doc)
    durations: dict[str, list[float]] = defaultdict(list)
    for u in units:
        if not u.error and u.duration_s > 0:
            durations[u.unit.service].append(u.duration_s)
    store.record_unit_costs(durations)
    return doc, units


# Builds the findings document of a finished scan: `build_findings` in this process by default.
Finisher = Callable[[ScanResultSpec], tuple[dict[str, Any], list[UnitResult]]]


@dataclass
class ScanOutcome:
    scan_id: str
    status: ScanStatus
    document: dict[str, Any]
    units: list[UnitResult] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def stats(self) -> dict[str, int]:
        return {"api_calls": sum(u.api_calls for u in self.units),
                "throttles": sum(u.throttles for u in self.units),
                "clients_created": sum(u.clients_created for u in self.units)}


class ScanExecution:
    """One scan. `run()` blocks until the scan ends; `cancel()` may be called from any thread."""

    def __init__(self, plan: ScanPlan, settings: Settings, store: ResultStore, ray_conn: RayConnection, *,
                 scan_id: str | None = None, self_account: str | None = None, unit_parallelism: int = 0,
                 check_ids: list[str] | None = None, params: dict[str, Any] | None = None,
                 python: str | None = None, mutelist: list[MuteRule] | None = None,
                 framework: str | None = None, finisher: Finisher | None = None) -> None:
        self.plan = plan
        self.settings = settings
        self.store = store
        self.ray = ray_conn
        self.scan_id = scan_id or new_scan_id()
        self.self_account = self_account
        self.unit_parallelism = unit_parallelism
        self.check_ids = check_ids
        self.params = params or {}
        self.mutelist = mutelist or []
        self.framework = framework
        self.finisher: Finisher = finisher or (lambda spec: build_findings(spec, self.store))
        self.python = python or sys.executable
        self.started = datetime.now(UTC)
        self.accounts = {a: _AccountRun(a) for a in plan.request.accounts}
        self._cancel = threading.Event()
        self._jobs = _jobs_client(ray_conn.dashboard_url)
        self.progress: Any = None
        self._runners: list[Any] = []
        self._last_snapshot: dict[str, Any] | None = None

    # ---------------------------------------------------------------- set-up
    def _scan_doc(self, runner_names: list[str]) -> dict[str, Any]:
        s = self.settings
        return {
            "scan_id": self.scan_id,
            "created_at": iso_z(self.started),
            "scan_time": self.started.isoformat(),
            "request": self.plan.request.to_dict(),
            "plan": {"units": [{"account_id": u.account_id, "region": u.region, "service": u.service,
                                "cost": u.cost} for u in self.plan.units]},
            "engine": {
                "store": self.store.url, "endpoint_url": s.aws_endpoint_url,
                "role_name": self.plan.request.role_name, "external_id": self.plan.request.external_id,
                "self_account": self.self_account, "unit_threads": s.unit_threads,
                "unit_parallelism": self.unit_parallelism, "runners": runner_names,
                "botocore_max_attempts": s.botocore_max_attempts, "api_rate_per_s": s.api_rate_per_s,
                "assume_role_duration_s": s.assume_role_duration_s, "retry_attempts": s.retry_attempts,
                "retry_max_wait_s": s.retry_max_wait_s, "check_ids": self.check_ids, "params": self.params,
                "all_regions": self.plan.request.all_regions,
                "mutelist": [r.to_dict() for r in self.mutelist], "framework": self.framework,
            },
        }

    def start(self) -> None:
        n = self.settings.runners or min(16, cluster_cpus())
        names = [runner_name(self.scan_id, i) for i in range(max(1, n))]
        doc = self._scan_doc(names)
        self.store.save_scan(self.scan_id, doc)
        self.progress = ProgressActor.options(
            name=progress_actor_name(self.scan_id), namespace=NAMESPACE, lifetime="detached",
        ).remote(self.scan_id, [(u.key, u.cost) for u in self.plan.units], self.settings.heartbeat_s)
        self._runners = [
            UnitRunner.options(name=name, namespace=NAMESPACE, max_concurrency=self.settings.runner_concurrency,
                               scheduling_strategy="SPREAD").remote(doc)
            for name in names
        ]
        ray.get([r.ping.remote() for r in self._runners] + [self.progress.start.remote()])
        log.info("scan %s started: %d units over %d accounts, %d runners", self.scan_id,
                 len(self.plan.units), len(self.accounts), len(self._runners))

    # ---------------------------------------------------------------- jobs
    def _submit(self, acct: _AccountRun) -> None:
        acct.attempts += 1
        acct.status = AccountStatus.RUNNING
        acct.job_id = _JOBS_API_RETRY(
            self._jobs.submit_job,
            # The entrypoint runs in a shell: quote what may hold shell characters (an s3:// URL's query).
            entrypoint=(f"{shlex.quote(self.python)} -m engine.runtime.account_job "
                        f"--store {shlex.quote(self.store.url)} --scan-id {shlex.quote(self.scan_id)} "
                        f"--account {acct.account_id}"
                        # Name the cluster: with several local clusters on a machine, a job's own
                        # discovery may join the most recently started one instead of ours.
                        + (f" --ray-address {shlex.quote(self.ray.address)}" if self.ray.address else "")),
            submission_id=f"cloudscreen-{self.scan_id}-{acct.account_id}-{acct.attempts}-{uuid.uuid4().hex[:6]}",
            entrypoint_num_cpus=0,
            metadata={"scan_id": self.scan_id, "account_id": acct.account_id, "attempt": str(acct.attempts)},
        )
        log.info("account %s: job %s submitted", acct.account_id, acct.job_id)

    def _settle(self, acct: _AccountRun, status: JobStatus) -> None:
        record = self.store.load_account(self.scan_id, acct.account_id)
        if record and record.get("status") == "completed":
            acct.status, acct.error = AccountStatus.COMPLETED, record.get("error")
            return
        retryable = not record or record.get("retryable", True)
        if retryable and acct.attempts <= self.settings.account_job_retries and not self._cancel.is_set():
            log.warning("account %s: job %s ended %s; re-running it (finished units are kept)",
                        acct.account_id, acct.job_id, status.value)
            self._submit(acct)
            return
        acct.status = AccountStatus.FAILED
        if record and record.get("error"):
            acct.error = record["error"]
        else:
            # One line for the user (Ray's message embeds the job's log tail); details stay in the Ray job log.
            try:
                first = ((self._jobs.get_job_info(acct.job_id or "").message or "").strip().splitlines() or [""])[0]
            except Exception:
                first = ""
            reason = first.split(", last available logs")[0].rstrip(":. ")[:200]
            acct.error = (f"account job {acct.job_id} {status.value.lower()}" + (f": {reason}" if reason else "")
                          + " (see the job's log in Ray)")
        self.progress.account_update.remote(acct.account_id, "failed", acct.error)

    def _stop_running(self) -> None:
        for acct in self.accounts.values():
            if acct.status is AccountStatus.RUNNING and acct.job_id:
                try:
                    self._jobs.stop_job(acct.job_id)
                except Exception as exc:  # the job may have ended on its own meanwhile
                    log.debug("stop_job %s: %s", acct.job_id, exc)
            if acct.status in (AccountStatus.RUNNING, AccountStatus.PENDING):
                acct.status = AccountStatus.CANCELLED

    def _drive(self) -> None:
        queue = list(self.accounts.values())
        limit = max(1, self.settings.max_concurrent_accounts)
        while True:
            if self._cancel.is_set():
                self._stop_running()
                return
            running = [a for a in self.accounts.values() if a.status is AccountStatus.RUNNING]
            while queue and len(running) < limit:
                acct = queue.pop(0)
                self._submit(acct)
                running.append(acct)
            for acct in running:
                status = _JOBS_API_RETRY(self._jobs.get_job_status, acct.job_id)
                if status.is_terminal():
                    self._settle(acct, status)
            if not queue and all(a.status not in (AccountStatus.RUNNING, AccountStatus.PENDING)
                                 for a in self.accounts.values()):
                return
            self._cancel.wait(0.5)

    # ---------------------------------------------------------------- public
    def queued_accounts(self) -> int:
        """Accounts waiting for a job slot (`max_concurrent_accounts` reached)."""
        return sum(1 for a in list(self.accounts.values()) if a.status is AccountStatus.PENDING)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def watch(self, callback: ProgressCallback, stop: threading.Event, poll_timeout: float = 5.0) -> None:
        """Call `callback(snapshot)` on every progress change until `stop` is set (long-polls the actor)."""
        version = -1
        while not stop.is_set():
            try:
                snap = ray.get(self.progress.wait_for_change.remote(version, poll_timeout))
            except ray.exceptions.RayError:
                return
            if snap["version"] != version:
                version = snap["version"]
                self._last_snapshot = snap
                callback(snap)
            if ScanStatus(snap["status"]).is_final:
                return

    def run(self, on_progress: ProgressCallback | None = None) -> ScanOutcome:
        t0 = time.perf_counter()
        stop_watch = threading.Event()
        watcher = None
        try:
            if self.progress is None:
                self.start()
            if on_progress:
                watcher = threading.Thread(target=self.watch, args=(on_progress, stop_watch), daemon=True)
                watcher.start()
            self._drive()
            outcome = self._finish(time.perf_counter() - t0)
            if watcher:
                watcher.join(timeout=10)
            return outcome
        finally:
            stop_watch.set()
            self._cleanup()

    def result_spec(self) -> ScanResultSpec:
        return ScanResultSpec(
            scan_id=self.scan_id, request=self.plan.request.to_dict(), started=self.started,
            accounts=[{"account_id": a.account_id, "status": a.status.value, "error": a.error}
                      for a in self.accounts.values()],
            cancelled=self._cancel.is_set(), mutelist=list(self.mutelist), framework=self.framework)

    def _finish(self, duration_s: float) -> ScanOutcome:
        doc, units = self.finisher(self.result_spec())
        status = ScanStatus(doc["status"])
        try:
            ray.get(self.progress.finish.remote(status.value, doc["summary"]), timeout=30)
        except ray.exceptions.RayError as exc:
            log.warning("progress actor unavailable at the end of scan %s: %s", self.scan_id, exc)
        log.info("scan %s %s in %.1f s: %d findings", self.scan_id, status.value, duration_s, doc["summary"]["total"])
        return ScanOutcome(self.scan_id, status, doc, units, duration_s)

    def _cleanup(self) -> None:
        # Give the watcher a moment to deliver the final message before the actor goes away.
        time.sleep(0.2)
        for actor in [*self._runners, self.progress]:
            if actor is not None:
                try:
                    ray.kill(actor, no_restart=True)
                except Exception as exc:
                    log.debug("kill: %s", exc)
        self._runners = []
        self.progress = None


@functools.lru_cache(maxsize=4)
def _jobs_client(dashboard_url: str) -> JobSubmissionClient:
    """One Jobs API client per cluster and process (its constructor checks the dashboard over HTTP)."""
    return JobSubmissionClient(dashboard_url)


def plan_for(request: Any, store: ResultStore) -> ScanPlan:
    return build_plan(request, store.unit_costs())
