"""CloudTrail checks: account-wide multi-region trail and S3 data events (global), and per-trail
logging, log file validation, encryption, CloudWatch Logs delivery and bucket access logging
(evaluated in each trail's home region)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from engine.checks import CheckContext, Result, check
from engine.collectors.cloudtrail import CloudTrailData, Trail

# DataResources values that select the objects of every bucket.
_ALL_BUCKETS = re.compile(r"^arn:[a-z-]+:s3(:::)?$")
_TRAIL_FIELDS = ("is_logging", "event_selectors")


def _field_allows(fields: dict[str, dict[str, Any]], name: str, value: str) -> bool:
    """Whether an advanced selector's field selector for `name` lets events with `value` through."""
    fs = fields.get(name)
    if fs is None:
        return True
    equals = fs.get("Equals")
    return (not equals or value in equals) and value not in (fs.get("NotEquals") or [])


def _logs_s3_objects(trail: Trail, *, write: bool) -> bool:
    """Whether the trail records S3 object-level events for every bucket, for writes or for reads."""
    wanted = ("All", "WriteOnly") if write else ("All", "ReadOnly")
    for sel in trail.event_selectors or []:
        if sel.get("ReadWriteType", "All") not in wanted:
            continue
        for res in sel.get("DataResources") or []:
            if res.get("Type") == "AWS::S3::Object" and any(_ALL_BUCKETS.match(v) for v in res.get("Values") or []):
                return True
    for sel in trail.advanced_event_selectors or []:
        fields = {fs.get("Field"): fs for fs in sel.get("FieldSelectors", [])}
        if ("Data" in (fields.get("eventCategory", {}).get("Equals") or [])
                and "AWS::S3::Object" in (fields.get("resources.type", {}).get("Equals") or [])
                # readOnly=true excludes writes; readOnly=false excludes reads.
                and _field_allows(fields, "readOnly", "false" if write else "true")):
            return True
    return False


def _trail_errors(trail: Trail) -> str | None:
    for name in _TRAIL_FIELDS:
        if name in trail.errors:
            return f"trail {trail.id}: {trail.errors[name]}"
    return None


def _any_trail(data: CloudTrailData, qualifies: Callable[[Trail], bool], what: str) -> Result:
    """PASS when a multi-region, logging trail qualifies; ERROR when none does but a candidate's data
    could not be read; FAIL otherwise."""
    unknown: list[str] = []
    for trail in data.multi_region_trails:
        problem = _trail_errors(trail)
        if problem:
            unknown.append(problem)
        elif trail.is_logging and qualifies(trail):
            return Result.passed(f"Account {data.account_id}: multi-region trail {trail.id} is logging and {what}.")
    if unknown:
        return Result.error(f"Account {data.account_id}: no multi-region trail is known to be logging and {what}; "
                            f"could not read {'; '.join(unknown)}.")
    return Result.failed(f"Account {data.account_id} has no multi-region, logging trail that {what}.")


# ---- account level (global) ----

@check(id="cloudtrail_multi_region_trail_enabled", service="cloudtrail", resource_type="AWS::::Account",
       scope="global", severity="high", pillar="security",
       frameworks={"cis-aws-3.0": ["3.1"], "aws-fsbp": ["CloudTrail.1"]},
       title="A multi-region CloudTrail trail is logging management events",
       risk="Without a logging multi-region trail that records management events, API activity in some "
            "regions goes unrecorded and incidents cannot be investigated.",
       remediation="In the CloudTrail console choose Trails > Create trail (trails created in the console are "
                   "multi-region), keep Management events with API activity Read and Write, then make sure "
                   "logging is on. CLI: aws cloudtrail create-trail --name <trail> --s3-bucket-name <bucket> "
                   "--is-multi-region-trail && aws cloudtrail start-logging --name <trail>")
def cloudtrail_multi_region_trail_enabled(data: CloudTrailData, ctx: CheckContext) -> Result:
    return _any_trail(data, lambda t: t.captures_management_events,
                      "captures read and write management events")


