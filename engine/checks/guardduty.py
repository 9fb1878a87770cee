"""GuardDuty checks: threat detection is on in the region (one finding per region)."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.guardduty import GuardDutyData


@check(id="guardduty_detector_enabled", service="guardduty", resource_type="AWS::::Account", scope="regional",
       severity="high", pillar="security", frameworks={"aws-fsbp": ["GuardDuty.1"]},
       title="GuardDuty is enabled",
       risk="Without GuardDuty, compromised credentials, crypto-mining, reconnaissance and other malicious "
            "activity in the region are not detected.",
       remediation="In the GuardDuty console of the region choose Get started > Enable GuardDuty (or, for a "
                   "suspended detector, Settings > Re-enable). CLI: aws guardduty create-detector --enable, or "
                   "aws guardduty update-detector --detector-id <id> --enable")
def guardduty_detector_enabled(data: GuardDutyData, ctx: CheckContext) -> Result:
    where = f"Account {data.account_id} in {data.region}"
    unknown = []
    for detector in data.detectors:
        if "status" in detector.errors:
            unknown.append(f"detector {detector.id}: {detector.errors['status']}")
        elif detector.status == "ENABLED":
            return Result.passed(f"{where} has GuardDuty detector {detector.id} enabled.")
    if unknown:
        return Result.error(f"{where}: no detector is known to be enabled; could not read {'; '.join(unknown)}.")
    if not data.detectors:
        return Result.failed(f"{where} has no GuardDuty detector.")
    return Result.failed(f"{where} has no enabled GuardDuty detector "
                         f"({', '.join(f'{d.id} {d.status}' for d in data.detectors)}).")
