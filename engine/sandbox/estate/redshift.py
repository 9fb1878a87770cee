"""Demo estate: Redshift (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

CLUSTER_CHECKS = ("redshift_cluster_publicly_accessible_disabled", "redshift_cluster_encrypted",
                  "redshift_cluster_audit_logging_enabled", "redshift_cluster_automated_snapshots_enabled")
_CLUSTER = {"NodeType": "dc2.large", "ClusterType": "single-node", "MasterUsername": "demo",
            "MasterUserPassword": "Demo-Password-123"}


@seeder("redshift")
def seed_redshift(ctx: SeedContext, region: str) -> None:
    """A public, unencrypted cluster with 1-day snapshots and no logging, and an encrypted private
    cluster with 7-day snapshots and audit logging to S3."""
    redshift = ctx.client("redshift", region)
    bad = ctx.name("warehouse-exposed")
    redshift.create_cluster(ClusterIdentifier=bad, PubliclyAccessible=True, AutomatedSnapshotRetentionPeriod=1,
                            **_CLUSTER)
    good = ctx.name("warehouse-hardened")
    redshift.create_cluster(ClusterIdentifier=good, PubliclyAccessible=False, Encrypted=True,
                            AutomatedSnapshotRetentionPeriod=7, **_CLUSTER)
    # The emulator does not require the log bucket to exist; bucket names are global, hence the suffix.
    redshift.enable_logging(ClusterIdentifier=good, BucketName=f"{ctx.prefix}-{ctx.account_id}-{region}-audit")
    for check_id in CLUSTER_CHECKS:
        ctx.expect(check_id, region, bad, FAIL)
        ctx.expect(check_id, region, good, PASS)
