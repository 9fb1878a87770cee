"""CloudTrail collector: one global unit per account.

Trails are listed once per scanned region (`DescribeTrails` with shadow trails, so multi-region
trails homed anywhere are seen) and deduplicated by `TrailARN`. Each trail is attributed to its
`HomeRegion`; trails the account owns whose home region is scanned are evaluated there, and
multi-region trails homed elsewhere (or owned by the organization's management account) still count
for the account-level checks. Per-trail calls go to the trail's home region: `GetTrailStatus`,
`GetEventSelectors` (multi-region trails only), and, for the regional trails, one `ListBuckets` plus
one `GetBucketLogging` per distinct destination bucket the account owns.

The trail helpers (`list_trails`, `fill_trail_status`, `fill_event_selectors`) are shared with the
CloudWatch collector, whose alarm checks start from the same trails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch, fill
from engine.throttle import aws_call, describe_error, paginate


@dataclass
class Trail(Resource):
    """A trail, attributed to its home region (`region`); `id` is the trail name.

    `is_logging` and the selectors are None until fetched (or when fetching failed: see `errors`)."""

    owner_account: str = ""
    multi_region: bool = False
    log_file_validation: bool = False
    kms_key_id: str | None = None
    log_group_arn: str | None = None
    bucket_name: str | None = None
    is_logging: bool | None = None
    event_selectors: list[dict[str, Any]] | None = None
    advanced_event_selectors: list[dict[str, Any]] | None = None
    # Set only for buckets the scanned account owns; other accounts' buckets are not evaluated.
    bucket_in_account: bool = False
    bucket_logging: bool | None = None

    @property
    def captures_management_events(self) -> bool:
        """The catalogue's "captures management events": no selectors at all (the trail default), a
        basic selector with management events for reads and writes, or an advanced selector on the
        Management category without a `readOnly` field."""
        basic = self.event_selectors or []
        advanced = self.advanced_event_selectors or []
        if not basic and not advanced:
            return True
        for sel in basic:
            # Absent keys take the API defaults (management events included, ReadWriteType All).
            if sel.get("IncludeManagementEvents", True) and sel.get("ReadWriteType", "All") == "All":
                return True
        for sel in advanced:
            fields = {fs.get("Field"): fs for fs in sel.get("FieldSelectors", [])}
            category = fields.get("eventCategory", {})
            if "Management" in (category.get("Equals") or []) and "readOnly" not in fields:
                return True
        return False


@dataclass
class CloudTrailData(ServiceData):
    # Trails the account owns, homed in a scanned region: evaluated by the per-trail checks.
    trails: list[Trail] = field(default_factory=list)
    # Other multi-region trails (homed in an unscanned region, or organization trails owned by
    # another account): they count only for the account-level checks.
    other_trails: list[Trail] = field(default_factory=list)

    @property
    def multi_region_trails(self) -> list[Trail]:
        """Every multi-region trail seen, whatever its home region or owner."""
        return [t for t in (*self.trails, *self.other_trails) if t.multi_region]


def list_trails(ctx: CollectContext) -> list[Trail]:
    """The trails visible from the scanned regions, deduplicated by ARN (shadow trails of a
    multi-region trail appear in every region). A failed listing raises: without it the account's
    trails are unknown."""
    listings = ctx.map(lambda region: aws_call(ctx.client("cloudtrail", region).describe_trails,
                                               includeShadowTrails=True).get("trailList", []),
                       ctx.scanned_regions)
    trails: dict[str, Trail] = {}
    for listing, region in zip(listings, ctx.scanned_regions, strict=True):
        for t in listing:
            arn = t.get("TrailARN") or ""
            if arn in trails:
                continue
            parts = arn.split(":")
            trails[arn] = Trail(
                id=t.get("Name", ""), arn=arn or None, region=t.get("HomeRegion") or region,
                owner_account=parts[4] if len(parts) > 4 else "",
                multi_region=bool(t.get("IsMultiRegionTrail")),
                log_file_validation=bool(t.get("LogFileValidationEnabled")),
                kms_key_id=t.get("KmsKeyId") or None, log_group_arn=t.get("CloudWatchLogsLogGroupArn") or None,
                bucket_name=t.get("S3BucketName") or None)
    return list(trails.values())


def fill_trail_status(ctx: CollectContext, trail: Trail) -> None:
    """Set `trail.is_logging` from GetTrailStatus in the trail's home region."""
    fill(trail, "is_logging", ctx.client("cloudtrail", trail.region).get_trail_status, Name=trail.arn or trail.id,
         transform=lambda r: bool(r.get("IsLogging")))