@check(id="cloudtrail_s3_object_write_events_logged", service="cloudtrail", resource_type="AWS::::Account",
       scope="global", severity="low", pillar="security", frameworks={"cis-aws-3.0": ["3.8"]},
       title="S3 object-level write events are logged for all buckets",
       risk="Without object-level write data events, uploads, overwrites and deletions of S3 objects leave no "
            "audit trail.",
       remediation="In the CloudTrail console open a multi-region trail, Data events > Edit, add data event type "
                   "S3 with the 'Log all events' or 'writeOnly' template for all current and future buckets. "
                   "CLI: aws cloudtrail put-event-selectors --trail-name <trail> --event-selectors "
                   "'[{\"ReadWriteType\":\"WriteOnly\",\"IncludeManagementEvents\":true,"
                   "\"DataResources\":[{\"Type\":\"AWS::S3::Object\",\"Values\":[\"arn:aws:s3\"]}]}]'")
def cloudtrail_s3_object_write_events_logged(data: CloudTrailData, ctx: CheckContext) -> Result:
    return _any_trail(data, lambda t: _logs_s3_objects(t, write=True),
                      "records S3 object-level write events for all buckets")


@check(id="cloudtrail_s3_object_read_events_logged", service="cloudtrail", resource_type="AWS::::Account",
       scope="global", severity="low", pillar="security", frameworks={"cis-aws-3.0": ["3.9"]},
       title="S3 object-level read events are logged for all buckets",
       risk="Without object-level read data events, downloads of S3 objects (data exfiltration) leave no "
            "audit trail.",
       remediation="In the CloudTrail console open a multi-region trail, Data events > Edit, add data event type "
                   "S3 with the 'Log all events' or 'readOnly' template for all current and future buckets. "
                   "CLI: aws cloudtrail put-event-selectors --trail-name <trail> --event-selectors "
                   "'[{\"ReadWriteType\":\"ReadOnly\",\"IncludeManagementEvents\":true,"
                   "\"DataResources\":[{\"Type\":\"AWS::S3::Object\",\"Values\":[\"arn:aws:s3\"]}]}]'")
def cloudtrail_s3_object_read_events_logged(data: CloudTrailData, ctx: CheckContext) -> Result:
    return _any_trail(data, lambda t: _logs_s3_objects(t, write=False),
                      "records S3 object-level read events for all buckets")


# ---- per trail (home region) ----

@check(id="cloudtrail_trail_logging_enabled", service="cloudtrail", resource_type="AWS::CloudTrail::Trail",
       scope="regional", severity="high", pillar="security",
       title="CloudTrail trail is logging",
       risk="A trail that is not logging records nothing: activity in its scope goes unaudited.",
       remediation="In the CloudTrail console open the trail and switch Logging on. "
                   "CLI: aws cloudtrail start-logging --name <trail>",
       over="trails", needs=("is_logging",))
def cloudtrail_trail_logging_enabled(trail: Trail, ctx: CheckContext) -> Result:
    if trail.is_logging:
        return Result.passed(f"Trail {trail.id} is logging.")
    return Result.failed(f"Trail {trail.id} is not logging.")


@check(id="cloudtrail_trail_log_file_validation_enabled", service="cloudtrail",
       resource_type="AWS::CloudTrail::Trail", scope="regional", severity="medium", pillar="security",
       frameworks={"cis-aws-3.0": ["3.2"], "aws-fsbp": ["CloudTrail.4"]},
       title="CloudTrail trail has log file validation enabled",
       risk="Without log file integrity validation, modified or deleted log files cannot be detected, so logs "
            "cannot be trusted as evidence.",
       remediation="In the CloudTrail console open the trail, General details > Edit, and tick 'Log file "
                   "validation'. CLI: aws cloudtrail update-trail --name <trail> --enable-log-file-validation",
       over="trails")
