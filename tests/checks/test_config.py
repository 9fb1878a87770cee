"""AWS Config checks against the emulator: PASS and FAIL per check, the ERROR path and the demo
estate's expectations."""

from __future__ import annotations

from tests.checks.test_cloudtrail import inject_throttling
from tests.conftest import ACCOUNT, estate_mismatches, findings_for, status_of

RECORDER = "config_recorder_enabled"


def _recorder(aws, *, all_supported: bool = True, start: bool = True) -> None:
    cfg = aws.client("config")
    group = {"allSupported": all_supported, "includeGlobalResourceTypes": all_supported}
    if not all_supported:
        group["resourceTypes"] = ["AWS::S3::Bucket"]
    cfg.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config-recorder", "recordingGroup": group})
    if start:
        cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-history"})
        cfg.start_configuration_recorder(ConfigurationRecorderName="default")


def test_recorder_recording_all_supported_resources_passes(aws):
    _recorder(aws)
    findings = aws.scan("config")
    assert status_of(findings, RECORDER, ACCOUNT) == "PASS"
    assert findings_for(findings, RECORDER)[0].region == "us-east-1"


def test_region_without_recorder_fails(aws):
    assert status_of(aws.scan("config"), RECORDER, ACCOUNT) == "FAIL"


def test_recorder_that_is_not_recording_fails(aws):
    _recorder(aws, start=False)
    assert status_of(aws.scan("config"), RECORDER, ACCOUNT) == "FAIL"


def test_recorder_of_selected_resource_types_only_fails(aws):
    _recorder(aws, all_supported=False)
    findings = aws.scan("config")
    assert status_of(findings, RECORDER, ACCOUNT) == "FAIL"
    assert "all supported" in findings_for(findings, RECORDER)[0].message


def test_unreadable_recorder_status_reports_error(aws):
    _recorder(aws)
    inject_throttling(aws, "DescribeConfigurationRecorderStatus", 1000)
    assert status_of(aws.scan("config"), RECORDER, ACCOUNT) == "ERROR"


def test_demo_estate_seeder_matches_config_checks(emulator):
    assert estate_mismatches(emulator, "config") == []
