"""GuardDuty collector: the region's detectors (`ListDetectors`) and each one's status (`GetDetector`;
a region has at most one detector per account)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.collectors import CollectContext, Resource, ServiceData, collector, fill
from engine.model import Scope
from engine.throttle import paginate


@dataclass
class Detector(Resource):
    """A detector; `id` is the detector id. `status` is ENABLED or DISABLED (None: not read)."""

    status: str | None = None


@dataclass
class GuardDutyData(ServiceData):
    detectors: list[Detector] = field(default_factory=list)


@collector("guardduty", scope=Scope.REGIONAL, cost=0.5, title="GuardDuty")
def collect_guardduty(ctx: CollectContext) -> GuardDutyData:
    """List the region's detectors and read each one's status."""
    gd = ctx.client("guardduty")
    data = GuardDutyData(account_id=ctx.account_id, region=ctx.region)
    data.detectors = [
        Detector(id=d, arn=f"arn:aws:guardduty:{ctx.region}:{ctx.account_id}:detector/{d}", region=ctx.region)
        for d in paginate(gd, "list_detectors", "DetectorIds")]
    ctx.map(lambda d: fill(d, "status", gd.get_detector, DetectorId=d.id, transform=lambda r: r.get("Status")),
            data.detectors)
    return data
