"""Lambda checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and the
demo estate's Lambda expectations. Functions are created from an in-memory zip (no Docker needed)."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, time, timedelta

import pytest

from engine.checks.lambda_ import DEPRECATED_RUNTIMES
from engine.sandbox.estate.lambda_ import LAMBDA_TRUST, handler_zip
from tests.conftest import estate_mismatches, findings_for, inject_failure, status_of

CODE = handler_zip()


def _function(aws, name: str = "fn", runtime: str = "python3.12", **kwargs) -> str:
    iam = aws.client("iam")
    try:
        role = iam.get_role(RoleName="fn-exec")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="fn-exec", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    aws.client("lambda").create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="index.handler",
                                         Code={"ZipFile": CODE}, **kwargs)
    return name


# -- runtime --

def test_function_on_current_runtime_passes_runtime_check(aws):
    fn = _function(aws, runtime="python3.13")
    assert status_of(aws.scan("lambda"), "lambda_function_runtime_supported", fn) == "PASS"


def test_function_on_deprecated_runtime_fails_runtime_check(aws):
    fn = _function(aws, runtime="python3.7")
    findings = aws.scan("lambda")
    assert status_of(findings, "lambda_function_runtime_supported", fn) == "FAIL"
    finding = findings_for(findings, "lambda_function_runtime_supported", fn)[0]
    assert "2023-12-04" in finding.message
    assert finding.frameworks == {"aws-fsbp": ["Lambda.2"]}


@pytest.mark.parametrize("runtime", ["ruby3.2", "nodejs20.x", "dotnet8"])
def test_runtime_with_announced_deprecation_fails_only_once_scan_time_passes_it(aws, runtime):
    fn = _function(aws, name=runtime.replace(".", "-"), runtime=runtime)
    deprecated_on = DEPRECATED_RUNTIMES[runtime]
    before = datetime.combine(deprecated_on - timedelta(days=1), time(12), tzinfo=UTC)
    after = datetime.combine(deprecated_on, time(12), tzinfo=UTC)
    assert status_of(aws.scan("lambda", scan_time=before), "lambda_function_runtime_supported", fn) == "PASS"
    assert status_of(aws.scan("lambda", scan_time=after), "lambda_function_runtime_supported", fn) == "FAIL"


# -- resource policy --

def test_function_invokable_by_a_service_for_one_account_passes_public_policy_check(aws):
    fn = _function(aws)
    aws.client("lambda").add_permission(FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction",
                                        Principal="s3.amazonaws.com", SourceAccount="123456789012")
    assert status_of(aws.scan("lambda"), "lambda_function_policy_public_access_prohibited", fn) == "PASS"


def test_function_without_policy_passes_public_policy_check(aws):
    fn = _function(aws)
    assert status_of(aws.scan("lambda"), "lambda_function_policy_public_access_prohibited", fn) == "PASS"


def test_function_invokable_by_anyone_fails_public_policy_check(aws):
    fn = _function(aws)
    aws.client("lambda").add_permission(FunctionName=fn, StatementId="anyone", Action="lambda:InvokeFunction",
                                        Principal="*")
    findings = aws.scan("lambda")
    assert status_of(findings, "lambda_function_policy_public_access_prohibited", fn) == "FAIL"
    assert "anyone" in findings_for(findings, "lambda_function_policy_public_access_prohibited", fn)[0].message


# -- function URL --

def test_function_url_with_iam_auth_passes_url_auth_check(aws):
    fn = _function(aws)
    aws.client("lambda").create_function_url_config(FunctionName=fn, AuthType="AWS_IAM")
    assert status_of(aws.scan("lambda"), "lambda_function_url_auth_required", fn) == "PASS"


def test_function_without_url_passes_url_auth_check(aws):
    fn = _function(aws)
    assert status_of(aws.scan("lambda"), "lambda_function_url_auth_required", fn) == "PASS"


def test_function_url_without_auth_fails_url_auth_check(aws):
    fn = _function(aws)
    aws.client("lambda").create_function_url_config(FunctionName=fn, AuthType="NONE")
    assert status_of(aws.scan("lambda"), "lambda_function_url_auth_required", fn) == "FAIL"


# -- environment secrets --

def test_function_env_with_secret_references_passes_plaintext_secret_check(aws):
    fn = _function(aws, Environment={"Variables": {
        "DB_PASSWORD_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        "API_KEY_PARAM": "arn:aws:ssm:us-east-1:123456789012:parameter/app/api-key",
        "SMTP_PASSWORD": "", "LOG_LEVEL": "info"}})
    assert status_of(aws.scan("lambda"), "lambda_function_env_no_plaintext_secrets", fn) == "PASS"


def test_function_env_with_plaintext_password_fails_plaintext_secret_check(aws):
    fn = _function(aws, Environment={"Variables": {"db_password": "hunter2", "LOG_LEVEL": "info"}})
    findings = aws.scan("lambda")
    assert status_of(findings, "lambda_function_env_no_plaintext_secrets", fn) == "FAIL"
    message = findings_for(findings, "lambda_function_env_no_plaintext_secrets", fn)[0].message
    assert "db_password" in message and "hunter2" not in message


def test_function_env_with_access_key_id_under_any_name_fails_plaintext_secret_check(aws):
    fn = _function(aws, Environment={"Variables": {"UPLOADER": "AKIAIOSFODNN7EXAMPLE"}})
    findings = aws.scan("lambda")
    assert status_of(findings, "lambda_function_env_no_plaintext_secrets", fn) == "FAIL"
    assert "AKIA" not in findings_for(findings, "lambda_function_env_no_plaintext_secrets", fn)[0].message


# -- architecture --

def test_arm64_function_passes_architecture_check(aws):
    fn = _function(aws, Architectures=["arm64"])
    assert status_of(aws.scan("lambda"), "lambda_function_arm64_architecture", fn) == "PASS"


def test_x86_function_fails_architecture_check(aws):
    fn = _function(aws)
    assert status_of(aws.scan("lambda"), "lambda_function_arm64_architecture", fn) == "FAIL"


# -- errors --

def test_function_whose_policy_cannot_be_read_reports_error_not_pass(aws):
    fn = _function(aws)
    # Lambda is a REST API: the sandbox keys its faults by method and path.
    inject_failure(aws, f"GET /2015-03-31/functions/{fn}/policy")
    findings = aws.scan("lambda")
    assert status_of(findings, "lambda_function_policy_public_access_prohibited", fn) == "ERROR"
    assert status_of(findings, "lambda_function_url_auth_required", fn) == "PASS"
    assert status_of(findings, "lambda_function_runtime_supported", fn) == "PASS"


def test_failing_function_listing_reports_error_for_every_check(aws):
    _function(aws)
    inject_failure(aws, "GET /2015-03-31/functions")
    findings = aws.scan("lambda")
    assert len(findings) == 5 and {f.status.value for f in findings} == {"ERROR"}


def test_scan_never_fetches_function_code(aws):
    # GetFunction answers with a presigned code URL; the collector needs neither.
    fn = _function(aws)
    aws.scan("lambda")
    stats = json.loads(urllib.request.urlopen(aws.endpoint + "/_sandbox/stats", timeout=10).read())
    assert f"GET /2015-03-31/functions/{fn}" not in stats["by_action"]


# -- demo estate --

def test_demo_estate_seeder_matches_lambda_checks(aws):
    assert estate_mismatches(aws, "lambda") == []
