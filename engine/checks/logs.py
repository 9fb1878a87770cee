"""CloudWatch Logs checks: log group retention and KMS encryption."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.logs import LogGroup


@check(id="logs_log_group_retention_set", service="logs", resource_type="AWS::Logs::LogGroup",
       scope="regional", severity="low", pillar="cost_optimization",
       title="CloudWatch Logs log group has a retention period",
       risk="A log group without a retention period keeps every event forever: storage costs grow without bound "
            "and old data is kept longer than needed.",
       remediation="In the CloudWatch console open Logs > Log groups, select the log group, Actions > Edit "
                   "retention setting, and choose a period. CLI: aws logs put-retention-policy "
                   "--log-group-name <log-group> --retention-in-days 365",
       over="log_groups")
def logs_log_group_retention_set(group: LogGroup, ctx: CheckContext) -> Result:
    if group.retention_days:
        return Result.passed(f"Log group {group.id} keeps events for {group.retention_days} days.")
    return Result.failed(f"Log group {group.id} has no retention period (events never expire).")


@check(id="logs_log_group_kms_encrypted", service="logs", resource_type="AWS::Logs::LogGroup",
       scope="regional", severity="low", pillar="security",
       title="CloudWatch Logs log group is encrypted with a KMS key",
       risk="Without a customer KMS key, access to the log data is governed by log permissions alone and cannot "
            "be revoked or audited through the key.",
       remediation="Give the key policy of a KMS key in the log group's region permission for "
                   "logs.<region>.amazonaws.com, then associate it (console: Log groups > the group > Actions > "
                   "Edit KMS key ID). CLI: aws logs associate-kms-key --log-group-name <log-group> "
                   "--kms-key-id <key-arn>",
       over="log_groups")
def logs_log_group_kms_encrypted(group: LogGroup, ctx: CheckContext) -> Result:
    if group.kms_key_id:
        return Result.passed(f"Log group {group.id} is encrypted with KMS key {group.kms_key_id}.")
    return Result.failed(f"Log group {group.id} is not encrypted with a KMS key.")
