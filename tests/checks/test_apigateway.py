"""API Gateway checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and
the demo estate's API Gateway seeder."""

from __future__ import annotations

import json
import urllib.request

from engine.credentials import AwsOptions, account_session
from engine.model import Unit
from engine.runtime.unit import run_unit
from engine.sandbox.estate import seed_demo_estate
from tests.conftest import findings_for, status_of

REGIONS = ("us-east-1", "eu-west-1")
LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:api-access"
EXECUTION = "apigateway_stage_execution_logging_enabled"
ACCESS = "apigateway_stage_access_logging_enabled"
TRACING = "apigateway_stage_xray_tracing_enabled"


def _fail(aws, action: str, count: int = 1) -> None:
    """Make the next `count` calls of `action` answer AccessDenied (not retried, so fast)."""
    spec = {"fail": {action: {"code": "AccessDenied", "status": 403, "count": count}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _stage(aws, *, log_level: str | None = "INFO", access_logs: bool = True, tracing: bool = True) -> str:
    """A REST API with one deployed stage `prod` configured as asked; return the stage's resource id."""
    apigw = aws.client("apigateway")
    api = apigw.create_rest_api(name="cs-api")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigw.create_deployment(restApiId=api)["id"]
    apigw.create_stage(restApiId=api, stageName="prod", deploymentId=deployment, tracingEnabled=tracing)
    patches = []
    if log_level:
        patches.append({"op": "replace", "path": "/*/*/logging/loglevel", "value": log_level})
    if access_logs:
        patches += [{"op": "replace", "path": "/accessLogSettings/destinationArn", "value": LOG_GROUP},
                    {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"}]
    if patches:
        apigw.update_stage(restApiId=api, stageName="prod", patchOperations=patches)
    return f"{api}/prod"


def test_stage_with_logging_and_tracing_passes_all_stage_checks(aws):
    stage = _stage(aws)
    findings = aws.scan("apigateway")
    for check_id in (EXECUTION, ACCESS, TRACING):
        assert status_of(findings, check_id, stage) == "PASS", check_id
    assert findings_for(findings, EXECUTION)[0].resource_type == "AWS::ApiGateway::Stage"


def test_stage_without_execution_logging_fails_execution_logging_check(aws):
    stage = _stage(aws, log_level=None)
    findings = aws.scan("apigateway")
    assert status_of(findings, EXECUTION, stage) == "FAIL"
    assert status_of(findings, ACCESS, stage) == "PASS"


def test_stage_with_execution_logging_off_fails_execution_logging_check(aws):
    stage = _stage(aws, log_level="OFF")
    assert status_of(aws.scan("apigateway"), EXECUTION, stage) == "FAIL"


def test_stage_without_access_log_destination_fails_access_logging_check(aws):
    stage = _stage(aws, access_logs=False)
    findings = aws.scan("apigateway")
    assert status_of(findings, ACCESS, stage) == "FAIL"
    assert status_of(findings, EXECUTION, stage) == "PASS"


def test_stage_without_tracing_fails_xray_check(aws):
    stage = _stage(aws, tracing=False)
    findings = aws.scan("apigateway")
    assert status_of(findings, TRACING, stage) == "FAIL"
    assert status_of(findings, EXECUTION, stage) == "PASS"


def test_failed_stage_listing_reports_error_on_the_api(aws):
    api = _stage(aws).split("/")[0]
    _fail(aws, f"GET /restapis/{api}/stages")
    findings = aws.scan("apigateway")
    for check_id in (EXECUTION, ACCESS, TRACING):
        [finding] = findings_for(findings, check_id)
        assert (finding.resource_id, finding.status.value) == (api, "ERROR"), check_id
        assert finding.resource_type == "AWS::ApiGateway::RestApi"


def test_demo_estate_seeder_matches_apigateway_checks(aws):
    manifest = seed_demo_estate(aws.server, accounts=1, regions=REGIONS, services=("apigateway",))
    account = manifest.accounts[0]
    session = account_session(account, AwsOptions(endpoint_url=aws.endpoint, role_name=manifest.role_name,
                                                  external_id=manifest.external_id, api_rate_per_s=0))
    findings = [f for region in REGIONS for f in
                run_unit(Unit(account, region, "apigateway"), session, scanned_regions=REGIONS,
                         threads=4).findings]
    got = {(f.check_id, f.region, f.resource_id): f.status.value for f in findings}
    assert len(got) == len(findings)
    assert got == {(e.check_id, e.region, e.resource_id): e.status for e in manifest.expectations
                   if e.check_id.startswith("apigateway_")}
