"""ElastiCache checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and
the demo-estate seeder."""

from __future__ import annotations

import json
import urllib.request

from engine.checks import checks_for
from tests.conftest import ACCOUNT, estate_mismatches, findings_for, status_of

GROUP = {"Engine": "redis", "CacheNodeType": "cache.t3.micro"}
REGIONS = ("us-east-1", "eu-west-1")


def _fail(aws, action: str, code: str, status: int, n: int) -> None:
    spec = {"fail": {action: {"code": code, "status": status, "count": n}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _group(aws, name: str = "sessions", **kwargs) -> str:
    aws.client("elasticache").create_replication_group(ReplicationGroupId=name,
                                                       ReplicationGroupDescription="test", **GROUP, **kwargs)
    return name


def test_group_encrypted_at_rest_passes(aws):
    group = _group(aws, AtRestEncryptionEnabled=True)
    findings = aws.scan("elasticache")
    assert status_of(findings, "elasticache_replication_group_encrypted_at_rest", group) == "PASS"
    assert findings_for(findings, "elasticache_replication_group_encrypted_at_rest", group)[0].resource_arn == \
        "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:sessions"


def test_group_not_encrypted_at_rest_fails(aws):
    group = _group(aws)
    assert status_of(aws.scan("elasticache"), "elasticache_replication_group_encrypted_at_rest", group) == "FAIL"


def test_group_encrypted_in_transit_passes(aws):
    group = _group(aws, TransitEncryptionEnabled=True)
    assert status_of(aws.scan("elasticache"), "elasticache_replication_group_encrypted_in_transit", group) == "PASS"


def test_group_not_encrypted_in_transit_fails(aws):
    group = _group(aws)
    assert status_of(aws.scan("elasticache"), "elasticache_replication_group_encrypted_in_transit", group) == "FAIL"


def test_group_with_automatic_failover_passes(aws):
    group = _group(aws, NumCacheClusters=2, AutomaticFailoverEnabled=True)
    assert status_of(aws.scan("elasticache"), "elasticache_replication_group_auto_failover_enabled",
                     group) == "PASS"


def test_group_without_automatic_failover_fails(aws):
    group = _group(aws)
    assert status_of(aws.scan("elasticache"), "elasticache_replication_group_auto_failover_enabled",
                     group) == "FAIL"


def test_denied_replication_group_listing_reports_error_for_every_check(aws):
    _group(aws, AtRestEncryptionEnabled=True)
    _fail(aws, "DescribeReplicationGroups", "AccessDenied", 403, 1000)
    findings = aws.scan("elasticache")
    assert {(f.resource_id, f.status.value) for f in findings} == {(ACCOUNT, "ERROR")}
    assert len(findings) == len(checks_for("elasticache"))


def test_demo_estate_seeder_matches_elasticache_checks(emulator):
    assert estate_mismatches(emulator, "elasticache", both_outcomes=True) == []
