"""End-to-end scans on a real local Ray (Jobs API, progress actor, runners) against the emulator
over HTTP: ground truth, failure isolation, cancellation, resume, throttling, heartbeats, cleanup."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from engine.model import ScanRequest, ScanStatus
from engine.plan import build_plan
from engine.runtime.cluster import RayConnection, connect
from engine.runtime.scan import ScanExecution, ScanOutcome
from engine.sandbox.estate import Manifest, seed_demo_estate
from engine.sandbox.server import EmulatorServer
from engine.settings import Settings
from engine.store import ResultStore
from tests.conftest import sandbox_control

pytestmark = pytest.mark.ray
REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture(scope="session")
def ray_conn() -> Iterator[RayConnection]:
    conn = connect(num_cpus=2)
    yield conn


@pytest.fixture
def estate(emulator: EmulatorServer) -> Iterator[Manifest]:
    emulator.reset()
    manifest = seed_demo_estate(emulator, accounts=2, regions=REGIONS, unassumable=1)
    yield manifest
    _sandbox(emulator, "config", {"latency_ms": 0})


def _sandbox(server: EmulatorServer, cmd: str, body: dict | None = None) -> dict:
    return sandbox_control(server.endpoint, cmd, body)


def _settings(server: EmulatorServer, manifest: Manifest, tmp_path: Path, **kw) -> Settings:
    base = Settings(store=f"file://{tmp_path}/store", aws_endpoint_url=server.endpoint,
                    role_name=manifest.role_name, external_id=manifest.external_id, heartbeat_s=30.0,
                    retry_attempts=2, retry_max_wait_s=0.1, runners=2)
    return dataclasses.replace(base, **kw)


def _execution(settings: Settings, accounts, conn: RayConnection, services=("s3", "ec2", "iam"),
               scan_id: str | None = None, **kw) -> ScanExecution:
    store = ResultStore.from_url(settings.store)
    request = ScanRequest(accounts=tuple(accounts), regions=REGIONS, services=tuple(services),
                          role_name=settings.role_name, external_id=settings.external_id)
    return ScanExecution(build_plan(request, store.unit_costs()), settings, store, conn, scan_id=scan_id, **kw)


def _expected(estate: Manifest, services, account: str | None = None) -> list:
    """The manifest's expectations about the checks of `services` (optionally of one account)."""
    from engine.checks import CHECKS, load_all

    load_all()
    return [e for e in estate.expectations if CHECKS[e.check_id].meta.service in services
            and (account is None or e.account_id == account)]


def _cloudscreen_actors_alive() -> list[str]:
    from ray.util.state import list_actors

    return [a.name for a in list_actors(filters=[("state", "=", "ALIVE")], limit=1000)
            if (a.name or "").startswith("cloudscreen-")]


def _status_index(outcome: ScanOutcome) -> dict[tuple[str, str, str, str], str]:
    return {(f["check_id"], f["account_id"], f["region"], f["resource_id"]): f["status"]
            for f in outcome.document["findings"]}


def test_scan_finds_every_bad_resource_flags_no_good_one_and_isolates_an_unassumable_account(
        emulator, estate, ray_conn, tmp_path):
    settings = _settings(emulator, estate, tmp_path)
    broken = estate.unassumable_accounts[0]
    snapshots: list[dict] = []
    from engine.plan import known_services

    everything = known_services()  # the whole catalogue: `make demo` must find every seeded problem
    outcome = _execution(settings, [*estate.accounts, broken], ray_conn, services=everything).run(
        on_progress=snapshots.append)

    # Failure isolation: the unassumable account fails with the AWS error, the others complete.
    assert outcome.status is ScanStatus.PARTIAL
    accounts = {a["account_id"]: a for a in outcome.document["accounts"]}
    assert accounts[broken]["status"] == "failed"
    assert "AccessDenied" in accounts[broken]["error"] and broken in accounts[broken]["error"]
    assert all(accounts[a]["status"] == "completed" and accounts[a]["error"] is None for a in estate.accounts)
    assert not [f for f in outcome.document["findings"] if f["account_id"] == broken]

    # Ground truth: every expectation of the manifest holds, in every account and region.
    index = _status_index(outcome)
    wrong = [(e.check_id, e.account_id, e.region, e.resource_id, e.status, index.get(
        (e.check_id, e.account_id, e.region, e.resource_id))) for e in _expected(estate, everything)
        if index.get((e.check_id, e.account_id, e.region, e.resource_id)) != e.status]
    assert not wrong, wrong[:10]
    assert outcome.document["summary"]["by_status"]["ERROR"] == 0

    # Progress: monotonic, reaches 100, exactly one final state, ETA appears while running.
    percents = [s["percent"] for s in snapshots]
    assert percents == sorted(percents)
    assert snapshots[-1]["status"] == "partial" and snapshots[-1]["percent"] == 100.0
    assert sum(1 for s in snapshots if s["status"] in ("completed", "partial", "failed", "cancelled")) == 1
    assert any(s["eta_seconds"] is not None for s in snapshots if s["status"] == "running")

    # The units were persisted one by one, and no actor outlives the scan.
    store = ResultStore.from_url(settings.store)
    assert len(store.load_units(outcome.scan_id)) == len([u for u in outcome.units if u.unit.account_id != broken])
    planned = build_plan(ScanRequest(accounts=tuple(estate.accounts), regions=REGIONS, services=everything))
    assert {u.unit.key for u in outcome.units} == {u.key for u in planned.units}
    assert store.load_findings(outcome.scan_id)["status"] == "partial"
    assert _cloudscreen_actors_alive() == []


