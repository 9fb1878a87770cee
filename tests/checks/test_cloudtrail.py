"""CloudTrail checks against the emulator: one PASS and one FAIL test per check, home-region
attribution of trails, the ERROR path, and the demo estate's CloudTrail expectations."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from engine.model import GLOBAL_REGION
from tests.conftest import ACCOUNT, estate_mismatches, findings_for, status_of

ESTATE_REGIONS = ("us-east-1", "eu-west-1")
MULTI = "cloudtrail_multi_region_trail_enabled"
WRITES = "cloudtrail_s3_object_write_events_logged"
READS = "cloudtrail_s3_object_read_events_logged"


def inject_throttling(aws, action: str, n: int) -> None:
    """Make the emulator answer the next `n` calls of `action` with Throttling."""
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST",
                                 data=json.dumps({"throttle": {action: n}}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _bucket(aws, name: str, region: str = "us-east-1", *, logged: bool = False) -> str:
    s3 = aws.client("s3", region)
    where: dict[str, Any] = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    if logged:
        s3.create_bucket(Bucket=name, ACL="log-delivery-write", **where)
        s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": name, "TargetPrefix": "logs/"}})
    else:
        s3.create_bucket(Bucket=name, **where)
    return name


def _trail(aws, name: str, region: str = "us-east-1", *, multi: bool = False, start: bool = True,
           bucket: str | None = None, **kwargs: Any) -> str:
    ct = aws.client("cloudtrail", region)
    ct.create_trail(Name=name, S3BucketName=bucket or _bucket(aws, f"{name}-logs", region),
                    IsMultiRegionTrail=multi, **kwargs)
    if start:
        ct.start_logging(Name=name)
    return name


def _selectors(aws, trail: str, region: str = "us-east-1", **kwargs: Any) -> None:
    aws.client("cloudtrail", region).put_event_selectors(TrailName=trail, **kwargs)


def _s3_objects(read_only: str | None) -> list[dict[str, Any]]:
    fields = [{"Field": "eventCategory", "Equals": ["Data"]},
              {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]
    if read_only is not None:
        fields.append({"Field": "readOnly", "Equals": [read_only]})
    return [{"Name": "s3-objects", "FieldSelectors": fields}]


# -- multi-region trail (account level) --

def test_logging_multi_region_trail_with_default_selectors_passes_multi_region_check(aws):
    _trail(aws, "org-audit", multi=True)
    findings = aws.scan("cloudtrail")
    assert status_of(findings, MULTI, ACCOUNT) == "PASS"
    assert findings_for(findings, MULTI)[0].region == GLOBAL_REGION


def test_multi_region_trail_that_is_not_logging_fails_multi_region_check(aws):
    _trail(aws, "org-audit", multi=True, start=False)
    _trail(aws, "local-only")  # logging, but single-region
    assert status_of(aws.scan("cloudtrail"), MULTI, ACCOUNT) == "FAIL"


def test_account_without_trails_fails_multi_region_check(aws):
    assert status_of(aws.scan("cloudtrail"), MULTI, ACCOUNT) == "FAIL"


def test_multi_region_trail_logging_only_write_management_events_fails_multi_region_check(aws):
    _trail(aws, "org-audit", multi=True)
    _selectors(aws, "org-audit", EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    assert status_of(aws.scan("cloudtrail"), MULTI, ACCOUNT) == "FAIL"


def test_advanced_management_selector_without_read_only_field_passes_multi_region_check(aws):
    _trail(aws, "org-audit", multi=True)
    _selectors(aws, "org-audit", AdvancedEventSelectors=[
        {"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}])
    assert status_of(aws.scan("cloudtrail"), MULTI, ACCOUNT) == "PASS"


def test_multi_region_trail_homed_in_an_unscanned_region_counts_but_is_not_evaluated_there(aws):
    _trail(aws, "eu-audit", "eu-west-1", multi=True)
    findings = aws.scan("cloudtrail", regions=("us-east-1",))
    assert status_of(findings, MULTI, ACCOUNT) == "PASS"
    assert findings_for(findings, "cloudtrail_trail_logging_enabled") == []


def test_multi_region_trail_is_evaluated_once_in_its_home_region(aws):
    _trail(aws, "eu-audit", "eu-west-1", multi=True)
    findings = aws.scan("cloudtrail", regions=("us-east-1", "eu-west-1"))
    got = findings_for(findings, "cloudtrail_trail_logging_enabled", "eu-audit")
    assert [(f.region, f.status.value) for f in got] == [("eu-west-1", "PASS")]
    assert got[0].resource_arn == f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/eu-audit"


# -- per trail --

def test_started_trail_passes_logging_check(aws):
    _trail(aws, "audit")
    assert status_of(aws.scan("cloudtrail"), "cloudtrail_trail_logging_enabled", "audit") == "PASS"


def test_trail_never_started_fails_logging_check(aws):
    _trail(aws, "audit", start=False)
    assert status_of(aws.scan("cloudtrail"), "cloudtrail_trail_logging_enabled", "audit") == "FAIL"


def test_trail_with_log_file_validation_passes_validation_check(aws):
    _trail(aws, "audit", EnableLogFileValidation=True)
    assert status_of(aws.scan("cloudtrail"), "cloudtrail_trail_log_file_validation_enabled", "audit") == "PASS"


def test_trail_without_log_file_validation_fails_validation_check(aws):
    _trail(aws, "audit")
    assert status_of(aws.scan("cloudtrail"), "cloudtrail_trail_log_file_validation_enabled", "audit") == "FAIL"


def test_trail_with_kms_key_passes_kms_check(aws):
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    _trail(aws, "audit", KmsKeyId=key)
    assert status_of(aws.scan("cloudtrail"), "cloudtrail_trail_kms_encrypted", "audit") == "PASS"


def test_trail_without_kms_key_fails_kms_check(aws):
    _trail(aws, "audit")
    assert status_of(aws.scan("cloudtrail"), "cloudtrail_trail_kms_encrypted", "audit") == "FAIL"


def test_trail_delivering_to_cloudwatch_logs_passes_cloudwatch_logs_check(aws):
    aws.client("logs").create_log_group(logGroupName="trail-events")
    _trail(aws, "audit", CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:trail-events:*",
           CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/trail-to-logs")
    assert status_of(aws.scan("cloudtrail"), "cloudtrail_trail_cloudwatch_logs_enabled", "audit") == "PASS"


def test_trail_not_delivering_to_cloudwatch_logs_fails_cloudwatch_logs_check(aws):
    _trail(aws, "audit")
    assert status_of(aws.scan("cloudtrail"), "cloudtrail_trail_cloudwatch_logs_enabled", "audit") == "FAIL"


def test_trail_bucket_with_access_logging_passes_bucket_logging_check(aws):
    _trail(aws, "audit", bucket=_bucket(aws, "audit-logs-logged", logged=True))
    assert status_of(aws.scan("cloudtrail"), "cloudtrail_trail_bucket_access_logging_enabled", "audit") == "PASS"


def test_trail_bucket_without_access_logging_fails_bucket_logging_check(aws):
    _trail(aws, "audit")
    assert status_of(aws.scan("cloudtrail"), "cloudtrail_trail_bucket_access_logging_enabled", "audit") == "FAIL"


def test_trail_bucket_outside_the_account_is_not_evaluated_for_access_logging(aws):
    _trail(aws, "audit", bucket=_bucket(aws, "central-archive"))
    # The emulator only accepts a trail on an existing bucket; gone from ListBuckets, it is another account's.
    aws.client("s3").delete_bucket(Bucket="central-archive")
    findings = aws.scan("cloudtrail")
    assert findings_for(findings, "cloudtrail_trail_bucket_access_logging_enabled") == []
    assert status_of(findings, "cloudtrail_trail_logging_enabled", "audit") == "PASS"


# -- S3 object-level data events (account level) --

def test_write_only_s3_data_selector_on_all_buckets_passes_writes_and_fails_reads(aws):
    _trail(aws, "org-audit", multi=True)
    _selectors(aws, "org-audit", EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
    findings = aws.scan("cloudtrail")
    assert status_of(findings, WRITES, ACCOUNT) == "PASS"
    assert status_of(findings, READS, ACCOUNT) == "FAIL"


def test_advanced_s3_selector_without_read_only_passes_reads_and_writes(aws):
    _trail(aws, "org-audit", multi=True)
    _selectors(aws, "org-audit", AdvancedEventSelectors=_s3_objects(None))
    findings = aws.scan("cloudtrail")
    assert status_of(findings, WRITES, ACCOUNT) == "PASS"
    assert status_of(findings, READS, ACCOUNT) == "PASS"


def test_advanced_s3_selector_for_reads_only_fails_writes(aws):
    _trail(aws, "org-audit", multi=True)
    _selectors(aws, "org-audit", AdvancedEventSelectors=_s3_objects("true"))
    findings = aws.scan("cloudtrail")
    assert status_of(findings, WRITES, ACCOUNT) == "FAIL"
    assert status_of(findings, READS, ACCOUNT) == "PASS"


def test_s3_data_selector_on_one_bucket_fails_both_data_event_checks(aws):
    _trail(aws, "org-audit", multi=True)
    _selectors(aws, "org-audit", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::one-bucket/"]}]}])
    findings = aws.scan("cloudtrail")
    assert status_of(findings, WRITES, ACCOUNT) == "FAIL"
    assert status_of(findings, READS, ACCOUNT) == "FAIL"


def test_s3_data_selector_on_a_trail_that_is_not_logging_fails_data_event_checks(aws):
    _trail(aws, "org-audit", multi=True, start=False)
    _selectors(aws, "org-audit", AdvancedEventSelectors=_s3_objects(None))
    assert status_of(aws.scan("cloudtrail"), WRITES, ACCOUNT) == "FAIL"


# -- errors --

def test_unreadable_trail_status_reports_error_never_pass(aws):
    _trail(aws, "org-audit", multi=True, EnableLogFileValidation=True)
    inject_throttling(aws, "GetTrailStatus", 1000)
    findings = aws.scan("cloudtrail")
    assert status_of(findings, "cloudtrail_trail_logging_enabled", "org-audit") == "ERROR"
    assert status_of(findings, MULTI, ACCOUNT) == "ERROR"
    assert "GetTrailStatus" in findings_for(findings, MULTI)[0].message
    # Fields DescribeTrails gave are still evaluated.
    assert status_of(findings, "cloudtrail_trail_log_file_validation_enabled", "org-audit") == "PASS"


# -- demo estate --

def test_demo_estate_seeder_matches_cloudtrail_checks(emulator):
    assert estate_mismatches(emulator, "cloudtrail") == []
