"""Redshift collector: the region's provisioned clusters and each cluster's audit-logging status
(DescribeLoggingStatus has no batch form, so it is the one per-cluster call)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.collectors import CollectContext, Resource, ServiceData, collector, fill
from engine.model import Scope
from engine.throttle import paginate


@dataclass
class Cluster(Resource):
    publicly_accessible: bool = False
    encrypted: bool = False
    automated_snapshot_retention_period: int = 0
    # DescribeLoggingStatus.LoggingEnabled; None until collected.
    logging_enabled: bool | None = None


@dataclass
class RedshiftData(ServiceData):
    clusters: list[Cluster] = field(default_factory=list)


@collector("redshift", scope=Scope.REGIONAL, cost=1.0, title="Redshift")
def collect_redshift(ctx: CollectContext) -> RedshiftData:
    """List the region's clusters once and fetch each one's logging status."""
    redshift = ctx.client("redshift")
    data = RedshiftData(account_id=ctx.account_id, region=ctx.region)
    data.clusters = [
        Cluster(id=c["ClusterIdentifier"],
                arn=f"arn:aws:redshift:{ctx.region}:{ctx.account_id}:cluster:{c['ClusterIdentifier']}",
                region=ctx.region, publicly_accessible=bool(c.get("PubliclyAccessible")),
                encrypted=bool(c.get("Encrypted")),
                automated_snapshot_retention_period=int(c.get("AutomatedSnapshotRetentionPeriod") or 0))
        for c in paginate(redshift, "describe_clusters", "Clusters")
    ]
    ctx.map(lambda c: fill(c, "logging_enabled", redshift.describe_logging_status, ClusterIdentifier=c.id,
                           transform=lambda r: bool(r.get("LoggingEnabled"))), data.clusters)
    return data
