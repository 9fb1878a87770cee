"""The CSV and OCSF report formats and writing report files (reports/formats.py)."""

from __future__ import annotations

import csv
import io
import json
import sys
import types
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.model import FRAMEWORK_KEYS, CheckMeta, Finding, Pillar, Scope, Severity, Status
from engine.results import findings_document, summarize
from reports.formats import (
    CSV_COLUMNS,
    OCSF_SCHEMA_PATH,
    OCSF_VERSION,
    REPORT_FILES,
    ReportFile,
    finding_uid,
    format_frameworks,
    parse_csv,
    parse_formats,
    parse_frameworks,
    render_csv,
    render_ocsf,
    write_reports,
)

HOSTILE = [
    "a, b, c",
    'she said "hi", then ""left""',
    "line one\nline two\r\nline three\rend",
    "unicode: café — 日本語 — עברית — 🙂 — \u2028 — \x85",
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "'already quoted",
    "''double",
    "<script>alert(1)</script>",
    "",
    " leading space, trailing space ",
    "nul\x00byte",
]


def make_finding(**kw: Any) -> Finding:
    base: dict[str, Any] = dict(
        check_id="s3_bucket_acl_public_read_prohibited", title="S3 bucket ACL does not grant public read",
        service="s3", account_id="111111111111", region="us-east-1", resource_type="AWS::S3::Bucket",
        resource_id="my-bucket", resource_arn="arn:aws:s3:::my-bucket", status=Status.FAIL,
        severity=Severity.HIGH, pillar=Pillar.SECURITY, frameworks={"aws-fsbp": ["S3.2"]},
        message="bucket my-bucket grants READ to AllUsers", remediation="Remove the public grant.")
    base.update(kw)
    return Finding(**base)


def make_doc(findings: list[Finding], *, scan_id: str = "20260101T000000-abcd", status: str = "completed",
             finished_at: str | None = "2026-01-01T00:05:00Z") -> dict[str, Any]:
    return findings_document(scan_id=scan_id, status=status, started_at="2026-01-01T00:00:00Z",
                             finished_at=finished_at,
                             request={"accounts": ["111111111111"], "regions": ["us-east-1"], "services": ["s3"]},
                             accounts=[{"account_id": "111111111111", "status": "completed"}], findings=findings)


def hostile_findings() -> list[Finding]:
    out = []
    for i, text in enumerate(HOSTILE):
        out.append(make_finding(resource_id=f"bucket-{i}-{text}", title=text, message=text, remediation=text,
                                resource_arn=None if i % 3 == 0 else f"arn:aws:s3:::{text}",
                                frameworks={"cis-aws-3.0": ["2.1.1", "2.1.4"], "aws-fsbp": ["S3.8"]}
                                if i % 2 else {}))
    return out


def ocsf_schema() -> dict[str, Any]:
    return json.loads(OCSF_SCHEMA_PATH.read_text())


def validate_ocsf(text: str) -> list[dict[str, Any]]:
    events = json.loads(text)
    jsonschema.Draft202012Validator(ocsf_schema()).validate(events)
    return events


# ------------------------------------------------------------------------------------------ CSV

def test_csv_columns_are_in_the_documented_stable_order() -> None:
    assert CSV_COLUMNS == ("scan_id", "account_id", "region", "service", "check_id", "title", "status", "severity",
                           "pillar", "resource_type", "resource_id", "resource_arn", "frameworks", "message",
                           "remediation")
    text = render_csv(make_doc([make_finding()]))
    assert text.splitlines()[0] == ",".join(f'"{c}"' for c in CSV_COLUMNS)


def test_csv_has_one_row_per_finding_with_the_scan_id() -> None:
    findings = [make_finding(resource_id=f"b{i}") for i in range(5)]
    rows = list(csv.DictReader(io.StringIO(render_csv(make_doc(findings, scan_id="scan-1")), newline="")))
    assert len(rows) == 5
    assert {r["scan_id"] for r in rows} == {"scan-1"}
    assert [r["resource_id"] for r in rows] == [f"b{i}" for i in range(5)]


def test_csv_hostile_strings_survive_the_round_trip() -> None:
    doc = make_doc(hostile_findings())
    assert parse_csv(render_csv(doc)) == [Finding.from_dict(f) for f in doc["findings"]]


def test_csv_cells_that_spreadsheets_would_run_as_formulas_are_prefixed_with_a_quote() -> None:
    doc = make_doc([make_finding(message="=cmd|' /C calc'!A0", title="+1", remediation="@SUM(A1)",
                                 resource_id="-1")])
    raw = list(csv.DictReader(io.StringIO(render_csv(doc), newline="")))[0]
    assert raw["message"] == "'=cmd|' /C calc'!A0"
    assert raw["title"] == "'+1"
    assert raw["remediation"] == "'@SUM(A1)"
    assert raw["resource_id"] == "'-1"
    assert parse_csv(render_csv(doc))[0].message == "=cmd|' /C calc'!A0"


