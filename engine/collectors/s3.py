"""S3 collector: buckets (listed once per account) with their per-bucket settings, and the
account-level Block Public Access configuration from s3control."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch, fill, set_policy
from engine.model import GLOBAL_REGION, Scope
from engine.throttle import paginate

# Bucket fields filled by one per-bucket API call each (also the fields a failed location errors).
BUCKET_FIELDS = ("public_access_block", "acl_grants", "policy", "encryption_rules", "versioning_status",
                 "logging_enabled", "object_ownership", "lifecycle_rules")


@dataclass
class Bucket(Resource):
    """An S3 bucket. A None setting means "not configured" (or not collected: see `errors`)."""

    creation_date: datetime | None = None
    public_access_block: dict[str, Any] | None = None
    acl_grants: list[dict[str, Any]] | None = None
    policy: dict[str, Any] | None = None
    encryption_rules: list[dict[str, Any]] | None = None
    versioning_status: str | None = None
    logging_enabled: dict[str, Any] | None = None
    object_ownership: str | None = None
    lifecycle_rules: list[dict[str, Any]] | None = None


@dataclass
class S3Data(ServiceData):
    buckets: list[Bucket] = field(default_factory=list)
    # The account's PublicAccessBlockConfiguration; None when none is configured.
    account_public_access_block: dict[str, Any] | None = None


def bucket_region(location: dict[str, Any] | None) -> str:
    """The region of a GetBucketLocation answer: an empty constraint means us-east-1, `EU` eu-west-1."""
    constraint = (location or {}).get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


@collector("s3", scope=Scope.GLOBAL, cost=4.0, title="S3")
def collect_s3(ctx: CollectContext) -> S3Data:
    """List buckets once, keep those in the scanned regions, and fetch each bucket's settings."""
    data = S3Data(account_id=ctx.account_id, region=ctx.region)
    s3 = ctx.client("s3")
    listed = list(paginate(s3, "list_buckets", "Buckets"))
    located = ctx.map(lambda b: _locate(s3, b), listed)
    # A bucket whose region is unknown is kept, so that its checks report ERROR rather than vanish.
    data.buckets = [b for b in located if b.region in ctx.scanned_regions or b.region == GLOBAL_REGION]
    ctx.map(lambda b: _fill_bucket(ctx, b), [b for b in data.buckets if not b.errors])

    resp, err = fetch(ctx.client("s3control").get_public_access_block, AccountId=ctx.account_id,
                      absent=("NoSuchPublicAccessBlockConfiguration",))
    if err is not None:
        data.errors["account_public_access_block"] = err
    elif resp is not None:
        data.account_public_access_block = resp.get("PublicAccessBlockConfiguration", {})
    return data


def _locate(s3: Any, listed: dict[str, Any]) -> Bucket:
    name = listed["Name"]
    bucket = Bucket(id=name, arn=f"arn:aws:s3:::{name}", region=GLOBAL_REGION,
                    creation_date=listed.get("CreationDate"))
    # Real ListBuckets answers carry BucketRegion, which saves one call per bucket.
    if listed.get("BucketRegion"):
        bucket.region = listed["BucketRegion"]
        return bucket
    resp, err = fetch(s3.get_bucket_location, Bucket=name)
    if err is not None:
        # Without its region the bucket cannot be attributed: every bucket check reports ERROR.
        for name_ in BUCKET_FIELDS:
            bucket.errors[name_] = f"could not determine the bucket's region: {err}"
    else:
        bucket.region = bucket_region(resp)
    return bucket


def _fill_bucket(ctx: CollectContext, bucket: Bucket) -> None:
    s3 = ctx.client("s3", bucket.region)
    name = bucket.id
    fill(bucket, "public_access_block", s3.get_public_access_block, Bucket=name,
         absent=("NoSuchPublicAccessBlockConfiguration",),
         transform=lambda r: r.get("PublicAccessBlockConfiguration", {}))
    fill(bucket, "acl_grants", s3.get_bucket_acl, Bucket=name, transform=lambda r: r.get("Grants", []))
    resp, err = fetch(s3.get_bucket_policy, Bucket=name, absent=("NoSuchBucketPolicy",))
    if err is not None:
        bucket.errors["policy"] = err
    elif resp is not None:
        set_policy(bucket, resp.get("Policy") or "{}", "GetBucketPolicy")
    fill(bucket, "encryption_rules", s3.get_bucket_encryption, Bucket=name,
         absent=("ServerSideEncryptionConfigurationNotFoundError",),
         transform=lambda r: r.get("ServerSideEncryptionConfiguration", {}).get("Rules", []))
    fill(bucket, "versioning_status", s3.get_bucket_versioning, Bucket=name,
         transform=lambda r: r.get("Status"))
    fill(bucket, "logging_enabled", s3.get_bucket_logging, Bucket=name,
         transform=lambda r: r.get("LoggingEnabled"))
    fill(bucket, "object_ownership", s3.get_bucket_ownership_controls, Bucket=name,
         absent=("OwnershipControlsNotFoundError",),
         transform=lambda r: next((rule.get("ObjectOwnership") for rule in
                                   r.get("OwnershipControls", {}).get("Rules", [])), None))
    fill(bucket, "lifecycle_rules", s3.get_bucket_lifecycle_configuration, Bucket=name,
         absent=("NoSuchLifecycleConfiguration",), transform=lambda r: r.get("Rules", []))
