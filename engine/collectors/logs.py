"""CloudWatch Logs collector: the region's log groups (one paged `DescribeLogGroups` listing).

Accounts can hold thousands of log groups, so each keeps only its name, ARN, retention and key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector
from engine.model import Scope
from engine.throttle import paginate


@dataclass
class LogGroup(Resource):
    """A log group; `id` is its name. `retention_days` None means events never expire."""

    retention_days: int | None = None
    kms_key_id: str | None = None


@dataclass
class LogsData(ServiceData):
    log_groups: list[LogGroup] = field(default_factory=list)


@collector("logs", scope=Scope.REGIONAL, cost=1.0, title="CloudWatch Logs")
def collect_logs(ctx: CollectContext) -> LogsData:
    """List the region's log groups, 50 a page (the API's maximum)."""
    data = LogsData(account_id=ctx.account_id, region=ctx.region)
    data.log_groups = [_log_group(g, ctx.region)
                       for g in paginate(ctx.client("logs"), "describe_log_groups", "logGroups", limit=50)]
    return data


def _log_group(g: dict[str, Any], region: str) -> LogGroup:
    # `logGroupArn` is the ARN without the `:*` suffix that `arn` carries.
    arn = g.get("logGroupArn") or (g.get("arn") or "").removesuffix(":*") or None
    return LogGroup(id=g.get("logGroupName", ""), arn=arn, region=region,
                    retention_days=g.get("retentionInDays"), kms_key_id=g.get("kmsKeyId") or None)
