"""RDS collector: DB instances, DB clusters, and the manual DB and cluster snapshots with their
`restore` sharing attribute (the only per-resource call)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fill
from engine.model import Scope
from engine.throttle import paginate

DB_SNAPSHOT_TYPE = "AWS::RDS::DBSnapshot"
CLUSTER_SNAPSHOT_TYPE = "AWS::RDS::DBClusterSnapshot"


@dataclass
class DBInstance(Resource):
    publicly_accessible: bool = False
    storage_encrypted: bool = False
    backup_retention_period: int = 0
    multi_az: bool = False
    deletion_protection: bool = False
    auto_minor_version_upgrade: bool = False
    cloudwatch_logs_exports: list[str] = field(default_factory=list)
    cluster_id: str | None = None
    read_replica_source: str | None = None


@dataclass
class DBCluster(Resource):
    storage_encrypted: bool = False
    deletion_protection: bool = False


@dataclass
class DBSnapshot(Resource):
    """A manual DB snapshot or DB cluster snapshot (`resource_type` tells which)."""

    resource_type: str = DB_SNAPSHOT_TYPE
    encrypted: bool = False
    # Values of the `restore` attribute (account ids, or "all" when public); None until collected.
    restore: list[str] | None = None


@dataclass
class RdsData(ServiceData):
    instances: list[DBInstance] = field(default_factory=list)
    clusters: list[DBCluster] = field(default_factory=list)
    snapshots: list[DBSnapshot] = field(default_factory=list)


def _restore_values(attributes: list[dict[str, Any]]) -> list[str]:
    return [v for a in attributes if a.get("AttributeName") == "restore" for v in a.get("AttributeValues") or []]


def _fill_restore(rds: Any, snapshot: DBSnapshot) -> None:
    if snapshot.resource_type == CLUSTER_SNAPSHOT_TYPE:
        fill(snapshot, "restore", rds.describe_db_cluster_snapshot_attributes,
             DBClusterSnapshotIdentifier=snapshot.id,
             transform=lambda r: _restore_values(
                 r["DBClusterSnapshotAttributesResult"].get("DBClusterSnapshotAttributes", [])))
    else:
        fill(snapshot, "restore", rds.describe_db_snapshot_attributes, DBSnapshotIdentifier=snapshot.id,
             transform=lambda r: _restore_values(r["DBSnapshotAttributesResult"].get("DBSnapshotAttributes", [])))


@collector("rds", scope=Scope.REGIONAL, cost=2.0, title="RDS")
def collect_rds(ctx: CollectContext) -> RdsData:
    """List the region's instances, clusters and manual snapshots once; fetch each manual snapshot's
    sharing attribute. Automated snapshots are not collected: they cannot be shared, and they are
    encrypted exactly when their instance or cluster is, which the storage checks already evaluate."""
    rds = ctx.client("rds")
    data = RdsData(account_id=ctx.account_id, region=ctx.region)
    data.instances = [
        DBInstance(id=i["DBInstanceIdentifier"], arn=i.get("DBInstanceArn"), region=ctx.region,
                   # Absent unless set at creation; AWS's default for an instance in a VPC is false.
                   publicly_accessible=bool(i.get("PubliclyAccessible")),
                   storage_encrypted=bool(i.get("StorageEncrypted")),
                   backup_retention_period=int(i.get("BackupRetentionPeriod") or 0),
                   multi_az=bool(i.get("MultiAZ")), deletion_protection=bool(i.get("DeletionProtection")),
                   auto_minor_version_upgrade=bool(i.get("AutoMinorVersionUpgrade")),
                   cloudwatch_logs_exports=list(i.get("EnabledCloudwatchLogsExports") or []),
                   cluster_id=i.get("DBClusterIdentifier") or None,
                   read_replica_source=i.get("ReadReplicaSourceDBInstanceIdentifier") or None)
        for i in paginate(rds, "describe_db_instances", "DBInstances")
    ]
    data.clusters = [
        DBCluster(id=c["DBClusterIdentifier"], arn=c.get("DBClusterArn"), region=ctx.region,
                  storage_encrypted=bool(c.get("StorageEncrypted")),
                  deletion_protection=bool(c.get("DeletionProtection")))
        for c in paginate(rds, "describe_db_clusters", "DBClusters")
    ]
    db_snapshots = [
        DBSnapshot(id=s["DBSnapshotIdentifier"], arn=s.get("DBSnapshotArn"), region=ctx.region,
                   encrypted=bool(s.get("Encrypted")))
        for s in paginate(rds, "describe_db_snapshots", "DBSnapshots", SnapshotType="manual")
    ]
    cluster_snapshots = [
        DBSnapshot(id=s["DBClusterSnapshotIdentifier"], arn=s.get("DBClusterSnapshotArn"), region=ctx.region,
                   resource_type=CLUSTER_SNAPSHOT_TYPE, encrypted=bool(s.get("StorageEncrypted")))
        for s in paginate(rds, "describe_db_cluster_snapshots", "DBClusterSnapshots", SnapshotType="manual")
    ]
    data.snapshots = db_snapshots + cluster_snapshots
    ctx.map(lambda s: _fill_restore(rds, s), data.snapshots)
    return data