def test_csv_a_value_that_already_starts_with_a_quote_keeps_it() -> None:
    doc = make_doc([make_finding(message="'=not a formula", title="'plain")])
    back = parse_csv(render_csv(doc))[0]
    assert (back.message, back.title) == ("'=not a formula", "'plain")


def test_csv_frameworks_cell_is_compact_and_parseable() -> None:
    fw = {"cis-aws-3.0": ["1.4", "1.5"], "aws-fsbp": ["IAM.4"]}
    assert format_frameworks(fw) == "cis-aws-3.0:1.4|1.5;aws-fsbp:IAM.4"
    assert parse_frameworks("cis-aws-3.0:1.4|1.5;aws-fsbp:IAM.4") == fw
    assert format_frameworks({}) == "" and parse_frameworks("") == {}
    row = list(csv.DictReader(io.StringIO(render_csv(make_doc([make_finding(frameworks=fw)])), newline="")))[0]
    assert row["frameworks"] == "cis-aws-3.0:1.4|1.5;aws-fsbp:IAM.4"


def test_csv_frameworks_with_separator_characters_round_trip() -> None:
    fw = {"odd:key;x": ["a|b", "c:d", "e;f", "100%"], "empty": []}
    assert parse_frameworks(format_frameworks(fw)) == fw


def test_csv_missing_arn_reads_back_as_null() -> None:
    back = parse_csv(render_csv(make_doc([make_finding(resource_arn=None)])))
    assert back[0].resource_arn is None


def test_parse_csv_refuses_a_csv_without_the_finding_columns() -> None:
    with pytest.raises(ValueError, match="missing column"):
        parse_csv('"a","b"\r\n"1","2"\r\n')


def test_parse_csv_of_an_empty_scan_gives_no_findings() -> None:
    assert parse_csv(render_csv(make_doc([]))) == []
    assert parse_csv("") == []


# ----------------------------------------------------------------------------------------- OCSF

def test_ocsf_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(ocsf_schema())


def test_ocsf_output_validates_against_the_shipped_schema() -> None:
    findings = hostile_findings() + [make_finding(status=s, severity=v, resource_id=f"r-{s}-{v}")
                                     for s in Status for v in Severity]
    events = validate_ocsf(render_ocsf(make_doc(findings)))
    assert len(events) == len(findings)


def test_ocsf_event_carries_the_detection_finding_classification() -> None:
    ev = validate_ocsf(render_ocsf(make_doc([make_finding()])))[0]
    assert (ev["class_uid"], ev["category_uid"], ev["activity_id"], ev["type_uid"]) == (2004, 2, 1, 200401)
    assert ev["metadata"]["version"] == OCSF_VERSION
    assert ev["metadata"]["product"]["name"] == "CloudScreen"
    assert ev["metadata"]["product"]["vendor_name"]


@pytest.mark.parametrize(("severity", "severity_id", "caption"), [
    (Severity.INFORMATIONAL, 1, "Informational"), (Severity.LOW, 2, "Low"), (Severity.MEDIUM, 3, "Medium"),
    (Severity.HIGH, 4, "High"), (Severity.CRITICAL, 5, "Critical"),
])
def test_ocsf_maps_severities(severity: Severity, severity_id: int, caption: str) -> None:
    ev = validate_ocsf(render_ocsf(make_doc([make_finding(severity=severity)])))[0]
    assert (ev["severity_id"], ev["severity"]) == (severity_id, caption)


@pytest.mark.parametrize(("status", "status_id", "caption"), [
    (Status.PASS, 1, "New"), (Status.FAIL, 1, "New"), (Status.ERROR, 1, "New"), (Status.SKIPPED, 1, "New"),
    (Status.MUTED, 3, "Suppressed"),
])
def test_ocsf_maps_statuses_and_keeps_the_check_outcome_in_status_code(status: Status, status_id: int,
                                                                         caption: str) -> None:
    f = make_finding(status=status, message=f"outcome {status.value}")
    ev = validate_ocsf(render_ocsf(make_doc([f])))[0]
    assert (ev["status_id"], ev["status"]) == (status_id, caption)
    assert ev["status_code"] == status.value
    assert ev["status_detail"] == f"outcome {status.value}"