def test_cancel_mid_scan_stops_jobs_keeps_finished_units_and_marks_cancelled(emulator, estate, ray_conn, tmp_path):
    _sandbox(emulator, "config", {"latency_ms": 150})
    settings = _settings(emulator, estate, tmp_path, max_concurrent_accounts=1, unit_threads=1)
    execution = _execution(settings, estate.accounts, ray_conn, unit_parallelism=1)
    seen: list[dict] = []
    queued: list[int] = []

    def on_progress(snap: dict) -> None:
        seen.append(snap)
        queued.append(execution.queued_accounts())
        if snap["done_units"] >= 1 and not execution.cancelled:
            execution.cancel()

    t0 = time.monotonic()
    outcome = execution.run(on_progress=on_progress)
    assert outcome.status is ScanStatus.CANCELLED
    # One account job at a time: the others wait for the slot (the front's cloudscreen_scan_queue_depth).
    assert max(queued) == len(estate.accounts) - 1 and execution.queued_accounts() == 0
    assert time.monotonic() - t0 < 60
    stored = ResultStore.from_url(settings.store).load_units(outcome.scan_id)
    assert 1 <= len(stored) < 8, "finished units are kept, unfinished ones are not run"
    assert outcome.document["status"] == "cancelled"
    assert {a["status"] for a in outcome.document["accounts"]} <= {"cancelled", "completed"}
    assert "cancelled" in {a["status"] for a in outcome.document["accounts"]}
    assert _cloudscreen_actors_alive() == []


def test_rerun_of_an_account_skips_units_it_already_finished(emulator, estate, ray_conn, tmp_path):
    settings = _settings(emulator, estate, tmp_path)
    account = estate.accounts[0]
    first = _execution(settings, [account], ray_conn).run()
    assert first.status is ScanStatus.COMPLETED
    store = ResultStore.from_url(settings.store)
    # Lose the IAM unit and the account outcome, as if the job had died after three units.
    store.delete(f"scans/{first.scan_id}/units/{account}/global/iam.json")
    store.delete(f"scans/{first.scan_id}/accounts/{account}.json")
    _sandbox(emulator, "reset-stats", {})

    second = _execution(settings, [account], ray_conn, scan_id=first.scan_id).run()
    assert second.status is ScanStatus.COMPLETED
    actions = _sandbox(emulator, "stats")["by_action"]
    assert any(a.startswith(("ListUsers", "GetCredentialReport", "GetAccountAuthorizationDetails")) for a in actions)
    assert not any(a in actions for a in ("DescribeSecurityGroups", "DescribeVolumes")), actions
    assert not any(a.startswith(("GET /", "PUT /")) for a in actions), "S3 was not collected again"
    assert _status_index(second) == _status_index(first)


def test_throttled_calls_are_retried_and_lose_no_findings(emulator, estate, ray_conn, tmp_path):
    settings = _settings(emulator, estate, tmp_path, retry_max_wait_s=0.05)
    account = estate.accounts[0]
    _sandbox(emulator, "faults", {"throttle": {"DescribeSecurityGroups": 3, "GetAccountAuthorizationDetails": 2}})
    outcome = _execution(settings, [account], ray_conn).run()
    assert outcome.status is ScanStatus.COMPLETED
    assert outcome.stats["throttles"] >= 5
    index = _status_index(outcome)
    for e in _expected(estate, ("s3", "ec2", "iam"), account):
        assert index.get((e.check_id, e.account_id, e.region, e.resource_id)) == e.status, e


