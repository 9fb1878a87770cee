"""Demo estate: DynamoDB (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

TABLE_CHECKS = ("dynamodb_table_pitr_enabled", "dynamodb_table_deletion_protection_enabled",
                "dynamodb_table_autoscaling_enabled")
_KEY = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}


@seeder("dynamodb")
def seed_dynamodb(ctx: SeedContext, region: str) -> None:
    """A provisioned table with nothing configured, and an on-demand table with point-in-time recovery
    and deletion protection."""
    ddb = ctx.client("dynamodb", region)
    bad = ctx.name("ddb-unprotected")
    ddb.create_table(TableName=bad, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                     **_KEY)
    good = ctx.name("ddb-protected")
    ddb.create_table(TableName=good, BillingMode="PAY_PER_REQUEST", DeletionProtectionEnabled=True, **_KEY)
    ddb.update_continuous_backups(TableName=good,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    for check_id in TABLE_CHECKS:
        ctx.expect(check_id, region, bad, FAIL)
        ctx.expect(check_id, region, good, PASS)
