"""CloudFront collector (global): distributions, with the logging setting that only
GetDistributionConfig returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fill
from engine.model import GLOBAL_REGION, Scope
from engine.throttle import paginate


@dataclass
class Distribution(Resource):
    default_viewer_policy: str = ""
    # (PathPattern, ViewerProtocolPolicy) of each additional cache behaviour.
    behaviour_viewer_policies: list[tuple[str, str]] = field(default_factory=list)
    # (origin Id, OriginProtocolPolicy) of each custom origin; S3 origins are not listed.
    custom_origin_policies: list[tuple[str, str]] = field(default_factory=list)
    web_acl_id: str = ""
    # DistributionConfig.Logging.Enabled from GetDistributionConfig (ListDistributions omits it).
    logging_enabled: bool | None = None


@dataclass
class CloudFrontData(ServiceData):
    distributions: list[Distribution] = field(default_factory=list)


@collector("cloudfront", scope=Scope.GLOBAL, cost=1.5, title="CloudFront")
def collect_cloudfront(ctx: CollectContext) -> CloudFrontData:
    """List distributions once per account, then read each one's logging configuration."""
    cf = ctx.client("cloudfront")
    data = CloudFrontData(account_id=ctx.account_id, region=ctx.region)
    data.distributions = [_distribution(d) for d in
                          paginate(cf, "list_distributions", "DistributionList.Items")]
    ctx.map(lambda d: fill(d, "logging_enabled", cf.get_distribution_config, Id=d.id,
                           transform=lambda r: bool(r.get("DistributionConfig", {})
                                                    .get("Logging", {}).get("Enabled"))),
            data.distributions)
    return data


def _distribution(summary: dict[str, Any]) -> Distribution:
    behaviours = (summary.get("CacheBehaviors") or {}).get("Items") or []
    origins = (summary.get("Origins") or {}).get("Items") or []
    return Distribution(
        id=summary["Id"], arn=summary.get("ARN"), region=GLOBAL_REGION,
        default_viewer_policy=(summary.get("DefaultCacheBehavior") or {}).get("ViewerProtocolPolicy", ""),
        behaviour_viewer_policies=[(b.get("PathPattern", ""), b.get("ViewerProtocolPolicy", ""))
                                   for b in behaviours],
        custom_origin_policies=[(o.get("Id", ""), o["CustomOriginConfig"].get("OriginProtocolPolicy", ""))
                                for o in origins if o.get("CustomOriginConfig")],
        web_acl_id=summary.get("WebACLId") or "",
    )
