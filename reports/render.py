"""Render a findings document (CONTRACTS.md section 2) as one self-contained HTML report.

The page has no external assets: its CSS and JavaScript (under `reports/templates/`) are inlined at
render time, charts are inline SVG, and nothing refers to another origin, so the file opens offline
in any modern browser and can be attached to a ticket as is.

Everything that comes from AWS (names, tags, messages) reaches the page in one of two ways, both
escaped: the summary sections are rendered server-side by jinja2 with autoescaping on, and the
findings table is a JSON blob inside `<script type="application/json">` (with `<`, `>`, `&` and the
JavaScript line separators escaped, so `</script>` in a bucket name cannot end the element) that
the inline script turns into DOM nodes with `textContent` only.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2

from engine.model import CheckMeta, Pillar, Severity, Status
from reports.wellarchitected import PILLAR_LABELS, best_practice_for

TEMPLATES = Path(__file__).parent / "templates"

SEVERITIES = [s.value for s in Severity]  # worst first
STATUSES = ["FAIL", "ERROR", "MUTED", "PASS", "SKIPPED"]  # the order a reader triages them in
PILLARS = [p.value for p in Pillar]
_SEVERITY_RANK = {s.value: s.rank for s in Severity}

# Riskiest resources: a resource's score is the sum of these weights over its FAIL findings, so one
# critical outweighs several mediums and informational findings add nothing.
RISK_WEIGHTS = {"critical": 10, "high": 5, "medium": 2, "low": 1, "informational": 0}

FRAMEWORK_VIEWS = {
    "cis-aws-3.0": "CIS AWS Foundations Benchmark v3.0.0",
    "aws-fsbp": "AWS Foundational Security Best Practices",
}

# Caps that keep the server-rendered part small whatever the number of findings; the findings
# table (paged in the browser) always holds everything.
CHART_BARS = 12
RESOURCES_PER_CONTROL = 25
ERROR_GROUPS_SHOWN = 200
ERROR_MESSAGES_PER_GROUP = 5

# Columns of the table rows in the JSON blob. `title`, `remediation` and `frameworks` are null when
# they equal the check's defaults in the blob's `checks` map, which keeps 50,000 rows compact.
TABLE_COLUMNS = ["check_id", "service", "account_id", "region", "resource_type", "resource_id",
                 "resource_arn", "status", "severity", "pillar", "message", "title", "remediation",
                 "frameworks"]
_OVERRIDABLE = ("title", "remediation", "frameworks")


def render_html(doc: dict[str, Any], checks: Mapping[str, CheckMeta] | None = None, *,
                generated_at: str | None = None) -> str:
    """Render findings document `doc` as a self-contained HTML page.

    `checks` (check id -> metadata) adds each check's risk text to the row details; without it
    the report still renders from the document alone. `generated_at` (ISO-8601) is shown in the
    header; it defaults to now (UTC).
    """
    findings: list[dict[str, Any]] = list(doc.get("findings") or [])
    checks = checks or {}
    summary = doc.get("summary") or _summarize(findings)
    header = _header(doc, generated_at)
    problems = _problems(doc, findings)
    css, js = _asset("report.css"), _asset("report.js")
    context = {
        "doc": doc,
        "header": header,
        "summary": summary,
        "severities": SEVERITIES,
        "statuses": STATUSES,
        "pillar_labels": PILLAR_LABELS,
        "charts": _charts(summary, findings),
        "riskiest": _riskiest(findings),
        "risk_weights": RISK_WEIGHTS,
        "problems": problems,
        "show_problems": (header["status"] in ("partial", "failed", "cancelled")
                          or bool(problems["failed_accounts"] or problems["error_units"])),
        "wa": _wellarchitected(findings),
        "frameworks": [_framework_view(findings, key, label) for key, label in FRAMEWORK_VIEWS.items()],
        "scoped_framework": (summary.get("framework") or {}).get("framework"),
        "table_json": _table_json(findings, checks),
        "css": css,
        "js": js,
        "csp": _content_security_policy(css, js),
        "page_size": 100,
    }
    return _environment().get_template("report.html.j2").render(**context)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value, whatever the template's file name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = lambda n: f"{n:,}"
    return env


@cache
def _asset(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _content_security_policy(css: str, js: str) -> str:
    """Only our own inline style and script may run, and nothing may be fetched from anywhere:
    even if a value ever escaped its escaping, an injected script or beacon would be refused."""
    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    return (f"default-src 'none'; style-src {digest(css)}; script-src {digest(js)}; img-src data:; "
            "base-uri 'none'; form-action 'none'")


# -- header ---------------------------------------------------------------------------------------

def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _duration(started: str | None, finished: str | None) -> str:
    a, b = _parse_time(started), _parse_time(finished)
    if a is None or b is None or b < a:
        return "—"
    seconds = int((b - a).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def _header(doc: dict[str, Any], generated_at: str | None) -> dict[str, Any]:
    request = doc.get("request") or {}
    accounts = request.get("accounts") or [a.get("account_id") for a in doc.get("accounts") or []]
    return {
        "scan_id": doc.get("scan_id") or "—",
        "status": doc.get("status") or "unknown",
        "accounts": [a for a in accounts if a],
        "regions": request.get("regions") or [],
        "services": request.get("services") or [],
        "ticket_id": request.get("ticket_id"),
        "started_at": doc.get("started_at") or "—",
        "finished_at": doc.get("finished_at") or "—",
        "duration": _duration(doc.get("started_at"), doc.get("finished_at")),
        "generated_at": generated_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# -- summary and charts ---------------------------------------------------------------------------

def _summarize(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The document's summary counts, for a document that lacks them (same rules as engine.results)."""
    by_status = dict.fromkeys((s.value for s in Status), 0)
    by_severity = dict.fromkeys(SEVERITIES, 0)
    by_pillar = dict.fromkeys(PILLARS, 0)
    by_service: Counter[str] = Counter()
    for f in findings:
        by_status[f["status"]] = by_status.get(f["status"], 0) + 1
        if f["status"] == "FAIL":
            by_severity[f["severity"]] += 1
            by_pillar[f["pillar"]] += 1
            by_service[f["service"]] += 1
        else:
            by_service.setdefault(f["service"], 0)
    return {"total": len(findings), "by_status": by_status, "by_severity": by_severity,
            "by_pillar": by_pillar, "by_service": dict(sorted(by_service.items()))}


