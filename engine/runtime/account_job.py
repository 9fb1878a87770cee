"""The account job: the entrypoint of one Ray job per scanned account.

    python -m engine.runtime.account_job --store URL --scan-id ID --account 111111111111

It assumes the account's audit role (so an unassumable role fails this account at once, with the
AWS error, and no other), restores the units a previous attempt already finished, fans the rest
out to the scan's unit runners and waits for them. The outcome is written to the result store.
Exit codes: 0 completed, 3 failed for a reason a retry cannot fix (e.g. the role), 1 anything else.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import zlib
from typing import Any

import ray

from engine import throttle
from engine.credentials import account_session
from engine.errors import AssumeRoleError
from engine.model import Unit, severity_counts
from engine.regions import disabled_regions
from engine.runtime.progress import NAMESPACE, progress_actor_name
from engine.runtime.runner import EngineOptions
from engine.runtime.unit import error_unit_result, skipped_unit_result
from engine.store import ResultStore
from engine.throttle import describe_error

log = logging.getLogger("cloudscreen.engine.account_job")
EXIT_NOT_RETRYABLE = 3
UNIT_ATTEMPTS = 3


def run_account(store: ResultStore, scan_id: str, account: str) -> int:
    doc = store.load_scan(scan_id)
    if doc is None:
        log.error("scan %s is not in the store %s", scan_id, store.url)
        return EXIT_NOT_RETRYABLE
    opts = EngineOptions(doc)
    throttle.configure(opts.retry_attempts, opts.retry_max_wait_s)
    units = [Unit(u["account_id"], u["region"], u["service"], u["cost"]) for u in doc["plan"]["units"]
             if u["account_id"] == account]
    progress = ray.get_actor(progress_actor_name(scan_id), namespace=NAMESPACE)
    progress.account_update.remote(account, "running")

    try:
        session = account_session(account, opts.aws, assume=opts.assume_for(account))
    except AssumeRoleError as exc:
        reason = str(exc)
        log.warning("account %s failed: %s", account, reason)
        store.save_account(scan_id, account, "failed", reason, retryable=False)
        for u in units:  # nothing more will happen in this account: its share of progress is done
            progress.unit_finished.remote(u.key, None, True, f"account {account} failed")
        ray.get(progress.account_update.remote(account, "failed", reason))
        return EXIT_NOT_RETRYABLE

    finished = store.finished_units(scan_id, account)
    pending = [u for u in units if u.key not in finished]
    if opts.all_regions and pending:
        pending = _skip_disabled_regions(store, scan_id, session, pending, progress)
    for u in units:
        if u.key in finished:  # resumed scan: report what an earlier attempt already stored
            stored = store.load_unit(scan_id, u.account_id, u.region, u.service)
            progress.unit_finished.remote(u.key, severity_counts(stored.findings) if stored else None, True)
    log.info("account %s: %d units, %d restored, %d to run", account, len(units), len(finished), len(pending))

    runners = [ray.get_actor(name, namespace=NAMESPACE) for name in opts.runners]
    start = zlib.crc32(account.encode()) % max(1, len(runners))
    rr = itertools.islice(itertools.cycle(range(len(runners))), start, None)
    limit = opts.unit_parallelism or len(pending)
    in_flight: dict[Any, tuple[Unit, int]] = {}
    queue = list(pending)
    errors: list[str] = []

    def submit(unit: Unit, attempt: int) -> None:
        runner = runners[next(rr)]
        in_flight[runner.run.remote(unit.account_id, unit.region, unit.service, unit.cost)] = (unit, attempt)

    while queue or in_flight:
        while queue and len(in_flight) < limit:
            submit(queue.pop(0), 1)
        done, _ = ray.wait(list(in_flight), num_returns=1)
        ref = done[0]
        unit, attempt = in_flight.pop(ref)
        try:
            summary = ray.get(ref)
            if summary.get("error"):
                errors.append(f"{unit.key}: {summary['error']}")
        except ray.exceptions.RayError as exc:  # the runner died (node lost, OOM): retry elsewhere
            if attempt < UNIT_ATTEMPTS:
                log.warning("unit %s attempt %d lost: %s; retrying", unit.key, attempt, type(exc).__name__)
                submit(unit, attempt + 1)
                continue
            reason = f"unit could not run after {attempt} attempts: {type(exc).__name__}"
            result = error_unit_result(unit, reason)
            store.save_unit(scan_id, result)
            progress.unit_finished.remote(unit.key, severity_counts(result.findings))
            errors.append(f"{unit.key}: {reason}")

    error = "; ".join(errors) if errors else None
    store.save_account(scan_id, account, "completed", error)
    ray.get(progress.account_update.remote(account, "completed", error))
    return 0


def _skip_disabled_regions(store: ResultStore, scan_id: str, session: Any, pending: list[Unit],
                           progress: Any) -> list[Unit]:
    """`--regions all`: units in opt-in regions the account has not enabled are SKIPPED, not run."""
    try:
        disabled = disabled_regions(session, pending[0].region if pending[0].region != "global" else "us-east-1")
    except Exception as exc:  # cannot tell: scan every region rather than skip some silently
        log.warning("account %s: cannot list enabled regions (%s); scanning all", pending[0].account_id,
                    describe_error(exc))
        return pending
    keep: list[Unit] = []
    for u in pending:
        if u.region in disabled:
            result = skipped_unit_result(u, f"region {u.region} is not enabled for account {u.account_id}")
            store.save_unit(scan_id, result)
            progress.unit_finished.remote(u.key, None, False, f"skipped {u.region}: not enabled")
        else:
            keep.append(u)
    return keep


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.runtime.account_job")
    p.add_argument("--store", required=True)
    p.add_argument("--scan-id", required=True)
    p.add_argument("--account", required=True)
    p.add_argument("--ray-address", default=None, help="GCS address of the cluster that runs the scan")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    ray.init(address=args.ray_address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING)
    try:
        return run_account(ResultStore.from_url(args.store), args.scan_id, args.account)
    except Exception:
        log.exception("account job %s/%s crashed", args.scan_id, args.account)
        return 1
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
