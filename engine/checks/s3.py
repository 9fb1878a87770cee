"""S3 checks: account and bucket Block Public Access, ACLs, bucket policies, encryption, versioning,
transport security, logging, object ownership and lifecycle."""

from __future__ import annotations

from typing import Any

from engine.checks import CheckContext, Result, check
from engine.collectors.s3 import Bucket, S3Data
from engine.policydoc import as_list, is_everyone, public_statement_ids, statements

PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                   "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
READ_PERMISSIONS = frozenset({"READ", "READ_ACP", "FULL_CONTROL"})
WRITE_PERMISSIONS = frozenset({"WRITE", "WRITE_ACP", "FULL_CONTROL"})


def _missing_pab_flags(config: dict[str, Any]) -> list[str]:
    return [flag for flag in PAB_FLAGS if not config.get(flag)]


def _public_grants(bucket: Bucket, permissions: frozenset[str]) -> list[str]:
    out = []
    for grant in bucket.acl_grants or []:
        uri = grant.get("Grantee", {}).get("URI")
        if uri in PUBLIC_GRANTEES and grant.get("Permission") in permissions:
            out.append(f"{uri.rsplit('/', 1)[-1]}:{grant['Permission']}")
    return sorted(set(out))


def _denies_insecure_transport(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Deny" or not is_everyone(statement.get("Principal")):
        return False
    if not {"s3:*", "*"} & set(as_list(statement.get("Action"))):
        return False
    condition = statement.get("Condition") or {}
    for operator in ("Bool", "BoolIfExists"):
        values = (condition.get(operator) or {}).get("aws:SecureTransport")
        if any(str(v).lower() == "false" for v in as_list(values) if v is not None):
            return True
    return False


@check(id="s3_account_public_access_blocked", service="s3", resource_type="AWS::::Account",
       scope="global", severity="high", pillar="security",
       frameworks={"cis-aws-3.0": ["2.1.4"], "aws-fsbp": ["S3.1"]},
       title="S3 Block Public Access is fully enabled for the account",
       risk="Without account-level Block Public Access, one misconfigured bucket ACL or policy can expose "
            "data to the internet.",
       remediation="In the S3 console open 'Block Public Access settings for this account', choose Edit, "
                   "tick all four settings and save. CLI: aws s3control put-public-access-block "
                   "--account-id <account-id> --public-access-block-configuration "
                   "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,"
                   "RestrictPublicBuckets=true",
       needs=("account_public_access_block",))
def s3_account_public_access_blocked(data: S3Data, ctx: CheckContext) -> Result:
    config = data.account_public_access_block
    if config is None:
        return Result.failed(f"Account {data.account_id} has no S3 Block Public Access configuration.")
    missing = _missing_pab_flags(config)
    if missing:
        return Result.failed(f"Account {data.account_id} S3 Block Public Access has "
                             f"{', '.join(missing)} disabled.")
    return Result.passed(f"Account {data.account_id} has all four S3 Block Public Access settings enabled.")


@check(id="s3_bucket_public_access_blocked", service="s3", resource_type="AWS::S3::Bucket",
       scope="regional", severity="high", pillar="security",
       frameworks={"cis-aws-3.0": ["2.1.4"], "aws-fsbp": ["S3.8"]},
       title="S3 bucket has Block Public Access fully enabled",
       risk="Without bucket-level Block Public Access, a public ACL or bucket policy can expose the "
            "bucket's objects to the internet.",
       remediation="In the S3 console open the bucket, Permissions, 'Block public access (bucket settings)', "
                   "choose Edit, tick all four settings and save. CLI: aws s3api put-public-access-block "
                   "--bucket <bucket> --public-access-block-configuration BlockPublicAcls=true,"
                   "IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
       over="buckets", needs=("public_access_block",))
def s3_bucket_public_access_blocked(bucket: Bucket, ctx: CheckContext) -> Result:
    if bucket.public_access_block is None:
        return Result.failed(f"Bucket {bucket.id} has no Block Public Access configuration.")
    missing = _missing_pab_flags(bucket.public_access_block)
    if missing:
        return Result.failed(f"Bucket {bucket.id} Block Public Access has {', '.join(missing)} disabled.")
    return Result.passed(f"Bucket {bucket.id} has all four Block Public Access settings enabled.")


@check(id="s3_bucket_acl_public_read_prohibited", service="s3", resource_type="AWS::S3::Bucket",
       scope="regional", severity="critical", pillar="security", frameworks={"aws-fsbp": ["S3.2"]},
       title="S3 bucket ACL does not grant public read",
       risk="An ACL grant to AllUsers or AuthenticatedUsers lets anyone list the bucket or read its ACL.",
       remediation="In the S3 console open the bucket, Permissions, 'Access control list (ACL)', choose Edit "
                   "and remove the Everyone and Authenticated users groups' grants (or enable 'Bucket owner "
                   "enforced' object ownership). CLI: aws s3api put-bucket-acl --bucket <bucket> "
                   "--acl private",
       over="buckets", needs=("acl_grants",))
def s3_bucket_acl_public_read_prohibited(bucket: Bucket, ctx: CheckContext) -> Result:
    grants = _public_grants(bucket, READ_PERMISSIONS)
    if grants:
        return Result.failed(f"Bucket {bucket.id} ACL grants public read access ({', '.join(grants)}).")
    return Result.passed(f"Bucket {bucket.id} ACL grants no public read access.")


@check(id="s3_bucket_acl_public_write_prohibited", service="s3", resource_type="AWS::S3::Bucket",
       scope="regional", severity="critical", pillar="security", frameworks={"aws-fsbp": ["S3.3"]},
       title="S3 bucket ACL does not grant public write",
       risk="An ACL write grant to AllUsers or AuthenticatedUsers lets anyone upload, overwrite or "
            "re-permission data in the bucket.",
       remediation="In the S3 console open the bucket, Permissions, 'Access control list (ACL)', choose Edit "
                   "and remove the Everyone and Authenticated users groups' write grants. CLI: aws s3api "
                   "put-bucket-acl --bucket <bucket> --acl private",
       over="buckets", needs=("acl_grants",))
def s3_bucket_acl_public_write_prohibited(bucket: Bucket, ctx: CheckContext) -> Result:
    grants = _public_grants(bucket, WRITE_PERMISSIONS)
    if grants:
        return Result.failed(f"Bucket {bucket.id} ACL grants public write access ({', '.join(grants)}).")
    return Result.passed(f"Bucket {bucket.id} ACL grants no public write access.")


@check(id="s3_bucket_policy_public_access_prohibited", service="s3", resource_type="AWS::S3::Bucket",
       scope="regional", severity="critical", pillar="security", frameworks={"aws-fsbp": ["S3.2", "S3.3"]},
       title="S3 bucket policy does not allow public access",
       risk="A bucket policy statement that allows any principal without conditions exposes the bucket's "
            "data to anyone on the internet.",
       remediation="In the S3 console open the bucket, Permissions, 'Bucket policy', choose Edit and remove "
                   "or restrict (with a Condition or specific principals) the statements whose Principal is "
                   "\"*\". CLI: aws s3api put-bucket-policy --bucket <bucket> --policy file://policy.json "
                   "(or aws s3api delete-bucket-policy --bucket <bucket>)",
       over="buckets", needs=("policy",))
def s3_bucket_policy_public_access_prohibited(bucket: Bucket, ctx: CheckContext) -> Result:
    public = public_statement_ids(bucket.policy)
    if public:
        return Result.failed(f"Bucket {bucket.id} policy has public statement(s) {', '.join(public)}.")
    return Result.passed(f"Bucket {bucket.id} policy has no public statement.")


@check(id="s3_bucket_default_encryption_enabled", service="s3", resource_type="AWS::S3::Bucket",
       scope="regional", severity="medium", pillar="security",
       title="S3 bucket has default server-side encryption",
       risk="Without default encryption, objects uploaded without encryption headers may be stored "
            "unencrypted.",
       remediation="In the S3 console open the bucket, Properties, 'Default encryption', choose Edit and "
                   "select SSE-S3 or SSE-KMS. CLI: aws s3api put-bucket-encryption --bucket <bucket> "
                   "--server-side-encryption-configuration "
                   "'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\"}}]}'",
       over="buckets", needs=("encryption_rules",))
def s3_bucket_default_encryption_enabled(bucket: Bucket, ctx: CheckContext) -> Result:
    algorithms = sorted({r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
                         for r in bucket.encryption_rules or []} - {None, ""})
    if not algorithms:
        return Result.failed(f"Bucket {bucket.id} has no default server-side encryption.")
    return Result.passed(f"Bucket {bucket.id} encrypts new objects by default ({', '.join(algorithms)}).")


@check(id="s3_bucket_versioning_enabled", service="s3", resource_type="AWS::S3::Bucket",
       scope="regional", severity="medium", pillar="reliability", frameworks={"aws-securityhub": ["S3.14"]},
       title="S3 bucket has versioning enabled",
       risk="Without versioning, overwritten or deleted objects cannot be recovered.",
       remediation="In the S3 console open the bucket, Properties, 'Bucket Versioning', choose Edit and "
                   "select Enable. CLI: aws s3api put-bucket-versioning --bucket <bucket> "
                   "--versioning-configuration Status=Enabled",
       over="buckets", needs=("versioning_status",))
def s3_bucket_versioning_enabled(bucket: Bucket, ctx: CheckContext) -> Result:
    if bucket.versioning_status != "Enabled":
        state = "suspended" if bucket.versioning_status == "Suspended" else "never enabled"
        return Result.failed(f"Bucket {bucket.id} versioning is {state}.")
    return Result.passed(f"Bucket {bucket.id} has versioning enabled.")


@check(id="s3_bucket_secure_transport_required", service="s3", resource_type="AWS::S3::Bucket",
       scope="regional", severity="medium", pillar="security",
       frameworks={"cis-aws-3.0": ["2.1.1"], "aws-fsbp": ["S3.5"]},
       title="S3 bucket policy requires TLS (aws:SecureTransport)",
       risk="Without a policy that denies plain-HTTP requests, data can be read or altered in transit.",
       remediation="In the S3 console open the bucket, Permissions, 'Bucket policy', and add a statement "
                   "with Effect Deny, Principal \"*\", Action \"s3:*\", the bucket and its objects as "
                   "Resource and Condition {\"Bool\": {\"aws:SecureTransport\": \"false\"}}. CLI: aws s3api "
                   "put-bucket-policy --bucket <bucket> --policy file://policy.json",
       over="buckets", needs=("policy",))
def s3_bucket_secure_transport_required(bucket: Bucket, ctx: CheckContext) -> Result:
    if bucket.policy is None:
        return Result.failed(f"Bucket {bucket.id} has no bucket policy, so plain-HTTP requests are allowed.")
    if any(_denies_insecure_transport(st) for st in statements(bucket.policy)):
        return Result.passed(f"Bucket {bucket.id} policy denies requests without TLS.")
    return Result.failed(f"Bucket {bucket.id} policy does not deny requests where "
                         "aws:SecureTransport is false.")


@check(id="s3_bucket_server_access_logging_enabled", service="s3", resource_type="AWS::S3::Bucket",
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["S3.9"]},
       title="S3 bucket has server access logging enabled",
       risk="Without access logs, requests to the bucket cannot be audited or investigated after an "
            "incident.",
       remediation="In the S3 console open the bucket, Properties, 'Server access logging', choose Edit, "
                   "enable it and pick a target bucket. CLI: aws s3api put-bucket-logging --bucket <bucket> "
                   "--bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"<log-bucket>\","
                   "\"TargetPrefix\":\"<bucket>/\"}}'",
       over="buckets", needs=("logging_enabled",))