def cloudtrail_trail_log_file_validation_enabled(trail: Trail, ctx: CheckContext) -> Result:
    if trail.log_file_validation:
        return Result.passed(f"Trail {trail.id} has log file validation enabled.")
    return Result.failed(f"Trail {trail.id} does not have log file validation enabled.")


@check(id="cloudtrail_trail_kms_encrypted", service="cloudtrail", resource_type="AWS::CloudTrail::Trail",
       scope="regional", severity="medium", pillar="security",
       frameworks={"cis-aws-3.0": ["3.5"], "aws-fsbp": ["CloudTrail.2"]},
       title="CloudTrail trail logs are encrypted with KMS",
       risk="Without SSE-KMS, anyone with read access to the log bucket can read the logs; a KMS key adds a "
            "second, separately audited permission.",
       remediation="In the CloudTrail console open the trail, General details > Edit, enable 'Log file SSE-KMS "
                   "encryption' and choose a KMS key whose policy lets CloudTrail use it. "
                   "CLI: aws cloudtrail update-trail --name <trail> --kms-key-id <key-arn-or-alias>",
       over="trails")
def cloudtrail_trail_kms_encrypted(trail: Trail, ctx: CheckContext) -> Result:
    if trail.kms_key_id:
        return Result.passed(f"Trail {trail.id} logs are encrypted with KMS key {trail.kms_key_id}.")
    return Result.failed(f"Trail {trail.id} logs are not encrypted with a KMS key.")


@check(id="cloudtrail_trail_cloudwatch_logs_enabled", service="cloudtrail", resource_type="AWS::CloudTrail::Trail",
       scope="regional", severity="low", pillar="operational_excellence",
       frameworks={"aws-fsbp": ["CloudTrail.5"]},
       title="CloudTrail trail delivers to CloudWatch Logs",
       risk="Without CloudWatch Logs delivery, trail events cannot drive real-time metric filters and alarms.",
       remediation="In the CloudTrail console open the trail, CloudWatch Logs > Edit, enable it and choose a "
                   "log group and an IAM role. CLI: aws cloudtrail update-trail --name <trail> "
                   "--cloud-watch-logs-log-group-arn <log-group-arn> --cloud-watch-logs-role-arn <role-arn>",
       over="trails")
def cloudtrail_trail_cloudwatch_logs_enabled(trail: Trail, ctx: CheckContext) -> Result:
    if trail.log_group_arn:
        return Result.passed(f"Trail {trail.id} delivers to CloudWatch Logs ({trail.log_group_arn}).")
    return Result.failed(f"Trail {trail.id} does not deliver to CloudWatch Logs.")


@check(id="cloudtrail_trail_bucket_access_logging_enabled", service="cloudtrail",
       resource_type="AWS::CloudTrail::Trail", scope="regional", severity="low", pillar="security",
       frameworks={"cis-aws-3.0": ["3.4"], "aws-securityhub": ["CloudTrail.7"]},
       title="CloudTrail trail's S3 bucket has server access logging enabled",
       risk="Without access logging on the trail's bucket, reads and deletions of the audit logs themselves "
            "are not recorded.",
       remediation="In the S3 console open the trail's bucket, Properties > Server access logging > Edit, "
                   "enable it with a target bucket. CLI: aws s3api put-bucket-logging --bucket <bucket> "
                   "--bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"<log-bucket>\","
                   "\"TargetPrefix\":\"<prefix>/\"}}'",
       over="trails", needs=("bucket_logging",))
def cloudtrail_trail_bucket_access_logging_enabled(trail: Trail, ctx: CheckContext) -> Result | None:
    if not trail.bucket_in_account:
        return None  # a bucket of another account (e.g. a central log archive) is evaluated there
    if trail.bucket_logging:
        return Result.passed(f"Trail {trail.id} bucket {trail.bucket_name} has server access logging enabled.")
    return Result.failed(f"Trail {trail.id} bucket {trail.bucket_name} does not have server access logging "
                         f"enabled.")