def fill_event_selectors(ctx: CollectContext, trail: Trail) -> None:
    """Set the trail's basic and advanced event selectors (GetEventSelectors, home region); a failure
    is recorded under `errors["event_selectors"]`."""
    resp, err = fetch(ctx.client("cloudtrail", trail.region).get_event_selectors, TrailName=trail.arn or trail.id)
    if err is not None:
        trail.errors["event_selectors"] = err
        return
    trail.event_selectors = (resp or {}).get("EventSelectors") or []
    trail.advanced_event_selectors = (resp or {}).get("AdvancedEventSelectors") or []


@collector("cloudtrail", scope="global", cost=1.5, title="CloudTrail")
def collect_cloudtrail(ctx: CollectContext) -> CloudTrailData:
    """List the account's trails once across the scanned regions and fetch each one's status."""
    data = CloudTrailData(account_id=ctx.account_id, region=ctx.region)
    for trail in list_trails(ctx):
        if trail.region in ctx.scanned_regions and trail.owner_account == ctx.account_id:
            data.trails.append(trail)
        elif trail.multi_region:
            data.other_trails.append(trail)

    tasks: list[Callable[[], None]] = [
        *(partial(fill_trail_status, ctx, t) for t in (*data.trails, *data.other_trails)),
        *(partial(fill_event_selectors, ctx, t) for t in data.multi_region_trails),
    ]
    owned_buckets: list[set[str]] = []
    if any(t.bucket_name for t in data.trails):
        tasks.append(lambda: owned_buckets.append(_owned_buckets(ctx, data.trails)))
    ctx.map(lambda task: task(), tasks)
    if owned_buckets:
        _fill_bucket_logging(ctx, data.trails, owned_buckets[0])
    return data


def _owned_buckets(ctx: CollectContext, trails: list[Trail]) -> set[str]:
    """Which of the trails' destination buckets the account owns (one ListBuckets)."""
    wanted = {t.bucket_name for t in trails if t.bucket_name}
    try:
        return {b["Name"] for b in paginate(ctx.client("s3"), "list_buckets", "Buckets") if b.get("Name") in wanted}
    except Exception as exc:  # the trails' bucket ownership is unknown: their bucket check reports ERROR
        reason = f"could not list the account's buckets: {describe_error(exc)}"
        for t in trails:
            if t.bucket_name:
                t.errors["bucket_logging"] = reason
        return set()


def _fill_bucket_logging(ctx: CollectContext, trails: list[Trail], owned: set[str]) -> None:
    # One GetBucketLogging per distinct bucket, however many trails deliver to it.
    by_bucket: dict[str, list[Trail]] = {}
    for t in trails:
        if t.bucket_name in owned and "bucket_logging" not in t.errors:
            t.bucket_in_account = True
            by_bucket.setdefault(t.bucket_name, []).append(t)
    answers = ctx.map(lambda item: fetch(ctx.client("s3", item[1][0].region).get_bucket_logging, Bucket=item[0]),
                      list(by_bucket.items()))
    for (_, group), (resp, err) in zip(by_bucket.items(), answers, strict=True):
        for t in group:
            if err is not None:
                t.errors["bucket_logging"] = err
            else:
                t.bucket_logging = bool((resp or {}).get("LoggingEnabled"))
