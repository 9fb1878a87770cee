"""Scan request validation and planning: request → units with expected costs."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from engine import collectors as collector_registry
from engine.errors import UsageError
from engine.model import GLOBAL_REGION, ScanPlan, ScanRequest, Scope, Unit

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region botocore knows in the commercial, China and GovCloud partitions."""
    import botocore.session

    s = botocore.session.get_session()
    regions: set[str] = set()
    for p in _PARTITIONS:
        regions.update(s.get_available_regions("ec2", partition_name=p))
    return frozenset(regions)


def commercial_regions() -> tuple[str, ...]:
    import botocore.session

    return tuple(sorted(botocore.session.get_session().get_available_regions("ec2", partition_name="aws")))


def known_services() -> tuple[str, ...]:
    return tuple(sorted(collector_registry.load_all()))


def _split(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [i.strip() for i in items if i and i.strip()]


def validate_accounts(value: str | Iterable[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for a in _split(value):
        if not _ACCOUNT_RE.match(a):
            raise UsageError(f"account {a!r} is not a 12-digit AWS account id")
        if a not in out:
            out.append(a)
    return tuple(out)


def validate_regions(value: str | Iterable[str] | None, default: Iterable[str]) -> tuple[str, ...]:
    items = _split(value)
    if not items:
        items = list(default)
    if items == ["all"]:
        return commercial_regions()
    known = known_regions()
    out: list[str] = []
    for r in items:
        if r == "all":
            raise UsageError("'all' cannot be combined with other regions")
        if r not in known:
            raise UsageError(f"unknown region {r!r} (examples: us-east-1, eu-west-1)")
        if r not in out:
            out.append(r)
    return tuple(out)


def validate_services(value: str | Iterable[str] | None) -> tuple[str, ...]:
    available = known_services()
    items = _split(value)
    if not items or items == ["all"]:
        return available
    out: list[str] = []
    for s in items:
        if s == "all":
            raise UsageError("'all' cannot be combined with other services")
        if s not in available:
            raise UsageError(f"unknown service {s!r} (available: {', '.join(available)})")
        if s not in out:
            out.append(s)
    return tuple(out)


def validate_framework(framework: str | None) -> str | None:
    from engine.model import FRAMEWORK_KEYS

    if framework is None:
        return None
    if framework not in FRAMEWORK_KEYS:
        raise UsageError(f"unknown framework {framework!r} (available: {', '.join(FRAMEWORK_KEYS)})")
    return framework


def framework_check_ids(framework: str, services: Iterable[str] | None = None) -> list[str]:
    """Ids of the checks mapped to `framework` (optionally only of `services`)."""
    from engine import checks

    wanted = set(services) if services is not None else None
    return sorted(c.meta.id for c in checks.load_all().values()
                  if framework in c.meta.frameworks and (wanted is None or c.meta.service in wanted))


def scope_to_framework(request: ScanRequest, framework: str) -> tuple[ScanRequest, list[str]]:
    """Narrow a request to the services that have checks in `framework`; return the check ids too."""
    import dataclasses

    ids = framework_check_ids(framework, request.services)
    if not ids:
        raise UsageError(f"no check of the selected services maps to framework {framework!r}")
    from engine import checks

    services = tuple(s for s in request.services if any(checks.CHECKS[i].meta.service == s for i in ids))
    return dataclasses.replace(request, services=services), ids


def validate_request(*, accounts: str | Iterable[str] | None, regions: str | Iterable[str] | None,
                     services: str | Iterable[str] | None, default_regions: Iterable[str] = ("us-east-1",),
                     ticket_id: str | None = None, role_name: str = "OrganizationAccountAccessRole",
                     external_id: str | None = None) -> ScanRequest:
    """Validate everything before anything runs; raise UsageError with a one-line message."""
    accts = validate_accounts(accounts)
    if not accts:
        raise UsageError("no account to scan")
    if not role_name or not re.match(r"^[\w+=,.@/-]{1,64}$", role_name):
        raise UsageError(f"role name {role_name!r} is not a valid IAM role name")
    return ScanRequest(accounts=accts, regions=validate_regions(regions, default_regions),
                       services=validate_services(services), ticket_id=ticket_id,
                       role_name=role_name, external_id=external_id, all_regions=_split(regions) == ["all"])


def build_plan(request: ScanRequest, costs: Mapping[str, float] | None = None) -> ScanPlan:
    """One unit per (account, region, service); global services get one unit per account.
    A unit's cost is the service's recorded mean duration, or the collector's default."""
    registry = collector_registry.load_all()
    costs = costs or {}
    units: list[Unit] = []
    for account in request.accounts:
        for service in request.services:
            col = registry[service]
            cost = float(costs.get(service) or col.cost)
            cost = cost if cost > 0 else col.cost
            if col.scope is Scope.GLOBAL:
                units.append(Unit(account, GLOBAL_REGION, service, cost))
            else:
                units.extend(Unit(account, region, service, cost) for region in request.regions)
    return ScanPlan(request=request, units=tuple(units))
