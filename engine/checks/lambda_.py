"""Lambda checks: deprecated runtimes, public resource policies, unauthenticated function URLs,
secrets in environment variables and the Graviton (arm64) architecture."""

from __future__ import annotations

from datetime import UTC, date

from engine.checks import CheckContext, Result, check
from engine.collectors.lambda_ import Function
from engine.policydoc import public_statement_ids

# Lambda's deprecation date of each deprecated (or announced) runtime, from AWS's published schedule
# (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html). A runtime is deprecated from
# its date on, so an announced future date starts failing only once the scan time passes it.
# Re-check the schedule before each release.
DEPRECATED_RUNTIMES: dict[str, date] = {
    "nodejs": date(2016, 10, 31),
    "nodejs4.3": date(2020, 3, 5),
    "nodejs4.3-edge": date(2019, 4, 30),
    "nodejs6.10": date(2019, 8, 12),
    "nodejs8.10": date(2020, 3, 6),
    "nodejs10.x": date(2021, 7, 30),
    "nodejs12.x": date(2023, 3, 31),
    "nodejs14.x": date(2023, 12, 4),
    "nodejs16.x": date(2024, 6, 12),
    "nodejs18.x": date(2025, 9, 1),
    "nodejs20.x": date(2026, 4, 30),
    "python2.7": date(2021, 7, 15),
    "python3.6": date(2022, 7, 18),
    "python3.7": date(2023, 12, 4),
    "python3.8": date(2024, 10, 14),
    "python3.9": date(2025, 12, 15),
    "ruby2.5": date(2021, 7, 30),
    "ruby2.7": date(2023, 12, 7),
    "ruby3.2": date(2026, 3, 31),
    "java8": date(2024, 1, 8),
    "go1.x": date(2024, 1, 8),
    "provided": date(2024, 1, 8),
    "dotnetcore1.0": date(2019, 6, 27),
    "dotnetcore2.0": date(2019, 5, 30),
    "dotnetcore2.1": date(2022, 1, 5),
    "dotnetcore3.1": date(2023, 4, 3),
    "dotnet6": date(2024, 12, 20),
    "dotnet8": date(2026, 11, 10),
}

# Substrings of an environment variable name (upper-cased) that say the value is a secret.
SECRET_NAME_MARKERS = ("PASSWORD", "PASSWD", "SECRET", "PRIVATE_KEY", "API_KEY")


def _scan_date(ctx: CheckContext) -> date:
    """The scan's UTC date (a naive scan time is taken as UTC)."""
    t = ctx.scan_time
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC).date()


@check(id="lambda_function_runtime_supported", service="lambda", resource_type="AWS::Lambda::Function",
       scope="regional", severity="high", pillar="security", frameworks={"aws-fsbp": ["Lambda.2"]},
       title="Lambda function uses a supported runtime",
       risk="Deprecated runtimes no longer receive security patches, and functions on them eventually cannot "
            "be updated.",
       remediation="Update the function code for a supported runtime, then in the Lambda console open the "
                   "function, Code, 'Runtime settings', choose Edit and select the new runtime. CLI: aws lambda "
                   "update-function-configuration --function-name <function> --runtime <runtime, e.g. "
                   "python3.13>",
       over="functions")
def lambda_function_runtime_supported(fn: Function, ctx: CheckContext) -> Result | None:
    # Container-image functions bring their own runtime: not evaluated.
    if not fn.runtime:
        return None
    deprecated_on = DEPRECATED_RUNTIMES.get(fn.runtime)
    if deprecated_on is None:
        return Result.passed(f"Lambda function {fn.id} uses runtime {fn.runtime}, which is not deprecated.")
    if _scan_date(ctx) >= deprecated_on:
        return Result.failed(f"Lambda function {fn.id} uses runtime {fn.runtime}, deprecated since "
                             f"{deprecated_on.isoformat()}.")
    return Result.passed(f"Lambda function {fn.id} uses runtime {fn.runtime}, supported until its announced "
                         f"deprecation on {deprecated_on.isoformat()}.")


