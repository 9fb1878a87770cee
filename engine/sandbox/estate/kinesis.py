"""Demo estate: Kinesis Data Streams (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

CHECKS = ("kinesis_stream_encrypted", "kinesis_stream_retention_168_hours")


@seeder("kinesis")
def seed_kinesis(ctx: SeedContext, region: str) -> None:
    """An unencrypted stream with the default 24-hour retention, and an encrypted 7-day stream."""
    kinesis = ctx.client("kinesis", region)
    bad, good = ctx.name("stream-plain"), ctx.name("stream-good")
    kinesis.create_stream(StreamName=bad, ShardCount=1)
    kinesis.create_stream(StreamName=good, ShardCount=1)
    kinesis.start_stream_encryption(StreamName=good, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    kinesis.increase_stream_retention_period(StreamName=good, RetentionPeriodHours=168)
    for check_id in CHECKS:
        ctx.expect(check_id, region, bad, FAIL)
        ctx.expect(check_id, region, good, PASS)
