"""`cloudscreen report` re-renders a stored scan; `cloudscreen prune` applies retention."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.model import Finding, Pillar, Severity, Status
from engine.results import findings_document
from engine.store import ResultStore


def _doc(scan_id: str = "20261123T000000Z-abc") -> dict:
    f = Finding(check_id="s3_bucket_versioning_enabled", title="S3 bucket has versioning enabled", service="s3",
                account_id="111111111111", region="us-east-1", resource_type="AWS::S3::Bucket",
                resource_id="<b>bucket</b>", resource_arn="arn:aws:s3:::bucket", status=Status.FAIL,
                severity=Severity.MEDIUM, pillar=Pillar.RELIABILITY, frameworks={}, message="versioning is off",
                remediation="Enable versioning")
    return findings_document(scan_id=scan_id, status="completed", started_at="2026-11-23T00:00:00Z",
                             finished_at="2026-11-23T00:01:00Z",
                             request={"accounts": ["111111111111"], "regions": ["us-east-1"], "services": ["s3"]},
                             accounts=[{"account_id": "111111111111", "status": "completed", "error": None}],
                             findings=[f])


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "frontend_server.cli", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_report_rerenders_every_format_from_a_scan_folder(tmp_path):
    scan_dir = tmp_path / "scan"
    scan_dir.mkdir()
    (scan_dir / "findings.json").write_text(json.dumps(_doc()))
    r = _cli("report", str(scan_dir), "--format", "html,csv,ocsf")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip().splitlines()[-1]) == (scan_dir / "findings.json").resolve()
    html = (scan_dir / "report.html").read_text()
    assert "&lt;b&gt;bucket&lt;/b&gt;" in html or "\\u003cb\\u003ebucket" in html
    assert "<b>bucket</b>" not in html
    assert (scan_dir / "findings.csv").read_text().startswith('"scan_id"')
    events = json.loads((scan_dir / "findings.ocsf.json").read_text())
    assert len(events) == 1 and events[0]["class_uid"] == 2004


def test_report_of_a_scan_id_reads_the_result_store(tmp_path):
    store = ResultStore.from_url(f"file://{tmp_path}/store")
    store.save_findings("20261123T000000Z-abc", _doc())
    r = _cli("report", "20261123T000000Z-abc", "--format", "csv", "--out", str(tmp_path / "out"),
             env={"CLOUDSCREEN_STORE": f"file://{tmp_path}/store"})
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "findings.csv").is_file() and (tmp_path / "out" / "findings.json").is_file()


def test_report_of_something_else_is_a_usage_error(tmp_path):
    (tmp_path / "findings.json").write_text('{"hello": 1}')
    r = _cli("report", str(tmp_path))
    assert r.returncode == 2 and "not a CloudScreen findings document" in r.stderr
    r = _cli("report", "no-such-scan", env={"CLOUDSCREEN_STORE": f"file://{tmp_path}/store"})
    assert r.returncode == 2 and "neither a folder holding findings.json nor a scan id" in r.stderr


def test_prune_deletes_old_scans_and_keeps_audit_marked_ones(tmp_path):
    store = ResultStore.from_url(f"file://{tmp_path}/store")
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="seconds").replace("+00:00", "Z")
    new = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    for scan_id, created in (("old-1", old), ("old-audit", old), ("new-1", new)):
        store.save_scan(scan_id, {"scan_id": scan_id, "created_at": created})
    store.mark_audit_required("old-audit", "ticket 42 escalated")
    env = {"CLOUDSCREEN_STORE": f"file://{tmp_path}/store"}
    r = _cli("prune", "--days", "30", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["old-1"]
    assert sorted(store.list_scans()) == ["new-1", "old-audit"]
    assert _cli("prune", env=env).returncode == 2  # no period given and none configured
