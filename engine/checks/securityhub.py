"""Security Hub checks: the hub is enabled in the region (one finding per region)."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.securityhub import SecurityHubData


@check(id="securityhub_hub_enabled", service="securityhub", resource_type="AWS::::Account", scope="regional",
       severity="medium", pillar="security", frameworks={"cis-aws-3.0": ["4.16"]},
       title="Security Hub is enabled",
       risk="Without Security Hub, findings from GuardDuty, Inspector, Config and its own controls are not "
            "aggregated, so security posture in the region is not continuously assessed.",
       remediation="In the Security Hub console of the region choose Go to Security Hub > Enable Security Hub "
                   "(with the AWS Foundational Security Best Practices standard). "
                   "CLI: aws securityhub enable-security-hub --enable-default-standards",
       needs=("hub",))
def securityhub_hub_enabled(data: SecurityHubData, ctx: CheckContext) -> Result:
    where = f"Account {data.account_id} in {data.region}"
    if data.hub_arn:
        return Result.passed(f"{where} has Security Hub enabled ({data.hub_arn}).")
    return Result.failed(f"{where} is not subscribed to Security Hub.")
