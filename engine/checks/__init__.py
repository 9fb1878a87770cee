"""Check registry. A check is a pure function of collected data, with its metadata in the decorator.

The decorator validates the metadata when the checks module is imported, so a broken check fails
the test suite (and the import), never the report.

    @check(id="s3_bucket_versioning_enabled", service="s3", resource_type="AWS::S3::Bucket",
           scope="regional", severity="medium", pillar="reliability",
           frameworks={"aws-securityhub": ["S3.14"]}, title="S3 bucket has versioning enabled",
           remediation="Enable versioning ...", over="buckets", needs=("versioning",))
    def s3_bucket_versioning_enabled(bucket: Bucket, ctx: CheckContext) -> Result: ...

`over` names the list attribute of the service data to evaluate resource by resource; without
it the check evaluates the whole service data once and reports on the account. `needs` names
fields whose collection may have failed: if one did, the finding is ERROR with the reason.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.collectors import Resource, ServiceData
from engine.errors import CheckDefinitionError
from engine.model import (
    FRAMEWORK_KEYS,
    GLOBAL_REGION,
    CheckMeta,
    Finding,
    Pillar,
    Scope,
    Severity,
    Status,
)

_ID_RE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
_RESOURCE_TYPE_RE = re.compile(r"^AWS::[A-Za-z0-9]*::[A-Za-z0-9]+$")


@dataclass(frozen=True)
class CheckContext:
    account_id: str
    region: str
    scan_time: datetime
    params: dict[str, Any] = field(default_factory=dict)

    def param(self, check_id: str, name: str, default: Any) -> Any:
        """A user override of a check parameter (threshold), or its default."""
        return self.params.get(check_id, {}).get(name, default)


@dataclass(frozen=True)
class Result:
    status: Status
    message: str
    # Overrides for checks that report on something other than the iterated resource.
    resource: Resource | None = None
    resource_type: str | None = None

    @classmethod
    def passed(cls, message: str, **kw: Any) -> Result:
        return cls(Status.PASS, message, **kw)

    @classmethod
    def failed(cls, message: str, **kw: Any) -> Result:
        return cls(Status.FAIL, message, **kw)

    @classmethod
    def error(cls, message: str, **kw: Any) -> Result:
        return cls(Status.ERROR, message, **kw)

    @classmethod
    def skipped(cls, message: str, **kw: Any) -> Result:
        return cls(Status.SKIPPED, message, **kw)


CheckFn = Callable[..., "Result | Iterable[Result] | None"]


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    fn: CheckFn
    over: str | None
    needs: tuple[str, ...]


CHECKS: dict[str, Check] = {}


def check(
    *,
    id: str,
    service: str,
    resource_type: str,
    scope: str,
    severity: str,
    pillar: str,
    title: str,
    remediation: str,
    risk: str = "",
    frameworks: dict[str, list[str]] | None = None,
    over: str | None = None,
    needs: tuple[str, ...] = (),
) -> Callable[[CheckFn], CheckFn]:
    """Register a check; raise CheckDefinitionError on any inconsistent metadata."""

    def register(fn: CheckFn) -> CheckFn:
        problems: list[str] = []
        if not _ID_RE.match(id):
            problems.append("id must be lower_snake_case with at least two words")
        if not id.startswith(service + "_"):
            problems.append(f"id must start with its service {service!r} + '_'")
        if fn.__name__ != id:
            problems.append(f"function is named {fn.__name__!r}; it must be named after the id")
        if id in CHECKS:
            problems.append("id is registered twice")
        for name, value in (("title", title), ("remediation", remediation)):
            if not value or not value.strip():
                problems.append(f"{name} is empty")
        for rt in resource_type.split("/"):
            if not _RESOURCE_TYPE_RE.match(rt.strip()):
                problems.append(f"resource_type {rt!r} is not a CloudFormation type name")
        try:
            sev = Severity(severity)
        except ValueError:
            problems.append(f"severity {severity!r} is not one of {[s.value for s in Severity]}")
        try:
            pil = Pillar(pillar)
        except ValueError:
            problems.append(f"pillar {pillar!r} is not one of {[p.value for p in Pillar]}")
        try:
            sc = Scope(scope)
        except ValueError:
            problems.append(f"scope {scope!r} is not regional or global")
        for key, refs in (frameworks or {}).items():
            if key not in FRAMEWORK_KEYS:
                problems.append(f"framework {key!r} is not one of {FRAMEWORK_KEYS}")
            if not refs or not all(isinstance(r, str) and r for r in refs):
                problems.append(f"framework {key!r} needs a non-empty list of control ids")
        if problems:
            raise CheckDefinitionError(f"check {id!r} ({fn.__module__}): " + "; ".join(problems))
        meta = CheckMeta(
            id=id, title=title.strip(), service=service, resource_type=resource_type, scope=sc,
            severity=sev, pillar=pil, remediation=remediation.strip(), risk=risk.strip(),
            frameworks={k: tuple(v) for k, v in (frameworks or {}).items()},
        )
        CHECKS[id] = Check(meta, fn, over, tuple(needs))
        return fn

    return register


_imported = False


def load_all() -> dict[str, Check]:
    """Import every checks module (idempotent) and return the registry."""
    global _imported
    if not _imported:  # scanning the package folder once per process is enough (units call this a lot)
        for mod in pkgutil.iter_modules(__path__):
            if not mod.name.startswith("_"):
                importlib.import_module(f"{__name__}.{mod.name}")
        _imported = True
    return CHECKS


def metadata() -> dict[str, CheckMeta]:
    """Every registered check's metadata by check id (what the reports need)."""
    return {c.meta.id: c.meta for c in load_all().values()}


