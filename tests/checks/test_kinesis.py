"""Kinesis checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and the
demo estate's Kinesis seeder."""

from __future__ import annotations

import json
import urllib.request

from engine.credentials import AwsOptions, account_session
from engine.model import Unit
from engine.runtime.unit import run_unit
from engine.sandbox.estate import seed_demo_estate
from tests.conftest import status_of

REGIONS = ("us-east-1", "eu-west-1")
ENCRYPTED = "kinesis_stream_encrypted"
RETENTION = "kinesis_stream_retention_168_hours"


def _fail(aws, action: str, count: int = 1) -> None:
    """Make the next `count` calls of `action` answer AccessDenied (not retried, so fast)."""
    spec = {"fail": {action: {"code": "AccessDeniedException", "status": 400, "count": count}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _stream(aws, name: str, *, encrypted: bool = True, retention_hours: int = 168) -> str:
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    if encrypted:
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    if retention_hours > 24:
        kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=retention_hours)
    return name


def test_encrypted_week_long_stream_passes_both_checks(aws):
    stream = _stream(aws, "cs-good")
    findings = aws.scan("kinesis")
    assert status_of(findings, ENCRYPTED, stream) == "PASS"
    assert status_of(findings, RETENTION, stream) == "PASS"


def test_unencrypted_stream_fails_encryption_check(aws):
    stream = _stream(aws, "cs-plain", encrypted=False)
    assert status_of(aws.scan("kinesis"), ENCRYPTED, stream) == "FAIL"


def test_stream_with_default_retention_fails_retention_check(aws):
    stream = _stream(aws, "cs-short", retention_hours=24)
    findings = aws.scan("kinesis")
    assert status_of(findings, RETENTION, stream) == "FAIL"
    # The threshold is a parameter.
    relaxed = aws.scan("kinesis", params={RETENTION: {"hours": 24}})
    assert status_of(relaxed, RETENTION, stream) == "PASS"


def test_failed_stream_summary_reports_error_never_pass(aws):
    stream = _stream(aws, "cs-good")
    _fail(aws, "DescribeStreamSummary")
    findings = aws.scan("kinesis")
    assert status_of(findings, ENCRYPTED, stream) == "ERROR"
    assert status_of(findings, RETENTION, stream) == "ERROR"


def test_demo_estate_seeder_matches_kinesis_checks(aws):
    manifest = seed_demo_estate(aws.server, accounts=1, regions=REGIONS, services=("kinesis",))
    account = manifest.accounts[0]
    session = account_session(account, AwsOptions(endpoint_url=aws.endpoint, role_name=manifest.role_name,
                                                  external_id=manifest.external_id, api_rate_per_s=0))
    findings = [f for region in REGIONS for f in
                run_unit(Unit(account, region, "kinesis"), session, scanned_regions=REGIONS,
                         threads=4).findings]
    got = {(f.check_id, f.region, f.resource_id): f.status.value for f in findings}
    assert len(got) == len(findings)
    assert got == {(e.check_id, e.region, e.resource_id): e.status for e in manifest.expectations
                   if e.check_id.startswith("kinesis_")}
