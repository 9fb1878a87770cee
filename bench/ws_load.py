"""WebSocket load benchmark: many authenticated sockets watching a few running scans.

Starts `cloudscreen demo` (the bundled emulator with the demo estate, a local Ray and the front in demo
mode) as a subprocess on a loopback port, slows the emulator (`/_sandbox/config` latency_ms) so the
scans run for a while, starts a few scans over REST, then opens N authenticated sockets (default
1,000) and subscribes each to one of the scans. It reports:
  * the front process's RSS (psutil): before the sockets, peak while they are open;
  * the delay from a progress change (the snapshot's `updated_at`) to its arrival at each client,
    p50/p99/max over every (client, progress message) pair, the subscription snapshot excluded.
Targets: RSS < 400 MiB, p99 < 250 ms. Figures, not assertions. The clients share one event loop on
the same machine, so the delays include client-side scheduling.

    .venv/bin/python bench/ws_load.py [--clients 1000] [--scans 3] [--latency-ms 300] [--timeout 240]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from websockets.asyncio.client import connect as ws_connect

FINAL = ("scan.completed", "scan.failed", "scan.cancelled")
SERVICES = ["iam", "s3", "ec2", "kms", "lambda", "sqs", "sns", "dynamodb", "logs", "rds"]
REGIONS = ["us-east-1", "eu-west-1"]
TARGET_RSS_MIB = 400
TARGET_P99_MS = 250


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, method=method, headers=headers,
                                 data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _raise_fd_limit(need: int) -> None:
    """Each socket costs an fd in this process and one in the front (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _parse_time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def start_demo(port: int, accounts: int, workdir: Path,
               compression: bool = False) -> tuple[subprocess.Popen[bytes], str, list[str], Path]:
    """`cloudscreen demo` in its own process group; returns it, the emulator endpoint, the accounts and
    its log file."""
    env = dict(os.environ, CLOUDSCREEN_STORE=f"file://{workdir}/store",
               CLOUDSCREEN_AUDIT_LOG=str(workdir / "audit.log"), CLOUDSCREEN_LOG_LEVEL="WARNING",
               CLOUDSCREEN_WS_COMPRESSION=str(compression).lower())
    log_path = workdir / "demo.log"
    exe = Path(sys.executable).with_name("cloudscreen")
    proc = subprocess.Popen([str(exe), "demo", "--port", str(port), "--accounts", str(accounts)], env=env,
                            stdout=subprocess.DEVNULL, stderr=log_path.open("wb"), start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cloudscreen demo exited ({proc.returncode}):\n{log_path.read_text()[-2000:]}")
        match = re.search(r"emulator at (\S+); accounts ([\d, ]+);", log_path.read_text())
        if match:
            try:
                if _http("GET", f"http://127.0.0.1:{port}/ready").get("status") == "ready":
                    return proc, match.group(1), [a.strip() for a in match.group(2).split(",")], log_path
            except OSError:
                pass
        time.sleep(0.5)
    stop_demo(proc)
    raise RuntimeError(f"the front did not become ready:\n{log_path.read_text()[-2000:]}")


def stop_demo(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


class Client:
    """One socket subscribed to one scan; records the delay of every live progress message."""

    def __init__(self, url: str, token: str, scan_id: str) -> None:
        self.url, self.token, self.scan_id = url, token, scan_id
        self.delays: list[tuple[float, float]] = []  # (arrival, delay)
        self.final: str | None = None
        self.final_error: str | None = None
        self.ready = asyncio.Event()
        self.error: str | None = None

    async def run(self, gate: asyncio.Semaphore, deadline: float) -> None:
        try:
            async with gate:  # bounded connection rate: no accept-queue storms
                ws = await ws_connect(self.url, open_timeout=30, ping_interval=None, max_queue=64)
                await ws.send(json.dumps({"type": "auth", "token": self.token}))
                reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if reply.get("type") != "auth.ok":
                    raise RuntimeError(f"auth: {reply}")
                await ws.send(json.dumps({"type": "scan.subscribe", "scan_id": self.scan_id}))
                first = json.loads(await asyncio.wait_for(ws.recv(), 30))  # the snapshot: not a live change
            self.ready.set()
            if first.get("type") in FINAL:
                self.final = first["type"]
            async with ws:
                while self.final is None:
                    message = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
                    if message.get("type") == "scan.progress":
                        now = time.time()
                        self.delays.append((now, now - _parse_time(message["updated_at"])))
                    elif message.get("type") in FINAL:
                        self.final = message["type"]
                        self.final_error = message.get("error")
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"[:200]
            self.ready.set()


async def load(args: argparse.Namespace, port: int, endpoint: str, accounts: list[str], pid: int) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    front = psutil.Process(pid)
    rss_idle = front.memory_info().rss
    _http("POST", f"{endpoint}/_sandbox/config", {"latency_ms": args.latency_ms})
    token = _http("POST", f"{base}/api/dev/session", {"role": "analyst"})["token"]
    scan_ids = []
    for i in range(args.scans):
        body = {"accounts": [accounts[i % len(accounts)]], "regions": REGIONS, "services": SERVICES}
        scan_ids.append(_http("POST", f"{base}/api/scans", body, token)["scan_id"])

    deadline = time.monotonic() + args.timeout
    clients = [Client(f"ws://127.0.0.1:{port}/ws", token, scan_ids[i % len(scan_ids)]) for i in range(args.clients)]
    gate = asyncio.Semaphore(100)
    peak = {"rss": front.memory_info().rss}

    async def sample() -> None:
        while True:
            peak["rss"] = max(peak["rss"], front.memory_info().rss)
            await asyncio.sleep(0.5)

    # How late this (client) loop wakes up: its own stalls are part of every measured delay.
    lags: list[float] = []

    async def loop_lag() -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - t - 0.01)

    sampler = asyncio.create_task(sample())
    lagger = asyncio.create_task(loop_lag())
    # CPU seconds of the front and of this (client) process: the clients share one event loop, so
    # a busy client loop shows up in the delays too.
    cpu0, own0 = sum(front.cpu_times()[:2]), sum(psutil.Process().cpu_times()[:2])
    t0 = time.monotonic()
    tasks = [asyncio.create_task(c.run(gate, deadline)) for c in clients]
    await asyncio.gather(*(c.ready.wait() for c in clients))
    connect_s = time.monotonic() - t0
    rss_connected = front.memory_info().rss
    await asyncio.gather(*tasks)
    wall = time.monotonic() - t0
    sampler.cancel()
    lagger.cancel()
    front_cpu, client_cpu = sum(front.cpu_times()[:2]) - cpu0, sum(psutil.Process().cpu_times()[:2]) - own0
    all_connected = time.time() - (time.monotonic() - t0 - connect_s)
    delays = [d for c in clients for _, d in c.delays]
    steady = [d for c in clients for at, d in c.delays if at >= all_connected]
    errors = [c.error for c in clients if c.error]
    return {
        "clients": args.clients, "scans": args.scans, "latency_ms": args.latency_ms,
        "ws_compression": args.ws_compression,
        "connect_s": round(connect_s, 2), "wall_s": round(wall, 1),
        "front_cpu_s": round(front_cpu, 1), "client_cpu_s": round(client_cpu, 1),
        "rss_idle_mib": round(rss_idle / 2**20, 1), "rss_connected_mib": round(rss_connected / 2**20, 1),
        "rss_peak_mib": round(peak["rss"] / 2**20, 1),
        "progress_deliveries": len(delays),
        "p50_ms": round(statistics.median(delays) * 1000, 1) if delays else None,
        "p99_ms": round(_percentile(delays, 0.99) * 1000, 1) if delays else None,
        "max_ms": round(max(delays) * 1000, 1) if delays else None,
        # Once every socket is connected (no accept/auth storm competing with the fan-out).
        "steady_deliveries": len(steady),
        "steady_p50_ms": round(statistics.median(steady) * 1000, 1) if steady else None,
        "steady_p99_ms": round(_percentile(steady, 0.99) * 1000, 1) if steady else None,
        "client_loop_lag_p99_ms": round(_percentile(lags, 0.99) * 1000, 1) if lags else None,
        "client_loop_lag_max_ms": round(max(lags) * 1000, 1) if lags else None,
        "finals": {k: sum(1 for c in clients if c.final == k) for k in FINAL},
        "scan_errors": sorted({str(c.final_error)[:300] for c in clients if c.final_error}),
        "errors": len(errors), "first_errors": errors[:3],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--scans", type=int, default=3)
    p.add_argument("--accounts", type=int, default=3)
    p.add_argument("--latency-ms", type=float, default=300.0)
    p.add_argument("--timeout", type=float, default=240.0, help="seconds the clients wait for their final message")
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--ws-compression", action="store_true", help="let the front accept permessage-deflate")
    args = p.parse_args()
    if not 1 <= args.clients <= 5000 or not 1 <= args.scans <= 10:
        p.error("--clients must be 1..5000 and --scans 1..10")
    _raise_fd_limit(args.clients * 2 + 1024)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="ws_load_") as tmp:
        proc, endpoint, accounts, log_path = start_demo(port, args.accounts, Path(tmp), args.ws_compression)
        try:
            figures = asyncio.run(load(args, port, endpoint, accounts, proc.pid))
        finally:
            stop_demo(proc)
    for key, value in figures.items():
        print(f"{key:>20}: {value}")
    rss_ok = figures["rss_peak_mib"] < TARGET_RSS_MIB
    p99_ok = figures["p99_ms"] is not None and figures["p99_ms"] < TARGET_P99_MS
    steady_ok = figures["steady_p99_ms"] is not None and figures["steady_p99_ms"] < TARGET_P99_MS
    print(f"{'targets':>20}: RSS < {TARGET_RSS_MIB} MiB: {'met' if rss_ok else 'MISSED'}; "
          f"p99 < {TARGET_P99_MS} ms holding all {figures['clients']} sockets: {'met' if steady_ok else 'MISSED'}, "
          f"including the connection ramp: {'met' if p99_ok else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
