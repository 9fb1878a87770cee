"""Kinesis Data Streams collector: streams with their encryption and retention."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch
from engine.model import Scope
from engine.throttle import paginate

SUMMARY_FIELDS = ("encryption_type", "retention_hours")


@dataclass
class Stream(Resource):
    encryption_type: str | None = None
    retention_hours: int | None = None


@dataclass
class KinesisData(ServiceData):
    streams: list[Stream] = field(default_factory=list)


@collector("kinesis", scope=Scope.REGIONAL, cost=1.0, title="Kinesis")
def collect_kinesis(ctx: CollectContext) -> KinesisData:
    """List the region's streams, then read each one's summary (encryption and retention are not listed)."""
    kinesis = ctx.client("kinesis")
    region, account = ctx.region, ctx.account_id
    data = KinesisData(account_id=account, region=region)
    data.streams = [
        Stream(id=s["StreamName"], region=region,
               arn=s.get("StreamARN") or f"arn:aws:kinesis:{region}:{account}:stream/{s['StreamName']}")
        for s in paginate(kinesis, "list_streams", "StreamSummaries", Limit=1000)
    ]
    ctx.map(lambda s: _fill_summary(kinesis, s), data.streams)
    return data


def _fill_summary(kinesis: Any, stream: Stream) -> None:
    resp, err = fetch(kinesis.describe_stream_summary, StreamARN=stream.arn)
    if err is not None:
        for name in SUMMARY_FIELDS:
            stream.errors[name] = err
        return
    summary = resp.get("StreamDescriptionSummary", {})
    stream.encryption_type = summary.get("EncryptionType") or "NONE"
    stream.retention_hours = summary.get("RetentionPeriodHours")
