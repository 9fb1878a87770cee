"""Demo estate: CloudWatch Logs (per region). A log group with retention and a KMS key, and one with
neither."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

LOG_GROUP_CHECKS = ("logs_log_group_retention_set", "logs_log_group_kms_encrypted")


@seeder("logs", order=42)
def seed_logs(ctx: SeedContext, region: str) -> None:
    """A kept-forever plaintext log group (bad) and a retained, KMS-encrypted one (good)."""
    logs = ctx.client("logs", region)
    bare = f"/{ctx.prefix}/app/plaintext-forever"
    logs.create_log_group(logGroupName=bare)
    good = f"/{ctx.prefix}/app/encrypted-retained"
    key = ctx.client("kms", region).create_key(Description="demo: log group encryption")["KeyMetadata"]["Arn"]
    logs.create_log_group(logGroupName=good, kmsKeyId=key)
    logs.put_retention_policy(logGroupName=good, retentionInDays=90)
    for check_id in LOG_GROUP_CHECKS:
        ctx.expect(check_id, region, bare, FAIL)
        ctx.expect(check_id, region, good, PASS)
