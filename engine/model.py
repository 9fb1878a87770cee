"""Core data model of a scan: requests, plans, units, check metadata and findings.

Everything here is plain data (dataclasses and enums) so it pickles cheaply across Ray
processes and serialises to the findings.json contract (CONTRACTS.md section 2).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def iso_z(dt: datetime | None = None, timespec: str = "seconds") -> str:
    """An ISO-8601 time in UTC ending in `Z` (now when `dt` is None), as every document here writes it."""
    return (dt or datetime.now(UTC)).isoformat(timespec=timespec).replace("+00:00", "Z")

class Status(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"
    MUTED = "MUTED"


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFORMATIONAL = "informational"

    @property
    def rank(self) -> int:
        """Higher is worse: critical=4 ... informational=0."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFORMATIONAL: 0,
}


class Pillar(enum.StrEnum):
    SECURITY = "security"
    RELIABILITY = "reliability"
    OPERATIONAL_EXCELLENCE = "operational_excellence"
    PERFORMANCE_EFFICIENCY = "performance_efficiency"
    COST_OPTIMIZATION = "cost_optimization"
    SUSTAINABILITY = "sustainability"


class Scope(enum.StrEnum):
    REGIONAL = "regional"
    GLOBAL = "global"


class ScanStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (ScanStatus.COMPLETED, ScanStatus.PARTIAL, ScanStatus.FAILED, ScanStatus.CANCELLED)


class AccountStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


GLOBAL_REGION = "global"
# Report type (`--format` value, `/api/scans/{id}/reports/{type}`) -> file name.
REPORT_FILES: dict[str, str] = {
    "html": "report.html",
    "json": "findings.json",
    "csv": "findings.csv",
    "ocsf": "findings.ocsf.json",
}
FRAMEWORK_KEYS = ("cis-aws-3.0", "aws-fsbp", "aws-securityhub")


@dataclass(frozen=True)
class CheckMeta:
    """Metadata of one check. Validated by the registry when the check module is imported."""

    id: str
    title: str
    service: str
    resource_type: str
    scope: Scope
    severity: Severity
    pillar: Pillar
    remediation: str
    risk: str = ""
    frameworks: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class Finding:
    """One (check, resource) result, exactly the findings.json finding object."""

    check_id: str
    title: str
    service: str
    account_id: str
    region: str
    resource_type: str
    resource_id: str
    resource_arn: str | None
    status: Status
    severity: Severity
    pillar: Pillar
    frameworks: dict[str, list[str]]
    message: str
    remediation: str

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["status"] = self.status.value
        d["severity"] = self.severity.value
        d["pillar"] = self.pillar.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(
            check_id=d["check_id"],
            title=d["title"],
            service=d["service"],
            account_id=d["account_id"],
            region=d["region"],
            resource_type=d["resource_type"],
            resource_id=d["resource_id"],
            resource_arn=d.get("resource_arn"),
            status=Status(d["status"]),
            severity=Severity(d["severity"]),
            pillar=Pillar(d["pillar"]),
            frameworks={k: list(v) for k, v in (d.get("frameworks") or {}).items()},
            message=d["message"],
            remediation=d["remediation"],
        )


@dataclass(frozen=True)
class ScanRequest:
    """A validated scan request (see engine.plan.validate_request)."""

    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    services: tuple[str, ...]
    ticket_id: str | None = None
    role_name: str = "OrganizationAccountAccessRole"
    external_id: str | None = None
    # `--regions all`: every account scans its enabled regions; opt-in regions it has not enabled
    # give SKIPPED findings.
    all_regions: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "accounts": list(self.accounts),
            "regions": list(self.regions),
            "services": list(self.services),
            "ticket_id": self.ticket_id,
        }


@dataclass(frozen=True, order=True)
class Unit:
    """One piece of work: one service in one region (or `global`) of one account."""

    account_id: str
    region: str
    service: str
    cost: float = field(default=1.0, compare=False)

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}/{self.service}"


@dataclass(frozen=True)
class ScanPlan:
    request: ScanRequest
    units: tuple[Unit, ...]

    @property
    def total_cost(self) -> float:
        return sum(u.cost for u in self.units)

    def units_for(self, account_id: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.account_id == account_id)

    def summary(self) -> dict[str, Any]:
        return {
            "units": len(self.units),
            "accounts": list(self.request.accounts),
            "regions": list(self.request.regions),
            "services": list(self.request.services),
        }


@dataclass
class UnitResult:
    """What a finished unit hands back (and what the result store keeps per unit)."""

    unit: Unit
    findings: list[Finding]
    duration_s: float
    api_calls: int = 0
    throttles: int = 0
    clients_created: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": {"account_id": self.unit.account_id, "region": self.unit.region,
                     "service": self.unit.service, "cost": self.unit.cost},
            "findings": [f.to_dict() for f in self.findings],
            "duration_s": self.duration_s,
            "api_calls": self.api_calls,
            "throttles": self.throttles,
            "clients_created": self.clients_created,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UnitResult:
        u = d["unit"]
        return cls(
            unit=Unit(u["account_id"], u["region"], u["service"], u.get("cost", 1.0)),
            findings=[Finding.from_dict(f) for f in d["findings"]],
            duration_s=d.get("duration_s", 0.0),
            api_calls=d.get("api_calls", 0),
            throttles=d.get("throttles", 0),
            clients_created=d.get("clients_created", 0),
            error=d.get("error"),
        )


def severity_counts(findings: list[Finding]) -> dict[str, int]:
    """Counts of FAIL findings by severity (the progress/summary convention)."""
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        if f.status is Status.FAIL:
            counts[f.severity.value] += 1
    return counts
