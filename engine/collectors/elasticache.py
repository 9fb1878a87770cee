"""ElastiCache collector: the region's replication groups (one listing, no per-resource calls)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.collectors import CollectContext, Resource, ServiceData, collector
from engine.model import Scope
from engine.throttle import paginate


@dataclass
class ReplicationGroup(Resource):
    at_rest_encryption: bool = False
    transit_encryption: bool = False
    # AutomaticFailover: enabled, disabled, enabling or disabling.
    automatic_failover: str = "disabled"


@dataclass
class ElastiCacheData(ServiceData):
    replication_groups: list[ReplicationGroup] = field(default_factory=list)


@collector("elasticache", scope=Scope.REGIONAL, cost=1.0, title="ElastiCache")
def collect_elasticache(ctx: CollectContext) -> ElastiCacheData:
    """List the region's replication groups once."""
    data = ElastiCacheData(account_id=ctx.account_id, region=ctx.region)
    data.replication_groups = [
        ReplicationGroup(
            id=g["ReplicationGroupId"],
            arn=g.get("ARN") or f"arn:aws:elasticache:{ctx.region}:{ctx.account_id}:replicationgroup:"
                                f"{g['ReplicationGroupId']}",
            region=ctx.region, at_rest_encryption=bool(g.get("AtRestEncryptionEnabled")),
            transit_encryption=bool(g.get("TransitEncryptionEnabled")),
            automatic_failover=g.get("AutomaticFailover") or "disabled")
        for g in paginate(ctx.client("elasticache"), "describe_replication_groups", "ReplicationGroups")
    ]
    return data
