"""Demo estate: RDS (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

INSTANCE_CHECKS = (
    "rds_instance_publicly_accessible_disabled",
    "rds_instance_storage_encrypted",
    "rds_instance_backup_enabled",
    "rds_instance_multi_az_enabled",
    "rds_instance_deletion_protection_enabled",
    "rds_instance_auto_minor_version_upgrade_enabled",
    "rds_instance_logs_exported",
)
SNAPSHOT_CHECKS = ("rds_snapshot_not_public", "rds_snapshot_encrypted")
CLUSTER_CHECKS = ("rds_cluster_storage_encrypted", "rds_cluster_deletion_protection_enabled")

_INSTANCE = {"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": 20,
             "MasterUsername": "demo", "MasterUserPassword": "Demo-Password-123"}
_CLUSTER = {"Engine": "aurora-postgresql", "MasterUsername": "demo", "MasterUserPassword": "Demo-Password-123"}


@seeder("rds")
def seed_rds(ctx: SeedContext, region: str) -> None:
    """A public, unprotected instance with a public manual snapshot and an unprotected cluster with a
    public cluster snapshot (all unencrypted); a hardened instance, its private encrypted snapshot, and
    an encrypted, protected cluster."""
    rds = ctx.client("rds", region)

    bad = ctx.name("rds-exposed")
    rds.create_db_instance(DBInstanceIdentifier=bad, PubliclyAccessible=True, BackupRetentionPeriod=0,
                           AutoMinorVersionUpgrade=False, **_INSTANCE)
    good = ctx.name("rds-hardened")
    rds.create_db_instance(DBInstanceIdentifier=good, StorageEncrypted=True, BackupRetentionPeriod=7,
                           MultiAZ=True, DeletionProtection=True, AutoMinorVersionUpgrade=True,
                           PubliclyAccessible=False, EnableCloudwatchLogsExports=["postgresql"], **_INSTANCE)
    for check_id in INSTANCE_CHECKS:
        ctx.expect(check_id, region, bad, FAIL)
        ctx.expect(check_id, region, good, PASS)

    # Snapshots inherit their instance's encryption; the bad one is also shared with everyone.
    bad_snapshot = ctx.name("rds-exposed-manual")
    rds.create_db_snapshot(DBInstanceIdentifier=bad, DBSnapshotIdentifier=bad_snapshot)
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=bad_snapshot, AttributeName="restore",
                                     ValuesToAdd=["all"])
    good_snapshot = ctx.name("rds-hardened-manual")
    rds.create_db_snapshot(DBInstanceIdentifier=good, DBSnapshotIdentifier=good_snapshot)
    for check_id in SNAPSHOT_CHECKS:
        ctx.expect(check_id, region, bad_snapshot, FAIL)
        ctx.expect(check_id, region, good_snapshot, PASS)

    bad_cluster = ctx.name("rds-cluster-plain")
    rds.create_db_cluster(DBClusterIdentifier=bad_cluster, **_CLUSTER)
    good_cluster = ctx.name("rds-cluster-hardened")
    rds.create_db_cluster(DBClusterIdentifier=good_cluster, StorageEncrypted=True, DeletionProtection=True,
                          **_CLUSTER)
    for check_id in CLUSTER_CHECKS:
        ctx.expect(check_id, region, bad_cluster, FAIL)
        ctx.expect(check_id, region, good_cluster, PASS)

    cluster_snapshot = ctx.name("rds-cluster-plain-manual")
    rds.create_db_cluster_snapshot(DBClusterIdentifier=bad_cluster, DBClusterSnapshotIdentifier=cluster_snapshot)
    rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier=cluster_snapshot,
                                             AttributeName="restore", ValuesToAdd=["all"])
    for check_id in SNAPSHOT_CHECKS:
        ctx.expect(check_id, region, cluster_snapshot, FAIL)
