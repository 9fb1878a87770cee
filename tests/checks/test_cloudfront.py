"""CloudFront checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and
the demo estate's CloudFront seeder."""

from __future__ import annotations

import json
import urllib.request

from engine.credentials import AwsOptions, account_session
from engine.model import Unit
from engine.runtime.unit import run_unit
from engine.sandbox.estate import seed_demo_estate
from tests.conftest import findings_for, status_of

REGIONS = ("us-east-1", "eu-west-1")
WEB_ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/cs-acl/1a2b3c"
FORWARD_NOTHING = {"QueryString": False, "Cookies": {"Forward": "none"}}


def _fail(aws, action: str, count: int = 1) -> None:
    """Make the next `count` calls of `action` answer AccessDenied (not retried, so fast)."""
    spec = {"fail": {action: {"code": "AccessDenied", "status": 403, "count": count}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _distribution(aws, *, viewer: str = "redirect-to-https", origin: str = "https-only", logging: bool = True,
                  web_acl: str = WEB_ACL, behaviour_viewer: str | None = None) -> str:
    """Create a distribution with one custom origin (and optionally a second cache behaviour); return its id."""
    config = {
        "CallerReference": f"cs-{viewer}-{origin}-{logging}-{bool(web_acl)}-{behaviour_viewer}",
        "Comment": "test", "Enabled": True, "WebACLId": web_acl,
        "Origins": {"Quantity": 1, "Items": [{"Id": "app", "DomainName": "app.example.com", "CustomOriginConfig": {
            "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": origin}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "app", "ViewerProtocolPolicy": viewer, "MinTTL": 0,
                                 "ForwardedValues": FORWARD_NOTHING},
        "Logging": {"Enabled": logging, "IncludeCookies": False,
                    "Bucket": "cs-logs.s3.amazonaws.com" if logging else "", "Prefix": ""},
    }
    if behaviour_viewer:
        config["CacheBehaviors"] = {"Quantity": 1, "Items": [{
            "PathPattern": "/static/*", "TargetOriginId": "app", "ViewerProtocolPolicy": behaviour_viewer,
            "MinTTL": 0, "ForwardedValues": FORWARD_NOTHING}]}
    return aws.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def test_distribution_with_every_protection_passes_all_checks(aws):
    dist = _distribution(aws, behaviour_viewer="https-only")
    findings = aws.scan("cloudfront")
    for check_id in ("cloudfront_distribution_https_required", "cloudfront_distribution_logging_enabled",
                     "cloudfront_distribution_waf_enabled", "cloudfront_distribution_origin_https_only"):
        assert status_of(findings, check_id, dist) == "PASS", check_id
    assert {f.region for f in findings} == {"global"}


# -- viewer protocol --

def test_default_behaviour_allowing_http_fails_https_required_check(aws):
    dist = _distribution(aws, viewer="allow-all")
    assert status_of(aws.scan("cloudfront"), "cloudfront_distribution_https_required", dist) == "FAIL"


def test_additional_behaviour_allowing_http_fails_https_required_check(aws):
    dist = _distribution(aws, behaviour_viewer="allow-all")
    findings = aws.scan("cloudfront")
    assert status_of(findings, "cloudfront_distribution_https_required", dist) == "FAIL"
    assert "/static/*" in findings_for(findings, "cloudfront_distribution_https_required")[0].message


# -- logging and WAF --

def test_distribution_without_logging_fails_logging_check(aws):
    dist = _distribution(aws, logging=False)
    assert status_of(aws.scan("cloudfront"), "cloudfront_distribution_logging_enabled", dist) == "FAIL"


def test_distribution_without_web_acl_fails_waf_check(aws):
    dist = _distribution(aws, web_acl="")
    assert status_of(aws.scan("cloudfront"), "cloudfront_distribution_waf_enabled", dist) == "FAIL"


# -- origin protocol --

def test_http_only_origin_fails_origin_https_check(aws):
    dist = _distribution(aws, origin="http-only")
    assert status_of(aws.scan("cloudfront"), "cloudfront_distribution_origin_https_only", dist) == "FAIL"


def test_match_viewer_origin_with_http_viewers_fails_origin_https_check(aws):
    allow_all = _distribution(aws, origin="match-viewer", viewer="allow-all")
    https_viewers = _distribution(aws, origin="match-viewer", viewer="https-only")
    findings = aws.scan("cloudfront")
    assert status_of(findings, "cloudfront_distribution_origin_https_only", allow_all) == "FAIL"
    assert status_of(findings, "cloudfront_distribution_origin_https_only", https_viewers) == "PASS"


# -- ERROR path --

def test_failed_distribution_config_read_reports_logging_error(aws):
    dist = _distribution(aws)
    _fail(aws, f"GET /2020-05-31/distribution/{dist}/config")
    findings = aws.scan("cloudfront")
    assert status_of(findings, "cloudfront_distribution_logging_enabled", dist) == "ERROR"
    # The other checks read ListDistributions only.
    assert status_of(findings, "cloudfront_distribution_waf_enabled", dist) == "PASS"


# -- demo estate --

def test_demo_estate_seeder_matches_cloudfront_checks(aws):
    manifest = seed_demo_estate(aws.server, accounts=1, regions=REGIONS, services=("cloudfront",))
    account = manifest.accounts[0]
    session = account_session(account, AwsOptions(endpoint_url=aws.endpoint, role_name=manifest.role_name,
                                                  external_id=manifest.external_id, api_rate_per_s=0))
    findings = run_unit(Unit(account, "global", "cloudfront"), session, scanned_regions=REGIONS,
                        threads=4).findings
    got = {(f.check_id, f.region, f.resource_id): f.status.value for f in findings}
    assert len(got) == len(findings)
    assert got == {(e.check_id, e.region, e.resource_id): e.status for e in manifest.expectations
                   if e.check_id.startswith("cloudfront_")}
