"""Demo estate: S3 buckets (per region)."""

from __future__ import annotations

import json
from typing import Any

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

# Every S3 check that evaluates a bucket (CHECKS.md, section S3).
BUCKET_CHECKS = (
    "s3_bucket_public_access_blocked",
    "s3_bucket_acl_public_read_prohibited",
    "s3_bucket_acl_public_write_prohibited",
    "s3_bucket_policy_public_access_prohibited",
    "s3_bucket_default_encryption_enabled",
    "s3_bucket_versioning_enabled",
    "s3_bucket_secure_transport_required",
    "s3_bucket_server_access_logging_enabled",
    "s3_bucket_acls_disabled",
    "s3_bucket_lifecycle_configured",
)



@seeder("s3", order=20)
def seed_s3(ctx: SeedContext, region: str) -> None:
    """A public-read bucket, a bucket with nothing configured, and a bucket that passes every check."""
    s3 = ctx.client("s3", region)
    stem = f"{ctx.prefix}-{ctx.account_id}-{region}"
    where = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}

    public = f"{stem}-public"
    s3.create_bucket(Bucket=public, ACL="public-read", **where)
    plain = f"{stem}-plain"
    s3.create_bucket(Bucket=plain, **where)
    # Neither bad bucket has any setting configured: every bucket check fails on both, except the
    # public-write and public-policy ones (no write grant, no policy), and public-read on `plain`.
    for name in (public, plain):
        for check_id in BUCKET_CHECKS:
            ok = check_id in ("s3_bucket_acl_public_write_prohibited",
                              "s3_bucket_policy_public_access_prohibited")
            if check_id == "s3_bucket_acl_public_read_prohibited":
                ok = name == plain
            ctx.expect(check_id, region, name, PASS if ok else FAIL)

    good = f"{stem}-good"
    s3.create_bucket(Bucket=good, ObjectOwnership="BucketOwnerEnforced", **where)
    s3.put_bucket_encryption(Bucket=good, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_versioning(Bucket=good, VersioningConfiguration={"Status": "Enabled"})
    # The policy goes in before the public access block and the logging set-up: it both requires
    # TLS and grants the logging service the write that server access logging needs.
    s3.put_bucket_policy(Bucket=good, Policy=json.dumps(_good_bucket_policy(good)))
    s3.put_public_access_block(Bucket=good, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_logging(Bucket=good, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": good, "TargetPrefix": "access-logs/"}})
    s3.put_bucket_lifecycle_configuration(Bucket=good, LifecycleConfiguration={"Rules": [{
        "ID": "expire-old-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}]})
    for check_id in BUCKET_CHECKS:
        ctx.expect(check_id, region, good, PASS)



def _good_bucket_policy(bucket: str) -> dict[str, Any]:
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            # {"AWS": "*"} rather than "*": moto's logging permission check expects a dict principal.
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
             "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "AllowServerAccessLogs", "Effect": "Allow",
             "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": f"{arn}/access-logs/*"},
        ],
    }