@check(id="lambda_function_policy_public_access_prohibited", service="lambda",
       resource_type="AWS::Lambda::Function", scope="regional", severity="critical", pillar="security",
       frameworks={"aws-fsbp": ["Lambda.1"]},
       title="Lambda function policy does not allow public access",
       risk="A resource policy statement that allows any principal without conditions lets anyone invoke or "
            "manage the function.",
       remediation="In the Lambda console open the function, Configuration, Permissions, 'Resource-based "
                   "policy statements', and delete the statements whose principal is \"*\" (re-add them with a "
                   "specific principal or a source ARN/account condition). CLI: aws lambda remove-permission "
                   "--function-name <function> --statement-id <sid>",
       over="functions", needs=("policy",))
def lambda_function_policy_public_access_prohibited(fn: Function, ctx: CheckContext) -> Result:
    public = public_statement_ids(fn.policy)
    if public:
        return Result.failed(f"Lambda function {fn.id} policy has public statement(s) {', '.join(public)}.")
    return Result.passed(f"Lambda function {fn.id} policy has no public statement.")


@check(id="lambda_function_url_auth_required", service="lambda", resource_type="AWS::Lambda::Function",
       scope="regional", severity="high", pillar="security",
       title="Lambda function URL requires IAM authentication",
       risk="A function URL with auth type NONE lets anyone on the internet invoke the function.",
       remediation="In the Lambda console open the function, Configuration, 'Function URL', choose Edit and "
                   "select auth type AWS_IAM (or delete the URL). CLI: aws lambda update-function-url-config "
                   "--function-name <function> --auth-type AWS_IAM",
       over="functions", needs=("url_auth_type",))
def lambda_function_url_auth_required(fn: Function, ctx: CheckContext) -> Result:
    if fn.url_auth_type is None:
        return Result.passed(f"Lambda function {fn.id} has no function URL.")
    if fn.url_auth_type == "NONE":
        return Result.failed(f"Lambda function {fn.id} has a function URL that anyone can invoke (auth type NONE).")
    return Result.passed(f"Lambda function {fn.id} function URL requires {fn.url_auth_type} authentication.")


@check(id="lambda_function_env_no_plaintext_secrets", service="lambda", resource_type="AWS::Lambda::Function",
       scope="regional", severity="high", pillar="security",
       title="Lambda function environment variables hold no plaintext secrets",
       risk="Environment variables are readable by anyone who can read the function configuration; secrets "
            "stored there leak through the console, the API and deployment tooling.",
       remediation="Store the secret in AWS Secrets Manager or SSM Parameter Store, give the function's role "
                   "read access to it, put the secret's ARN in the variable and fetch the value at run time; "
                   "rotate any exposed credential. In the Lambda console open the function, Configuration, "
                   "'Environment variables', choose Edit and replace the value. CLI: aws lambda "
                   "update-function-configuration --function-name <function> --environment "
                   "'Variables={DB_PASSWORD_SECRET_ARN=<secret-arn>}'",
       over="functions")
def lambda_function_env_no_plaintext_secrets(fn: Function, ctx: CheckContext) -> Result:
    flagged = []
    for var in fn.environment:
        secret_name = any(marker in var.name.upper() for marker in SECRET_NAME_MARKERS)
        if var.access_key_id or (secret_name and not var.empty and not var.secret_reference):
            flagged.append(var.name)
    if flagged:
        # Names only: a finding must never repeat the secret.
        return Result.failed(f"Lambda function {fn.id} environment variable(s) {', '.join(flagged)} appear to "
                             "hold plaintext secrets.")
    return Result.passed(f"Lambda function {fn.id} environment variables hold no apparent plaintext secret.")


@check(id="lambda_function_arm64_architecture", service="lambda", resource_type="AWS::Lambda::Function",
       scope="regional", severity="informational", pillar="sustainability",
       title="Lambda function runs on the arm64 (Graviton) architecture",
       risk="x86_64 functions use more energy and cost more per unit of compute than the same code on "
            "Graviton (arm64).",
       remediation="Check that the code and its dependencies support arm64, then in the Lambda console open "
                   "the function, Code, 'Runtime settings', choose Edit and select arm64. CLI: aws lambda "
                   "update-function-code --function-name <function> --architectures arm64 --zip-file "
                   "fileb://function.zip",
       over="functions")
def lambda_function_arm64_architecture(fn: Function, ctx: CheckContext) -> Result:
    if "arm64" not in fn.architectures:
        return Result.failed(f"Lambda function {fn.id} runs on {', '.join(fn.architectures)}, not arm64.")
    return Result.passed(f"Lambda function {fn.id} runs on arm64.")