def test_ocsf_resource_cloud_and_remediation_come_from_the_finding() -> None:
    f = make_finding(region="eu-west-1", resource_id="b1", resource_arn="arn:aws:s3:::b1",
                     remediation="Turn on Block Public Access.")
    ev = validate_ocsf(render_ocsf(make_doc([f])))[0]
    assert ev["resources"] == [{
        "uid": "arn:aws:s3:::b1", "name": "b1", "type": "AWS::S3::Bucket", "region": "eu-west-1",
        "cloud_partition": "aws",
        "owner": {"uid": "111111111111", "account": {"uid": "111111111111", "type_id": 10, "type": "AWS Account"}},
    }]
    assert ev["cloud"] == {"provider": "AWS", "region": "eu-west-1",
                           "account": {"uid": "111111111111", "type_id": 10, "type": "AWS Account"}}
    assert ev["remediation"] == {"desc": "Turn on Block Public Access."}


def test_ocsf_resource_without_arn_uses_its_id_and_the_region_partition() -> None:
    ev = validate_ocsf(render_ocsf(make_doc([make_finding(resource_arn=None, resource_id="sg-1",
                                                          region="cn-north-1")])))[0]
    assert ev["resources"][0]["uid"] == "sg-1"
    assert ev["resources"][0]["cloud_partition"] == "aws-cn"
    gov = validate_ocsf(render_ocsf(make_doc([make_finding(resource_arn="arn:aws-us-gov:s3:::b")])))[0]
    assert gov["resources"][0]["cloud_partition"] == "aws-us-gov"


def test_ocsf_unmapped_keeps_check_pillar_and_frameworks() -> None:
    f = make_finding(frameworks={"cis-aws-3.0": ["2.1.4"], "aws-fsbp": ["S3.8", "S3.1"]}, pillar=Pillar.SECURITY)
    ev = validate_ocsf(render_ocsf(make_doc([f], scan_id="s-9")))[0]
    assert ev["unmapped"]["check_id"] == f.check_id
    assert ev["unmapped"]["pillar"] == "security"
    assert ev["unmapped"]["scan_id"] == "s-9"
    assert ev["unmapped"]["frameworks"] == {"cis-aws-3.0": ["2.1.4"], "aws-fsbp": ["S3.8", "S3.1"]}
    assert ev["unmapped"]["compliance"] == ["cis-aws-3.0:2.1.4", "aws-fsbp:S3.8", "aws-fsbp:S3.1"]
    assert ev["finding_info"]["analytic"] == {"uid": f.check_id, "name": f.title, "type_id": 1, "type": "Rule"}


def test_ocsf_time_is_the_scan_finish_in_epoch_milliseconds() -> None:
    ev = validate_ocsf(render_ocsf(make_doc([make_finding()], finished_at="2026-01-01T00:05:00Z")))[0]
    assert ev["time"] == 1767225900000
    assert ev["finding_info"]["created_time"] == ev["time"]


def test_ocsf_finding_uid_is_stable_and_distinct_per_resource() -> None:
    a, b = make_finding(resource_id="a"), make_finding(resource_id="b")
    first = validate_ocsf(render_ocsf(make_doc([a, b])))
    again = validate_ocsf(render_ocsf(make_doc([a, b])))
    assert [e["finding_info"]["uid"] for e in first] == [e["finding_info"]["uid"] for e in again]
    assert first[0]["finding_info"]["uid"] != first[1]["finding_info"]["uid"]
    assert finding_uid("s1", a.to_dict()) != finding_uid("s2", a.to_dict())


def test_ocsf_uses_check_risk_as_the_description_when_metadata_is_given() -> None:
    f = make_finding()
    meta = CheckMeta(id=f.check_id, title=f.title, service="s3", resource_type="AWS::S3::Bucket",
                     scope=Scope.REGIONAL, severity=Severity.HIGH, pillar=Pillar.SECURITY,
                     remediation="r", risk="Anyone on the internet can read the objects.")
    with_meta = validate_ocsf(render_ocsf(make_doc([f]), {f.check_id: meta}))[0]
    without = validate_ocsf(render_ocsf(make_doc([f])))[0]
    assert with_meta["finding_info"]["desc"] == "Anyone on the internet can read the objects."
    assert without["finding_info"]["desc"] == f.message


def test_ocsf_of_an_empty_scan_is_an_empty_array() -> None:
    assert validate_ocsf(render_ocsf(make_doc([]))) == []


# --------------------------------------------------------------------------------- report files