def s3_bucket_server_access_logging_enabled(bucket: Bucket, ctx: CheckContext) -> Result:
    if not bucket.logging_enabled:
        return Result.failed(f"Bucket {bucket.id} has server access logging disabled.")
    target = bucket.logging_enabled.get("TargetBucket", "?")
    return Result.passed(f"Bucket {bucket.id} logs server access to bucket {target}.")


@check(id="s3_bucket_acls_disabled", service="s3", resource_type="AWS::S3::Bucket",
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["S3.12"]},
       title="S3 bucket has ACLs disabled (Bucket owner enforced)",
       risk="While ACLs are enabled, object-level ACLs can grant access outside the bucket policy and "
            "objects written by other accounts may not be owned by the bucket owner.",
       remediation="In the S3 console open the bucket, Permissions, 'Object Ownership', choose Edit and "
                   "select 'ACLs disabled (Bucket owner enforced)'. CLI: aws s3api "
                   "put-bucket-ownership-controls --bucket <bucket> --ownership-controls "
                   "Rules=[{ObjectOwnership=BucketOwnerEnforced}]",
       over="buckets", needs=("object_ownership",))
def s3_bucket_acls_disabled(bucket: Bucket, ctx: CheckContext) -> Result:
    if bucket.object_ownership != "BucketOwnerEnforced":
        setting = bucket.object_ownership or "no ownership controls"
        return Result.failed(f"Bucket {bucket.id} has ACLs enabled ({setting}).")
    return Result.passed(f"Bucket {bucket.id} has ACLs disabled (BucketOwnerEnforced).")


@check(id="s3_bucket_lifecycle_configured", service="s3", resource_type="AWS::S3::Bucket",
       scope="regional", severity="low", pillar="cost_optimization", frameworks={"aws-fsbp": ["S3.13"]},
       title="S3 bucket has an enabled lifecycle rule",
       risk="Without lifecycle rules, old objects and versions accumulate in expensive storage classes "
            "indefinitely.",
       remediation="In the S3 console open the bucket, Management, 'Create lifecycle rule', and define "
                   "transitions or expirations. CLI: aws s3api put-bucket-lifecycle-configuration --bucket "
                   "<bucket> --lifecycle-configuration file://lifecycle.json",
       over="buckets", needs=("lifecycle_rules",))
def s3_bucket_lifecycle_configured(bucket: Bucket, ctx: CheckContext) -> Result:
    enabled = [r for r in bucket.lifecycle_rules or [] if r.get("Status") == "Enabled"]
    if not enabled:
        return Result.failed(f"Bucket {bucket.id} has no enabled lifecycle rule.")
    return Result.passed(f"Bucket {bucket.id} has {len(enabled)} enabled lifecycle rule(s).")
