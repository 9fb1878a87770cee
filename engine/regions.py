"""Where services are offered and which regions an account has enabled."""

from __future__ import annotations

import functools
from typing import Any

from engine.throttle import aws_call

# CloudScreen service ids whose boto3 client name differs.
_CLIENT_NAME: dict[str, str] = {}


@functools.cache
def offered_regions(service: str) -> frozenset[str]:
    """Regions where botocore's endpoint data says `service` is offered (empty for global services)."""
    import botocore.session

    s = botocore.session.get_session()
    name = _CLIENT_NAME.get(service, service)
    regions: set[str] = set()
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        try:
            regions.update(s.get_available_regions(name, partition_name=partition))
        except Exception:  # an unknown service name has no data: treat it as offered everywhere
            return frozenset()
    return frozenset(regions)


def is_offered(service: str, region: str) -> bool:
    regions = offered_regions(service)
    return not regions or region in regions


def disabled_regions(session: Any, probe_region: str = "us-east-1") -> frozenset[str]:
    """Regions of the account that are opt-in and not enabled (DescribeRegions AllRegions=True)."""
    ec2 = session.client("ec2", probe_region)
    regions = aws_call(ec2.describe_regions, AllRegions=True)["Regions"]
    return frozenset(r["RegionName"] for r in regions if r.get("OptInStatus") == "not-opted-in")
