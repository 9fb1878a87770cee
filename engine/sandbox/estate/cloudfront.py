"""Demo estate: CloudFront (global)."""

from __future__ import annotations

from typing import Any

from engine.model import GLOBAL_REGION
from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

CHECKS = ("cloudfront_distribution_https_required", "cloudfront_distribution_logging_enabled",
          "cloudfront_distribution_waf_enabled", "cloudfront_distribution_origin_https_only")


@seeder("cloudfront", scope="global")
def seed_cloudfront(ctx: SeedContext, region: str) -> None:
    """A distribution that serves HTTP, fetches over HTTP, logs nothing and has no web ACL, and one that
    passes every CloudFront check."""
    cf = ctx.client("cloudfront", "us-east-1")
    bad = cf.create_distribution(DistributionConfig=_config(
        ctx.name(ctx.account_id, "cf-bad"), viewer="allow-all", origin="http-only", logging=False,
        web_acl=""))["Distribution"]["Id"]
    web_acl = f"arn:aws:wafv2:us-east-1:{ctx.account_id}:global/webacl/{ctx.prefix}-cf/0b1c2d3e"
    good = cf.create_distribution(DistributionConfig=_config(
        ctx.name(ctx.account_id, "cf-good"), viewer="redirect-to-https", origin="https-only", logging=True,
        web_acl=web_acl, log_bucket=f"{ctx.prefix}-{ctx.account_id}-cf-logs.s3.amazonaws.com"))["Distribution"]["Id"]
    for check_id in CHECKS:
        ctx.expect(check_id, GLOBAL_REGION, bad, FAIL)
        ctx.expect(check_id, GLOBAL_REGION, good, PASS)


def _config(reference: str, *, viewer: str, origin: str, logging: bool, web_acl: str,
            log_bucket: str = "") -> dict[str, Any]:
    return {
        "CallerReference": reference, "Comment": reference, "Enabled": True, "WebACLId": web_acl,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "app", "DomainName": "app.example.com",
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": origin}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "app", "ViewerProtocolPolicy": viewer, "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
        "Logging": {"Enabled": logging, "IncludeCookies": False, "Bucket": log_bucket,
                    "Prefix": "cloudfront/" if logging else ""},
    }
