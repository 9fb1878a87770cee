"""Scan benchmark: the demo estate (10 accounts × 2 regions, all 29 services by default) on a local Ray.

For each emulator latency (50 ms, then none) it runs the same scan twice in the same session:
  * baseline — one account at a time, one unit at a time, one thread per unit;
  * parallel — the defaults (4 account jobs at once, units fanned out, threads inside units);
and prints wall time, peak memory of all processes (PSS of this process, the emulator and every Ray
process), machine CPU seconds, API calls served by the emulator, boto3 clients created, CPU
seconds per API call, and the parallel/baseline speedup. Figures, not assertions.

    .venv/bin/python bench/scan_bench.py [--accounts 10] [--latencies 50,0] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import threading
import time
import urllib.request
from typing import Any

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")

from engine.logs import configure_logging  # noqa: E402
from engine.model import ScanRequest  # noqa: E402
from engine.plan import build_plan  # noqa: E402
from engine.runtime.cluster import connect  # noqa: E402
from engine.runtime.scan import ScanExecution  # noqa: E402
from engine.sandbox.server import EmulatorProcess  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.store import ResultStore  # noqa: E402

REGIONS = ("us-east-1", "eu-west-1")


class MemorySampler:
    """Peak of the summed PSS (RSS where PSS is unreadable) of this process and all descendants."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = 0
        for p in [me, *me.children(recursive=True)]:
            total += _pss(p.pid)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def _pss(pid: int) -> int:
    """PSS in bytes from /proc/<pid>/smaps_rollup (cheap, unlike a full smaps walk), else RSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


def busy_cpu_seconds() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def sandbox(endpoint: str, cmd: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(f"{endpoint}/_sandbox/{cmd}", method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None)
    return json.loads(urllib.request.urlopen(req, timeout=30).read())


def run_scan(label: str, settings: Settings, accounts: list[str], conn: Any, endpoint: str,
             unit_parallelism: int, services: tuple[str, ...] = ("s3", "ec2", "iam")) -> dict[str, Any]:
    store = ResultStore.from_url(settings.store)
    request = ScanRequest(accounts=tuple(accounts), regions=REGIONS, services=services,
                          role_name=settings.role_name, external_id=settings.external_id)
    plan = build_plan(request)
    sandbox(endpoint, "reset-stats", {})
    cpu0 = busy_cpu_seconds()
    with MemorySampler() as mem:
        t0 = time.perf_counter()
        outcome = ScanExecution(plan, settings, store, conn, unit_parallelism=unit_parallelism).run()
        wall = time.perf_counter() - t0
    cpu = busy_cpu_seconds() - cpu0
    served = sandbox(endpoint, "stats")["requests"]
    s = outcome.stats
    return {"label": label, "status": outcome.status.value, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "peak_mib": round(mem.peak / 2**20), "api_calls": served, "engine_api_calls": s["api_calls"],
            "clients": s["clients_created"], "throttles": s["throttles"], "units": len(plan.units),
            "findings": outcome.document["summary"]["total"],
            "cpu_ms_per_call": round(1000 * cpu / served, 1) if served else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=10)
    ap.add_argument("--latencies", default="50,0", help="comma-separated emulator latencies in ms")
    ap.add_argument("--services", default="all", help="comma-separated services (default: the whole catalogue)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    configure_logging("WARNING")
    latencies = [float(x) for x in args.latencies.split(",") if x.strip()]
    from engine.plan import validate_services

    services = validate_services(args.services)

    print(f"machine: {platform.platform()}, {psutil.cpu_count()} CPUs, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}", flush=True)
    t0 = time.perf_counter()
    emu = EmulatorProcess(accounts=args.accounts, regions=REGIONS)
    info = emu.start()
    print(f"demo estate: {args.accounts} accounts × {len(REGIONS)} regions seeded in "
          f"{time.perf_counter() - t0:.1f} s at {info['endpoint']}", flush=True)
    t0 = time.perf_counter()
    conn = connect(num_cpus=psutil.cpu_count() or 2)
    print(f"local Ray started in {time.perf_counter() - t0:.1f} s", flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="cloudscreen-bench-") as tmp:
        base = Settings(store=f"file://{tmp}/store", aws_endpoint_url=info["endpoint"], role_name=info["role_name"],
                        external_id=info["external_id"], api_rate_per_s=0)
        serial = dataclasses.replace(base, max_concurrent_accounts=1, unit_threads=1, runners=1, runner_concurrency=1)
        # Warm-up: imports and the emulator's lazily built backends are not what we measure.
        run_scan("warm-up", base, info["accounts"][:1], conn, info["endpoint"], 0, services)
        for latency in latencies:
            sandbox(info["endpoint"], "config", {"latency_ms": latency})
            par = run_scan(f"parallel, latency {latency:g} ms", base, info["accounts"], conn, info["endpoint"], 0,
                           services)
            ser = run_scan(f"baseline, latency {latency:g} ms", serial, info["accounts"], conn, info["endpoint"], 1,
                           services)
            par["speedup"] = round(ser["wall_s"] / par["wall_s"], 2)
            results.extend([ser, par])
            _print(results[-2:])
    emu.stop()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": platform.platform(), "cpus": psutil.cpu_count(), "results": results}, fh, indent=2)
    return 0


def _print(rows: list[dict[str, Any]]) -> None:
    cols = ("label", "status", "wall_s", "cpu_s", "peak_mib", "api_calls", "clients", "cpu_ms_per_call",
            "units", "findings", "speedup")
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(str(r.get(c, "")) for c in cols), flush=True)


if __name__ == "__main__":
    sys.exit(main())
