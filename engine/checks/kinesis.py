"""Kinesis Data Streams checks: server-side encryption and retention."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.kinesis import Stream


@check(id="kinesis_stream_encrypted", service="kinesis", resource_type="AWS::Kinesis::Stream",
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["Kinesis.1"]},
       title="Kinesis stream is encrypted at rest",
       risk="Records in an unencrypted stream are stored in clear text, so anyone with access to the "
            "underlying storage or a leaked backup can read them.",
       remediation="In the Kinesis console open the stream, Configuration, Encryption, Edit, turn on "
                   "server-side encryption with the AWS managed key (aws/kinesis) or a customer managed key "
                   "and save. CLI: aws kinesis start-stream-encryption --stream-name <stream> "
                   "--encryption-type KMS --key-id alias/aws/kinesis",
       over="streams", needs=("encryption_type",))
def kinesis_stream_encrypted(stream: Stream, ctx: CheckContext) -> Result:
    if (stream.encryption_type or "NONE").upper() == "NONE":
        return Result.failed(f"Kinesis stream {stream.id} is not encrypted at rest.")
    return Result.passed(f"Kinesis stream {stream.id} is encrypted at rest ({stream.encryption_type}).")


@check(id="kinesis_stream_retention_168_hours", service="kinesis", resource_type="AWS::Kinesis::Stream",
       scope="regional", severity="low", pillar="reliability", frameworks={"aws-fsbp": ["Kinesis.3"]},
       title="Kinesis stream retains data for at least 168 hours",
       risk="With a short retention period, records not consumed in time (for example during a consumer "
            "outage) are lost before they can be reprocessed.",
       remediation="In the Kinesis console open the stream, Configuration, Data retention, Edit, set at least "
                   "7 days (168 hours) and save. CLI: aws kinesis increase-stream-retention-period "
                   "--stream-name <stream> --retention-period-hours 168",
       over="streams", needs=("retention_hours",))
def kinesis_stream_retention_168_hours(stream: Stream, ctx: CheckContext) -> Result | None:
    if stream.retention_hours is None:
        return None
    minimum = int(ctx.param("kinesis_stream_retention_168_hours", "hours", 168))
    if stream.retention_hours < minimum:
        return Result.failed(f"Kinesis stream {stream.id} retains data for {stream.retention_hours} hours, "
                             f"less than {minimum}.")
    return Result.passed(f"Kinesis stream {stream.id} retains data for {stream.retention_hours} hours.")
