"""DynamoDB collector: tables with their description and continuous-backup settings (one call each per
table: DynamoDB has no batch describe), and the region's application-autoscaling targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch, fill
from engine.model import Scope
from engine.throttle import describe_error, paginate

READ_DIMENSION = "dynamodb:table:ReadCapacityUnits"
WRITE_DIMENSION = "dynamodb:table:WriteCapacityUnits"


@dataclass
class Table(Resource):
    """A DynamoDB table. Fields filled by a per-table call stay None when that call failed (see
    `errors["description"]`, `errors["pitr_status"]`, `errors["autoscaled_dimensions"]`)."""

    # DescribeTable: BillingModeSummary.BillingMode (absent means PROVISIONED) and DeletionProtectionEnabled.
    billing_mode: str | None = None
    deletion_protection: bool | None = None
    # DescribeContinuousBackups: PointInTimeRecoveryDescription.PointInTimeRecoveryStatus.
    pitr_status: str | None = None
    # The table's scalable dimensions registered with application autoscaling.
    autoscaled_dimensions: frozenset[str] = frozenset()


@dataclass
class DynamoDbData(ServiceData):
    tables: list[Table] = field(default_factory=list)


def _describe(ddb: Any, table: Table) -> None:
    resp, err = fetch(ddb.describe_table, TableName=table.id)
    if err is not None:
        table.errors["description"] = err
        return
    desc = resp.get("Table", {})
    table.arn = desc.get("TableArn") or table.arn
    table.billing_mode = (desc.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    table.deletion_protection = bool(desc.get("DeletionProtectionEnabled"))


def _fill_table(ddb: Any, table: Table) -> None:
    _describe(ddb, table)
    fill(table, "pitr_status", ddb.describe_continuous_backups, TableName=table.id,
         transform=lambda r: (r.get("ContinuousBackupsDescription", {})
                              .get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")))


@collector("dynamodb", scope=Scope.REGIONAL, cost=1.5, title="DynamoDB")
def collect_dynamodb(ctx: CollectContext) -> DynamoDbData:
    """List the region's tables, describe each, and read the autoscaling targets once for the region."""
    ddb = ctx.client("dynamodb")
    data = DynamoDbData(account_id=ctx.account_id, region=ctx.region)
    data.tables = [
        Table(id=name, arn=f"arn:aws:dynamodb:{ctx.region}:{ctx.account_id}:table/{name}", region=ctx.region)
        for name in paginate(ddb, "list_tables", "TableNames")
    ]
    if not data.tables:
        return data
    ctx.map(lambda t: _fill_table(ddb, t), data.tables)
    # One listing covers every table; if it fails, only the autoscaling check of each table is affected.
    try:
        targets = list(paginate(ctx.client("application-autoscaling"), "describe_scalable_targets",
                                "ScalableTargets", ServiceNamespace="dynamodb"))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        reason = describe_error(exc)
        for table in data.tables:
            table.errors["autoscaled_dimensions"] = reason
        return data
    dimensions: dict[str, set[str]] = {}
    for target in targets:
        dimensions.setdefault(target.get("ResourceId", ""), set()).add(target.get("ScalableDimension", ""))
    for table in data.tables:
        table.autoscaled_dimensions = frozenset(dimensions.get(f"table/{table.id}", ()))
    return data
