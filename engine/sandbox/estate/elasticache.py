"""Demo estate: ElastiCache (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

GROUP_CHECKS = ("elasticache_replication_group_encrypted_at_rest",
                "elasticache_replication_group_encrypted_in_transit",
                "elasticache_replication_group_auto_failover_enabled")
_GROUP = {"Engine": "redis", "CacheNodeType": "cache.t3.micro"}


@seeder("elasticache")
def seed_elasticache(ctx: SeedContext, region: str) -> None:
    """A single-node replication group with defaults (no encryption, no failover) and a two-node one
    with encryption at rest and in transit and automatic failover."""
    ec = ctx.client("elasticache", region)
    bad = ctx.name("redis-plain")
    ec.create_replication_group(ReplicationGroupId=bad, ReplicationGroupDescription="demo: defaults", **_GROUP)
    good = ctx.name("redis-hardened")
    ec.create_replication_group(ReplicationGroupId=good, ReplicationGroupDescription="demo: hardened",
                               NumCacheClusters=2, AutomaticFailoverEnabled=True, AtRestEncryptionEnabled=True,
                               TransitEncryptionEnabled=True, **_GROUP)
    for check_id in GROUP_CHECKS:
        ctx.expect(check_id, region, bad, FAIL)
        ctx.expect(check_id, region, good, PASS)
