"""GuardDuty checks against the emulator: PASS and FAIL, the ERROR path and the demo estate's
expectations."""

from __future__ import annotations

from tests.checks.test_cloudtrail import inject_throttling
from tests.conftest import ACCOUNT, estate_mismatches, findings_for, status_of

DETECTOR = "guardduty_detector_enabled"


def test_enabled_detector_passes(aws):
    aws.client("guardduty").create_detector(Enable=True)
    findings = aws.scan("guardduty")
    assert status_of(findings, DETECTOR, ACCOUNT) == "PASS"
    assert findings_for(findings, DETECTOR)[0].resource_type == "AWS::::Account"


def test_region_without_detector_fails(aws):
    assert status_of(aws.scan("guardduty"), DETECTOR, ACCOUNT) == "FAIL"


def test_suspended_detector_fails(aws):
    aws.client("guardduty").create_detector(Enable=False)
    assert status_of(aws.scan("guardduty"), DETECTOR, ACCOUNT) == "FAIL"


def test_unreadable_detector_reports_error_never_pass(aws):
    detector = aws.client("guardduty").create_detector(Enable=True)["DetectorId"]
    # GetDetector is a REST call: the emulator keys its faults by method and path.
    inject_throttling(aws, f"GET /detector/{detector}", 1000)
    findings = aws.scan("guardduty")
    assert status_of(findings, DETECTOR, ACCOUNT) == "ERROR"
    assert "GetDetector" in findings_for(findings, DETECTOR)[0].message


def test_demo_estate_seeder_matches_guardduty_checks(emulator):
    assert estate_mismatches(emulator, "guardduty") == []
