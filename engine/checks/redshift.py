"""Redshift checks: public access, encryption, audit logging and automated snapshots of clusters."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.redshift import Cluster


@check(id="redshift_cluster_publicly_accessible_disabled", service="redshift",
       resource_type="AWS::Redshift::Cluster", scope="regional", severity="critical", pillar="security",
       frameworks={"aws-fsbp": ["Redshift.1"]},
       title="Redshift cluster is not publicly accessible",
       risk="A publicly accessible cluster gets a public endpoint, so only its security groups stand between "
            "the warehouse and the internet.",
       remediation="In the Redshift console select the cluster, Actions, 'Modify publicly accessible setting', "
                   "and turn it off. CLI: aws redshift modify-cluster --cluster-identifier <id> "
                   "--no-publicly-accessible",
       over="clusters")
def redshift_cluster_publicly_accessible_disabled(cluster: Cluster, ctx: CheckContext) -> Result:
    if cluster.publicly_accessible:
        return Result.failed(f"Redshift cluster {cluster.id} is publicly accessible.")
    return Result.passed(f"Redshift cluster {cluster.id} is not publicly accessible.")


@check(id="redshift_cluster_encrypted", service="redshift", resource_type="AWS::Redshift::Cluster",
       scope="regional", severity="high", pillar="security", frameworks={"aws-fsbp": ["Redshift.10"]},
       title="Redshift cluster is encrypted at rest",
       risk="The cluster's data blocks, backups and snapshots are stored in clear text.",
       remediation="In the Redshift console select the cluster, choose Edit (Properties, 'Database "
                   "configurations'), and enable encryption with an AWS KMS key; the cluster is migrated to "
                   "encrypted storage. CLI: aws redshift modify-cluster --cluster-identifier <id> --encrypted "
                   "--kms-key-id <key>",
       over="clusters")
def redshift_cluster_encrypted(cluster: Cluster, ctx: CheckContext) -> Result:
    if not cluster.encrypted:
        return Result.failed(f"Redshift cluster {cluster.id} is not encrypted.")
    return Result.passed(f"Redshift cluster {cluster.id} is encrypted.")


@check(id="redshift_cluster_audit_logging_enabled", service="redshift", resource_type="AWS::Redshift::Cluster",
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["Redshift.4"]},
       title="Redshift cluster has audit logging enabled",
       risk="Without audit logs, connections, user changes and queries against the warehouse leave no record "
            "for investigations.",
       remediation="In the Redshift console select the cluster, Properties, 'Database configurations', Edit "
                   "audit logging, and send the connection, user and user activity logs to S3 or CloudWatch. "
                   "CLI: aws redshift enable-logging --cluster-identifier <id> --log-destination-type "
                   "cloudwatch --log-exports connectionlog userlog useractivitylog",
       over="clusters", needs=("logging_enabled",))
def redshift_cluster_audit_logging_enabled(cluster: Cluster, ctx: CheckContext) -> Result:
    if not cluster.logging_enabled:
        return Result.failed(f"Redshift cluster {cluster.id} does not have audit logging enabled.")
    return Result.passed(f"Redshift cluster {cluster.id} has audit logging enabled.")


@check(id="redshift_cluster_automated_snapshots_enabled", service="redshift",
       resource_type="AWS::Redshift::Cluster", scope="regional", severity="medium", pillar="reliability",
       frameworks={"aws-fsbp": ["Redshift.3"]},
       title="Redshift cluster keeps automated snapshots for at least 7 days",
       risk="With automated snapshots off or kept briefly, the cluster cannot be restored to a state before "
            "a recent data loss or corruption.",
       remediation="In the Redshift console select the cluster, Maintenance tab, 'Backup details', Edit, and "
                   "set the automated snapshot retention period to 7 days or more. CLI: aws redshift "
                   "modify-cluster --cluster-identifier <id> --automated-snapshot-retention-period 7",
       over="clusters")
def redshift_cluster_automated_snapshots_enabled(cluster: Cluster, ctx: CheckContext) -> Result:
    minimum = int(ctx.param("redshift_cluster_automated_snapshots_enabled", "min_retention_days", 7))
    days = cluster.automated_snapshot_retention_period
    if days < minimum:
        return Result.failed(f"Redshift cluster {cluster.id} keeps automated snapshots for {days} day(s), "
                             f"less than {minimum}.")
    return Result.passed(f"Redshift cluster {cluster.id} keeps automated snapshots for {days} day(s).")
