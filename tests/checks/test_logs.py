"""CloudWatch Logs checks against the emulator: PASS and FAIL per check, paging, the ERROR path and
the demo estate's expectations."""

from __future__ import annotations

from tests.checks.test_cloudtrail import inject_throttling
from tests.conftest import ACCOUNT, estate_mismatches, findings_for, status_of

RETENTION = "logs_log_group_retention_set"
KMS = "logs_log_group_kms_encrypted"


def test_log_group_with_retention_passes_retention_check(aws):
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="/app/web")
    logs.put_retention_policy(logGroupName="/app/web", retentionInDays=30)
    findings = aws.scan("logs")
    assert status_of(findings, RETENTION, "/app/web") == "PASS"
    assert findings_for(findings, RETENTION, "/app/web")[0].resource_arn == \
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/web"


def test_log_group_without_retention_fails_retention_check(aws):
    aws.client("logs").create_log_group(logGroupName="/app/web")
    assert status_of(aws.scan("logs"), RETENTION, "/app/web") == "FAIL"


def test_log_group_with_kms_key_passes_kms_check(aws):
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    aws.client("logs").create_log_group(logGroupName="/app/web", kmsKeyId=key)
    assert status_of(aws.scan("logs"), KMS, "/app/web") == "PASS"


def test_log_group_without_kms_key_fails_kms_check(aws):
    aws.client("logs").create_log_group(logGroupName="/app/web")
    assert status_of(aws.scan("logs"), KMS, "/app/web") == "FAIL"


def test_every_log_group_is_reported_across_pages(aws):
    logs = aws.client("logs")
    for i in range(55):
        logs.create_log_group(logGroupName=f"/app/service-{i:02d}")
    assert len(findings_for(aws.scan("logs"), RETENTION)) == 55


def test_failing_log_group_listing_reports_error_for_every_check(aws):
    aws.client("logs").create_log_group(logGroupName="/app/web")
    inject_throttling(aws, "DescribeLogGroups", 1000)
    findings = aws.scan("logs")
    assert {(f.check_id, f.status.value) for f in findings} == {(RETENTION, "ERROR"), (KMS, "ERROR")}


def test_demo_estate_seeder_matches_logs_checks(emulator):
    assert estate_mismatches(emulator, "logs") == []
