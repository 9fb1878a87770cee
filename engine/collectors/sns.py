"""SNS collector: the region's topics with their access policy and encryption key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch, set_policy
from engine.model import Scope
from engine.throttle import paginate


@dataclass
class Topic(Resource):
    """An SNS topic. `errors["attributes"]` means GetTopicAttributes failed."""

    # Attributes.Policy, parsed.
    policy: dict[str, Any] | None = None
    # Attributes.KmsMasterKeyId; None when the topic is not encrypted.
    kms_master_key_id: str | None = None


@dataclass
class SnsData(ServiceData):
    topics: list[Topic] = field(default_factory=list)


@collector("sns", scope=Scope.REGIONAL, cost=1.0, title="SNS")
def collect_sns(ctx: CollectContext) -> SnsData:
    """List topics once, then read each topic's attributes (one call gives policy and encryption)."""
    data = SnsData(account_id=ctx.account_id, region=ctx.region)
    sns = ctx.client("sns")
    data.topics = [Topic(id=t["TopicArn"].rsplit(":", 1)[-1], arn=t["TopicArn"], region=ctx.region)
                   for t in paginate(sns, "list_topics", "Topics")]
    ctx.map(lambda topic: _fill_topic(sns, topic), data.topics)
    return data


def _fill_topic(sns: Any, topic: Topic) -> None:
    resp, err = fetch(sns.get_topic_attributes, TopicArn=topic.arn)
    if err is not None:
        topic.errors["attributes"] = err
        return
    attributes = resp.get("Attributes", {})
    topic.kms_master_key_id = attributes.get("KmsMasterKeyId") or None
    set_policy(topic, attributes.get("Policy"), "GetTopicAttributes")
