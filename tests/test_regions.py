"""Regions: services not offered in a region and opt-in regions an account has not enabled give
SKIPPED findings without any API call; enabled regions come from DescribeRegions."""

from __future__ import annotations

from engine import regions
from engine.model import Status, Unit
from engine.runtime.unit import run_unit

from .conftest import ACCOUNT


def test_service_not_offered_in_region_is_skipped_without_calls(aws, monkeypatch):
    monkeypatch.setattr(regions, "offered_regions", lambda service: frozenset({"us-east-1"}))
    result = run_unit(Unit(ACCOUNT, "eu-west-1", "ec2"), aws.session(), scanned_regions=("eu-west-1",))
    assert result.findings and all(f.status is Status.SKIPPED for f in result.findings)
    assert all("not offered in eu-west-1" in f.message for f in result.findings)
    assert result.api_calls == 0 and result.error is None


def test_offered_service_is_not_skipped(aws):
    result = run_unit(Unit(ACCOUNT, "eu-west-1", "ec2"), aws.session(), scanned_regions=("eu-west-1",))
    assert not any(f.status is Status.SKIPPED for f in result.findings)


def test_disabled_regions_are_the_opt_in_regions_not_opted_in(aws):
    disabled = regions.disabled_regions(aws.session())
    assert "ap-east-1" in disabled and "me-south-1" in disabled
    assert "us-east-1" not in disabled and "eu-west-1" not in disabled


def test_global_services_are_offered_everywhere():
    assert regions.is_offered("cloudfront", "eu-west-1") and regions.is_offered("iam", "ap-east-1")
