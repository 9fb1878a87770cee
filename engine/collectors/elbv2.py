"""Elastic Load Balancing v2 collector: load balancers with their attributes and listeners."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fill
from engine.model import Scope
from engine.throttle import describe_error, paginate

# The only load balancer attributes the checks read (unset attributes are absent: read as false).
KEPT_ATTRIBUTES = frozenset({
    "routing.http.drop_invalid_header_fields.enabled",
    "access_logs.s3.enabled",
    "deletion_protection.enabled",
})


@dataclass
class Listener(Resource):
    protocol: str = ""
    port: int | None = None
    # DefaultActions reduced to (Type, RedirectConfig.Protocol or None).
    default_actions: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class LoadBalancer(Resource):
    type: str = ""
    zones: list[str] = field(default_factory=list)
    # Attribute key -> value, limited to KEPT_ATTRIBUTES; None until collected.
    attributes: dict[str, str] | None = None
    # None when DescribeListeners failed (the reason is in errors["listeners"]).
    listeners: list[Listener] | None = None


@dataclass
class Elbv2Data(ServiceData):
    load_balancers: list[LoadBalancer] = field(default_factory=list)


@collector("elbv2", scope=Scope.REGIONAL, cost=2.0, title="Elastic Load Balancing v2")
def collect_elbv2(ctx: CollectContext) -> Elbv2Data:
    """List the region's load balancers, then fetch each one's attributes and listeners."""
    elb = ctx.client("elbv2")
    data = Elbv2Data(account_id=ctx.account_id, region=ctx.region)
    data.load_balancers = [
        LoadBalancer(id=lb["LoadBalancerName"], arn=lb["LoadBalancerArn"], region=ctx.region,
                     type=lb.get("Type", ""),
                     zones=sorted({z["ZoneName"] for z in lb.get("AvailabilityZones", []) if z.get("ZoneName")}))
        for lb in paginate(elb, "describe_load_balancers", "LoadBalancers")
    ]
    ctx.map(lambda lb: _fill_load_balancer(elb, lb), data.load_balancers)
    return data


def _fill_load_balancer(elb: Any, lb: LoadBalancer) -> None:
    fill(lb, "attributes", elb.describe_load_balancer_attributes, LoadBalancerArn=lb.arn,
         transform=lambda r: {a["Key"]: a.get("Value", "") for a in r.get("Attributes", [])
                              if a.get("Key") in KEPT_ATTRIBUTES})
    try:
        lb.listeners = [_listener(lb, item) for item in
                        paginate(elb, "describe_listeners", "Listeners", LoadBalancerArn=lb.arn)]
    except Exception as exc:  # one load balancer's listeners failing must not sink the others
        lb.errors["listeners"] = describe_error(exc)


def _listener(lb: LoadBalancer, item: dict[str, Any]) -> Listener:
    arn = item["ListenerArn"]
    return Listener(
        id=arn, arn=arn, region=lb.region, protocol=item.get("Protocol", ""), port=item.get("Port"),
        default_actions=[(a.get("Type", ""), (a.get("RedirectConfig") or {}).get("Protocol"))
                         for a in item.get("DefaultActions", [])],
    )
