"""CloudWatch collector: one global unit per account.

It gathers the CIS alarm chain once, link by link, fetching only what the next link needs:
1. the multi-region trails that deliver to CloudWatch Logs (CloudTrail `DescribeTrails` in every
   scanned region, deduplicated; `GetTrailStatus` and `GetEventSelectors` in their home regions);
2. the metric filters of the log groups of those trails that log management events
   (`DescribeMetricFilters` by `logGroupName`, in the log group's region);
3. the metric alarms of every scanned region (`DescribeAlarms`; also the regions of those log groups,
   for the chain, when they are not scanned);
4. the subscriptions of the SNS topics that alarms watching a filter's metric notify
   (`ListSubscriptionsByTopic`, first page: one subscription is enough).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector
from engine.collectors.cloudtrail import Trail, fill_event_selectors, fill_trail_status, list_trails
from engine.throttle import describe_error, error_code, paginate

# "Not there" answers that mean "nothing configured", not a failure to read.
_NO_LOG_GROUP = ("ResourceNotFoundException",)
_NO_TOPIC = ("NotFound", "NotFoundException")


@dataclass
class MetricFilter:
    """A metric filter of a log group: its pattern and the (namespace, metric name) pairs it publishes."""

    name: str
    pattern: str
    metrics: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Alarm(Resource):
    """A metric alarm; `id` is the alarm name. `metrics` are the (namespace, metric name) pairs it
    watches: its own metric, or those of a metric-math alarm's `MetricStat` queries."""

    actions_enabled: bool = False
    alarm_actions: list[str] = field(default_factory=list)
    metrics: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CloudWatchData(ServiceData):
    """The alarm chain of one account, and the metric alarms of the scanned regions."""

    # Multi-region trails delivering to a log group of the account (status and selectors filled).
    trails: list[Trail] = field(default_factory=list)
    # Metric filters by log group (region, name); a log group is present once its filters were read.
    metric_filters: dict[tuple[str, str], list[MetricFilter]] = field(default_factory=dict)
    metric_filter_errors: dict[tuple[str, str], str] = field(default_factory=dict)
    # Alarms of the scanned regions: evaluated by the per-alarm check.
    alarms: list[Alarm] = field(default_factory=list)
    # Alarms of log-group regions that are not scanned: used by the chain only.
    chain_alarms: list[Alarm] = field(default_factory=list)
    alarm_errors: dict[str, str] = field(default_factory=dict)
    # Subscription presence per SNS topic ARN (True: at least one subscription).
    topic_subscribed: dict[str, bool] = field(default_factory=dict)
    topic_errors: dict[str, str] = field(default_factory=dict)

    def alarms_in(self, region: str) -> list[Alarm]:
        """Every collected metric alarm of one region."""
        return [a for a in (*self.alarms, *self.chain_alarms) if a.region == region]


def log_group_location(trail: Trail, account_id: str) -> tuple[str, str] | None:
    """(region, log group name) of the trail's CloudWatch Logs log group, from its ARN
    `arn:aws:logs:<region>:<account>:log-group:<name>[:*]`; None when the trail has none, or when the
    log group is another account's (an organization trail's): its filters and alarms are not this
    account's to read."""
    parts = (trail.log_group_arn or "").split(":")
    if len(parts) < 7 or parts[5] != "log-group" or not parts[6] or parts[4] not in ("", account_id):
        return None
    return (parts[3] or trail.region, parts[6])


def is_sns_topic(arn: str) -> bool:
    """Whether an alarm action is an SNS topic (rather than, say, an Auto Scaling or EC2 action)."""
    return arn.startswith("arn:") and arn.split(":")[2:3] == ["sns"]


