"""Large-account benchmark: one sandbox account holding 5,000 IAM roles and 2,000 log groups.

Seeds the emulator (its own process) over HTTP, then scans the account's `iam` and `logs` services
through the real path (Ray job, runners, result store) and prints wall time, unit durations, API
calls and peak memory (PSS of all processes, and of the unit runner that holds the collected data).

    .venv/bin/python bench/big_account_bench.py [--roles 5000] [--log-groups 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import botocore.config
import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")

from bench.scan_bench import MemorySampler, _pss, sandbox  # noqa: E402
from engine.logs import configure_logging  # noqa: E402
from engine.model import ScanRequest  # noqa: E402
from engine.plan import build_plan  # noqa: E402
from engine.runtime.cluster import connect  # noqa: E402
from engine.runtime.scan import ScanExecution  # noqa: E402
from engine.sandbox.server import EmulatorProcess  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.store import ResultStore  # noqa: E402

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


class RunnerPeak:
    """Peak PSS of the unit runner processes (where collected data lives)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for p in psutil.process_iter(["cmdline"]):
                if "UnitRunner" in " ".join(p.info.get("cmdline") or []):
                    self.peak = max(self.peak, _pss(p.pid))
            self._stop.wait(0.5)

    def __enter__(self) -> RunnerPeak:
        self._t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._t.join()


def seed(endpoint: str, info: dict[str, Any], roles: int, log_groups: int) -> str:
    account = info["accounts"][0]
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{info['role_name']}", RoleSessionName="bench",
                        ExternalId=info["external_id"])["Credentials"]
    cfg = botocore.config.Config(max_pool_connections=16, retries={"mode": "standard", "max_attempts": 5})
    kw = dict(endpoint_url=endpoint, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
              aws_session_token=c["SessionToken"], config=cfg)
    iam = boto3.client("iam", region_name="us-east-1", **kw)
    logs = boto3.client("logs", region_name="us-east-1", **kw)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: iam.create_role(RoleName=f"bench-role-{i:05d}", AssumeRolePolicyDocument=TRUST),
                      range(roles)))
        list(pool.map(lambda i: logs.create_log_group(logGroupName=f"/bench/app-{i:05d}"), range(log_groups)))
    return account


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--roles", type=int, default=5000)
    ap.add_argument("--log-groups", type=int, default=2000)
    args = ap.parse_args()
    configure_logging("WARNING")
    print(f"machine: {platform.platform()}, {psutil.cpu_count()} CPUs, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB", flush=True)
    emu = EmulatorProcess(accounts=1, regions=("us-east-1",))
    info = emu.start()
    t0 = time.perf_counter()
    account = seed(info["endpoint"], info, args.roles, args.log_groups)
    print(f"seeded {args.roles} IAM roles and {args.log_groups} log groups in {time.perf_counter() - t0:.1f} s",
          flush=True)
    conn = connect(num_cpus=psutil.cpu_count() or 2)
    with tempfile.TemporaryDirectory(prefix="cloudscreen-big-") as tmp:
        settings = Settings(store=f"file://{tmp}/store", aws_endpoint_url=info["endpoint"],
                            role_name=info["role_name"], external_id=info["external_id"], api_rate_per_s=0)
        request = ScanRequest(accounts=(account,), regions=("us-east-1",), services=("iam", "logs"),
                              role_name=info["role_name"], external_id=info["external_id"])
        store = ResultStore.from_url(settings.store)
        sandbox(info["endpoint"], "reset-stats", {})
        with MemorySampler() as mem, RunnerPeak() as runner:
            t0 = time.perf_counter()
            outcome = ScanExecution(build_plan(request), settings, store, conn).run()
            wall = time.perf_counter() - t0
        served = sandbox(info["endpoint"], "stats")["requests"]
        units = {u.unit.service: round(u.duration_s, 1) for u in outcome.units}
        findings = outcome.document["summary"]["total"]
        size = os.path.getsize(os.path.join(tmp, "store", "scans", outcome.scan_id, "findings.json"))
    emu.stop()
    print(f"scan {outcome.status.value}: wall {wall:.1f} s, units {units}, {served} API calls, {findings} findings "
          f"(findings.json {size / 2**20:.1f} MiB)")
    print(f"peak memory: all processes {mem.peak / 2**20:.0f} MiB PSS, unit runner {runner.peak / 2**20:.0f} MiB PSS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
