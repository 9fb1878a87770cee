"""Organizations checks against the emulator: PASS and FAIL tests, the ERROR path, and the demo
estate's Organizations seeder."""

from __future__ import annotations

import json
import urllib.request

from engine.credentials import AwsOptions, account_session
from engine.model import Unit
from engine.runtime.unit import run_unit
from engine.sandbox.estate import seed_demo_estate
from tests.conftest import ACCOUNT, findings_for, status_of

REGIONS = ("us-east-1", "eu-west-1")
CHECK = "organizations_account_in_organization"


def _fail(aws, action: str, count: int = 1) -> None:
    """Make the next `count` calls of `action` answer AccessDenied (not retried, so fast)."""
    spec = {"fail": {action: {"code": "AccessDeniedException", "status": 400, "count": count}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def test_account_in_an_organization_passes(aws):
    org = aws.client("organizations").create_organization(FeatureSet="ALL")["Organization"]
    findings = aws.scan("organizations")
    assert status_of(findings, CHECK, ACCOUNT) == "PASS"
    [finding] = findings_for(findings, CHECK)
    assert finding.region == "global"
    assert org["Id"] in finding.message


def test_account_in_no_organization_fails(aws):
    findings = aws.scan("organizations")
    assert status_of(findings, CHECK, ACCOUNT) == "FAIL"
    assert findings_for(findings, CHECK)[0].severity.value == "informational"


def test_failed_describe_organization_reports_error(aws):
    _fail(aws, "DescribeOrganization")
    assert status_of(aws.scan("organizations"), CHECK, ACCOUNT) == "ERROR"


def test_demo_estate_seeder_matches_organizations_checks(aws):
    manifest = seed_demo_estate(aws.server, accounts=1, regions=REGIONS, services=("organizations",))
    account = manifest.accounts[0]
    session = account_session(account, AwsOptions(endpoint_url=aws.endpoint, role_name=manifest.role_name,
                                                  external_id=manifest.external_id, api_rate_per_s=0))
    findings = run_unit(Unit(account, "global", "organizations"), session, scanned_regions=REGIONS,
                        threads=4).findings
    got = {(f.check_id, f.region, f.resource_id): f.status.value for f in findings}
    assert got == {(e.check_id, e.region, e.resource_id): e.status for e in manifest.expectations
                   if e.check_id.startswith("organizations_")}