def test_progress_actor_heartbeats_while_running_and_answers_long_polls(ray_conn):
    from engine.runtime.progress import ProgressActor

    actor = ProgressActor.remote("hb-test", [("1/us-east-1/ec2", 1.0)], 0.3)
    try:
        first = ray.get(actor.start.remote())
        t0 = time.monotonic()
        nxt = ray.get(actor.wait_for_change.remote(first["version"], 5.0))
        assert nxt["version"] > first["version"] and time.monotonic() - t0 < 2.0
        # A unit report wakes a long poll at once.
        pending = actor.wait_for_change.remote(nxt["version"], 10.0)
        actor.unit_finished.remote("1/us-east-1/ec2", {"high": 2})
        done = ray.get(pending)
        assert done["done_units"] == 1 and done["percent"] == 100.0 and done["counts"]["high"] == 2
        final = ray.get(actor.finish.remote("completed"))
        quiet = ray.get(actor.wait_for_change.remote(final["version"], 1.0))
        assert quiet["version"] == final["version"], "no heartbeat after the scan ended"
    finally:
        ray.kill(actor)


def test_cli_demo_of_unassumable_account_exits_1_and_writes_findings(emulator, estate, ray_conn, tmp_path, capsys,
                                                                     monkeypatch):
    from frontend_server.cli import main

    monkeypatch.setenv("CLOUDSCREEN_STORE", f"file://{tmp_path}/store")
    accounts = ",".join([estate.accounts[0], estate.unassumable_accounts[0]])
    code = main(["scan", "--endpoint-url", emulator.endpoint, "--accounts", accounts, "--regions", ",".join(REGIONS),
                 "--role-name", estate.role_name, "--external-id", estate.external_id, "--services", "iam",
                 "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    path = Path(out[-1])
    assert path.is_absolute() and path.name == "findings.json"
    doc = json.loads(path.read_text())
    assert doc["status"] == "partial" and doc["schema_version"] == 1


def test_cli_fail_on_threshold_exits_3(emulator, estate, ray_conn, tmp_path, capsys, monkeypatch):
    from frontend_server.cli import main

    monkeypatch.setenv("CLOUDSCREEN_STORE", f"file://{tmp_path}/store")
    code = main(["scan", "--endpoint-url", emulator.endpoint, "--accounts", estate.accounts[0], "--regions",
                 "us-east-1", "--role-name", estate.role_name, "--external-id", estate.external_id,
                 "--services", "ec2", "--fail-on", "high", "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 3
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith("findings.json")


def test_cli_scan_demo_finds_the_demo_estate_problems(ray_conn, tmp_path):
    """`cloudscreen scan --demo` end to end in its own process: emulator subprocess, demo estate,
    account jobs on the session's Ray cluster, findings.json path as the last stdout line."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, CLOUDSCREEN_STORE=f"file://{tmp_path}/store")
    r = subprocess.run([sys.executable, "-m", "frontend_server.cli", "scan", "--demo", "--demo-accounts", "1",
                        "--ray-address", ray_conn.address, "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=240, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    path = Path(r.stdout.strip().splitlines()[-1])
    doc = json.loads(path.read_text())
    assert doc["status"] == "completed" and doc["accounts"][0]["account_id"] == "111111111111"
    index = {(f["check_id"], f["region"], f["resource_id"]): f["status"] for f in doc["findings"]}
    assert index[("iam_user_console_mfa_enabled", "global", "cs-demo-console-user")] == "FAIL"
    assert index[("s3_bucket_acl_public_read_prohibited", "eu-west-1",
                  "cs-demo-111111111111-eu-west-1-public")] == "FAIL"
    assert index[("s3_bucket_versioning_enabled", "us-east-1", "cs-demo-111111111111-us-east-1-good")] == "PASS"
    assert "units" in r.stderr and "ETA" in r.stderr, "plain progress lines on a non-terminal stderr"
    for name in ("report.html", "findings.csv", "findings.ocsf.json"):  # --format defaults to all
        assert (path.parent / name).stat().st_size > 0, name
    stored = Path(tmp_path / "store" / "scans" / doc["scan_id"] / "reports")
    assert {p.name for p in stored.iterdir()} >= {"report.html", "findings.csv", "findings.ocsf.json"}


def test_cli_resume_finishes_a_cancelled_scan(emulator, estate, ray_conn, tmp_path, capsys, monkeypatch):
    from frontend_server.cli import main

    _sandbox(emulator, "config", {"latency_ms": 100})
    settings = _settings(emulator, estate, tmp_path, max_concurrent_accounts=1, unit_threads=1)
    execution = _execution(settings, estate.accounts, ray_conn, unit_parallelism=1)
    first = execution.run(on_progress=lambda s: s["done_units"] >= 1 and execution.cancel())
    assert first.status is ScanStatus.CANCELLED
    _sandbox(emulator, "config", {"latency_ms": 0})

    monkeypatch.setenv("CLOUDSCREEN_STORE", settings.store)
    monkeypatch.setenv("CLOUDSCREEN_AWS_ENDPOINT_URL", emulator.endpoint)
    code = main(["scan", "--resume", first.scan_id, "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 0
    doc = json.loads(Path(capsys.readouterr().out.strip().splitlines()[-1]).read_text())
    assert doc["scan_id"] == first.scan_id and doc["status"] == "completed"
    index = {(f["check_id"], f["account_id"], f["region"], f["resource_id"]): f["status"] for f in doc["findings"]}
    assert all(index.get((e.check_id, e.account_id, e.region, e.resource_id)) == e.status
               for e in _expected(estate, ("s3", "ec2", "iam")))


def test_cli_framework_scope_and_mutelist(emulator, estate, ray_conn, tmp_path, capsys, monkeypatch):
    from frontend_server.cli import main

    monkeypatch.setenv("CLOUDSCREEN_STORE", f"file://{tmp_path}/store")
    mutelist = tmp_path / "mutes.yaml"
    mutelist.write_text("mutes:\n  - check: iam_user_console_mfa_enabled\n    resource: cs-demo-*\n"
                        "    reason: break-glass user, MFA in the safe\n")
    code = main(["scan", "--endpoint-url", emulator.endpoint, "--accounts", estate.accounts[0], "--regions",
                 "us-east-1", "--role-name", estate.role_name, "--external-id", estate.external_id,
                 "--services", "s3,iam", "--framework", "cis-aws-3.0", "--mutelist", str(mutelist),
                 "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 0
    doc = json.loads(Path(capsys.readouterr().out.strip().splitlines()[-1]).read_text())
    assert doc["findings"] and all("cis-aws-3.0" in f["frameworks"] for f in doc["findings"])
    muted = [f for f in doc["findings"] if f["status"] == "MUTED"]
    assert muted and all(f["check_id"] == "iam_user_console_mfa_enabled" for f in muted)
    assert "break-glass" in muted[0]["message"]
    controls = doc["summary"]["framework"]["controls"]
    assert controls["1.10"]["MUTED"] >= 1 and controls["1.10"]["FAIL"] == 0
    assert controls["1.8"]["FAIL"] == 1  # the weak password policy
    assert doc["summary"]["by_status"]["MUTED"] == len(muted)


def test_cli_bad_mutelist_exits_2_naming_the_line(tmp_path, capsys):
    from frontend_server.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("mutes:\n  - check: x\n    reason: ok\n    whom: me\n")
    assert main(["scan", "--accounts", "111111111111", "--mutelist", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{bad} line 4: unknown field 'whom'" in err[0]


def test_all_regions_scans_enabled_regions_and_skips_opt_in_ones(emulator, estate, ray_conn, tmp_path):
    from engine.plan import validate_request

    settings = _settings(emulator, estate, tmp_path)
    request = validate_request(accounts=estate.accounts[0], regions="all", services="sqs",
                               role_name=estate.role_name, external_id=estate.external_id)
    assert request.all_regions and "ap-east-1" in request.regions and "us-east-1" in request.regions
    store = ResultStore.from_url(settings.store)
    outcome = ScanExecution(build_plan(request), settings, store, ray_conn).run()
    assert outcome.status is ScanStatus.COMPLETED
    by_region: dict[str, set[str]] = {}
    for f in outcome.document["findings"]:
        by_region.setdefault(f["region"], set()).add(f["status"])
    assert by_region["ap-east-1"] == {"SKIPPED"} and by_region["me-south-1"] == {"SKIPPED"}
    assert "SKIPPED" not in by_region["us-east-1"] and "SKIPPED" not in by_region["eu-west-1"]
    skipped = [f for f in outcome.document["findings"] if f["region"] == "ap-east-1"]
    assert all("not enabled" in f["message"] for f in skipped)