@dataclass
class _Bar:
    label: str
    value: float
    display: str
    css: str = ""


@dataclass
class _Chart:
    id: str
    title: str
    description: str
    bars: list[_Bar]
    maximum: float
    more: int = 0  # categories left out of the chart


def _top_bars(counts: Mapping[str, int], limit: int = CHART_BARS) -> tuple[list[_Bar], int]:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = [_Bar(k, v, str(v)) for k, v in ordered[:limit]]
    return shown, max(0, len(ordered) - limit)


def _charts(summary: Mapping[str, Any], findings: list[dict[str, Any]]) -> list[_Chart]:
    by_severity = summary.get("by_severity") or {}
    severity_bars = [_Bar(s.capitalize(), by_severity.get(s, 0), str(by_severity.get(s, 0)), f"sev-{s}")
                     for s in SEVERITIES]
    service_bars, services_more = _top_bars({k: v for k, v in (summary.get("by_service") or {}).items() if v})
    account_fails = Counter(f["account_id"] for f in findings if f["status"] == "FAIL")
    account_bars, accounts_more = _top_bars(account_fails)

    passed: Counter[str] = Counter()
    evaluated: Counter[str] = Counter()
    for f in findings:
        if f["status"] in ("PASS", "FAIL"):
            evaluated[f["pillar"]] += 1
            passed[f["pillar"]] += f["status"] == "PASS"
    pillar_bars = []
    for p in PILLARS:
        if evaluated[p]:
            rate = 100.0 * passed[p] / evaluated[p]
            pillar_bars.append(_Bar(PILLAR_LABELS[p], rate, f"{rate:.0f}% ({passed[p]}/{evaluated[p]})",
                                   _rate_class(rate)))
        else:
            pillar_bars.append(_Bar(PILLAR_LABELS[p], 0, "n/a", "rate-na"))

    def maximum(bars: list[_Bar]) -> float:
        return max([b.value for b in bars] + [1])

    # Severity beside pillars, services beside accounts: pairs of similar height in the two-column grid.
    return [
        _Chart("chart-severity", "Failed findings by severity", "Number of FAIL findings per severity.",
              severity_bars, maximum(severity_bars)),
        _Chart("chart-pillar", "Pass rate per Well-Architected pillar",
              "Share of evaluated findings (PASS or FAIL) that pass, per pillar.", pillar_bars, 100.0),
        _Chart("chart-service", "Failed findings by service", "Number of FAIL findings per AWS service.",
              service_bars, maximum(service_bars), services_more),
        _Chart("chart-account", "Failed findings by account", "Number of FAIL findings per AWS account.",
              account_bars, maximum(account_bars), accounts_more),
    ]


