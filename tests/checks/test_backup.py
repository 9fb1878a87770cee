"""AWS Backup checks against the emulator: PASS and FAIL tests, the ERROR path, and the demo estate's
Backup seeder."""

from __future__ import annotations

import json
import urllib.request

from engine.credentials import AwsOptions, account_session
from engine.model import Unit
from engine.runtime.unit import run_unit
from engine.sandbox.estate import seed_demo_estate
from tests.conftest import ACCOUNT, findings_for, status_of

REGIONS = ("us-east-1", "eu-west-1")
CHECK = "backup_plan_exists"


def _fail(aws, action: str, count: int = 1) -> None:
    """Make the next `count` calls of `action` answer AccessDenied (not retried, so fast)."""
    spec = {"fail": {action: {"code": "AccessDeniedException", "status": 403, "count": count}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _plan(aws, region: str = "us-east-1") -> None:
    aws.client("backup", region).create_backup_plan(BackupPlan={
        "BackupPlanName": "cs-daily", "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "Default",
                                                 "ScheduleExpression": "cron(0 5 * * ? *)"}]})


def test_region_with_a_backup_plan_passes(aws):
    _plan(aws)
    findings = aws.scan("backup")
    assert status_of(findings, CHECK, ACCOUNT) == "PASS"
    [finding] = findings_for(findings, CHECK)
    assert (finding.region, finding.resource_type) == ("us-east-1", "AWS::::Account")
    assert "cs-daily" in finding.message


def test_region_without_a_backup_plan_fails(aws):
    # A plan in another region does not cover this one.
    _plan(aws, "eu-west-1")
    assert status_of(aws.scan("backup", "us-east-1"), CHECK, ACCOUNT) == "FAIL"


def test_failed_plan_listing_reports_error(aws):
    _plan(aws)
    _fail(aws, "GET /backup/plans/")
    assert status_of(aws.scan("backup"), CHECK, ACCOUNT) == "ERROR"


def test_demo_estate_seeder_matches_backup_checks(aws):
    manifest = seed_demo_estate(aws.server, accounts=1, regions=REGIONS, services=("backup",))
    account = manifest.accounts[0]
    session = account_session(account, AwsOptions(endpoint_url=aws.endpoint, role_name=manifest.role_name,
                                                  external_id=manifest.external_id, api_rate_per_s=0))
    findings = [f for region in REGIONS for f in
                run_unit(Unit(account, region, "backup"), session, scanned_regions=REGIONS, threads=4).findings]
    got = {(f.check_id, f.region, f.resource_id): f.status.value for f in findings}
    assert len(got) == len(findings)
    assert got == {(e.check_id, e.region, e.resource_id): e.status for e in manifest.expectations
                   if e.check_id.startswith("backup_")}
