"""ELBv2 checks against the emulator: one PASS and one FAIL test per check, the ERROR paths, and the
demo estate's ELBv2 seeder."""

from __future__ import annotations

import json
import urllib.request

from engine.credentials import AwsOptions, account_session
from engine.model import Unit
from engine.runtime.unit import run_unit
from engine.sandbox.estate import seed_demo_estate
from tests.conftest import findings_for, status_of

REGIONS = ("us-east-1", "eu-west-1")
ON = "true"


def _fail(aws, action: str, count: int = 1) -> None:
    """Make the next `count` calls of `action` answer AccessDenied (not retried, so fast)."""
    spec = {"fail": {action: {"code": "AccessDenied", "status": 403, "count": count}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _subnets(aws) -> list[str]:
    """Default subnets of us-east-1, one per Availability Zone, sorted by zone."""
    subnets = aws.client("ec2").describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    return [s["SubnetId"] for s in sorted(subnets, key=lambda s: s["AvailabilityZone"])]


def _lb(aws, name: str = "cs-alb", zones: int = 2, lb_type: str = "application",
        attributes: dict[str, str] | None = None) -> str:
    """Create a load balancer over `zones` zones with the given attributes; return its ARN."""
    elb = aws.client("elbv2")
    arn = elb.create_load_balancer(Name=name, Subnets=_subnets(aws)[:zones], Type=lb_type)[
        "LoadBalancers"][0]["LoadBalancerArn"]
    if attributes:
        elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": k, "Value": v} for k, v in attributes.items()])
    return arn


def _listener(aws, lb_arn: str, action: dict, protocol: str = "HTTP", port: int = 80) -> str:
    return aws.client("elbv2").create_listener(LoadBalancerArn=lb_arn, Protocol=protocol, Port=port,
                                               DefaultActions=[action])["Listeners"][0]["ListenerArn"]


REDIRECT_HTTPS = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                                                         "StatusCode": "HTTP_301"}}
FIXED_RESPONSE = {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200",
                                                                     "ContentType": "text/plain"}}
DROP_INVALID = "routing.http.drop_invalid_header_fields.enabled"
ALL_ON = {DROP_INVALID: ON, "access_logs.s3.enabled": ON, "access_logs.s3.bucket": "cs-alb-logs",
          "deletion_protection.enabled": ON}


# -- load balancer attributes and zones --

def test_alb_with_every_protection_passes_load_balancer_checks(aws):
    _lb(aws, attributes=ALL_ON)
    findings = aws.scan("elbv2")
    for check_id in ("elbv2_alb_drop_invalid_headers_enabled", "elbv2_alb_access_logging_enabled",
                     "elbv2_lb_deletion_protection_enabled", "elbv2_lb_multi_az"):
        assert status_of(findings, check_id, "cs-alb") == "PASS", check_id
    assert findings_for(findings, "elbv2_lb_multi_az")[0].resource_type == (
        "AWS::ElasticLoadBalancingV2::LoadBalancer")


def test_alb_forwarding_invalid_headers_fails_drop_invalid_headers_check(aws):
    _lb(aws, attributes={**ALL_ON, DROP_INVALID: "false"})
    assert status_of(aws.scan("elbv2"), "elbv2_alb_drop_invalid_headers_enabled", "cs-alb") == "FAIL"


def test_alb_without_access_logs_fails_access_logging_check(aws):
    # Attributes never set are absent from DescribeLoadBalancerAttributes: read as false.
    _lb(aws)
    assert status_of(aws.scan("elbv2"), "elbv2_alb_access_logging_enabled", "cs-alb") == "FAIL"


def test_lb_without_deletion_protection_fails_deletion_protection_check(aws):
    _lb(aws, attributes={**ALL_ON, "deletion_protection.enabled": "false"})
    assert status_of(aws.scan("elbv2"), "elbv2_lb_deletion_protection_enabled", "cs-alb") == "FAIL"


