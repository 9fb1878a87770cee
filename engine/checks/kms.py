"""KMS checks on customer-managed keys: automatic rotation, pending deletion and public key policies."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.kms import Key
from engine.policydoc import public_statement_ids


@check(id="kms_key_rotation_enabled", service="kms", resource_type="AWS::KMS::Key", scope="regional",
       severity="medium", pillar="security", frameworks={"cis-aws-3.0": ["3.6"], "aws-securityhub": ["KMS.4"]},
       title="KMS customer-managed key has automatic rotation enabled",
       risk="Without rotation, a key's material stays in use indefinitely, widening the impact of a "
            "compromised or leaked key.",
       remediation="In the KMS console open 'Customer managed keys', select the key, open the 'Key rotation' "
                   "tab, tick 'Automatically rotate this KMS key every year' and save. CLI: aws kms "
                   "enable-key-rotation --key-id <key-id>",
       over="keys", needs=("metadata", "rotation_enabled"))
def kms_key_rotation_enabled(key: Key, ctx: CheckContext) -> Result | None:
    # Asymmetric, HMAC, imported and disabled keys cannot rotate automatically: not evaluated.
    if not key.rotation_applies:
        return None
    if not key.rotation_enabled:
        return Result.failed(f"KMS key {key.label} does not rotate its key material automatically.")
    return Result.passed(f"KMS key {key.label} has automatic key rotation enabled.")


@check(id="kms_key_not_pending_deletion", service="kms", resource_type="AWS::KMS::Key", scope="regional",
       severity="high", pillar="reliability", frameworks={"aws-fsbp": ["KMS.3"]},
       title="KMS customer-managed key is not scheduled for deletion",
       risk="Once a key is deleted, all data encrypted under it becomes permanently unrecoverable.",
       remediation="If the key is still needed, in the KMS console select the key and choose Key actions, "
                   "'Cancel key deletion', then enable it again. CLI: aws kms cancel-key-deletion --key-id "
                   "<key-id> && aws kms enable-key --key-id <key-id>",
       over="keys", needs=("metadata",))
def kms_key_not_pending_deletion(key: Key, ctx: CheckContext) -> Result:
    if key.state == "PendingDeletion":
        when = key.deletion_date.strftime("%Y-%m-%d %H:%M UTC") if key.deletion_date else "an unknown date"
        return Result.failed(f"KMS key {key.label} is scheduled for deletion on {when}.")
    return Result.passed(f"KMS key {key.label} is not scheduled for deletion (state {key.state}).")


@check(id="kms_key_policy_public_access_prohibited", service="kms", resource_type="AWS::KMS::Key",
       scope="regional", severity="critical", pillar="security", frameworks={"aws-fsbp": ["KMS.5"]},
       title="KMS key policy does not allow public access",
       risk="A key policy statement that allows any principal without conditions lets anyone use or manage "
            "the key, and so decrypt the data it protects.",
       remediation="In the KMS console select the key, open the 'Key policy' tab, choose Edit and remove or "
                   "restrict (with specific principals or a Condition) the statements whose Principal is \"*\". "
                   "CLI: aws kms put-key-policy --key-id <key-id> --policy-name default --policy "
                   "file://policy.json",
       over="keys", needs=("metadata", "policy"))
def kms_key_policy_public_access_prohibited(key: Key, ctx: CheckContext) -> Result:
    public = public_statement_ids(key.policy)
    if public:
        return Result.failed(f"KMS key {key.label} policy has public statement(s) {', '.join(public)}.")
    return Result.passed(f"KMS key {key.label} policy has no public statement.")
