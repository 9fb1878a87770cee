"""AWS Config collector: the region's configuration recorders and their status (two calls)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.collectors import CollectContext, ServiceData, collector, fetch
from engine.model import Scope
from engine.throttle import aws_call


@dataclass
class Recorder:
    """A configuration recorder with its status (`recording`/`last_status` None: no status returned)."""

    name: str
    all_supported: bool = False
    recording: bool | None = None
    last_status: str | None = None


@dataclass
class ConfigData(ServiceData):
    """Recorders of one region. A failed status call is recorded in `errors["recorder_status"]`."""

    recorders: list[Recorder] = field(default_factory=list)


@collector("config", scope=Scope.REGIONAL, cost=0.5, title="Config")
def collect_config(ctx: CollectContext) -> ConfigData:
    """Describe the region's recorders and, when there are any, their recording status."""
    cfg = ctx.client("config")
    data = ConfigData(account_id=ctx.account_id, region=ctx.region)
    data.recorders = [Recorder(name=r.get("name", ""),
                               all_supported=bool((r.get("recordingGroup") or {}).get("allSupported")))
                      for r in aws_call(cfg.describe_configuration_recorders).get("ConfigurationRecorders", [])]
    if not data.recorders:
        return data
    resp, err = fetch(cfg.describe_configuration_recorder_status)
    if err is not None:
        data.errors["recorder_status"] = err
        return data
    statuses = {s.get("name"): s for s in (resp or {}).get("ConfigurationRecordersStatus", [])}
    for recorder in data.recorders:
        status = statuses.get(recorder.name)
        if status is not None:
            recorder.recording = bool(status.get("recording"))
            recorder.last_status = status.get("lastStatus")
    return data
