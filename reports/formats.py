"""The machine-readable report formats (CSV, OCSF) and writing a scan's report files.

* `findings.json` is the findings document itself (CONTRACTS.md section 2).
* `findings.csv`: one row per finding, columns in the fixed order `CSV_COLUMNS`; `parse_csv` reads
  it back into the same findings.
* `findings.ocsf.json`: a JSON array of OCSF Detection Finding events (class_uid 2004, OCSF
  `OCSF_VERSION`), as Security Hub and other OCSF tools ingest them. The fields emitted are exactly
  those described by `reports/schemas/ocsf_detection_finding.schema.json`.
* `report.html`: `reports.render.render_html`.

A findings document here is the dict of CONTRACTS.md section 2 (findings as dicts), e.g. a loaded
`findings.json`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from engine.model import REPORT_FILES, CheckMeta, Finding, Severity, Status, iso_z

SCHEMA_DIR = Path(__file__).parent / "schemas"
OCSF_SCHEMA_PATH = SCHEMA_DIR / "ocsf_detection_finding.schema.json"

# ---------------------------------------------------------------------------------------- CSV

CSV_COLUMNS: tuple[str, ...] = (
    "scan_id", "account_id", "region", "service", "check_id", "title", "status", "severity", "pillar",
    "resource_type", "resource_id", "resource_arn", "frameworks", "message", "remediation",
)

# Spreadsheets evaluate a cell starting with one of these as a formula (CSV injection). Such cells
# get a leading single quote; so do cells that already start with one, which keeps the quote
# unambiguous: `parse_csv` drops exactly one leading quote and the round trip stays exact.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")

# Separators of the `frameworks` cell: `framework:control|control;framework:control`.
_FW_ESCAPES = (("%", "%25"), (";", "%3B"), (":", "%3A"), ("|", "%7C"))


def render_csv(doc: Mapping[str, Any]) -> str:
    """The findings of `doc` as CSV text: a header row of `CSV_COLUMNS`, then one row per finding.

    Every field is quoted (commas, quotes and newlines inside values survive); cells that a
    spreadsheet would run as a formula are prefixed with `'`. `frameworks` is
    `cis-aws-3.0:1.4|1.5;aws-fsbp:IAM.4` (separators inside ids are %-escaped)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    scan_id = str(doc.get("scan_id") or "")
    for f in doc.get("findings") or []:
        row = {
            "scan_id": scan_id,
            "account_id": f.get("account_id"),
            "region": f.get("region"),
            "service": f.get("service"),
            "check_id": f.get("check_id"),
            "title": f.get("title"),
            "status": f.get("status"),
            "severity": f.get("severity"),
            "pillar": f.get("pillar"),
            "resource_type": f.get("resource_type"),
            "resource_id": f.get("resource_id"),
            "resource_arn": f.get("resource_arn"),
            "frameworks": format_frameworks(f.get("frameworks") or {}),
            "message": f.get("message"),
            "remediation": f.get("remediation"),
        }
        writer.writerow([_safe_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def parse_csv(text: str) -> list[Finding]:
    """Read `render_csv` output back into findings (the inverse of `render_csv`).

    An empty `resource_arn` cell reads as None (the document's `null`). Raises ValueError when a
    column is missing or a status, severity or pillar is unknown."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None:
        return []
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"not a CloudScreen findings CSV: missing column(s) {', '.join(missing)}")
    index = {c: header.index(c) for c in CSV_COLUMNS}
    findings = []
    for n, raw in enumerate(reader, start=2):
        if not raw:
            continue
        if len(raw) < len(header):
            raise ValueError(f"findings CSV row {n}: {len(raw)} fields, expected {len(header)}")
        cell = {c: _unsafe_cell(raw[i]) for c, i in index.items()}
        findings.append(Finding.from_dict({
            **cell,
            "resource_arn": cell["resource_arn"] or None,
            "frameworks": parse_frameworks(cell["frameworks"]),
        }))
    return findings


def format_frameworks(frameworks: Mapping[str, Iterable[str]]) -> str:
    """`{"cis-aws-3.0": ["1.4", "1.5"], "aws-fsbp": ["IAM.4"]}` -> `cis-aws-3.0:1.4|1.5;aws-fsbp:IAM.4`."""
    return ";".join(f"{_fw_escape(key)}:{'|'.join(_fw_escape(c) for c in controls)}"
                    for key, controls in frameworks.items())


def parse_frameworks(text: str) -> dict[str, list[str]]:
    """The inverse of `format_frameworks`."""
    out: dict[str, list[str]] = {}
    for part in text.split(";") if text else []:
        key, _, controls = part.partition(":")
        out[unquote(key)] = [unquote(c) for c in controls.split("|")] if controls else []
    return out


def _fw_escape(value: str) -> str:
    for raw, escaped in _FW_ESCAPES:
        value = value.replace(raw, escaped)
    return value


def _safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _unsafe_cell(text: str) -> str:
    return text[1:] if text.startswith("'") else text


# --------------------------------------------------------------------------------------- OCSF

OCSF_VERSION = "1.3.0"
OCSF_CLASS_UID = 2004  # Detection Finding
OCSF_CATEGORY_UID = 2  # Findings
OCSF_ACTIVITY_CREATE = 1
PRODUCT_NAME = "CloudScreen"
VENDOR_NAME = "CloudScreen"

OCSF_SEVERITY: dict[Severity, tuple[int, str]] = {
    Severity.INFORMATIONAL: (1, "Informational"),
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
# The finding lifecycle: every result is New, except a mutelisted failure, which OCSF calls Suppressed.
# The check outcome itself (PASS, FAIL, ...) is `status_code`.
OCSF_STATUS: dict[Status, tuple[int, str]] = {
    Status.PASS: (1, "New"),
    Status.FAIL: (1, "New"),
    Status.ERROR: (1, "New"),
    Status.SKIPPED: (1, "New"),
    Status.MUTED: (3, "Suppressed"),
}
_ACCOUNT_TYPE = {"type_id": 10, "type": "AWS Account"}


def render_ocsf(doc: Mapping[str, Any], checks: Mapping[str, CheckMeta] | None = None) -> str:
    """The findings of `doc` as a JSON array of OCSF Detection Finding events, one event a line.

    `checks` (check id -> metadata), when given, adds each check's risk text as the finding
    description. The event time is the scan's finish (or start) time."""
    events = ocsf_events(doc, checks)
    if not events:
        return "[]\n"
    return "[\n" + ",\n".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in events) + "\n]\n"


def ocsf_events(doc: Mapping[str, Any], checks: Mapping[str, CheckMeta] | None = None) -> list[dict[str, Any]]:
    """The OCSF Detection Finding events of `doc` (see `render_ocsf`), as dicts."""
    checks = checks or {}
    scan_id = str(doc.get("scan_id") or "")
    when = _epoch_ms(doc.get("finished_at")) or _epoch_ms(doc.get("started_at")) \
        or int(datetime.now(UTC).timestamp() * 1000)
    metadata = {
        "version": OCSF_VERSION,
        "product": {"name": PRODUCT_NAME, "vendor_name": VENDOR_NAME, "version": _product_version()},
        "profiles": ["cloud"],
    }
    return [_ocsf_event(f, scan_id, when, metadata, checks.get(f.get("check_id", "")))
            for f in doc.get("findings") or []]


def finding_uid(scan_id: str, finding: Mapping[str, Any]) -> str:
    """A stable id of one finding of one scan: the same inputs give the same id, in every render."""
    parts = [scan_id, finding.get("check_id"), finding.get("account_id"), finding.get("region"),
             finding.get("resource_id")]
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
    return f"cloudscreen-{digest[:40]}"


def _ocsf_event(f: Mapping[str, Any], scan_id: str, when: int, metadata: dict[str, Any],
                meta: CheckMeta | None) -> dict[str, Any]:
    status = Status(f["status"])
    severity_id, severity = OCSF_SEVERITY[Severity(f["severity"])]
    status_id, status_caption = OCSF_STATUS[status]
    account = str(f.get("account_id") or "")
    region = str(f.get("region") or "")
    arn = f.get("resource_arn") or None
    resource_id = str(f.get("resource_id") or "")
    frameworks = {k: list(v) for k, v in (f.get("frameworks") or {}).items()}
    message = str(f.get("message") or "")
    title = str(f.get("title") or f.get("check_id") or "")
    return {
        "activity_id": OCSF_ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": OCSF_CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": OCSF_CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": OCSF_CLASS_UID * 100 + OCSF_ACTIVITY_CREATE,
        "type_name": "Detection Finding: Create",
        "time": when,
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status_caption,
        "status_code": status.value,
        "status_detail": message,
        "message": message,
        "metadata": metadata,
        "finding_info": {
            "uid": finding_uid(scan_id, f),
            "title": title,
            "desc": (meta.risk if meta and meta.risk else message),
            "types": ["Software and Configuration Checks", f"Well-Architected/{f.get('pillar')}"],
            "created_time": when,
            "analytic": {"uid": str(f.get("check_id") or ""), "name": title, "type_id": 1, "type": "Rule"},
        },
        "resources": [{
            "uid": arn or resource_id,
            "name": resource_id,
            "type": str(f.get("resource_type") or ""),
            "region": region,
            "cloud_partition": _partition(arn, region),
            "owner": {"uid": account, "account": {"uid": account, **_ACCOUNT_TYPE}},
        }],
        "cloud": {"provider": "AWS", "region": region, "account": {"uid": account, **_ACCOUNT_TYPE}},
        "remediation": {"desc": str(f.get("remediation") or (meta.remediation if meta else ""))},
        "unmapped": {
            "scan_id": scan_id,
            "check_id": f.get("check_id"),
            "service": f.get("service"),
            "pillar": f.get("pillar"),
            "resource_id": resource_id,
            "resource_arn": arn,
            "frameworks": frameworks,
            "compliance": [f"{key}:{control}" for key, controls in frameworks.items() for control in controls],
        },
    }


def _partition(arn: str | None, region: str) -> str:
    if arn and arn.startswith("arn:"):
        partition = arn.split(":", 2)[1]
        if partition:
            return partition
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _epoch_ms(value: Any) -> int | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return int((dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp() * 1000)


def _product_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cloudscreen")
    except PackageNotFoundError:
        return "0.0.0"


# --------------------------------------------------------------------------------- report files

@dataclass(frozen=True)
class ReportFile:
    """One written report file (what `scan.completed` lists, plus where it is on disk)."""

    name: str
    type: str
    path: Path
    size: int
    generated_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "path": str(self.path), "size": self.size,
                "generated_at": self.generated_at}


def parse_formats(formats: str | Iterable[str]) -> list[str]:
    """`"html,json"` or `["html", "json"]` -> the report types in order, deduplicated; ValueError if unknown."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out: list[str] = []
    for item in (i.strip().lower() for i in items):
        if not item:
            continue
        if item not in REPORT_FILES:
            raise ValueError(f"unknown report format {item!r}: use {','.join(REPORT_FILES)}")
        if item not in out:
            out.append(item)
    return out


def render_report(doc: Mapping[str, Any], report_type: str, checks: Mapping[str, CheckMeta] | None = None, *,
                  generated_at: str | None = None) -> bytes:
    """One report of `doc` as the bytes of its file (UTF-8)."""
    if report_type == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False).encode()
    if report_type == "csv":
        return render_csv(doc).encode()
    if report_type == "ocsf":
        return render_ocsf(doc, checks).encode()
    if report_type == "html":
        from reports.render import render_html  # the HTML renderer pulls in jinja2 and its templates

        return render_html(dict(doc), checks, generated_at=generated_at).encode()
    raise ValueError(f"unknown report format {report_type!r}: use {','.join(REPORT_FILES)}")


def write_reports(doc: Mapping[str, Any], out_dir: str | Path, formats: str | Iterable[str],
                  checks: Mapping[str, CheckMeta] | None = None) -> list[ReportFile]:
    """Write the selected reports of `doc` into `out_dir` (created if needed), each atomically.

    `formats`: report types among html, json, csv, ocsf. Returns the files written, in that order."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in parse_formats(formats):
        generated_at = iso_z()
        data = render_report(doc, kind, checks, generated_at=generated_at)
        path = out / REPORT_FILES[kind]
        _write_atomic(path, data)
        written.append(ReportFile(name=path.name, type=kind, path=path.resolve(), size=len(data),
                                  generated_at=generated_at))
    return written


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
