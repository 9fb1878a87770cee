"""RDS checks: instance exposure, encryption, backups, resilience and logging; public and
unencrypted manual snapshots; cluster encryption and deletion protection."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.rds import CLUSTER_SNAPSHOT_TYPE, DBCluster, DBInstance, DBSnapshot


def _snapshot_label(snapshot: DBSnapshot) -> str:
    kind = "DB cluster snapshot" if snapshot.resource_type == CLUSTER_SNAPSHOT_TYPE else "DB snapshot"
    return f"{kind} {snapshot.id}"


@check(id="rds_instance_publicly_accessible_disabled", service="rds", resource_type="AWS::RDS::DBInstance",
       scope="regional", severity="critical", pillar="security",
       frameworks={"cis-aws-3.0": ["2.3.3"], "aws-fsbp": ["RDS.2"]},
       title="RDS DB instance is not publicly accessible",
       risk="A publicly accessible instance gets a public DNS address, so only its security groups stand "
            "between the database and the internet.",
       remediation="In the RDS console select the instance, choose Modify, and under Connectivity set "
                   "'Public access' to 'Not publicly accessible'; apply immediately. CLI: aws rds "
                   "modify-db-instance --db-instance-identifier <id> --no-publicly-accessible --apply-immediately",
       over="instances")
def rds_instance_publicly_accessible_disabled(instance: DBInstance, ctx: CheckContext) -> Result:
    if instance.publicly_accessible:
        return Result.failed(f"RDS instance {instance.id} is publicly accessible.")
    return Result.passed(f"RDS instance {instance.id} is not publicly accessible.")


@check(id="rds_instance_storage_encrypted", service="rds", resource_type="AWS::RDS::DBInstance",
       scope="regional", severity="high", pillar="security",
       frameworks={"cis-aws-3.0": ["2.3.1"], "aws-fsbp": ["RDS.3"]},
       title="RDS DB instance storage is encrypted",
       risk="The instance's storage, automated backups, read replicas and snapshots hold the data in clear "
            "text.",
       remediation="Encryption cannot be turned on for an existing instance: in the RDS console take a "
                   "snapshot, copy it with encryption enabled (choose a KMS key), restore a new instance "
                   "from the encrypted copy and switch clients to it. CLI: aws rds create-db-snapshot "
                   "--db-instance-identifier <id> --db-snapshot-identifier <snap>; aws rds copy-db-snapshot "
                   "--source-db-snapshot-identifier <snap> --target-db-snapshot-identifier <snap>-enc "
                   "--kms-key-id <key>; aws rds restore-db-instance-from-db-snapshot "
                   "--db-instance-identifier <new-id> --db-snapshot-identifier <snap>-enc",
       over="instances")
def rds_instance_storage_encrypted(instance: DBInstance, ctx: CheckContext) -> Result:
    if not instance.storage_encrypted:
        return Result.failed(f"RDS instance {instance.id} storage is not encrypted.")
    return Result.passed(f"RDS instance {instance.id} storage is encrypted.")


@check(id="rds_instance_backup_enabled", service="rds", resource_type="AWS::RDS::DBInstance",
       scope="regional", severity="medium", pillar="reliability", frameworks={"aws-fsbp": ["RDS.11"]},
       title="RDS DB instance has automated backups enabled",
       risk="Without automated backups the instance cannot be restored to a point in time after data loss "
            "or corruption.",
       remediation="In the RDS console select the instance, choose Modify, and under Backup set a backup "
                   "retention period of at least 1 day (7 or more recommended). CLI: aws rds "
                   "modify-db-instance --db-instance-identifier <id> --backup-retention-period 7 "
                   "--apply-immediately",
       over="instances")
def rds_instance_backup_enabled(instance: DBInstance, ctx: CheckContext) -> Result:
    minimum = int(ctx.param("rds_instance_backup_enabled", "min_retention_days", 1))
    if instance.backup_retention_period < minimum:
        return Result.failed(f"RDS instance {instance.id} keeps automated backups for "
                             f"{instance.backup_retention_period} day(s), less than {minimum}.")
    return Result.passed(f"RDS instance {instance.id} keeps automated backups for "
                         f"{instance.backup_retention_period} day(s).")


@check(id="rds_instance_multi_az_enabled", service="rds", resource_type="AWS::RDS::DBInstance",
       scope="regional", severity="medium", pillar="reliability", frameworks={"aws-fsbp": ["RDS.5"]},
       title="RDS DB instance is deployed in multiple Availability Zones",
       risk="A single-AZ instance is unavailable during an Availability Zone outage and during some "
            "maintenance operations.",
       remediation="In the RDS console select the instance, choose Modify, and under 'Availability and "
                   "durability' choose a Multi-AZ deployment. CLI: aws rds modify-db-instance "
                   "--db-instance-identifier <id> --multi-az --apply-immediately",
       over="instances")
def rds_instance_multi_az_enabled(instance: DBInstance, ctx: CheckContext) -> Result | None:
    # Cluster members get their availability from the cluster; read replicas from their source.
    if instance.cluster_id or instance.read_replica_source:
        return None
    if not instance.multi_az:
        return Result.failed(f"RDS instance {instance.id} is a single-AZ deployment.")
    return Result.passed(f"RDS instance {instance.id} is a Multi-AZ deployment.")


@check(id="rds_instance_deletion_protection_enabled", service="rds", resource_type="AWS::RDS::DBInstance",
       scope="regional", severity="low", pillar="reliability", frameworks={"aws-fsbp": ["RDS.8"]},
       title="RDS DB instance has deletion protection enabled",
       risk="Without deletion protection the instance can be deleted by mistake or by an automated process "
            "in a single call.",
       remediation="In the RDS console select the instance, choose Modify, tick 'Enable deletion "
                   "protection' and apply. CLI: aws rds modify-db-instance --db-instance-identifier <id> "
                   "--deletion-protection --apply-immediately",
       over="instances")
def rds_instance_deletion_protection_enabled(instance: DBInstance, ctx: CheckContext) -> Result:
    if not instance.deletion_protection:
        return Result.failed(f"RDS instance {instance.id} does not have deletion protection enabled.")
    return Result.passed(f"RDS instance {instance.id} has deletion protection enabled.")


@check(id="rds_instance_auto_minor_version_upgrade_enabled", service="rds",
       resource_type="AWS::RDS::DBInstance", scope="regional", severity="low", pillar="security",
       frameworks={"cis-aws-3.0": ["2.3.2"], "aws-fsbp": ["RDS.13"]},
       title="RDS DB instance applies minor engine upgrades automatically",
       risk="Without automatic minor version upgrades, security patches for the database engine are not "
            "applied in the maintenance window.",
       remediation="In the RDS console select the instance, choose Modify, and under Maintenance tick "
                   "'Enable auto minor version upgrade'. CLI: aws rds modify-db-instance "
                   "--db-instance-identifier <id> --auto-minor-version-upgrade --apply-immediately",
       over="instances")
def rds_instance_auto_minor_version_upgrade_enabled(instance: DBInstance, ctx: CheckContext) -> Result:
    if not instance.auto_minor_version_upgrade:
        return Result.failed(f"RDS instance {instance.id} does not apply minor version upgrades automatically.")
    return Result.passed(f"RDS instance {instance.id} applies minor version upgrades automatically.")


@check(id="rds_instance_logs_exported", service="rds", resource_type="AWS::RDS::DBInstance",
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["RDS.9"]},
       title="RDS DB instance exports its logs to CloudWatch Logs",
       risk="Database logs kept only on the instance are lost with it and cannot be searched, alarmed on "
            "or retained for investigations.",
       remediation="In the RDS console select the instance, choose Modify, and under 'Log exports' tick the "
                   "engine's logs (for example postgresql, or error/general/slowquery/audit for MySQL). CLI: "
                   "aws rds modify-db-instance --db-instance-identifier <id> "
                   "--cloudwatch-logs-export-configuration '{\"EnableLogTypes\":[\"postgresql\"]}' "
                   "--apply-immediately",
       over="instances")
def rds_instance_logs_exported(instance: DBInstance, ctx: CheckContext) -> Result:
    if not instance.cloudwatch_logs_exports:
        return Result.failed(f"RDS instance {instance.id} exports no logs to CloudWatch Logs.")
    return Result.passed(f"RDS instance {instance.id} exports {', '.join(instance.cloudwatch_logs_exports)} "
                         "logs to CloudWatch Logs.")


@check(id="rds_snapshot_not_public", service="rds",
       resource_type="AWS::RDS::DBSnapshot / AWS::RDS::DBClusterSnapshot", scope="regional",
       severity="critical", pillar="security", frameworks={"aws-fsbp": ["RDS.1"]},
       title="RDS manual snapshot is not public",
       risk="Any AWS account can restore a public snapshot and read all the data it holds.",
       remediation="In the RDS console open Snapshots, select the manual snapshot, Actions, 'Share snapshot', "
                   "and set 'DB snapshot visibility' to Private. CLI: aws rds modify-db-snapshot-attribute "
                   "--db-snapshot-identifier <snap> --attribute-name restore --values-to-remove all (for a "
                   "cluster snapshot: aws rds modify-db-cluster-snapshot-attribute "
                   "--db-cluster-snapshot-identifier <snap> --attribute-name restore --values-to-remove all)",
       over="snapshots")
def rds_snapshot_not_public(snapshot: DBSnapshot, ctx: CheckContext) -> Result:
    label = _snapshot_label(snapshot)
    # Handled here rather than with `needs`, so that the ERROR finding of a cluster snapshot carries
    # the cluster-snapshot resource type.
    if "restore" in snapshot.errors:
        return Result.error(f"{snapshot.id}: could not collect restore: {snapshot.errors['restore']}",
                            resource_type=snapshot.resource_type)
    if "all" in (snapshot.restore or []):
        return Result.failed(f"RDS {label} can be restored by any AWS account.",
                             resource_type=snapshot.resource_type)
    return Result.passed(f"RDS {label} is not public.", resource_type=snapshot.resource_type)


@check(id="rds_snapshot_encrypted", service="rds",
       resource_type="AWS::RDS::DBSnapshot / AWS::RDS::DBClusterSnapshot", scope="regional",
       severity="medium", pillar="security", frameworks={"aws-fsbp": ["RDS.4"]},
       title="RDS manual snapshot is encrypted",
       risk="An unencrypted snapshot holds a full copy of the database in clear text, and every instance "
            "restored from it is unencrypted too.",
       remediation="In the RDS console select the snapshot, Actions, 'Copy snapshot', tick 'Enable "
                   "encryption' with a KMS key, then delete the unencrypted original. CLI: aws rds "
                   "copy-db-snapshot --source-db-snapshot-identifier <snap> --target-db-snapshot-identifier "
                   "<snap>-enc --kms-key-id <key> (cluster snapshots: aws rds copy-db-cluster-snapshot "
                   "--source-db-cluster-snapshot-identifier <snap> --target-db-cluster-snapshot-identifier "
                   "<snap>-enc --kms-key-id <key>); aws rds delete-db-snapshot --db-snapshot-identifier <snap>",
       over="snapshots")
def rds_snapshot_encrypted(snapshot: DBSnapshot, ctx: CheckContext) -> Result:
    label = _snapshot_label(snapshot)
    if not snapshot.encrypted:
        return Result.failed(f"RDS {label} is not encrypted.", resource_type=snapshot.resource_type)
    return Result.passed(f"RDS {label} is encrypted.", resource_type=snapshot.resource_type)


@check(id="rds_cluster_storage_encrypted", service="rds", resource_type="AWS::RDS::DBCluster",
       scope="regional", severity="high", pillar="security", frameworks={"aws-fsbp": ["RDS.27"]},
       title="RDS DB cluster storage is encrypted",
       risk="The cluster's shared storage, backups and snapshots hold the data in clear text.",
       remediation="Encryption cannot be turned on for an existing cluster: in the RDS console take a "
                   "cluster snapshot, restore it to a new cluster with encryption enabled (choose a KMS "
                   "key) and switch clients to it. CLI: aws rds create-db-cluster-snapshot "
                   "--db-cluster-identifier <id> --db-cluster-snapshot-identifier <snap>; aws rds "
                   "restore-db-cluster-from-snapshot --db-cluster-identifier <new-id> --snapshot-identifier "
                   "<snap> --engine <engine> --kms-key-id <key>",
       over="clusters")
def rds_cluster_storage_encrypted(cluster: DBCluster, ctx: CheckContext) -> Result:
    if not cluster.storage_encrypted:
        return Result.failed(f"RDS cluster {cluster.id} storage is not encrypted.")
    return Result.passed(f"RDS cluster {cluster.id} storage is encrypted.")


@check(id="rds_cluster_deletion_protection_enabled", service="rds", resource_type="AWS::RDS::DBCluster",
       scope="regional", severity="low", pillar="reliability", frameworks={"aws-fsbp": ["RDS.7"]},
       title="RDS DB cluster has deletion protection enabled",
       risk="Without deletion protection the cluster and its storage can be deleted by mistake in a single "
            "call.",
       remediation="In the RDS console select the cluster, choose Modify, tick 'Enable deletion protection' "
                   "and apply. CLI: aws rds modify-db-cluster --db-cluster-identifier <id> "
                   "--deletion-protection --apply-immediately",
       over="clusters")
def rds_cluster_deletion_protection_enabled(cluster: DBCluster, ctx: CheckContext) -> Result:
    if not cluster.deletion_protection:
        return Result.failed(f"RDS cluster {cluster.id} does not have deletion protection enabled.")
    return Result.passed(f"RDS cluster {cluster.id} has deletion protection enabled.")
