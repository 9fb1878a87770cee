"""Scans as the front sees them: start, cancel, list, and stream progress to any number of sockets.

The front is a Ray driver. A scan is a `ScanExecution` whose blocking `run()` lives in a worker
thread of its own; once it ends, the thread renders the reports into the result store and counts the
scan in the metrics. Progress is streamed by ONE long-poll task per watched scan (on the event loop,
awaiting the progress actor's `wait_for_change` directly), shared by every socket that watches the
scan: each subscriber owns an asyncio queue the task fans out to. When the actor is gone (the scan
ended, or it never ran here) the final message comes from the result store, so a late subscriber
and a subscriber of a scan finished long ago get the same answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ray

from engine.credentials import AwsOptions, caller_account
from engine.errors import CloudScreenError, UsageError
from engine.model import REPORT_FILES, ScanRequest, ScanStatus, UnitResult, iso_z
from engine.plan import validate_request
from engine.runtime.cluster import RayConnection
from engine.runtime.progress import NAMESPACE, progress_actor_name
from engine.runtime.scan import ScanExecution, ScanResultSpec, build_findings, plan_for
from engine.settings import Settings
from engine.store import ResultStore
from frontend_server.metrics import Metrics
from frontend_server.schemas import (
    Current,
    PlanOut,
    ReportOut,
    ScanCancelled,
    ScanCompleted,
    ScanFailed,
    ScanListItem,
    ScanProgress,
    ScanStartBody,
)

log = logging.getLogger("cloudscreen.front.scans")

_SCAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# A subscriber that stops reading loses old progress messages, never the final one.
_QUEUE_SIZE = 64
FINAL_TYPES = frozenset({"scan.completed", "scan.failed", "scan.cancelled"})


class ScanNotFound(CloudScreenError):
    """No scan with this id in this front or in the result store."""

    def __init__(self, scan_id: str) -> None:
        self.scan_id = scan_id
        super().__init__(f"no scan {scan_id!r}: check the id (scan.list shows the recent scans)")


class ScanConflict(CloudScreenError):
    """The scan is not in a state that allows this (e.g. cancelling a finished scan)."""


@dataclass
class ActiveScan:
    """A scan this front drives: its execution, the thread running it and its progress actor."""

    scan_id: str
    execution: ScanExecution
    request: ScanRequest
    units: int
    user_id: str | None
    started_at: str
    actor: Any
    done: asyncio.Event = field(default_factory=asyncio.Event)
    thread: threading.Thread | None = None
    error: str | None = None
    # Kept when the scan ends, so its final message is built without re-reading the store.
    document: dict[str, Any] | None = None
    report_sizes: dict[str, int] = field(default_factory=dict)

    def plan_out(self) -> PlanOut:
        r = self.request
        return PlanOut(units=self.units, accounts=list(r.accounts), regions=list(r.regions), services=list(r.services))


@dataclass
class _Watch:
    scan_id: str
    active: ActiveScan | None
    subscribers: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)
    latest: dict[str, Any] | None = None
    final: dict[str, Any] | None = None
    task: asyncio.Task[None] | None = None


def check_scan_id(scan_id: str) -> str:
    """`scan_id` if it looks like a scan id (it becomes a store key); ScanNotFound otherwise."""
    if not isinstance(scan_id, str) or not _SCAN_ID.match(scan_id) or ".." in scan_id:
        raise ScanNotFound(str(scan_id)[:80])
    return scan_id


def progress_message(snap: dict[str, Any]) -> dict[str, Any]:
    """The `scan.progress` message of a progress-actor snapshot."""
    return ScanProgress(scan_id=snap["scan_id"], status=snap["status"], percent=float(snap["percent"]),
                        done_units=snap["done_units"], total_units=snap["total_units"],
                        eta_seconds=snap.get("eta_seconds"), current=Current(**snap["current"]),
                        message=snap.get("message") or "", counts=dict(snap["counts"]),
                        updated_at=snap["updated_at"]).wire()


def _put(queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
    """Enqueue without blocking; a full queue drops its oldest message (progress is latest-wins)."""
    while True:
        try:
            queue.put_nowait(message)
            return
        except asyncio.QueueFull:
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()


class ScanService:
    """Starts scans, tracks the active ones and streams their progress (see the module docstring)."""

    def __init__(self, settings: Settings, store: ResultStore, metrics: Metrics, ray_conn: Any, *,
                 demo_accounts: tuple[str, ...] = (), poll_timeout_s: float = 15.0,
                 report_base_url: str = "") -> None:
        """`ray_conn` is a `RayConnection` or a callable returning one (connected lazily)."""
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self._ray_conn = ray_conn
        self.demo_accounts = tuple(demo_accounts)
        self.poll_timeout_s = poll_timeout_s
        self.report_base_url = report_base_url
        self._active: dict[str, ActiveScan] = {}
        self._watches: dict[str, _Watch] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # Read at scrape time: account jobs of this front's scans that wait for a slot.
        metrics.scan_queue_depth.set_function(self.queued_accounts)

    def queued_accounts(self) -> int:
        """Account jobs of this front's active scans still waiting for a slot (not yet submitted)."""
        return sum(a.execution.queued_accounts() for a in list(self._active.values()))

    # ------------------------------------------------------------------------------ starting
    def _connection(self) -> RayConnection:
        conn = self._ray_conn() if callable(self._ray_conn) else self._ray_conn
        return conn

    def _resolve(self, body: ScanStartBody) -> ScanRequest:
        s = self.settings
        accounts: list[str] | tuple[str, ...] | None = body.accounts
        if not accounts:
            accounts = self.demo_accounts or (caller_account(AwsOptions.from_settings(s)),)
        return validate_request(accounts=accounts, regions=body.regions, services=body.services,
                                default_regions=s.default_regions,
                                ticket_id=None if body.ticket_id is None else str(body.ticket_id),
                                role_name=s.role_name, external_id=s.external_id)

    async def resolve(self, body: ScanStartBody) -> ScanRequest:
        """Validate a scan body into a request (accounts resolved); `UsageError` names what is wrong."""
        return await asyncio.to_thread(self._resolve, body)

    def _prepare(self, request: ScanRequest) -> ScanExecution:
        execution = ScanExecution(plan_for(request, self.store), self.settings, self.store, self._connection())
        execution.start()
        return execution

    async def launch(self, request: ScanRequest, *, user_id: str | None = None) -> ActiveScan:
        """Start a scan of an already authorised request; returns once its progress actor is up.

        Shielded: a client that goes away mid-start must not leave a started scan untracked."""
        self._loop = asyncio.get_running_loop()
        return await asyncio.shield(self._launch(request, user_id))

    async def _launch(self, request: ScanRequest, user_id: str | None) -> ActiveScan:
        execution = await asyncio.to_thread(self._prepare, request)
        active = ActiveScan(scan_id=execution.scan_id, execution=execution, request=request,
                            units=len(execution.plan.units), user_id=user_id, started_at=iso_z(),
                            actor=execution.progress)
        execution.finisher = lambda spec: self._finish_in_ray(active, spec)
        self._active[active.scan_id] = active
        active.thread = threading.Thread(target=self._run, args=(active,), name=f"scan-{active.scan_id}",
                                         daemon=True)
        active.thread.start()
        self._update_load()
        log.info("scan %s started by user %s: %d units", active.scan_id, user_id, active.units)
        return active

    def _run(self, active: ActiveScan) -> None:
        try:
            outcome = active.execution.run()
            active.document = outcome.document
            self.metrics.record_scan(outcome.document, outcome.units)
        except Exception as exc:  # the scan thread must always hand the scan back to the loop
            log.exception("scan %s failed in the front", active.scan_id)
            active.error = f"the scan stopped on an internal error ({type(exc).__name__}); see the server log"
            self._save_failure(active)
        finally:
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._finished, active)

    def _save_failure(self, active: ActiveScan) -> None:
        """Store a `failed` findings document for a scan whose execution broke, so that every reader
        (REST, late subscribers, other fronts) sees it finished rather than forever running."""
        from engine.results import findings_document

        try:
            if self.store.load_summary(active.scan_id) is not None:
                return
            accounts = [{"account_id": a, "status": "failed", "error": active.error} for a in active.request.accounts]
            doc = findings_document(scan_id=active.scan_id, status=ScanStatus.FAILED.value,
                                    started_at=active.started_at, finished_at=iso_z(),
                                    request=active.request.to_dict(), accounts=accounts, findings=[])
            self.store.save_findings(active.scan_id, doc)
            self.metrics.record_scan(doc)
        except Exception:  # the store itself may be what broke; the live stream still reports the failure
            log.exception("the failure of scan %s could not be stored", active.scan_id)

    def _finish_in_ray(self, active: ActiveScan, spec: ScanResultSpec) -> tuple[dict[str, Any], list[UnitResult]]:
        """Build the findings document and render the reports in a Ray task (see `finish_scan`), so that
        this process's event loop keeps delivering progress while a big scan is summarised."""
        # The store's URL carries its options (endpoint, encryption), so the task reopens the same store.
        doc, units, sizes = ray.get(finish_scan.remote(spec, self.store.url))
        active.report_sizes = sizes
        return doc, units

    def _finished(self, active: ActiveScan) -> None:
        active.done.set()
        self._active.pop(active.scan_id, None)
        self._update_load()

    def _update_load(self) -> None:
        self.metrics.scans_active.set(len(self._active))

    # ------------------------------------------------------------------------------ cancel
    async def cancel(self, scan_id: str) -> ActiveScan:
        """Ask an active scan of this front to stop; its stream ends with `scan.cancelled`."""
        check_scan_id(scan_id)
        active = self._active.get(scan_id)
        if active is not None:
            active.execution.cancel()
            return active
        if await asyncio.to_thread(self.store.load_summary, scan_id) is not None:
            raise ScanConflict(f"scan {scan_id} has already finished; there is nothing to cancel")
        if await asyncio.to_thread(self.store.load_scan, scan_id) is None:
            raise ScanNotFound(scan_id)
        raise ScanConflict(f"scan {scan_id} is not driven by this server; cancel it where it was started")

    def active_accounts(self, scan_id: str) -> tuple[str, ...] | None:
        """The accounts of an active scan (for allow-list checks), None when it is not active here."""
        active = self._active.get(scan_id)
        return active.request.accounts if active else None

    # ------------------------------------------------------------------------------ streaming
    async def subscribe(self, scan_id: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue that receives the scan's latest progress at once, then the stream, then exactly one
        final message. Call `unsubscribe` when done with it."""
        check_scan_id(scan_id)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=_QUEUE_SIZE)
        watch = self._watches.get(scan_id)
        if watch is None:
            active = self._active.get(scan_id)
            actor = active.actor if active else await asyncio.to_thread(self._find_actor, scan_id)
            if actor is None:
                _put(queue, await asyncio.to_thread(self.final_message, scan_id))
                return queue
            watch = _Watch(scan_id, active)
            self._watches[scan_id] = watch
            watch.task = asyncio.get_running_loop().create_task(self._pump(watch, actor), name=f"watch-{scan_id}")
        watch.subscribers.add(queue)
        if watch.final is not None:
            _put(queue, watch.final)
        elif watch.latest is not None:
            _put(queue, watch.latest)
        return queue

    def unsubscribe(self, scan_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop feeding `queue`; the scan's poll task ends with its scan, not with its subscribers."""
        watch = self._watches.get(scan_id)
        if watch is not None:
            watch.subscribers.discard(queue)

    @staticmethod
    def _find_actor(scan_id: str) -> Any:
        try:
            return ray.get_actor(progress_actor_name(scan_id), namespace=NAMESPACE)
        except ValueError:
            return None

    def _fan_out(self, watch: _Watch, message: dict[str, Any]) -> None:
        for queue in list(watch.subscribers):
            _put(queue, message)

    async def _pump(self, watch: _Watch, actor: Any) -> None:
        version = -1
        try:
            while True:
                try:
                    snap = await actor.wait_for_change.remote(version, self.poll_timeout_s)
                except ray.exceptions.RayError:
                    break  # the actor is gone: the scan ended (the store has the rest)
                if snap["version"] == version:
                    continue
                version = snap["version"]
                watch.latest = progress_message(snap)
                self._fan_out(watch, watch.latest)
                if ScanStatus(snap["status"]).is_final:
                    break
            if watch.active is not None:
                await watch.active.done.wait()  # the reports are rendered once the scan thread ends
            active = watch.active
            if active is not None and active.document is not None:
                watch.final = self.final_message(watch.scan_id, document=active.document, sizes=active.report_sizes)
            else:
                watch.final = await asyncio.to_thread(self.final_message, watch.scan_id,
                                                      active.error if active else None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("progress stream of scan %s broke", watch.scan_id)
            watch.final = ScanFailed(scan_id=watch.scan_id,
                                     error=f"the progress stream broke ({type(exc).__name__})").wire()
        finally:
            self._watches.pop(watch.scan_id, None)
        self._fan_out(watch, watch.final)

    # ------------------------------------------------------------------------------ from the store
    def final_message(self, scan_id: str, error: str | None = None, *, document: dict[str, Any] | None = None,
                      sizes: dict[str, int] | None = None) -> dict[str, Any]:
        """The final message of a scan that no longer runs: from its findings `document` and report
        `sizes` when the caller has them, else from the result store (blocking)."""
        doc = document if document is not None else self.store.load_summary(scan_id)
        if doc is None:
            if self.store.load_scan(scan_id) is None:
                raise ScanNotFound(scan_id)
            return ScanFailed(scan_id=scan_id, error=error or "the scan stopped before it finished "
                              "(its server went away); start it again").wire()
        status = doc.get("status")
        if status == ScanStatus.CANCELLED.value:
            return ScanCancelled(scan_id=scan_id).wire()
        if status == ScanStatus.FAILED.value:
            errors = [f"{a['account_id']}: {a['error']}" for a in doc.get("accounts", []) if a.get("error")]
            return ScanFailed(scan_id=scan_id, error="; ".join(errors)[:2000] or error or "the scan failed").wire()
        return ScanCompleted(scan_id=scan_id, status=str(status), summary=doc.get("summary") or {},
                             reports=self.reports(scan_id, doc, sizes), duration_s=_duration(doc)).wire()

    def reports(self, scan_id: str, doc: dict[str, Any] | None = None,
                sizes: dict[str, int] | None = None) -> list[ReportOut]:
        """The stored reports of a scan with signed, expiring links (blocking unless `sizes` are given)."""
        out = []
        for kind, name in REPORT_FILES.items():
            size = sizes.get(kind) if sizes is not None else self.store.report_size(scan_id, kind)
            if size is None:
                continue
            url = self.store.report_link(scan_id, kind, ttl_s=self.settings.report_link_ttl_s,
                                         base_url=self.report_base_url, secret=self.settings.session_secret)
            out.append(ReportOut(name=name, type=kind, url=url, size=size,
                                 generated_at=(doc or {}).get("finished_at")))
        return out

    async def describe(self, scan_id: str) -> dict[str, Any]:
        """One scan for `GET /api/scans/{id}`: status and latest progress, or the final summary."""
        check_scan_id(scan_id)
        active = self._active.get(scan_id)
        if active is not None:
            watch = self._watches.get(scan_id)
            progress = watch.latest if watch and watch.latest else None
            if progress is None and active.actor is not None:
                with contextlib.suppress(ray.exceptions.RayError):
                    progress = progress_message(await active.actor.snapshot.remote())
            return {"scan_id": scan_id, "status": (progress or {}).get("status", "running"),
                    "started_at": active.started_at, "request": active.request.to_dict(),
                    "plan": active.plan_out().wire(), "progress": progress}
        return await asyncio.to_thread(self._describe_stored, scan_id)

    def _describe_stored(self, scan_id: str) -> dict[str, Any]:
        doc = self.store.load_summary(scan_id)
        if doc is None:
            scan = self.store.load_scan(scan_id)
            if scan is None:
                raise ScanNotFound(scan_id)
            return {"scan_id": scan_id, "status": "interrupted", "started_at": scan.get("created_at"),
                    "request": scan.get("request"), "progress": None}
        return {"scan_id": scan_id, "status": doc.get("status"), "started_at": doc.get("started_at"),
                "finished_at": doc.get("finished_at"), "request": doc.get("request"),
                "accounts": doc.get("accounts"), "summary": doc.get("summary"),
                "duration_s": _duration(doc), "reports": [r.wire() for r in self.reports(scan_id, doc)]}

    async def list(self, limit: int = 20) -> list[ScanListItem]:
        """Active scans first, then the newest stored ones, at most `limit` in all."""
        items = [ScanListItem(scan_id=a.scan_id, status="running", started_at=a.started_at)
                 for a in sorted(self._active.values(), key=lambda a: a.started_at, reverse=True)][:limit]
        seen = {i.scan_id for i in items}
        return items + await asyncio.to_thread(self._list_stored, limit - len(items), seen)

    def _list_stored(self, limit: int, seen: set[str]) -> list[ScanListItem]:
        out: list[ScanListItem] = []
        for scan_id in self.store.list_scans():
            if len(out) >= limit:
                break
            if scan_id in seen:
                continue
            doc = self.store.load_summary(scan_id)
            if doc is not None:
                out.append(ScanListItem(scan_id=scan_id, status=str(doc.get("status")),
                                        started_at=doc.get("started_at"), summary=doc.get("summary")))
                continue
            scan = self.store.load_scan(scan_id)
            if scan is not None:
                out.append(ScanListItem(scan_id=scan_id, status="interrupted", started_at=scan.get("created_at")))
        return out

    async def findings(self, scan_id: str) -> dict[str, Any]:
        """The findings document of a finished scan; ScanConflict while it runs, ScanNotFound if unknown."""
        check_scan_id(scan_id)
        if scan_id in self._active:
            raise ScanConflict(f"scan {scan_id} is still running; its findings are ready when it finishes")
        doc = await asyncio.to_thread(self.store.load_findings, scan_id)
        if doc is None:
            raise ScanNotFound(scan_id)
        return doc

    # ------------------------------------------------------------------------------ shutdown
    async def close(self, timeout_s: float = 20.0) -> None:
        """Cancel the active scans (their actors must not outlive the front) and stop the poll tasks."""
        for active in list(self._active.values()):
            active.execution.cancel()
        threads = [a.thread for a in self._active.values() if a.thread is not None]
        if threads:
            await asyncio.to_thread(_join_all, threads, timeout_s)
        for watch in list(self._watches.values()):
            if watch.task is not None:
                watch.task.cancel()
        self._watches.clear()

    @property
    def active_count(self) -> int:
        return len(self._active)


def _join_all(threads: list[threading.Thread], timeout_s: float) -> None:
    for t in threads:
        t.join(timeout=timeout_s)


def _duration(doc: dict[str, Any]) -> float | None:
    try:
        start = datetime.fromisoformat(str(doc["started_at"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(doc["finished_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return max(0.0, (end - start).total_seconds())


__all__ = ["ActiveScan", "ScanService", "ScanNotFound", "ScanConflict", "UsageError", "FINAL_TYPES",
           "check_scan_id", "progress_message"]


def save_reports(store: ResultStore, doc: dict[str, Any]) -> dict[str, int]:
    """Render and store every report of a findings document; their sizes by type. One report failing
    does not hide the others (it is logged and left out)."""
    from engine import checks
    from reports.formats import render_report

    meta = checks.metadata()
    sizes: dict[str, int] = {}
    for kind in REPORT_FILES:
        try:
            data = render_report(doc, kind, meta, generated_at=iso_z())
            store.save_report(doc["scan_id"], kind, data)
            sizes[kind] = len(data)
        except Exception:
            log.exception("report %s of scan %s could not be rendered", kind, doc["scan_id"])
    return sizes


@ray.remote(num_cpus=0, max_retries=1)
def finish_scan(spec: ScanResultSpec, store_url: str) -> tuple[dict[str, Any], list[UnitResult], dict[str, int]]:
    """A Ray task: the findings document of a finished scan (stored) and its reports (stored). Answers
    the document without its findings and the units without theirs: the front needs the counts only."""
    store = ResultStore.from_url(store_url)
    doc, units = build_findings(spec, store)
    sizes = save_reports(store, doc)
    summary_doc = {k: v for k, v in doc.items() if k != "findings"}
    return summary_doc, [dataclasses.replace(u, findings=[]) for u in units], sizes
