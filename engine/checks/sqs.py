"""SQS checks: public queue policies and encryption at rest."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.sqs import Queue
from engine.policydoc import public_statement_ids


@check(id="sqs_queue_policy_public_access_prohibited", service="sqs", resource_type="AWS::SQS::Queue",
       scope="regional", severity="high", pillar="security", frameworks={"aws-fsbp": ["SQS.3"]},
       title="SQS queue policy does not allow public access",
       risk="A queue policy statement that allows any principal without conditions lets anyone send, read or "
            "delete the queue's messages.",
       remediation="In the SQS console open the queue, choose Edit, open 'Access policy' and remove or restrict "
                   "(with specific principals or a Condition) the statements whose Principal is \"*\". CLI: aws "
                   "sqs set-queue-attributes --queue-url <queue-url> --attributes file://attributes.json (with "
                   "the corrected Policy)",
       over="queues", needs=("attributes", "policy"))
def sqs_queue_policy_public_access_prohibited(queue: Queue, ctx: CheckContext) -> Result:
    public = public_statement_ids(queue.policy)
    if public:
        return Result.failed(f"SQS queue {queue.id} policy has public statement(s) {', '.join(public)}.")
    return Result.passed(f"SQS queue {queue.id} policy has no public statement.")


@check(id="sqs_queue_encrypted", service="sqs", resource_type="AWS::SQS::Queue", scope="regional",
       severity="medium", pillar="security", frameworks={"aws-fsbp": ["SQS.1"]},
       title="SQS queue is encrypted at rest",
       risk="Without server-side encryption, queued messages are stored unencrypted.",
       remediation="In the SQS console open the queue, choose Edit, expand Encryption and enable server-side "
                   "encryption (SSE-SQS, or SSE-KMS with a KMS key). CLI: aws sqs set-queue-attributes "
                   "--queue-url <queue-url> --attributes SqsManagedSseEnabled=true",
       over="queues", needs=("attributes",))
def sqs_queue_encrypted(queue: Queue, ctx: CheckContext) -> Result:
    if queue.kms_master_key_id:
        return Result.passed(f"SQS queue {queue.id} is encrypted with KMS key {queue.kms_master_key_id}.")
    if (queue.sqs_managed_sse_enabled or "").lower() == "true":
        return Result.passed(f"SQS queue {queue.id} is encrypted with SQS-managed keys (SSE-SQS).")
    return Result.failed(f"SQS queue {queue.id} has server-side encryption disabled.")
