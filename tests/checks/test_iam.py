"""IAM checks against the emulator (global unit: findings carry region `global`)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from engine.collectors.iam import normalise_document
from tests.conftest import ACCOUNT, Aws, findings_for, status_of

ADMIN_DOC = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
LIMITED_DOC = json.dumps({"Version": "2012-10-17",
                          "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
SUPPORT_POLICY_ARN = "arn:aws:iam::aws:policy/AWSSupportAccess"


def _trust(principal: Any, condition: dict[str, Any] | None = None) -> str:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        stmt["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]})


ACCOUNT_TRUST = _trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})


def _iam_backend() -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[ACCOUNT]["global"]


def _throttle(aws: Aws, action: str, times: int) -> None:
    body = json.dumps({"throttle": {action: times}}).encode()
    req = urllib.request.Request(f"{aws.endpoint}/_sandbox/faults", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _console_user(iam: Any, name: str) -> None:
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="Correct-Horse-9-Battery!")


@pytest.fixture
def iam(aws: Aws) -> Iterator[Any]:
    yield aws.client("iam")


# ---- root account [backend] ----

def test_root_with_mfa_passes_root_mfa_check(aws: Aws, iam: Any) -> None:
    iam.get_account_summary()  # creates the account's IAM backend
    _iam_backend().account_summary._account_mfa_enabled = 1
    findings = aws.scan("iam")
    assert status_of(findings, "iam_root_mfa_enabled", ACCOUNT) == "PASS"
    assert findings_for(findings, "iam_root_mfa_enabled")[0].region == "global"


def test_root_without_mfa_fails_root_mfa_check(aws: Aws) -> None:
    assert status_of(aws.scan("iam"), "iam_root_mfa_enabled", ACCOUNT) == "FAIL"


def test_root_without_access_keys_passes_root_key_check(aws: Aws) -> None:
    assert status_of(aws.scan("iam"), "iam_root_access_key_absent", ACCOUNT) == "PASS"


def test_root_with_access_key_fails_root_key_check(aws: Aws, iam: Any) -> None:
    iam.get_account_summary()
    _iam_backend().account_summary._account_access_keys_present = 1
    assert status_of(aws.scan("iam"), "iam_root_access_key_absent", ACCOUNT) == "FAIL"


# ---- password policy ----

PASSWORD_CHECKS = ("iam_password_policy_min_length_14", "iam_password_policy_reuse_24",
                   "iam_password_policy_strong")


def test_strong_password_policy_passes_password_checks(aws: Aws, iam: Any) -> None:
    iam.update_account_password_policy(MinimumPasswordLength=14, PasswordReusePrevention=24,
                                       RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
                                       RequireNumbers=True, RequireSymbols=True)
    findings = aws.scan("iam")
    assert {status_of(findings, c, ACCOUNT) for c in PASSWORD_CHECKS} == {"PASS"}


def test_missing_password_policy_fails_password_checks(aws: Aws) -> None:
    findings = aws.scan("iam")
    assert {status_of(findings, c, ACCOUNT) for c in PASSWORD_CHECKS} == {"FAIL"}


def test_short_password_policy_fails_min_length_check_only(aws: Aws, iam: Any) -> None:
    iam.update_account_password_policy(MinimumPasswordLength=10, PasswordReusePrevention=24,
                                       RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
                                       RequireNumbers=True, RequireSymbols=True)
    findings = aws.scan("iam")
    assert status_of(findings, "iam_password_policy_min_length_14", ACCOUNT) == "FAIL"
    assert status_of(findings, "iam_password_policy_strong", ACCOUNT) == "PASS"


def test_low_reuse_prevention_fails_reuse_check(aws: Aws, iam: Any) -> None:
    iam.update_account_password_policy(MinimumPasswordLength=14, PasswordReusePrevention=5)
    assert status_of(aws.scan("iam"), "iam_password_policy_reuse_24", ACCOUNT) == "FAIL"


def test_policy_without_symbols_fails_strong_password_check(aws: Aws, iam: Any) -> None:
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireUppercaseCharacters=True,
                                       RequireLowercaseCharacters=True, RequireNumbers=True,
                                       RequireSymbols=False)
    assert status_of(aws.scan("iam"), "iam_password_policy_strong", ACCOUNT) == "FAIL"


# ---- credential report ----

def test_console_user_with_mfa_passes_console_mfa_check(aws: Aws, iam: Any) -> None:
    _console_user(iam, "alice")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    iam.create_user(UserName="robot")  # no console password: nothing to protect with MFA
    findings = aws.scan("iam")
    assert status_of(findings, "iam_user_console_mfa_enabled", "alice") == "PASS"
    assert status_of(findings, "iam_user_console_mfa_enabled", "robot") == "PASS"


def test_console_user_without_mfa_fails_console_mfa_check(aws: Aws, iam: Any) -> None:
    _console_user(iam, "bob")
    findings = aws.scan("iam")
    assert status_of(findings, "iam_user_console_mfa_enabled", "bob") == "FAIL"
    f = findings_for(findings, "iam_user_console_mfa_enabled", "bob")[0]
    assert (f.resource_type, f.resource_arn, f.region) == (
        "AWS::IAM::User", f"arn:aws:iam::{ACCOUNT}:user/bob", "global")


def test_console_user_with_used_access_key_passes_unused_key_check(aws: Aws, iam: Any) -> None:
    _console_user(iam, "alice")
    iam.create_access_key(UserName="alice")
    # Moto records no key use; set it on the backend as the emulator notes allow.
    _iam_backend().users["alice"].access_keys[0].last_used = datetime.now(UTC)
    assert status_of(aws.scan("iam"), "iam_user_console_no_unused_access_key", "alice") == "PASS"


def test_console_user_with_never_used_access_key_fails_unused_key_check(aws: Aws, iam: Any) -> None:
    _console_user(iam, "bob")
    iam.create_access_key(UserName="bob")
    assert status_of(aws.scan("iam"), "iam_user_console_no_unused_access_key", "bob") == "FAIL"


def test_recently_created_credentials_pass_unused_credentials_check(aws: Aws, iam: Any) -> None:
    _console_user(iam, "alice")
    iam.create_access_key(UserName="alice")
    assert status_of(aws.scan("iam"), "iam_user_no_unused_credentials_45_days", "alice") == "PASS"


def test_credentials_unused_for_50_days_fail_unused_credentials_check(aws: Aws, iam: Any) -> None:
    _console_user(iam, "bob")
    later = datetime.now(UTC) + timedelta(days=50)
    findings = aws.scan("iam", scan_time=later)
    assert status_of(findings, "iam_user_no_unused_credentials_45_days", "bob") == "FAIL"


# ---- access keys ----

def test_new_access_key_passes_rotation_check(aws: Aws, iam: Any) -> None:
    key = iam.create_access_key(UserName=iam.create_user(UserName="alice")["User"]["UserName"])["AccessKey"]
    findings = aws.scan("iam")
    assert status_of(findings, "iam_user_access_key_rotated_90_days", key["AccessKeyId"]) == "PASS"
    (finding,) = findings_for(findings, "iam_user_access_key_rotated_90_days")
    assert finding.resource_type == "AWS::IAM::AccessKey"


def test_access_key_100_days_old_fails_rotation_check(aws: Aws, iam: Any) -> None:
    iam.create_user(UserName="bob")
    key = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    later = datetime.now(UTC) + timedelta(days=100)
    assert status_of(aws.scan("iam", scan_time=later), "iam_user_access_key_rotated_90_days", key) == "FAIL"


def test_user_with_one_active_key_passes_single_key_check(aws: Aws, iam: Any) -> None:
    iam.create_user(UserName="alice")
    iam.create_access_key(UserName="alice")
    inactive = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="alice", AccessKeyId=inactive, Status="Inactive")
    assert status_of(aws.scan("iam"), "iam_user_single_active_access_key", "alice") == "PASS"


def test_user_with_two_active_keys_fails_single_key_check(aws: Aws, iam: Any) -> None:
    iam.create_user(UserName="bob")
    iam.create_access_key(UserName="bob")
    iam.create_access_key(UserName="bob")
    assert status_of(aws.scan("iam"), "iam_user_single_active_access_key", "bob") == "FAIL"


def test_access_key_listing_failure_reports_error_not_pass(aws: Aws, iam: Any) -> None:
    iam.create_user(UserName="carol")
    iam.create_access_key(UserName="carol")
    _throttle(aws, "ListAccessKeys", 20)
    findings = aws.scan("iam")
    assert status_of(findings, "iam_user_single_active_access_key", "carol") == "ERROR"
    assert status_of(findings, "iam_user_access_key_rotated_90_days", "carol") == "ERROR"
    # Checks that do not need the keys still evaluate.
    assert status_of(findings, "iam_user_no_direct_policies", "carol") == "PASS"


def test_account_summary_failure_reports_error_for_root_checks(aws: Aws) -> None:
    _throttle(aws, "GetAccountSummary", 20)
    findings = aws.scan("iam")
    assert status_of(findings, "iam_root_mfa_enabled", ACCOUNT) == "ERROR"
    assert status_of(findings, "iam_root_access_key_absent", ACCOUNT) == "ERROR"
    assert status_of(findings, "iam_password_policy_strong", ACCOUNT) == "FAIL"


# ---- policies ----

def test_user_with_group_permissions_only_passes_direct_policy_check(aws: Aws, iam: Any) -> None:
    iam.create_user(UserName="alice")
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="read", PolicyDocument=LIMITED_DOC)
    iam.add_user_to_group(GroupName="readers", UserName="alice")
    assert status_of(aws.scan("iam"), "iam_user_no_direct_policies", "alice") == "PASS"


def test_user_with_attached_policy_fails_direct_policy_check(aws: Aws, iam: Any) -> None:
    iam.create_user(UserName="bob")
    arn = iam.create_policy(PolicyName="read", PolicyDocument=LIMITED_DOC)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="bob", PolicyArn=arn)
    assert status_of(aws.scan("iam"), "iam_user_no_direct_policies", "bob") == "FAIL"


def test_attached_limited_policy_passes_admin_policy_check(aws: Aws, iam: Any) -> None:
    arn = iam.create_policy(PolicyName="read", PolicyDocument=LIMITED_DOC)["Policy"]["Arn"]
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ACCOUNT_TRUST)
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    iam.create_policy(PolicyName="unused-admin", PolicyDocument=ADMIN_DOC)  # not attached: not evaluated
    findings = aws.scan("iam")
    assert status_of(findings, "iam_policy_no_full_admin_attached", "read") == "PASS"
    assert findings_for(findings, "iam_policy_no_full_admin_attached", "unused-admin") == []


def test_attached_admin_policy_default_version_fails_admin_policy_check(aws: Aws, iam: Any) -> None:
    arn = iam.create_policy(PolicyName="admin", PolicyDocument=LIMITED_DOC)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN_DOC, SetAsDefault=True)
    iam.create_group(GroupName="ops")
    iam.attach_group_policy(GroupName="ops", PolicyArn=arn)
    findings = aws.scan("iam")
    assert status_of(findings, "iam_policy_no_full_admin_attached", "admin") == "FAIL"
    assert findings_for(findings, "iam_policy_no_full_admin_attached", "admin")[0].resource_arn == arn


def test_limited_inline_policy_passes_inline_admin_check(aws: Aws, iam: Any) -> None:
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="read", PolicyDocument=LIMITED_DOC)
    findings = aws.scan("iam")
    assert status_of(findings, "iam_inline_policy_no_full_admin", "readers") == "PASS"
    (finding,) = findings_for(findings, "iam_inline_policy_no_full_admin", "readers")
    assert finding.resource_type == "AWS::IAM::Group"


def test_admin_inline_policy_fails_inline_admin_check(aws: Aws, iam: Any) -> None:
    iam.create_role(RoleName="ops", AssumeRolePolicyDocument=ACCOUNT_TRUST)
    iam.put_role_policy(RoleName="ops", PolicyName="everything", PolicyDocument=ADMIN_DOC)
    iam.create_user(UserName="bob")
    iam.put_user_policy(UserName="bob", PolicyName="everything", PolicyDocument=ADMIN_DOC)
    findings = aws.scan("iam")
    assert status_of(findings, "iam_inline_policy_no_full_admin", "ops") == "FAIL"
    assert status_of(findings, "iam_inline_policy_no_full_admin", "bob") == "FAIL"
    inline = findings_for(findings, "iam_inline_policy_no_full_admin")
    types = {f.resource_id: f.resource_type for f in inline}
    assert types == {"ops": "AWS::IAM::Role", "bob": "AWS::IAM::User"}


# ---- support role [env] ----

def test_role_with_support_access_passes_support_role_check(aws: Aws, iam: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # The IAM backend is rebuilt lazily after the reset: the first call below loads the AWS
    # managed policies, because the variable is set before it.
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    iam.create_role(RoleName="support", AssumeRolePolicyDocument=ACCOUNT_TRUST)
    iam.attach_role_policy(RoleName="support", PolicyArn=SUPPORT_POLICY_ARN)
    assert iam.get_policy(PolicyArn=SUPPORT_POLICY_ARN)["Policy"]["AttachmentCount"] == 1
    findings = aws.scan("iam")
    assert status_of(findings, "iam_support_role_exists", ACCOUNT) == "PASS"
    # AWS managed policies are not evaluated as customer policies.
    assert findings_for(findings, "iam_policy_no_full_admin_attached") == []


def test_account_without_support_role_fails_support_role_check(aws: Aws) -> None:
    assert status_of(aws.scan("iam"), "iam_support_role_exists", ACCOUNT) == "FAIL"


# ---- role trust ----

def test_role_trusting_an_account_passes_public_trust_check(aws: Aws, iam: Any) -> None:
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=ACCOUNT_TRUST)
    iam.create_role(RoleName="partner", AssumeRolePolicyDocument=_trust(
        {"AWS": "*"}, {"StringEquals": {"sts:ExternalId": "abc"}}))
    findings = aws.scan("iam")
    assert status_of(findings, "iam_role_trust_no_public_principal", "app") == "PASS"
    assert status_of(findings, "iam_role_trust_no_public_principal", "partner") == "PASS"


def test_role_trusting_everyone_fails_public_trust_check(aws: Aws, iam: Any) -> None:
    iam.create_role(RoleName="open", AssumeRolePolicyDocument=_trust({"AWS": ["*"]}))
    iam.create_role(RoleName="star", AssumeRolePolicyDocument=_trust("*"))
    findings = aws.scan("iam")
    assert status_of(findings, "iam_role_trust_no_public_principal", "open") == "FAIL"
    assert status_of(findings, "iam_role_trust_no_public_principal", "star") == "FAIL"


# ---- collector helpers ----

def test_policy_documents_are_normalised_from_url_encoded_strings() -> None:
    doc = json.loads(ADMIN_DOC)
    assert normalise_document(quote(ADMIN_DOC)) == doc
    assert normalise_document(ADMIN_DOC) == doc
    assert normalise_document(doc) is doc
    assert normalise_document(None) is None


def test_credential_report_failure_reports_error_for_report_checks(aws: Aws, iam: Any) -> None:
    _console_user(iam, "dave")
    _throttle(aws, "GenerateCredentialReport", 20)
    findings = aws.scan("iam")
    for check_id in ("iam_user_console_mfa_enabled", "iam_user_console_no_unused_access_key",
                     "iam_user_no_unused_credentials_45_days"):
        assert status_of(findings, check_id, "dave") == "ERROR"
    assert status_of(findings, "iam_user_no_direct_policies", "dave") == "PASS"