def _rate_class(rate: float) -> str:
    if rate >= 90:
        return "rate-good"
    if rate >= 70:
        return "rate-fair"
    return "rate-poor"


def _resource_key(f: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (f["account_id"], f["region"], f["resource_type"], f["resource_id"])


def _riskiest(findings: list[dict[str, Any]], limit: int = 10) -> list[dict[str, Any]]:
    """The `limit` resources with the highest risk score (see RISK_WEIGHTS) over their FAIL findings."""
    scores: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for f in findings:
        if f["status"] != "FAIL":
            continue
        key = _resource_key(f)
        entry = scores.get(key)
        if entry is None:
            entry = scores[key] = {"account_id": key[0], "region": key[1], "resource_type": key[2],
                                   "resource_id": key[3], "arn": f.get("resource_arn"), "score": 0,
                                   "counts": dict.fromkeys(SEVERITIES, 0), "checks": []}
        entry["score"] += RISK_WEIGHTS.get(f["severity"], 0)
        entry["counts"][f["severity"]] += 1
        entry["checks"].append(f["title"])
    ranked = sorted((e for e in scores.values() if e["score"] > 0),
                    key=lambda e: (-e["score"], -e["counts"]["critical"], e["account_id"], e["resource_id"]))
    return ranked[:limit]


# -- partial, failed and cancelled scans ----------------------------------------------------------

def _problems(doc: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    """Accounts that did not complete and units whose findings are ERROR, with the reasons."""
    failed_accounts = [a for a in doc.get("accounts") or [] if a.get("status") not in (None, "completed")]
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in findings:
        if f["status"] != "ERROR":
            continue
        key = (f["account_id"], f["region"], f["service"])
        group = groups.setdefault(key, {"account_id": key[0], "region": key[1], "service": key[2],
                                        "count": 0, "messages": Counter()})
        group["count"] += 1
        group["messages"][f["message"]] += 1
    ordered = [groups[k] for k in sorted(groups)]
    for g in ordered:
        g["top_messages"] = g["messages"].most_common(ERROR_MESSAGES_PER_GROUP)
        g["more_messages"] = max(0, len(g["messages"]) - ERROR_MESSAGES_PER_GROUP)
    return {
        "failed_accounts": failed_accounts,
        "error_units": ordered[:ERROR_GROUPS_SHOWN],
        "error_units_more": max(0, len(ordered) - ERROR_GROUPS_SHOWN),
        "error_findings": sum(g["count"] for g in ordered),
    }


# -- Well-Architected summary ---------------------------------------------------------------------

def _wellarchitected(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per pillar: counts, pass rate, and failing checks grouped by best practice."""
    pillars: dict[str, dict[str, Any]] = {
        p: {"id": p, "label": PILLAR_LABELS[p], "pass": 0, "fail": 0, "other": 0, "practices": {}}
        for p in PILLARS}
    for f in findings:
        p = pillars[f["pillar"]]
        if f["status"] == "PASS":
            p["pass"] += 1
        elif f["status"] == "FAIL":
            p["fail"] += 1
            bp = best_practice_for(f["check_id"], f["pillar"], f["service"])
            practice = p["practices"].get(bp.id)
            if practice is None:
                practice = p["practices"][bp.id] = {"bp": bp, "fail": 0, "checks": {}}
            practice["fail"] += 1
            check = practice["checks"].get(f["check_id"])
            if check is None:
                check = practice["checks"][f["check_id"]] = {
                    "check_id": f["check_id"], "title": f["title"], "severity": f["severity"], "fail": 0,
                    "resources": set()}
            check["fail"] += 1
            check["resources"].add(_resource_key(f))
        else:
            p["other"] += 1
    out = []
    for p in pillars.values():
        evaluated = p["pass"] + p["fail"]
        p["rate"] = (100.0 * p["pass"] / evaluated) if evaluated else None
        p["rate_class"] = _rate_class(p["rate"]) if p["rate"] is not None else "rate-na"
        practices = sorted(p["practices"].values(), key=lambda x: _bp_sort_key(x["bp"].id))
        for practice in practices:
            practice["checks"] = sorted(
                practice["checks"].values(),
                key=lambda c: (-_SEVERITY_RANK[c["severity"]], -c["fail"], c["check_id"]))
            for c in practice["checks"]:
                c["resources"] = len(c["resources"])
        p["practices"] = practices
        out.append(p)
    return out


def _bp_sort_key(bp_id: str) -> tuple[str, int, int]:
    question, _, number = bp_id.partition("-BP")
    letters = question.rstrip("0123456789")
    return letters, int(question[len(letters):] or 0), int(number or 0)


# -- framework view -------------------------------------------------------------------------------

def _control_key(control: str) -> tuple[Any, ...]:
    # Numeric parts compare as numbers, so 1.10 sorts after 1.9 and S3.10 after S3.9.
    parts = control.replace(".", " ").split()
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _framework_view(findings: Iterable[dict[str, Any]], key: str, label: str) -> dict[str, Any]:
    controls: dict[str, dict[str, Any]] = {}
    for f in findings:
        for control in (f.get("frameworks") or {}).get(key, []):
            c = controls.get(control)
            if c is None:
                c = controls[control] = {"id": control, "counts": Counter(), "checks": set(), "failing": {}}
            c["counts"][f["status"]] += 1
            c["checks"].add(f["check_id"])
            if f["status"] == "FAIL":
                # One line per failing resource, however many of the control's checks it fails.
                rkey = _resource_key(f)
                entry = c["failing"].get(rkey)
                if entry is None:
                    entry = c["failing"][rkey] = {
                        "account_id": f["account_id"], "region": f["region"], "resource_type": f["resource_type"],
                        "resource_id": f["resource_id"], "checks": [], "severity": f["severity"]}
                entry["checks"].append(f["check_id"])
                if _SEVERITY_RANK[f["severity"]] > _SEVERITY_RANK[entry["severity"]]:
                    entry["severity"] = f["severity"]
    rows = []
    for control in sorted(controls, key=_control_key):
        c = controls[control]
        counts = c["counts"]
        if counts["FAIL"]:
            status = "FAIL"
        elif counts["PASS"]:
            status = "PASS"
        elif counts["ERROR"]:
            status = "ERROR"
        else:
            status = "NONE"
        failing = sorted(c["failing"].values(),
                         key=lambda e: (-_SEVERITY_RANK[e["severity"]], e["account_id"], e["region"],
                                        e["resource_id"]))
        rows.append({"id": control, "status": status, "pass": counts["PASS"], "fail": counts["FAIL"],
                     "error": counts["ERROR"], "checks": sorted(c["checks"]),
                     "failing": failing[:RESOURCES_PER_CONTROL],
                     "failing_total": len(failing),
                     "failing_more": max(0, len(failing) - RESOURCES_PER_CONTROL)})
    return {"key": key, "label": label, "controls": rows,
            "failed": sum(1 for r in rows if r["status"] == "FAIL"),
            "passed": sum(1 for r in rows if r["status"] == "PASS"),
            "other": sum(1 for r in rows if r["status"] not in ("FAIL", "PASS"))}


# -- findings table data --------------------------------------------------------------------------

def _table_data(findings: list[dict[str, Any]], checks: Mapping[str, CheckMeta]) -> dict[str, Any]:
    """The table's JSON: one row per finding, plus per-check defaults and details."""
    check_info: dict[str, dict[str, Any]] = {}
    rows = []
    for f in findings:
        cid = f["check_id"]
        info = check_info.get(cid)
        if info is None:
            meta = checks.get(cid)
            bp = best_practice_for(cid, f["pillar"], f["service"])
            info = check_info[cid] = {
                "title": f["title"], "remediation": f["remediation"], "frameworks": f.get("frameworks") or {},
                "risk": meta.risk if meta else "", "bp": f"{bp.id} {bp.title}",
            }
        row = [cid, f["service"], f["account_id"], f["region"], f["resource_type"], f["resource_id"],
               f.get("resource_arn"), f["status"], f["severity"], f["pillar"], f["message"]]
        for k in _OVERRIDABLE:
            value = (f.get(k) or {}) if k == "frameworks" else f.get(k)
            row.append(None if value == info[k] else value)
        rows.append(row)
    return {"version": 1, "columns": TABLE_COLUMNS, "rows": rows, "checks": check_info}


def _table_json(findings: list[dict[str, Any]], checks: Mapping[str, CheckMeta]) -> str:
    return script_json(_table_data(findings, checks))


def script_json(obj: Any) -> str:
    """JSON safe inside a `<script>` element: `</script>` or `<!--` in a value would end or corrupt the
    element, and U+2028/9 are line terminators to older JavaScript parsers. JSON escapes keep the
    values intact."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def decode_table_rows(blob: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The findings carried by a table blob, as findings.json objects (the inverse of the page data)."""
    columns = blob["columns"]
    out = []
    for row in blob["rows"]:
        f = dict(zip(columns, row, strict=True))
        info = blob["checks"][f["check_id"]]
        for k in _OVERRIDABLE:
            if f[k] is None:
                f[k] = info[k]
        out.append(f)
    return out

