"""Demo estate: SQS queues (per region)."""

from __future__ import annotations

import json

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

QUEUE_CHECKS = ("sqs_queue_policy_public_access_prohibited", "sqs_queue_encrypted")


@seeder("sqs")
def seed_sqs(ctx: SeedContext, region: str) -> None:
    """An unencrypted queue anyone may send to, and a KMS-encrypted queue with an account-only policy."""
    sqs = ctx.client("sqs", region)
    bad = ctx.name("open-queue")
    arn = f"arn:aws:sqs:{region}:{ctx.account_id}:{bad}"
    sqs.create_queue(QueueName=bad, Attributes={"SqsManagedSseEnabled": "false", "Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Sid": "AnyoneMaySend", "Effect": "Allow", "Principal": "*",
                                                "Action": "sqs:SendMessage", "Resource": arn}]})})
    for check_id in QUEUE_CHECKS:
        ctx.expect(check_id, region, bad, FAIL)

    good = ctx.name("sealed-queue")
    good_arn = f"arn:aws:sqs:{region}:{ctx.account_id}:{good}"
    sqs.create_queue(QueueName=good, Attributes={"KmsMasterKeyId": "alias/aws/sqs", "Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "AccountMaySend", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ctx.account_id}:root"},
            "Action": "sqs:SendMessage", "Resource": good_arn}]})})
    for check_id in QUEUE_CHECKS:
        ctx.expect(check_id, region, good, PASS)
