"""Security Hub checks against the emulator: PASS and FAIL, the ERROR path and the demo estate's
expectations."""

from __future__ import annotations

from tests.checks.test_cloudtrail import inject_throttling
from tests.conftest import ACCOUNT, estate_mismatches, findings_for, status_of

HUB = "securityhub_hub_enabled"


def test_enabled_hub_passes(aws):
    aws.client("securityhub").enable_security_hub()
    findings = aws.scan("securityhub")
    assert status_of(findings, HUB, ACCOUNT) == "PASS"
    assert findings_for(findings, HUB)[0].region == "us-east-1"


def test_account_not_subscribed_fails_not_errors(aws):
    # DescribeHub answers InvalidAccessException: "not enabled" is data.
    assert status_of(aws.scan("securityhub"), HUB, ACCOUNT) == "FAIL"


def test_unreadable_hub_reports_error(aws):
    aws.client("securityhub").enable_security_hub()
    # DescribeHub is a REST call: the emulator keys its faults by method and path.
    inject_throttling(aws, "GET /accounts", 1000)
    assert status_of(aws.scan("securityhub"), HUB, ACCOUNT) == "ERROR"


def test_demo_estate_seeder_matches_securityhub_checks(emulator):
    assert estate_mismatches(emulator, "securityhub") == []
