"""Security Hub collector: whether the account is subscribed in the region (`DescribeHub`)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.collectors import CollectContext, ServiceData, collector, fetch
from engine.model import Scope


@dataclass
class SecurityHubData(ServiceData):
    """`hub_arn` is None when Security Hub is not enabled (or, see `errors["hub"]`, not readable)."""

    hub_arn: str | None = None


@collector("securityhub", scope=Scope.REGIONAL, cost=0.3, title="Security Hub")
def collect_securityhub(ctx: CollectContext) -> SecurityHubData:
    """Describe the region's hub; InvalidAccessException means the account is not subscribed."""
    data = SecurityHubData(account_id=ctx.account_id, region=ctx.region)
    resp, err = fetch(ctx.client("securityhub").describe_hub, absent=("InvalidAccessException",))
    if err is not None:
        data.errors["hub"] = err
    elif resp is not None:
        data.hub_arn = resp.get("HubArn") or f"arn:aws:securityhub:{ctx.region}:{ctx.account_id}:hub/default"
    return data