def test_single_zone_load_balancer_fails_multi_az_check(aws):
    _lb(aws, zones=1, attributes=ALL_ON)
    findings = aws.scan("elbv2")
    assert status_of(findings, "elbv2_lb_multi_az", "cs-alb") == "FAIL"
    assert "us-east-1a" in findings_for(findings, "elbv2_lb_multi_az")[0].message


def test_network_load_balancer_is_not_evaluated_by_alb_only_checks(aws):
    _lb(aws, name="cs-nlb", lb_type="network")
    findings = aws.scan("elbv2")
    assert findings_for(findings, "elbv2_alb_drop_invalid_headers_enabled") == []
    assert findings_for(findings, "elbv2_alb_access_logging_enabled") == []
    assert status_of(findings, "elbv2_lb_deletion_protection_enabled", "cs-nlb") == "FAIL"


# -- listeners --

def test_http_listener_redirecting_to_https_passes(aws):
    listener = _listener(aws, _lb(aws), REDIRECT_HTTPS)
    findings = aws.scan("elbv2")
    assert status_of(findings, "elbv2_listener_http_redirects_to_https", listener) == "PASS"
    assert findings_for(findings, "elbv2_listener_http_redirects_to_https")[0].resource_type == (
        "AWS::ElasticLoadBalancingV2::Listener")


def test_http_listener_serving_content_fails_redirect_check(aws):
    lb = _lb(aws)
    serving = _listener(aws, lb, FIXED_RESPONSE)
    # A redirect that keeps the request's protocol is no redirect to HTTPS either.
    same_protocol = _listener(aws, lb, {"Type": "redirect", "RedirectConfig": {
        "Protocol": "#{protocol}", "Port": "8443", "StatusCode": "HTTP_302"}}, port=8080)
    findings = aws.scan("elbv2")
    assert status_of(findings, "elbv2_listener_http_redirects_to_https", serving) == "FAIL"
    assert status_of(findings, "elbv2_listener_http_redirects_to_https", same_protocol) == "FAIL"


# -- ERROR paths --

def test_failed_per_load_balancer_calls_report_error_never_pass(aws):
    _listener(aws, _lb(aws, attributes=ALL_ON), REDIRECT_HTTPS)
    _fail(aws, "DescribeLoadBalancerAttributes")
    _fail(aws, "DescribeListeners")
    findings = aws.scan("elbv2")
    for check_id in ("elbv2_alb_drop_invalid_headers_enabled", "elbv2_alb_access_logging_enabled",
                     "elbv2_lb_deletion_protection_enabled"):
        assert status_of(findings, check_id, "cs-alb") == "ERROR", check_id
    # The listeners could not be listed: the load balancer itself carries the listener check's ERROR.
    [listener_error] = findings_for(findings, "elbv2_listener_http_redirects_to_https")
    assert (listener_error.resource_id, listener_error.status.value) == ("cs-alb", "ERROR")
    assert listener_error.resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    assert status_of(findings, "elbv2_lb_multi_az", "cs-alb") == "PASS"


def test_failed_load_balancer_listing_reports_error_for_every_check(aws):
    _fail(aws, "DescribeLoadBalancers")
    findings = aws.scan("elbv2")
    assert findings and {f.status.value for f in findings} == {"ERROR"}


# -- demo estate --

def test_demo_estate_seeder_matches_elbv2_checks(aws):
    manifest = seed_demo_estate(aws.server, accounts=1, regions=REGIONS, services=("elbv2",))
    account = manifest.accounts[0]
    session = account_session(account, AwsOptions(endpoint_url=aws.endpoint, role_name=manifest.role_name,
                                                  external_id=manifest.external_id, api_rate_per_s=0))
    findings = [f for region in REGIONS for f in
                run_unit(Unit(account, region, "elbv2"), session, scanned_regions=REGIONS, threads=4).findings]
    got = {(f.check_id, f.region, f.resource_id): f.status.value for f in findings}
    assert len(got) == len(findings)
    assert got == {(e.check_id, e.region, e.resource_id): e.status for e in manifest.expectations
                   if e.check_id.startswith("elbv2_")}
