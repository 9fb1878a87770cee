"""SQS checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and the demo
estate's SQS expectations."""

from __future__ import annotations

import json

from tests.conftest import estate_mismatches, findings_for, inject_failure, status_of

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"


def _queue(aws, name: str = "jobs", **attributes: str) -> str:
    aws.client("sqs").create_queue(QueueName=name, Attributes=attributes)
    return name


def _policy(principal, condition: dict | None = None) -> str:
    statement = {"Sid": "Send", "Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage",
                 "Resource": QUEUE_ARN}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


# -- queue policy --

def test_queue_policy_restricted_by_source_arn_passes_public_policy_check(aws):
    queue = _queue(aws, Policy=_policy("*", {"ArnEquals": {
        "aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:orders"}}))
    findings = aws.scan("sqs")
    assert status_of(findings, "sqs_queue_policy_public_access_prohibited", queue) == "PASS"
    assert findings_for(findings, "sqs_queue_policy_public_access_prohibited", queue)[0].resource_arn == QUEUE_ARN


def test_queue_without_policy_passes_public_policy_check(aws):
    queue = _queue(aws)
    assert status_of(aws.scan("sqs"), "sqs_queue_policy_public_access_prohibited", queue) == "PASS"


def test_queue_policy_open_to_anyone_fails_public_policy_check(aws):
    queue = _queue(aws, Policy=_policy("*"))
    assert status_of(aws.scan("sqs"), "sqs_queue_policy_public_access_prohibited", queue) == "FAIL"


# -- encryption --

def test_queue_with_sqs_managed_encryption_passes_encryption_check(aws):
    # New queues have SSE-SQS on (as in AWS).
    queue = _queue(aws)
    assert status_of(aws.scan("sqs"), "sqs_queue_encrypted", queue) == "PASS"


def test_queue_with_kms_key_passes_encryption_check(aws):
    queue = _queue(aws, KmsMasterKeyId="alias/aws/sqs", SqsManagedSseEnabled="false")
    assert status_of(aws.scan("sqs"), "sqs_queue_encrypted", queue) == "PASS"


def test_queue_without_encryption_fails_encryption_check(aws):
    queue = _queue(aws, SqsManagedSseEnabled="false")
    findings = aws.scan("sqs")
    assert status_of(findings, "sqs_queue_encrypted", queue) == "FAIL"
    assert findings_for(findings, "sqs_queue_encrypted", queue)[0].frameworks == {"aws-fsbp": ["SQS.1"]}


# -- errors --

def test_queue_whose_attributes_cannot_be_read_reports_error_not_pass(aws):
    queue = _queue(aws)
    inject_failure(aws, "GetQueueAttributes")
    findings = aws.scan("sqs")
    assert status_of(findings, "sqs_queue_policy_public_access_prohibited", queue) == "ERROR"
    assert status_of(findings, "sqs_queue_encrypted", queue) == "ERROR"


# -- demo estate --

def test_demo_estate_seeder_matches_sqs_checks(aws):
    assert estate_mismatches(aws, "sqs") == []
