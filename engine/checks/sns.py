"""SNS checks: public topic policies and encryption at rest."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.sns import Topic
from engine.policydoc import public_statement_ids


@check(id="sns_topic_policy_public_access_prohibited", service="sns", resource_type="AWS::SNS::Topic",
       scope="regional", severity="high", pillar="security", frameworks={"aws-fsbp": ["SNS.4"]},
       title="SNS topic policy does not allow public access",
       risk="A topic policy statement that allows any principal without conditions lets anyone publish to, "
            "subscribe to or manage the topic.",
       remediation="In the SNS console open the topic, choose Edit, expand 'Access policy' and remove or "
                   "restrict (with specific principals or a Condition such as aws:SourceOwner) the statements "
                   "whose Principal is \"*\". CLI: aws sns set-topic-attributes --topic-arn <topic-arn> "
                   "--attribute-name Policy --attribute-value file://policy.json",
       over="topics", needs=("attributes", "policy"))
def sns_topic_policy_public_access_prohibited(topic: Topic, ctx: CheckContext) -> Result:
    public = public_statement_ids(topic.policy)
    if public:
        return Result.failed(f"SNS topic {topic.id} policy has public statement(s) {', '.join(public)}.")
    return Result.passed(f"SNS topic {topic.id} policy has no public statement.")


@check(id="sns_topic_kms_encrypted", service="sns", resource_type="AWS::SNS::Topic", scope="regional",
       severity="medium", pillar="security", frameworks={"aws-fsbp": ["SNS.1"]},
       title="SNS topic is encrypted at rest with KMS",
       risk="Without server-side encryption, messages are stored on the topic unencrypted under a key you "
            "control.",
       remediation="In the SNS console open the topic, choose Edit, expand Encryption, enable encryption and "
                   "pick a KMS key (alias/aws/sns or a customer-managed key). CLI: aws sns set-topic-attributes "
                   "--topic-arn <topic-arn> --attribute-name KmsMasterKeyId --attribute-value alias/aws/sns",
       over="topics", needs=("attributes",))
def sns_topic_kms_encrypted(topic: Topic, ctx: CheckContext) -> Result:
    if not topic.kms_master_key_id:
        return Result.failed(f"SNS topic {topic.id} is not encrypted with a KMS key.")
    return Result.passed(f"SNS topic {topic.id} is encrypted with KMS key {topic.kms_master_key_id}.")
