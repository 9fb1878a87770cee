"""CloudScreen checkov policy for S3 ACLs (CKV_CS_7); per-bucket public access block and encryption: CKV_CS_6.yaml."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

PUBLIC_CANNED_ACLS = {"public-read", "public-read-write", "authenticated-read"}
PUBLIC_GRANTEES = ("acs.amazonaws.com/groups/global/AllUsers", "acs.amazonaws.com/groups/global/AuthenticatedUsers")


def unwrap(value: Any) -> Any:
    """checkov wraps scalars in one-element lists; return the bare value."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


class NoPublicAcl(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="CloudScreen: S3 buckets carry no public ACL",
            id="CKV_CS_7",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=("aws_s3_bucket", "aws_s3_bucket_acl"),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if unwrap(conf.get("acl")) in PUBLIC_CANNED_ACLS:
            return CheckResult.FAILED
        # Explicit grants: any grant to the AllUsers or AuthenticatedUsers groups is public.
        if any(grantee in str(conf.get("access_control_policy", "")) for grantee in PUBLIC_GRANTEES):
            return CheckResult.FAILED
        if any(grantee in str(conf.get("grant", "")) for grantee in PUBLIC_GRANTEES):
            return CheckResult.FAILED
        return CheckResult.PASSED


check_no_public_acl = NoPublicAcl()
