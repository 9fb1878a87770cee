"""Demo estate: IAM (global)."""

from __future__ import annotations

import json

from engine.model import GLOBAL_REGION
from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

ADMIN_POLICY = "cs-demo-full-admin"
CONSOLE_USER = "cs-demo-console-user"
KEYS_USER = "cs-demo-two-keys-user"


@seeder("iam", scope="global", order=10)
def seed_iam(ctx: SeedContext, region: str) -> None:
    """Console user without MFA and an unused key, a two-key user with a `*:*` policy, a weak password
    policy; and the account-level S3 public access block left absent."""
    iam = ctx.client("iam", "us-east-1")
    g = GLOBAL_REGION
    # A console user without MFA whose one access key was never used.
    iam.create_user(UserName=CONSOLE_USER)
    iam.create_login_profile(UserName=CONSOLE_USER, Password="Demo-Password-123!")
    iam.create_access_key(UserName=CONSOLE_USER)
    ctx.expect("iam_user_console_mfa_enabled", g, CONSOLE_USER, FAIL)
    ctx.expect("iam_user_console_no_unused_access_key", g, CONSOLE_USER, FAIL)
    ctx.expect("iam_user_single_active_access_key", g, CONSOLE_USER, PASS)
    ctx.expect("iam_user_no_direct_policies", g, CONSOLE_USER, PASS)

    # A programmatic user with two active keys and a directly attached admin policy.
    iam.create_user(UserName=KEYS_USER)
    iam.create_access_key(UserName=KEYS_USER)
    iam.create_access_key(UserName=KEYS_USER)
    admin = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName=ADMIN_POLICY, PolicyDocument=json.dumps(admin))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=KEYS_USER, PolicyArn=arn)
    ctx.expect("iam_user_single_active_access_key", g, KEYS_USER, FAIL)
    ctx.expect("iam_user_no_direct_policies", g, KEYS_USER, FAIL)
    ctx.expect("iam_policy_no_full_admin_attached", g, ADMIN_POLICY, FAIL)

    # A weak password policy: short, no symbols, reuse allowed.
    iam.update_account_password_policy(MinimumPasswordLength=6, RequireSymbols=False, RequireNumbers=True,
                                       RequireUppercaseCharacters=True, RequireLowercaseCharacters=True)
    for check_id in ("iam_password_policy_min_length_14", "iam_password_policy_reuse_24",
                     "iam_password_policy_strong"):
        ctx.expect(check_id, g, ctx.account_id, FAIL)

    # Nothing to create: the account-level S3 public access block is absent by default.
    ctx.expect("s3_account_public_access_blocked", g, ctx.account_id, FAIL)

