"""Framework scoping, per-control summaries and the `cloudscreen checks` listing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from engine import checks
from engine.errors import UsageError
from engine.model import Finding, Pillar, Severity, Status
from engine.plan import framework_check_ids, scope_to_framework, validate_framework, validate_request
from engine.results import findings_document


def _f(check: str, control: str, status: Status, resource: str = "r") -> Finding:
    return Finding(check_id=check, title="t", service="s3", account_id="111111111111", region="us-east-1",
                   resource_type="AWS::S3::Bucket", resource_id=resource, resource_arn=None, status=status,
                   severity=Severity.HIGH, pillar=Pillar.SECURITY, frameworks={"cis-aws-3.0": [control]},
                   message="m", remediation="r")


def test_framework_scope_keeps_only_mapped_checks_and_their_services():
    request = validate_request(accounts="111111111111", regions="us-east-1", services="s3,ec2,iam")
    scoped, ids = scope_to_framework(request, "cis-aws-3.0")
    registry = checks.load_all()
    assert ids and all("cis-aws-3.0" in registry[i].meta.frameworks for i in ids)
    assert "s3_bucket_versioning_enabled" not in ids and "iam_root_mfa_enabled" in ids
    assert set(scoped.services) == {registry[i].meta.service for i in ids}
    assert set(ids) == set(framework_check_ids("cis-aws-3.0", scoped.services))


def test_unknown_framework_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown framework 'cis'"):
        validate_framework("cis")


def test_summary_counts_findings_per_control_and_fails_a_control_on_any_fail():
    doc = findings_document(scan_id="s", status="completed", started_at=None, finished_at=None,
                            request={"accounts": [], "regions": [], "services": []}, accounts=[],
                            findings=[_f("s3_a_b", "2.1.1", Status.PASS), _f("s3_a_b", "2.1.1", Status.FAIL, "x"),
                                      _f("s3_c_d", "2.1.4", Status.PASS), _f("s3_e_f", "1.10", Status.MUTED)],
                            framework="cis-aws-3.0")
    fw = doc["summary"]["framework"]
    assert list(fw["controls"]) == ["1.10", "2.1.1", "2.1.4"]
    assert fw["controls"]["2.1.1"]["FAIL"] == 1 and fw["controls"]["2.1.1"]["PASS"] == 1
    assert fw["controls_failed"] == 1 and fw["controls_passed"] == 1


def test_checks_command_lists_json_filtered_by_service_and_framework():
    r = subprocess.run([sys.executable, "-m", "frontend_server.cli", "checks", "--service", "iam", "--framework",
                        "cis-aws-3.0", "--format", "json"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows and all(x["service"] == "iam" and "cis-aws-3.0" in x["frameworks"] for x in rows)
    assert {"id", "severity", "pillar", "frameworks", "remediation"} <= set(rows[0])


def test_checks_command_table_has_one_line_per_check():
    r = subprocess.run([sys.executable, "-m", "frontend_server.cli", "checks"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0
    lines = r.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["id", "service", "severity"]
    assert len(lines) - 1 == len(checks.load_all())
