"""SQS collector: the region's queues with their access policy and encryption settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch, set_policy
from engine.model import Scope
from engine.throttle import paginate

# A queue deleted between ListQueues and GetQueueAttributes is gone, not an error.
GONE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


@dataclass
class Queue(Resource):
    """An SQS queue. `errors["attributes"]` means GetQueueAttributes failed."""

    url: str = ""
    # Attributes.Policy, parsed.
    policy: dict[str, Any] | None = None
    # Attributes.KmsMasterKeyId (SSE-KMS); None when not set.
    kms_master_key_id: str | None = None
    # Attributes.SqsManagedSseEnabled (SSE-SQS) as returned: "true" / "false", None when absent.
    sqs_managed_sse_enabled: str | None = None


@dataclass
class SqsData(ServiceData):
    queues: list[Queue] = field(default_factory=list)


@collector("sqs", scope=Scope.REGIONAL, cost=1.0, title="SQS")
def collect_sqs(ctx: CollectContext) -> SqsData:
    """List queues once, then read each queue's attributes (one call gives policy and encryption)."""
    data = SqsData(account_id=ctx.account_id, region=ctx.region)
    sqs = ctx.client("sqs")
    queues = [_queue(url, ctx) for url in paginate(sqs, "list_queues", "QueueUrls", MaxResults=1000)]
    exists = ctx.map(lambda q: _fill_queue(sqs, q), queues)
    data.queues = [q for q, kept in zip(queues, exists, strict=True) if kept]
    return data


def _queue(url: str, ctx: CollectContext) -> Queue:
    name = url.rstrip("/").rsplit("/", 1)[-1]
    # The ARN from the attributes replaces this one; it stands in if they cannot be read.
    return Queue(id=name, arn=f"arn:aws:sqs:{ctx.region}:{ctx.account_id}:{name}", region=ctx.region, url=url)


def _fill_queue(sqs: Any, queue: Queue) -> bool:
    """Read the queue's attributes; False when the queue no longer exists."""
    resp, err = fetch(sqs.get_queue_attributes, QueueUrl=queue.url, AttributeNames=["All"], absent=GONE)
    if err is not None:
        queue.errors["attributes"] = err
        return True
    if resp is None:
        return False
    attributes = resp.get("Attributes", {})
    queue.arn = attributes.get("QueueArn") or queue.arn
    queue.kms_master_key_id = attributes.get("KmsMasterKeyId") or None
    queue.sqs_managed_sse_enabled = attributes.get("SqsManagedSseEnabled")
    set_policy(queue, attributes.get("Policy"), "GetQueueAttributes")
    return True
