"""AWS Backup collector: the region's backup plans."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.collectors import CollectContext, ServiceData, collector
from engine.model import Scope
from engine.throttle import paginate


@dataclass
class BackupData(ServiceData):
    # Names of the region's backup plans (the checks need only whether there is one).
    plan_names: list[str] = field(default_factory=list)


@collector("backup", scope=Scope.REGIONAL, cost=0.5, title="AWS Backup")
def collect_backup(ctx: CollectContext) -> BackupData:
    """List the region's backup plans."""
    data = BackupData(account_id=ctx.account_id, region=ctx.region)
    data.plan_names = [p.get("BackupPlanName") or p.get("BackupPlanId", "")
                       for p in paginate(ctx.client("backup"), "list_backup_plans", "BackupPlansList",
                                         MaxResults=1000)]
    return data
