"""Demo estate: AWS Backup (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder


@seeder("backup")
def seed_backup(ctx: SeedContext, region: str) -> None:
    """A daily backup plan in the first seeded region only, so the others have none."""
    if region != ctx.regions[0]:
        ctx.expect("backup_plan_exists", region, ctx.account_id, FAIL)
        return
    ctx.client("backup", region).create_backup_plan(BackupPlan={
        "BackupPlanName": ctx.name("daily"),
        "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "Default",
                   "ScheduleExpression": "cron(0 5 * * ? *)", "Lifecycle": {"DeleteAfterDays": 35}}]})
    ctx.expect("backup_plan_exists", region, ctx.account_id, PASS)