@collector("cloudwatch", scope="global", cost=2.0, title="CloudWatch")
def collect_cloudwatch(ctx: CollectContext) -> CloudWatchData:
    """Collect the alarm chain once per account and the metric alarms of every scanned region."""
    data = CloudWatchData(account_id=ctx.account_id, region=ctx.region)
    data.trails = [t for t in list_trails(ctx) if t.multi_region and log_group_location(t, ctx.account_id)]
    ctx.map(lambda task: task(), [partial(fill, ctx, t) for t in data.trails
                                  for fill in (fill_trail_status, fill_event_selectors)])

    # Only trails that can start a chain need their log group's filters.
    groups = sorted({loc for t in data.trails if not t.errors and t.is_logging and t.captures_management_events
                     for loc in [log_group_location(t, ctx.account_id)] if loc})
    chain_regions = sorted({region for region, _ in groups if region not in ctx.scanned_regions})

    def filters(group: tuple[str, str]) -> None:
        region, name = group
        try:
            data.metric_filters[group] = [
                _metric_filter(f) for f in paginate(ctx.client("logs", region), "describe_metric_filters",
                                                    "metricFilters", logGroupName=name, limit=50)]
        except Exception as exc:
            if error_code(exc) in _NO_LOG_GROUP:
                data.metric_filters[group] = []
            else:
                data.metric_filter_errors[group] = describe_error(exc)

    def alarms(region: str) -> None:
        listed = _alarms(ctx, region)
        if region in ctx.scanned_regions:
            data.alarms.extend(listed)
        else:
            data.chain_alarms.extend(listed)

    def chain_alarms(region: str) -> None:
        # A region outside the scan only matters to the chain: its failure is the chain's, not the unit's.
        try:
            alarms(region)
        except Exception as exc:
            data.alarm_errors[region] = describe_error(exc)

    # A scanned region's alarm listing failing raises: its per-alarm findings would silently vanish.
    ctx.map(lambda task: task(), [*(partial(filters, g) for g in groups),
                                  *(partial(alarms, r) for r in ctx.scanned_regions),
                                  *(partial(chain_alarms, r) for r in chain_regions)])
    data.alarms.sort(key=lambda a: (a.region, a.id))

    # Topics worth asking about: those of alarms watching a metric that a chain log group publishes.
    published = {(region, m) for (region, _), fs in data.metric_filters.items() for f in fs for m in f.metrics}
    topics = sorted({action for a in (*data.alarms, *data.chain_alarms)
                     if any((a.region, m) in published for m in a.metrics)
                     for action in a.alarm_actions if is_sns_topic(action)})
    ctx.map(partial(_subscribed, ctx, data), topics)
    return data


def _metric_filter(f: dict[str, Any]) -> MetricFilter:
    return MetricFilter(name=f.get("filterName", ""), pattern=f.get("filterPattern") or "",
                        metrics=[(m.get("metricNamespace", ""), m.get("metricName", ""))
                                 for m in f.get("metricTransformations") or []])


def _alarms(ctx: CollectContext, region: str) -> list[Alarm]:
    cw = ctx.client("cloudwatch", region)
    return [_alarm(a, region) for a in paginate(cw, "describe_alarms", "MetricAlarms", MaxRecords=100)]


def _alarm(a: dict[str, Any], region: str) -> Alarm:
    metrics: list[tuple[str, str]] = []
    if a.get("MetricName"):
        metrics.append((a.get("Namespace", ""), a["MetricName"]))
    for query in a.get("Metrics") or []:
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        if metric.get("MetricName"):
            metrics.append((metric.get("Namespace", ""), metric["MetricName"]))
    return Alarm(id=a.get("AlarmName", ""), arn=a.get("AlarmArn"), region=region,
                 actions_enabled=bool(a.get("ActionsEnabled")), alarm_actions=list(a.get("AlarmActions") or []),
                 metrics=metrics)


def _subscribed(ctx: CollectContext, data: CloudWatchData, topic: str) -> None:
    region = topic.split(":")[3]
    try:
        first: Iterable[Any] = paginate(ctx.client("sns", region), "list_subscriptions_by_topic", "Subscriptions",
                                        TopicArn=topic)
        data.topic_subscribed[topic] = next(iter(first), None) is not None
    except Exception as exc:
        if error_code(exc) in _NO_TOPIC:
            data.topic_subscribed[topic] = False
        else:
            data.topic_errors[topic] = describe_error(exc)
