"""Demo estate: SNS topics (per region)."""

from __future__ import annotations

import json

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

TOPIC_CHECKS = ("sns_topic_policy_public_access_prohibited", "sns_topic_kms_encrypted")


@seeder("sns")
def seed_sns(ctx: SeedContext, region: str) -> None:
    """An unencrypted topic anyone may publish to, and an encrypted topic with the default policy."""
    sns = ctx.client("sns", region)
    bad = ctx.name("open-topic")
    arn = f"arn:aws:sns:{region}:{ctx.account_id}:{bad}"
    sns.create_topic(Name=bad, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AnyoneMayPublish", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:Publish",
        "Resource": arn}]})})
    for check_id in TOPIC_CHECKS:
        ctx.expect(check_id, region, bad, FAIL)

    good = ctx.name("sealed-topic")
    sns.create_topic(Name=good, Attributes={"KmsMasterKeyId": "alias/aws/sns"})
    for check_id in TOPIC_CHECKS:
        ctx.expect(check_id, region, good, PASS)