def test_write_reports_writes_the_selected_files_atomically(tmp_path: Path) -> None:
    doc = make_doc(hostile_findings())
    files = write_reports(doc, tmp_path / "out", ["json", "csv", "ocsf"])
    assert [(f.name, f.type) for f in files] == [("findings.json", "json"), ("findings.csv", "csv"),
                                                 ("findings.ocsf.json", "ocsf")]
    for f in files:
        assert isinstance(f, ReportFile)
        assert f.path == (tmp_path / "out" / f.name).resolve()
        assert f.size == f.path.stat().st_size
        assert f.generated_at.endswith("Z")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["findings.csv", "findings.json",
                                                                    "findings.ocsf.json"]
    assert json.loads((tmp_path / "out" / "findings.json").read_text()) == doc
    assert parse_csv((tmp_path / "out" / "findings.csv").read_bytes().decode()) == \
        [Finding.from_dict(f) for f in doc["findings"]]
    validate_ocsf((tmp_path / "out" / "findings.ocsf.json").read_text())


def test_write_reports_renders_html_through_the_html_renderer(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_render_html(doc: dict[str, Any], checks: Any = None, *, generated_at: str | None = None) -> str:
        calls.append((doc["scan_id"], checks, generated_at))
        return f"<html>{doc['scan_id']}</html>"

    monkeypatch.setitem(sys.modules, "reports.render", types.SimpleNamespace(render_html=fake_render_html))
    checks = {"x": "meta"}
    files = write_reports(make_doc([], scan_id="s-html"), tmp_path, "html", checks)  # type: ignore[arg-type]
    assert [(f.name, f.type) for f in files] == [("report.html", "html")]
    assert (tmp_path / "report.html").read_text() == "<html>s-html</html>"
    assert calls == [("s-html", checks, files[0].generated_at)]


def test_write_reports_replaces_existing_files_and_leaves_no_temporaries(tmp_path: Path) -> None:
    write_reports(make_doc([make_finding()]), tmp_path, "csv")
    write_reports(make_doc([]), tmp_path, "csv")
    assert [p.name for p in tmp_path.iterdir()] == ["findings.csv"]
    assert parse_csv((tmp_path / "findings.csv").read_bytes().decode()) == []


def test_report_formats_are_parsed_and_unknown_ones_refused() -> None:
    assert parse_formats("html, json,csv,ocsf,json") == ["html", "json", "csv", "ocsf"]
    assert parse_formats(["CSV"]) == ["csv"]
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        parse_formats("json,pdf")


def test_report_file_names_match_the_result_store_layout() -> None:
    from engine.store import REPORT_FILES as STORE_REPORT_FILES

    assert REPORT_FILES == STORE_REPORT_FILES


# ----------------------------------------------------------------------------- property test

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
_control = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8)
_finding = st.builds(
    Finding,
    check_id=st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True),
    title=_text,
    service=st.sampled_from(["s3", "iam", "ec2", "rds", "kms"]),
    account_id=st.from_regex(r"[0-9]{12}", fullmatch=True),
    region=st.sampled_from(["us-east-1", "eu-west-1", "global", "cn-north-1"]),
    resource_type=st.sampled_from(["AWS::S3::Bucket", "AWS::IAM::User", "AWS::EC2::SecurityGroup"]),
    resource_id=_text,
    resource_arn=st.none() | _text.filter(bool),
    status=st.sampled_from(list(Status)),
    severity=st.sampled_from(list(Severity)),
    pillar=st.sampled_from(list(Pillar)),
    frameworks=st.dictionaries(st.sampled_from(FRAMEWORK_KEYS) | _control, st.lists(_control, max_size=3),
                               max_size=3),
    message=_text,
    remediation=_text,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_finding, max_size=12))
def test_output_consistency_json_csv_and_ocsf_carry_the_same_findings(findings: list[Finding]) -> None:
    """Property 3: output consistency — for any list of findings, JSON and CSV round-trip to the same
    findings and the same summary counts, and the OCSF output carries the same findings."""
    doc = make_doc(findings)
    expected = [Finding.from_dict(f) for f in doc["findings"]]
    assert sorted(expected, key=repr) == sorted(findings, key=repr)

    from_json = [Finding.from_dict(f) for f in json.loads(json.dumps(doc))["findings"]]
    from_csv = parse_csv(render_csv(doc))
    assert from_json == expected
    assert from_csv == expected
    summary = {k: v for k, v in doc["summary"].items() if k != "framework"}
    assert summarize(from_json) == summary
    assert summarize(from_csv) == summary

    events = validate_ocsf(render_ocsf(doc))
    assert len(events) == len(expected)
    assert sorted((e["unmapped"]["check_id"], e["resources"][0]["name"]) for e in events) == \
        sorted((f.check_id, f.resource_id) for f in expected)
    assert sum(e["status_code"] == "FAIL" for e in events) == summary["by_status"]["FAIL"]
