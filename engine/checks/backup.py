"""AWS Backup checks: a backup plan exists in the region."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.backup import BackupData


@check(id="backup_plan_exists", service="backup", resource_type="AWS::::Account", scope="regional",
       severity="low", pillar="reliability",
       title="AWS Backup has at least one backup plan in the region",
       risk="Without a backup plan, resources in the region are not backed up on a schedule and data lost "
            "to deletion, corruption or ransomware may not be recoverable.",
       remediation="In the AWS Backup console choose Backup plans, 'Create backup plan', start from a template "
                   "(for example Daily-35day-Retention), then assign resources to it. CLI: aws backup "
                   "create-backup-plan --backup-plan '{\"BackupPlanName\":\"daily\",\"Rules\":[{\"RuleName\":"
                   "\"daily\",\"TargetBackupVaultName\":\"Default\",\"ScheduleExpression\":\"cron(0 5 * * ? *)\","
                   "\"Lifecycle\":{\"DeleteAfterDays\":35}}]}'")
def backup_plan_exists(data: BackupData, ctx: CheckContext) -> Result:
    if data.plan_names:
        names = ", ".join(sorted(data.plan_names)[:5]) + (", ..." if len(data.plan_names) > 5 else "")
        return Result.passed(f"Account {data.account_id} has {len(data.plan_names)} backup plan(s) in "
                             f"{data.region} ({names}).")
    return Result.failed(f"Account {data.account_id} has no backup plan in {data.region}.")
