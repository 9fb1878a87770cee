"""Demo estate: KMS keys (per region)."""

from __future__ import annotations

import json

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

ROTATION = "kms_key_rotation_enabled"
PENDING = "kms_key_not_pending_deletion"
PUBLIC = "kms_key_policy_public_access_prohibited"


def _public_policy(account_id: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "EnableRoot", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "AnyoneMayDecrypt", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
    ]})


@seeder("kms")
def seed_kms(ctx: SeedContext, region: str) -> None:
    """A rotating key with the default policy, a non-rotating key open to anyone, and a key scheduled
    for deletion."""
    kms = ctx.client("kms", region)

    good = kms.create_key(Description=f"{ctx.prefix}: rotating, default policy")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=good)
    kms.create_alias(AliasName=f"alias/{ctx.name('good')}", TargetKeyId=good)
    for check_id in (ROTATION, PENDING, PUBLIC):
        ctx.expect(check_id, region, good, PASS)

    public = kms.create_key(Description=f"{ctx.prefix}: no rotation, public policy",
                            Policy=_public_policy(ctx.account_id))["KeyMetadata"]["KeyId"]
    ctx.expect(ROTATION, region, public, FAIL)
    ctx.expect(PUBLIC, region, public, FAIL)
    ctx.expect(PENDING, region, public, PASS)

    doomed = kms.create_key(Description=f"{ctx.prefix}: scheduled for deletion")["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=30)
    # A key pending deletion is not evaluated for rotation (no finding).
    ctx.expect(PENDING, region, doomed, FAIL)
    ctx.expect(PUBLIC, region, doomed, PASS)
