"""ElastiCache checks: encryption at rest and in transit, and automatic failover of replication groups."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.elasticache import ReplicationGroup


@check(id="elasticache_replication_group_encrypted_at_rest", service="elasticache",
       resource_type="AWS::ElastiCache::ReplicationGroup", scope="regional", severity="medium",
       pillar="security", frameworks={"aws-fsbp": ["ElastiCache.4"]},
       title="ElastiCache replication group is encrypted at rest",
       risk="Cached data written to disk during syncs, swaps and backups is stored in clear text.",
       remediation="Encryption at rest cannot be turned on for an existing replication group: in the "
                   "ElastiCache console create a backup, then create a new replication group from it with "
                   "'Encryption at rest' enabled and switch clients to it. CLI: aws elasticache "
                   "create-snapshot --replication-group-id <id> --snapshot-name <snap>; aws elasticache "
                   "create-replication-group --replication-group-id <new-id> --replication-group-description "
                   "<text> --snapshot-name <snap> --at-rest-encryption-enabled",
       over="replication_groups")
def elasticache_replication_group_encrypted_at_rest(group: ReplicationGroup, ctx: CheckContext) -> Result:
    if not group.at_rest_encryption:
        return Result.failed(f"ElastiCache replication group {group.id} is not encrypted at rest.")
    return Result.passed(f"ElastiCache replication group {group.id} is encrypted at rest.")


@check(id="elasticache_replication_group_encrypted_in_transit", service="elasticache",
       resource_type="AWS::ElastiCache::ReplicationGroup", scope="regional", severity="medium",
       pillar="security", frameworks={"aws-fsbp": ["ElastiCache.5"]},
       title="ElastiCache replication group is encrypted in transit",
       risk="Without TLS, data and credentials exchanged with the cache can be read or altered by anyone on "
            "the network path.",
       remediation="In the ElastiCache console select the replication group, choose Modify, set 'Encryption "
                   "in transit' to enabled with transit encryption mode Preferred, then Required once clients "
                   "use TLS. CLI: aws elasticache modify-replication-group --replication-group-id <id> "
                   "--transit-encryption-enabled --transit-encryption-mode preferred --apply-immediately",
       over="replication_groups")
def elasticache_replication_group_encrypted_in_transit(group: ReplicationGroup, ctx: CheckContext) -> Result:
    if not group.transit_encryption:
        return Result.failed(f"ElastiCache replication group {group.id} is not encrypted in transit.")
    return Result.passed(f"ElastiCache replication group {group.id} is encrypted in transit.")


@check(id="elasticache_replication_group_auto_failover_enabled", service="elasticache",
       resource_type="AWS::ElastiCache::ReplicationGroup", scope="regional", severity="medium",
       pillar="reliability", frameworks={"aws-fsbp": ["ElastiCache.3"]},
       title="ElastiCache replication group fails over automatically",
       risk="Without automatic failover, the loss of the primary node leaves the cache unwritable until "
            "someone promotes a replica by hand.",
       remediation="In the ElastiCache console select the replication group (it needs at least one replica), "
                   "choose Modify and enable 'Auto failover' (and Multi-AZ). CLI: aws elasticache "
                   "modify-replication-group --replication-group-id <id> --automatic-failover-enabled "
                   "--multi-az-enabled --apply-immediately",
       over="replication_groups")
def elasticache_replication_group_auto_failover_enabled(group: ReplicationGroup, ctx: CheckContext) -> Result:
    if group.automatic_failover != "enabled":
        return Result.failed(f"ElastiCache replication group {group.id} has automatic failover "
                             f"{group.automatic_failover}.")
    return Result.passed(f"ElastiCache replication group {group.id} has automatic failover enabled.")
