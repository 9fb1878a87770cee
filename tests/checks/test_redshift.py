"""Redshift checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and the
demo-estate seeder."""

from __future__ import annotations

import json
import urllib.request

from tests.conftest import estate_mismatches, findings_for, status_of

CLUSTER = {"NodeType": "dc2.large", "ClusterType": "single-node", "MasterUsername": "admin",
           "MasterUserPassword": "Password123"}
REGIONS = ("us-east-1", "eu-west-1")


def _fail(aws, action: str, code: str, status: int, n: int) -> None:
    spec = {"fail": {action: {"code": code, "status": status, "count": n}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _cluster(aws, name: str = "warehouse", **kwargs) -> str:
    aws.client("redshift").create_cluster(ClusterIdentifier=name, **CLUSTER, **kwargs)
    return name


def test_private_cluster_passes_public_check(aws):
    cluster = _cluster(aws, PubliclyAccessible=False)
    findings = aws.scan("redshift")
    assert status_of(findings, "redshift_cluster_publicly_accessible_disabled", cluster) == "PASS"
    assert findings_for(findings, "redshift_cluster_publicly_accessible_disabled", cluster)[0].resource_arn == \
        "arn:aws:redshift:us-east-1:123456789012:cluster:warehouse"


def test_publicly_accessible_cluster_fails_public_check(aws):
    cluster = _cluster(aws, PubliclyAccessible=True)
    assert status_of(aws.scan("redshift"), "redshift_cluster_publicly_accessible_disabled", cluster) == "FAIL"


def test_encrypted_cluster_passes(aws):
    cluster = _cluster(aws, Encrypted=True)
    assert status_of(aws.scan("redshift"), "redshift_cluster_encrypted", cluster) == "PASS"


def test_unencrypted_cluster_fails(aws):
    cluster = _cluster(aws)
    assert status_of(aws.scan("redshift"), "redshift_cluster_encrypted", cluster) == "FAIL"


def test_cluster_with_audit_logging_passes(aws):
    cluster = _cluster(aws)
    aws.client("redshift").enable_logging(ClusterIdentifier=cluster, BucketName="audit-logs")
    assert status_of(aws.scan("redshift"), "redshift_cluster_audit_logging_enabled", cluster) == "PASS"


def test_cluster_without_audit_logging_fails(aws):
    cluster = _cluster(aws)
    assert status_of(aws.scan("redshift"), "redshift_cluster_audit_logging_enabled", cluster) == "FAIL"


def test_cluster_keeping_snapshots_seven_days_passes(aws):
    cluster = _cluster(aws, AutomatedSnapshotRetentionPeriod=7)
    assert status_of(aws.scan("redshift"), "redshift_cluster_automated_snapshots_enabled", cluster) == "PASS"


def test_cluster_with_default_one_day_snapshots_fails(aws):
    cluster = _cluster(aws)
    assert status_of(aws.scan("redshift"), "redshift_cluster_automated_snapshots_enabled", cluster) == "FAIL"


def test_snapshot_retention_minimum_is_a_parameter(aws):
    cluster = _cluster(aws, AutomatedSnapshotRetentionPeriod=3)
    params = {"redshift_cluster_automated_snapshots_enabled": {"min_retention_days": 3}}
    assert status_of(aws.scan("redshift", params=params), "redshift_cluster_automated_snapshots_enabled",
                     cluster) == "PASS"


def test_denied_logging_status_reports_error_never_pass(aws):
    cluster = _cluster(aws, Encrypted=True)
    _fail(aws, "DescribeLoggingStatus", "AccessDenied", 403, 1000)
    findings = aws.scan("redshift")
    assert status_of(findings, "redshift_cluster_audit_logging_enabled", cluster) == "ERROR"
    assert "AccessDenied" in findings_for(findings, "redshift_cluster_audit_logging_enabled", cluster)[0].message
    assert status_of(findings, "redshift_cluster_encrypted", cluster) == "PASS"


def test_demo_estate_seeder_matches_redshift_checks(emulator):
    assert estate_mismatches(emulator, "redshift", both_outcomes=True) == []
