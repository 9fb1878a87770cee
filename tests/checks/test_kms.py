"""KMS checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and the demo
estate's KMS expectations.

This module also holds the two helpers the other test modules of its batch (Lambda, SNS, SQS, Secrets
Manager, ECR, ECS) share: `inject_failure` and `estate_mismatches`."""

from __future__ import annotations

import json
from datetime import UTC

from tests.conftest import estate_mismatches, findings_for, inject_failure, status_of


def _key(aws, **kwargs) -> str:
    return aws.client("kms").create_key(**kwargs)["KeyMetadata"]["KeyId"]


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ROOT = {"Sid": "EnableRoot", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*", "Resource": "*"}


# -- rotation --

def test_key_with_rotation_enabled_passes_rotation_check(aws):
    key = _key(aws)
    aws.client("kms").enable_key_rotation(KeyId=key)
    assert status_of(aws.scan("kms"), "kms_key_rotation_enabled", key) == "PASS"


def test_key_without_rotation_fails_rotation_check(aws):
    key = _key(aws)
    aws.client("kms").create_alias(AliasName="alias/orders", TargetKeyId=key)
    findings = aws.scan("kms")
    assert status_of(findings, "kms_key_rotation_enabled", key) == "FAIL"
    finding = findings_for(findings, "kms_key_rotation_enabled", key)[0]
    assert "alias/orders" in finding.message
    assert finding.resource_arn == f"arn:aws:kms:us-east-1:123456789012:key/{key}"
    assert finding.frameworks == {"cis-aws-3.0": ["3.6"], "aws-securityhub": ["KMS.4"]}


def test_keys_that_cannot_rotate_are_not_evaluated_for_rotation(aws):
    # The emulator answers false for these instead of an error (CHECKS.md, Emulator notes).
    asymmetric = _key(aws, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    imported = _key(aws, Origin="EXTERNAL")
    disabled = _key(aws)
    aws.client("kms").disable_key(KeyId=disabled)
    findings = aws.scan("kms")
    for key in (asymmetric, imported, disabled):
        assert findings_for(findings, "kms_key_rotation_enabled", key) == []
        assert status_of(findings, "kms_key_policy_public_access_prohibited", key) == "PASS"


def test_key_behind_an_aws_alias_is_not_evaluated(aws):
    # Using alias/aws/s3 makes the emulator create that AWS-managed key, labelled CUSTOMER.
    managed = aws.client("kms").describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"]
    mine = _key(aws)
    findings = aws.scan("kms")
    assert findings_for(findings, "kms_key_rotation_enabled", managed) == []
    assert findings_for(findings, "kms_key_policy_public_access_prohibited", managed) == []
    assert status_of(findings, "kms_key_rotation_enabled", mine) == "FAIL"


# -- pending deletion --

def test_enabled_key_passes_pending_deletion_check(aws):
    key = _key(aws)
    assert status_of(aws.scan("kms"), "kms_key_not_pending_deletion", key) == "PASS"


def test_key_scheduled_for_deletion_fails_pending_deletion_check(aws):
    key = _key(aws)
    deletion = aws.client("kms").schedule_key_deletion(KeyId=key, PendingWindowInDays=7)["DeletionDate"]
    findings = aws.scan("kms")
    assert status_of(findings, "kms_key_not_pending_deletion", key) == "FAIL"
    assert deletion.astimezone(UTC).strftime("%Y-%m-%d") in \
        findings_for(findings, "kms_key_not_pending_deletion", key)[0].message
    assert findings_for(findings, "kms_key_rotation_enabled", key) == []


# -- key policy --

def test_key_with_default_policy_passes_public_policy_check(aws):
    key = _key(aws)
    assert status_of(aws.scan("kms"), "kms_key_policy_public_access_prohibited", key) == "PASS"


def test_key_policy_with_conditioned_wildcard_principal_passes_public_policy_check(aws):
    key = _key(aws, Policy=_policy(ROOT, {
        "Sid": "OrgOnly", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}))
    assert status_of(aws.scan("kms"), "kms_key_policy_public_access_prohibited", key) == "PASS"


def test_key_policy_open_to_anyone_fails_public_policy_check(aws):
    key = _key(aws, Policy=_policy(ROOT, {"Sid": "Anyone", "Effect": "Allow", "Principal": "*",
                                          "Action": "kms:Decrypt", "Resource": "*"}))
    findings = aws.scan("kms")
    assert status_of(findings, "kms_key_policy_public_access_prohibited", key) == "FAIL"
    assert "Anyone" in findings_for(findings, "kms_key_policy_public_access_prohibited", key)[0].message


# -- errors --

def test_key_whose_policy_cannot_be_read_reports_error_not_pass(aws):
    key = _key(aws)
    inject_failure(aws, "GetKeyPolicy")
    findings = aws.scan("kms")
    assert status_of(findings, "kms_key_policy_public_access_prohibited", key) == "ERROR"
    assert "AccessDenied" in findings_for(findings, "kms_key_policy_public_access_prohibited", key)[0].message
    # The other checks had their data.
    assert status_of(findings, "kms_key_not_pending_deletion", key) == "PASS"
    assert status_of(findings, "kms_key_rotation_enabled", key) == "FAIL"


def test_key_that_cannot_be_described_reports_error_for_every_check(aws):
    key = _key(aws)
    inject_failure(aws, "DescribeKey")
    findings = aws.scan("kms")
    assert status_of(findings, "kms_key_rotation_enabled", key) == "ERROR"
    assert status_of(findings, "kms_key_not_pending_deletion", key) == "ERROR"
    assert status_of(findings, "kms_key_policy_public_access_prohibited", key) == "ERROR"


# -- demo estate --

def test_demo_estate_seeder_matches_kms_checks(aws):
    assert estate_mismatches(aws, "kms") == []
