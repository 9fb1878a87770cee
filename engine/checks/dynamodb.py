"""DynamoDB checks: point-in-time recovery, deletion protection and capacity autoscaling of tables."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.dynamodb import READ_DIMENSION, WRITE_DIMENSION, Table

_DIMENSION_NAMES = {READ_DIMENSION: "read", WRITE_DIMENSION: "write"}


@check(id="dynamodb_table_pitr_enabled", service="dynamodb", resource_type="AWS::DynamoDB::Table",
       scope="regional", severity="medium", pillar="reliability", frameworks={"aws-fsbp": ["DynamoDB.2"]},
       title="DynamoDB table has point-in-time recovery enabled",
       risk="Without point-in-time recovery, items deleted or overwritten by mistake or by a faulty "
            "deployment cannot be restored.",
       remediation="In the DynamoDB console open the table, Backups tab, 'Point-in-time recovery', choose "
                   "Edit and turn it on. CLI: aws dynamodb update-continuous-backups --table-name <table> "
                   "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true",
       over="tables", needs=("pitr_status",))
def dynamodb_table_pitr_enabled(table: Table, ctx: CheckContext) -> Result:
    if table.pitr_status != "ENABLED":
        return Result.failed(f"DynamoDB table {table.id} does not have point-in-time recovery enabled "
                             f"(status {table.pitr_status or 'unset'}).")
    return Result.passed(f"DynamoDB table {table.id} has point-in-time recovery enabled.")


@check(id="dynamodb_table_deletion_protection_enabled", service="dynamodb",
       resource_type="AWS::DynamoDB::Table", scope="regional", severity="low", pillar="reliability",
       frameworks={"aws-fsbp": ["DynamoDB.6"]},
       title="DynamoDB table has deletion protection enabled",
       risk="Without deletion protection the table and all its items can be deleted by mistake in a single "
            "call.",
       remediation="In the DynamoDB console open the table, 'Additional settings' tab, and turn on "
                   "'Deletion protection'. CLI: aws dynamodb update-table --table-name <table> "
                   "--deletion-protection-enabled",
       over="tables", needs=("description",))
def dynamodb_table_deletion_protection_enabled(table: Table, ctx: CheckContext) -> Result:
    if not table.deletion_protection:
        return Result.failed(f"DynamoDB table {table.id} does not have deletion protection enabled.")
    return Result.passed(f"DynamoDB table {table.id} has deletion protection enabled.")


@check(id="dynamodb_table_autoscaling_enabled", service="dynamodb", resource_type="AWS::DynamoDB::Table",
       scope="regional", severity="low", pillar="performance_efficiency",
       frameworks={"aws-fsbp": ["DynamoDB.1"]},
       title="DynamoDB table scales its capacity with demand",
       risk="A provisioned table without autoscaling is throttled when traffic exceeds its fixed capacity "
            "and pays for idle capacity when traffic is low.",
       remediation="In the DynamoDB console open the table, 'Additional settings' tab, choose Edit under "
                   "'Read/write capacity' and turn on auto scaling for both read and write capacity (or "
                   "switch to on-demand). CLI: aws application-autoscaling register-scalable-target "
                   "--service-namespace dynamodb --resource-id table/<table> --scalable-dimension "
                   "dynamodb:table:ReadCapacityUnits --min-capacity 5 --max-capacity 100 (repeat with "
                   "dynamodb:table:WriteCapacityUnits, then put-scaling-policy for each); or aws dynamodb "
                   "update-table --table-name <table> --billing-mode PAY_PER_REQUEST",
       over="tables", needs=("description", "autoscaled_dimensions"))
def dynamodb_table_autoscaling_enabled(table: Table, ctx: CheckContext) -> Result:
    if table.billing_mode != "PROVISIONED":
        return Result.passed(f"DynamoDB table {table.id} uses on-demand capacity.")
    missing = [name for dim, name in _DIMENSION_NAMES.items() if dim not in table.autoscaled_dimensions]
    if missing:
        return Result.failed(f"DynamoDB table {table.id} has provisioned capacity without autoscaling of "
                             f"{' and '.join(missing)} capacity.")
    return Result.passed(f"DynamoDB table {table.id} autoscales its read and write capacity.")