def checks_for(service: str) -> list[Check]:
    return [c for c in load_all().values() if c.meta.service == service]


def _finding(chk: Check, account_id: str, region: str, rid: str, arn: str | None, rtype: str,
             status: Status, message: str) -> Finding:
    m = chk.meta
    return Finding(
        check_id=m.id, title=m.title, service=m.service, account_id=account_id, region=region,
        resource_type=rtype, resource_id=rid, resource_arn=arn, status=status,
        severity=m.severity, pillar=m.pillar,
        frameworks={k: list(v) for k, v in m.frameworks.items()},
        message=message, remediation=m.remediation,
    )


def account_finding(chk: Check, account_id: str, region: str, status: Status, message: str) -> Finding:
    """A finding about the account itself (account-level checks, or a whole service that failed)."""
    return _finding(chk, account_id, region, account_id, f"arn:aws::{region}:{account_id}:account"
                    if region != GLOBAL_REGION else f"arn:aws:::{account_id}:account",
                    "AWS::::Account", status, message)


def evaluate(chk: Check, data: ServiceData, ctx: CheckContext) -> list[Finding]:
    """Run one check over collected data. Exceptions in check code become ERROR findings."""
    out: list[Finding] = []
    rtype_default = chk.meta.resource_type.split("/")[0].strip()
    if chk.over is None:
        missing = _missing(chk.needs, data.errors)
        if missing:
            return [account_finding(chk, data.account_id, data.region, Status.ERROR, missing)]
        try:
            results = _as_list(chk.fn(data, ctx))
        except Exception as exc:  # a bug in one check must not sink the unit
            return [account_finding(chk, data.account_id, data.region, Status.ERROR,
                                    f"check failed: {type(exc).__name__}: {exc}")]
        for r in results:
            if r.resource is None:
                out.append(account_finding(chk, data.account_id, data.region, r.status, r.message))
            else:
                out.append(_finding(chk, data.account_id, r.resource.region, r.resource.id, r.resource.arn,
                                    r.resource_type or rtype_default, r.status, r.message))
        return out
    for res in getattr(data, chk.over):
        missing = _missing(chk.needs, res.errors)
        if missing:
            rtype = getattr(res, "resource_type", None) or rtype_default
            out.append(_finding(chk, data.account_id, res.region, res.id, res.arn, rtype,
                                Status.ERROR, f"{res.id}: {missing}"))
            continue
        try:
            results = _as_list(chk.fn(res, ctx))
        except Exception as exc:
            results = [Result.error(f"{res.id}: check failed: {type(exc).__name__}: {exc}")]
        for r in results:
            target = r.resource or res
            out.append(_finding(chk, data.account_id, target.region, target.id, target.arn,
                                r.resource_type or rtype_default, r.status, r.message))
    return out


def _missing(needs: tuple[str, ...], errors: dict[str, str]) -> str | None:
    for n in needs:
        if n in errors:
            return f"could not collect {n}: {errors[n]}"
    return None


def _as_list(value: Result | Iterable[Result] | None) -> list[Result]:
    if value is None:
        return []
    if isinstance(value, Result):
        return [value]
    return list(value)
