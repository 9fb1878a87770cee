"""Request validation and plan building."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.collectors import load_all
from engine.errors import UsageError
from engine.model import GLOBAL_REGION, Scope
from engine.plan import build_plan, known_services, validate_request

SERVICES = known_services()
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "us-west-2")
account_ids = st.from_regex(r"\A[0-9]{12}\Z", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(accounts=st.lists(account_ids, min_size=1, max_size=6, unique=True),
       regions=st.lists(st.sampled_from(REGIONS), min_size=1, max_size=5, unique=True),
       services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=len(SERVICES), unique=True),
       costs=st.dictionaries(st.sampled_from(SERVICES), st.floats(min_value=0.0, max_value=100.0)))
def test_plan_has_exactly_one_unit_per_account_region_service(accounts, regions, services, costs):
    """Property: plan building — one unit per (account, region, service), one per account for global
    services, every unit unique with a positive cost, nothing outside the request."""
    request = validate_request(accounts=accounts, regions=regions, services=services)
    plan = build_plan(request, costs)
    registry = load_all()
    n_global = sum(1 for s in services if registry[s].scope is Scope.GLOBAL)
    n_regional = len(services) - n_global
    assert len(plan.units) == len(accounts) * (n_global + n_regional * len(regions))
    assert len({u.key for u in plan.units}) == len(plan.units)
    for u in plan.units:
        assert u.cost > 0
        assert u.account_id in accounts and u.service in services
        if registry[u.service].scope is Scope.GLOBAL:
            assert u.region == GLOBAL_REGION
        else:
            assert u.region in regions
    assert plan.total_cost == pytest.approx(sum(u.cost for u in plan.units))


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=20).filter(lambda s: not (s.isdigit() and len(s) == 12) and "," not in s
                                              and s.strip()))
def test_any_malformed_account_id_is_a_usage_error(bad):
    """Property: plan building — an account id that is not 12 digits never reaches the plan."""
    with pytest.raises(UsageError, match="12-digit"):
        validate_request(accounts=[bad], regions=["us-east-1"], services=None)


@pytest.mark.parametrize("regions,services,message", [
    ("mars-1", None, "unknown region 'mars-1'"),
    ("us-east-1,all", None, "'all' cannot be combined"),
    (None, "nosuch", "unknown service 'nosuch'"),
])
def test_unknown_region_or_service_is_a_usage_error(regions, services, message):
    with pytest.raises(UsageError, match=message):
        validate_request(accounts="111111111111", regions=regions, services=services)


def test_duplicates_are_dropped_and_order_kept():
    r = validate_request(accounts="222222222222,111111111111,222222222222", regions="eu-west-1,us-east-1,eu-west-1",
                         services="iam,s3")
    assert r.accounts == ("222222222222", "111111111111")
    assert r.regions == ("eu-west-1", "us-east-1")
    assert r.services == ("iam", "s3")


def test_all_services_and_default_regions():
    r = validate_request(accounts="111111111111", regions=None, services="all", default_regions=("eu-west-1",))
    assert r.services == SERVICES and r.regions == ("eu-west-1",)


def test_recorded_costs_weight_units_and_nonpositive_costs_fall_back_to_defaults():
    r = validate_request(accounts="111111111111", regions="us-east-1", services="iam,ec2")
    plan = build_plan(r, {"iam": 7.5, "ec2": 0.0})
    costs = {u.service: u.cost for u in plan.units}
    assert costs["iam"] == 7.5
    assert costs["ec2"] == load_all()["ec2"].cost
