"""SNS checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and the demo
estate's SNS expectations."""

from __future__ import annotations

import json

from tests.conftest import estate_mismatches, findings_for, inject_failure, status_of


def _topic(aws, name: str = "orders", **attributes: str) -> str:
    aws.client("sns").create_topic(Name=name, Attributes=attributes)
    return name


def _policy(principal, condition: dict | None = None) -> str:
    statement = {"Sid": "Publish", "Effect": "Allow", "Principal": principal, "Action": "SNS:Publish",
                 "Resource": "arn:aws:sns:us-east-1:123456789012:orders"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


# -- topic policy --

def test_topic_with_default_policy_passes_public_policy_check(aws):
    # The default policy allows "*" but only with an AWS:SourceOwner condition.
    topic = _topic(aws)
    findings = aws.scan("sns")
    assert status_of(findings, "sns_topic_policy_public_access_prohibited", topic) == "PASS"
    assert findings_for(findings, "sns_topic_policy_public_access_prohibited", topic)[0].resource_arn == \
        "arn:aws:sns:us-east-1:123456789012:orders"


def test_topic_policy_open_to_anyone_fails_public_policy_check(aws):
    topic = _topic(aws, Policy=_policy({"AWS": "*"}))
    findings = aws.scan("sns")
    assert status_of(findings, "sns_topic_policy_public_access_prohibited", topic) == "FAIL"
    assert "Publish" in findings_for(findings, "sns_topic_policy_public_access_prohibited", topic)[0].message


# -- encryption --

def test_topic_with_kms_key_passes_encryption_check(aws):
    topic = _topic(aws, KmsMasterKeyId="alias/aws/sns")
    assert status_of(aws.scan("sns"), "sns_topic_kms_encrypted", topic) == "PASS"


def test_topic_without_kms_key_fails_encryption_check(aws):
    topic = _topic(aws)
    findings = aws.scan("sns")
    assert status_of(findings, "sns_topic_kms_encrypted", topic) == "FAIL"
    assert findings_for(findings, "sns_topic_kms_encrypted", topic)[0].frameworks == {"aws-fsbp": ["SNS.1"]}


# -- errors --

def test_topic_whose_attributes_cannot_be_read_reports_error_not_pass(aws):
    topic = _topic(aws, KmsMasterKeyId="alias/aws/sns")
    inject_failure(aws, "GetTopicAttributes")
    findings = aws.scan("sns")
    assert status_of(findings, "sns_topic_policy_public_access_prohibited", topic) == "ERROR"
    assert status_of(findings, "sns_topic_kms_encrypted", topic) == "ERROR"
    assert "AccessDenied" in findings_for(findings, "sns_topic_kms_encrypted", topic)[0].message


# -- demo estate --

def test_demo_estate_seeder_matches_sns_checks(aws):
    assert estate_mismatches(aws, "sns") == []
