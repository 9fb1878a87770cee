"""CloudFront checks: viewer and origin transport encryption, access logging and AWS WAF."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.cloudfront import Distribution


def _cli(change: str) -> str:
    """The CLI round trip that edits a distribution's configuration."""
    return ("CLI: aws cloudfront get-distribution-config --id <id> --query DistributionConfig > config.json "
            f"(--query ETag gives <etag>), {change} in config.json, then aws cloudfront update-distribution "
            "--id <id> --if-match <etag> --distribution-config file://config.json")


@check(id="cloudfront_distribution_https_required", service="cloudfront",
       resource_type="AWS::CloudFront::Distribution", scope="global", severity="medium", pillar="security",
       frameworks={"aws-fsbp": ["CloudFront.3"]},
       title="CloudFront distribution requires HTTPS from viewers",
       risk="A cache behaviour with viewer protocol policy allow-all serves content over plain HTTP, where it "
            "can be read or altered in transit.",
       remediation="In the CloudFront console open the distribution, Behaviors, edit each behaviour whose "
                   "viewer protocol policy is 'HTTP and HTTPS', choose 'Redirect HTTP to HTTPS' (or 'HTTPS "
                   "only') and save. " + _cli("set ViewerProtocolPolicy to redirect-to-https in every behaviour"),
       over="distributions")
def cloudfront_distribution_https_required(dist: Distribution, ctx: CheckContext) -> Result:
    open_behaviours = (["default"] if dist.default_viewer_policy == "allow-all" else []) + [
        path for path, policy in dist.behaviour_viewer_policies if policy == "allow-all"]
    if open_behaviours:
        return Result.failed(f"Distribution {dist.id} allows plain HTTP from viewers in cache behaviour(s) "
                             f"{', '.join(open_behaviours)}.")
    return Result.passed(f"Distribution {dist.id} requires HTTPS from viewers in every cache behaviour.")


@check(id="cloudfront_distribution_logging_enabled", service="cloudfront",
       resource_type="AWS::CloudFront::Distribution", scope="global", severity="medium",
       pillar="operational_excellence", frameworks={"aws-fsbp": ["CloudFront.5"]},
       title="CloudFront distribution has standard logging enabled",
       risk="Without access logs there is no record of the requests a distribution served, which hampers "
            "security investigations and usage analysis.",
       remediation="In the CloudFront console open the distribution, General, Settings, Edit, turn on "
                   "'Standard logging', choose an S3 bucket and save. "
                   + _cli('set Logging to {"Enabled": true, "Bucket": "<bucket>.s3.amazonaws.com", '
                          '"Prefix": "cloudfront/", "IncludeCookies": false}'),
       over="distributions", needs=("logging_enabled",))
def cloudfront_distribution_logging_enabled(dist: Distribution, ctx: CheckContext) -> Result:
    if dist.logging_enabled:
        return Result.passed(f"Distribution {dist.id} has standard logging enabled.")
    return Result.failed(f"Distribution {dist.id} has standard logging disabled.")


@check(id="cloudfront_distribution_waf_enabled", service="cloudfront",
       resource_type="AWS::CloudFront::Distribution", scope="global", severity="medium", pillar="security",
       frameworks={"aws-fsbp": ["CloudFront.6"]},
       title="CloudFront distribution is associated with an AWS WAF web ACL",
       risk="Without a web ACL the distribution has no filtering of common web exploits, bots or request "
            "floods before they reach the origin.",
       remediation="In the CloudFront console open the distribution, General, Settings, Edit, under 'AWS WAF "
                   "web ACL' choose a web ACL (scope CloudFront) and save. "
                   + _cli("set WebACLId to the web ACL's ARN"),
       over="distributions")
def cloudfront_distribution_waf_enabled(dist: Distribution, ctx: CheckContext) -> Result:
    if dist.web_acl_id:
        return Result.passed(f"Distribution {dist.id} is associated with web ACL {dist.web_acl_id}.")
    return Result.failed(f"Distribution {dist.id} is not associated with an AWS WAF web ACL.")


@check(id="cloudfront_distribution_origin_https_only", service="cloudfront",
       resource_type="AWS::CloudFront::Distribution", scope="global", severity="medium", pillar="security",
       frameworks={"aws-fsbp": ["CloudFront.9"]},
       title="CloudFront distribution encrypts traffic to custom origins",
       risk="An origin reached over plain HTTP exposes content and headers between CloudFront and the origin "
            "to interception and tampering.",
       remediation="In the CloudFront console open the distribution, Origins, edit each custom origin, set "
                   "Protocol to 'HTTPS only' and save. "
                   + _cli("set OriginProtocolPolicy to https-only in every CustomOriginConfig"),
       over="distributions")
def cloudfront_distribution_origin_https_only(dist: Distribution, ctx: CheckContext) -> Result:
    plain = [origin for origin, policy in dist.custom_origin_policies
             if policy == "http-only" or (policy == "match-viewer" and dist.default_viewer_policy == "allow-all")]
    if plain:
        return Result.failed(f"Distribution {dist.id} can reach origin(s) {', '.join(plain)} over plain HTTP.")
    return Result.passed(f"Distribution {dist.id} reaches its custom origins over HTTPS only.")
