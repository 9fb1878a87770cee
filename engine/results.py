"""The findings document (CONTRACTS.md section 2) built from stored units."""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine.model import Finding, Pillar, Severity, Status

SCHEMA_VERSION = 1


def sort_key(f: Finding) -> tuple[str, ...]:
    return (f.account_id, f.region, f.service, f.check_id, f.resource_id)


def summarize(findings: list[Finding]) -> dict[str, Any]:
    """Counts: `by_status` over all findings; `by_severity`, `by_pillar`, `by_service` over FAILs."""
    by_status = {s.value: 0 for s in Status}
    by_severity = {s.value: 0 for s in Severity}
    by_pillar = {p.value: 0 for p in Pillar}
    by_service: Counter[str] = Counter()
    for f in findings:
        by_status[f.status.value] += 1
        if f.status is Status.FAIL:
            by_severity[f.severity.value] += 1
            by_pillar[f.pillar.value] += 1
            by_service[f.service] += 1
        else:
            by_service.setdefault(f.service, 0)
    return {"total": len(findings), "by_status": by_status, "by_severity": by_severity,
            "by_pillar": by_pillar, "by_service": dict(sorted(by_service.items()))}


def framework_summary(findings: list[Finding], framework: str) -> dict[str, Any]:
    """Per-control finding counts for one framework; a control fails when any of its findings FAILs."""
    controls: dict[str, dict[str, int]] = {}
    for f in findings:
        for control in f.frameworks.get(framework, []):
            counts = controls.setdefault(control, {s.value: 0 for s in Status})
            counts[f.status.value] += 1
    ordered = dict(sorted(controls.items(), key=lambda kv: _control_key(kv[0])))
    failed = [c for c, n in ordered.items() if n["FAIL"]]
    return {"framework": framework, "controls": ordered, "controls_failed": len(failed),
            "controls_passed": sum(1 for n in ordered.values() if not n["FAIL"] and n["PASS"])}


def _control_key(control: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in control.replace(".", " ").split())


def findings_document(*, scan_id: str, status: str, started_at: str | None, finished_at: str | None,
                      request: dict[str, Any], accounts: list[dict[str, Any]],
                      findings: list[Finding], framework: str | None = None) -> dict[str, Any]:
    ordered = sorted(findings, key=sort_key)
    summary = summarize(ordered)
    if framework:
        summary["framework"] = framework_summary(ordered, framework)
    return {
        "schema_version": SCHEMA_VERSION,
        "scan_id": scan_id,
        "status": status,
        "started_at": started_at,
        "finished_at": finished_at,
        "request": {k: request.get(k) for k in ("accounts", "regions", "services", "ticket_id")},
        "accounts": [{"account_id": a["account_id"], "status": a["status"], "error": a.get("error")}
                     for a in accounts],
        "summary": summary,
        "findings": [f.to_dict() for f in ordered],
    }


def fails_at_or_above(findings: list[Finding], severity: Severity) -> bool:
    return any(f.status is Status.FAIL and f.severity.rank >= severity.rank for f in findings)
