"""Demo estate: Lambda functions (per region), with the execution role each region's functions use."""

from __future__ import annotations

import io
import json
import zipfile

from engine.model import GLOBAL_REGION
from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

FUNCTION_CHECKS = (
    "lambda_function_runtime_supported",
    "lambda_function_policy_public_access_prohibited",
    "lambda_function_url_auth_required",
    "lambda_function_env_no_plaintext_secrets",
    "lambda_function_arm64_architecture",
)
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def handler_zip() -> bytes:
    """A deployment package with a one-line Python handler, built in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buf.getvalue()


_CODE = handler_zip()


@seeder("lambda")
def seed_lambda(ctx: SeedContext, region: str) -> None:
    """A function failing every Lambda check (deprecated runtime, public policy, open URL, a password in
    its environment, x86_64) and one passing them all."""
    # The emulator only creates functions whose role exists; IAM is global, so one role per region.
    role_name = ctx.name("lambda-exec", region)
    role = ctx.client("iam").create_role(RoleName=role_name, AssumeRolePolicyDocument=LAMBDA_TRUST,
                                         Description="demo: Lambda execution role")["Role"]["Arn"]
    ctx.expect("iam_role_trust_no_public_principal", GLOBAL_REGION, role_name, PASS)
    lam = ctx.client("lambda", region)

    bad = ctx.name("legacy-fn")
    lam.create_function(FunctionName=bad, Runtime="python3.9", Role=role, Handler="index.handler",
                        Code={"ZipFile": _CODE}, Architectures=["x86_64"],
                        Environment={"Variables": {"DB_PASSWORD": "hunter2", "LOG_LEVEL": "debug"}})
    lam.add_permission(FunctionName=bad, StatementId="AnyoneMayInvoke", Action="lambda:InvokeFunction",
                       Principal="*")
    lam.create_function_url_config(FunctionName=bad, AuthType="NONE")
    for check_id in FUNCTION_CHECKS:
        ctx.expect(check_id, region, bad, FAIL)

    good = ctx.name("modern-fn")
    secret_arn = f"arn:aws:secretsmanager:{region}:{ctx.account_id}:secret:{ctx.name('db')}-AbCdEf"
    lam.create_function(FunctionName=good, Runtime="python3.12", Role=role, Handler="index.handler",
                        Code={"ZipFile": _CODE}, Architectures=["arm64"],
                        Environment={"Variables": {"DB_PASSWORD_SECRET_ARN": secret_arn, "LOG_LEVEL": "info"}})
    # Granted to a service with a source-account condition: not public.
    lam.add_permission(FunctionName=good, StatementId="S3MayInvoke", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceAccount=ctx.account_id)
    lam.create_function_url_config(FunctionName=good, AuthType="AWS_IAM")
    for check_id in FUNCTION_CHECKS:
        ctx.expect(check_id, region, good, PASS)
