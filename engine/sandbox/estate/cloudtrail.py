"""Demo estate: CloudTrail (global). A multi-region audit trail that passes every trail check, and a
single-region trail in each region that fails them all.

The audit trail is shared with the CloudWatch seeder: its log group is where the CIS alarm chains
start (`ensure_audit_trail` creates it once, whichever of the two seeders runs first)."""

from __future__ import annotations

from typing import Any

from engine.model import GLOBAL_REGION
from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

TRAIL_CHECKS = (
    "cloudtrail_trail_logging_enabled",
    "cloudtrail_trail_log_file_validation_enabled",
    "cloudtrail_trail_kms_encrypted",
    "cloudtrail_trail_cloudwatch_logs_enabled",
    "cloudtrail_trail_bucket_access_logging_enabled",
)

# Management events for reads and writes, and S3 object writes (not reads) in every bucket.
AUDIT_SELECTORS = [
    {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
    {"Name": "s3-object-writes", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "readOnly", "Equals": ["false"]}]},
]


def audit_trail_name(ctx: SeedContext) -> str:
    return ctx.name("audit-trail")


def audit_log_group(ctx: SeedContext) -> str:
    return f"/{ctx.prefix}/cloudtrail"


def ensure_audit_trail(ctx: SeedContext) -> tuple[str, str]:
    """The audit trail's (home region, log group name), creating the trail if it does not exist yet:
    a logging multi-region trail with log file validation, KMS, CloudWatch Logs and a logged bucket."""
    home = ctx.regions[0]
    ct = ctx.client("cloudtrail", home)
    name, group = audit_trail_name(ctx), audit_log_group(ctx)
    try:
        ct.get_trail(Name=name)
        return home, group
    except ct.exceptions.TrailNotFoundException:
        pass
    bucket = _bucket(ctx, home, "audit-trail", logged=True)
    key = ctx.client("kms", home).create_key(Description="demo: CloudTrail log encryption")["KeyMetadata"]["Arn"]
    logs = ctx.client("logs", home)
    logs.create_log_group(logGroupName=group, kmsKeyId=key)
    logs.put_retention_policy(logGroupName=group, retentionInDays=365)
    ct.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=True, EnableLogFileValidation=True,
                    KmsKeyId=key, CloudWatchLogsLogGroupArn=f"arn:aws:logs:{home}:{ctx.account_id}:log-group:{group}:*",
                    CloudWatchLogsRoleArn=f"arn:aws:iam::{ctx.account_id}:role/{ctx.name('cloudtrail-logs')}")
    ct.start_logging(Name=name)
    ct.put_event_selectors(TrailName=name, AdvancedEventSelectors=AUDIT_SELECTORS)
    return home, group


def _bucket(ctx: SeedContext, region: str, label: str, *, logged: bool) -> str:
    """A bucket for trail logs; `logged` ones write their own server access logs."""
    name = f"{ctx.prefix}-{ctx.account_id}-{region}-{label}"
    s3 = ctx.client("s3", region)
    where: dict[str, Any] = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    if logged:
        # The log-delivery group's grants are what lets S3 deliver access logs into the bucket.
        s3.create_bucket(Bucket=name, ACL="log-delivery-write", **where)
        s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": name, "TargetPrefix": "access-logs/"}})
    else:
        s3.create_bucket(Bucket=name, **where)
    return name


@seeder("cloudtrail", scope="global", order=40)
def seed_cloudtrail(ctx: SeedContext, region: str) -> None:
    """The audit trail (good), and in each region an unlogged single-region trail with nothing set (bad)."""
    home, _ = ensure_audit_trail(ctx)
    for check_id in TRAIL_CHECKS:
        ctx.expect(check_id, home, audit_trail_name(ctx), PASS)

    for where in ctx.regions:
        bucket = _bucket(ctx, where, "bare-trail", logged=False)
        name = ctx.name("bare-trail", where)
        # Created but never started: not logging, no validation, no KMS, no CloudWatch Logs.
        ctx.client("cloudtrail", where).create_trail(Name=name, S3BucketName=bucket)
        for check_id in TRAIL_CHECKS:
            ctx.expect(check_id, where, name, FAIL)

    g = GLOBAL_REGION
    ctx.expect("cloudtrail_multi_region_trail_enabled", g, ctx.account_id, PASS)
    ctx.expect("cloudtrail_s3_object_write_events_logged", g, ctx.account_id, PASS)
    ctx.expect("cloudtrail_s3_object_read_events_logged", g, ctx.account_id, FAIL)
