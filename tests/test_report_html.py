"""The self-contained HTML report: content of each section, escaping, and the table data."""

from __future__ import annotations

import html as html_lib
import json
import re
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.model import CheckMeta, Finding, Pillar, Scope, Severity, Status
from engine.results import findings_document
from reports.render import decode_table_rows, render_html
from reports.wellarchitected import best_practice_for

ACCOUNT = "111111111111"
HOSTILE = "<script>alert(1)</script>"
GENERATED = "2026-01-02T03:04:05Z"

_PILLAR_PREFIX = {
    Pillar.SECURITY: "SEC", Pillar.RELIABILITY: "REL", Pillar.OPERATIONAL_EXCELLENCE: "OPS",
    Pillar.PERFORMANCE_EFFICIENCY: "PERF", Pillar.COST_OPTIMIZATION: "COST", Pillar.SUSTAINABILITY: "SUS",
}


def finding(check_id: str = "s3_bucket_acl_public_read_prohibited", resource_id: str = "bucket-a", *,
            status: Status = Status.FAIL, severity: Severity = Severity.CRITICAL,
            pillar: Pillar = Pillar.SECURITY, account_id: str = ACCOUNT, region: str = "us-east-1",
            service: str | None = None, frameworks: dict[str, list[str]] | None = None,
            message: str | None = None, title: str | None = None,
            remediation: str = "Remove the grants. CLI: aws s3api put-bucket-acl --bucket <bucket> --acl private",
            resource_type: str = "AWS::S3::Bucket") -> Finding:
    return Finding(
        check_id=check_id, title=title or f"Title of {check_id}", service=service or check_id.split("_")[0],
        account_id=account_id, region=region, resource_type=resource_type, resource_id=resource_id,
        resource_arn=f"arn:aws:s3:::{resource_id}", status=status, severity=severity, pillar=pillar,
        frameworks=frameworks if frameworks is not None else {"aws-fsbp": ["S3.2"]},
        message=message or f"Bucket {resource_id} is checked.", remediation=remediation)


def document(findings: list[Finding], *, status: str = "completed",
             accounts: list[dict[str, Any]] | None = None, scan_id: str = "scan-1") -> dict[str, Any]:
    account_ids = sorted({f.account_id for f in findings} | {ACCOUNT})
    return findings_document(
        scan_id=scan_id, status=status, started_at="2026-01-02T03:00:00Z", finished_at="2026-01-02T03:02:05Z",
        request={"accounts": account_ids, "regions": ["us-east-1"], "services": ["s3", "ec2"], "ticket_id": None},
        accounts=accounts or [{"account_id": a, "status": "completed", "error": None} for a in account_ids],
        findings=findings)


def render(doc: dict[str, Any], checks: dict[str, CheckMeta] | None = None) -> str:
    return render_html(doc, checks, generated_at=GENERATED)


def table_blob(html: str) -> dict[str, Any]:
    """The findings table's JSON, parsed back out of the page."""
    m = re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', html, re.S)
    assert m, "no findings-data blob"
    return json.loads(m.group(1))


def shown_counts(html: str) -> dict[str, int]:
    """The summary counts as shown on the page (thousands separated), checked against their data values."""
    out = {}
    for key, value, shown in re.findall(r'data-count="([^"]+)" data-value="(\d+)">([\d,]+)<', html):
        assert int(shown.replace(",", "")) == int(value), key
        out[key] = int(shown.replace(",", ""))
    return out


def element(html: str, element_id: str) -> str:
    """The markup from the element with `element_id` to the end of its section or card."""
    start = html.index(f'id="{element_id}"')
    ends = [html.find(marker, start + 1) for marker in ("</section>", '<div class="card framework"')]
    return html[start:min(e for e in ends if e != -1)]


# -- whole-document cases -------------------------------------------------------------------------

def test_empty_scan_renders_every_section_with_zero_counts():
    html = render(document([]))
    assert html.startswith("<!DOCTYPE html>")
    assert table_blob(html)["rows"] == []
    counts = shown_counts(html)
    assert counts["total"] == 0 and all(v == 0 for v in counts.values())
    assert "No resource has a failed finding." in html
    assert "No failed findings in any pillar." in html
    assert "No finding of this scan maps to a control of this framework." in html
    assert 'id="scan-problems"' not in html


def test_all_pass_scan_shows_full_pass_rates_and_no_failures():
    findings = [finding(resource_id=f"bucket-{i}", status=Status.PASS) for i in range(5)]
    html = render(document(findings))
    counts = shown_counts(html)
    assert counts["status:PASS"] == 5 and counts["status:FAIL"] == 0
    assert all(counts[f"severity:{s.value}"] == 0 for s in Severity)
    security = element(html, "pillar-security")
    assert "100%" in security and "5 pass · 0 fail" in security
    assert "No resource has a failed finding." in html
    assert 'id="scan-problems"' not in html
    assert 'data-control="S3.2"' in html and "status-PASS" in element(html, "framework-aws-fsbp")


def test_partial_scan_names_the_failed_account_and_the_units_in_error():
    failed = "222222222222"
    findings = [
        finding(resource_id="ok-bucket", status=Status.PASS),
        finding("ec2_volume_encrypted", "ec2", status=Status.ERROR, severity=Severity.MEDIUM, region="eu-west-1",
                message="DescribeVolumes failed: Throttling after 3 attempts", resource_type="AWS::::Account"),
        finding("ec2_ebs_default_encryption_enabled", "ec2", status=Status.ERROR, severity=Severity.MEDIUM,
                region="eu-west-1", message="DescribeVolumes failed: Throttling after 3 attempts",
                resource_type="AWS::::Account"),
    ]
    doc = document(findings, status="partial", accounts=[
        {"account_id": ACCOUNT, "status": "completed", "error": None},
        {"account_id": failed, "status": "failed",
         "error": "role arn:aws:iam::222222222222:role/Audit cannot be assumed: AccessDenied"}])
    html = render(doc)
    problems = element(html, "scan-problems")
    assert "The scan is partial" in problems
    accounts = problems[problems.index('id="failed-accounts"'):]
    assert failed in accounts and "cannot be assumed: AccessDenied" in accounts
    assert ACCOUNT not in accounts.split('id="error-units"')[0]
    units = problems[problems.index('id="error-units"'):]
    assert "eu-west-1" in units and "<td>ec2</td>" in units
    assert "DescribeVolumes failed: Throttling after 3 attempts" in units and "(×2)" in units
    assert shown_counts(html)["status:ERROR"] == 2


def test_cancelled_scan_says_it_was_cancelled_and_lists_cancelled_accounts():
    doc = document([], status="cancelled", accounts=[{"account_id": ACCOUNT, "status": "cancelled", "error": None}])
    html = render(doc)
    assert "The scan was cancelled" in element(html, "scan-problems")
    assert "no reason recorded" in element(html, "failed-accounts")


def test_header_shows_scan_id_status_duration_and_scope():
    html = render(document([finding()], scan_id="20260102T030000Z-abcd"))
    header = html[html.index('<header class="masthead">'):html.index("</header>")]
    assert "20260102T030000Z-abcd" in header and 'id="scan-status">completed<' in header
    assert "2 min 5 s" in header and "us-east-1" in header and ACCOUNT in header and GENERATED in header


# -- escaping and self-containment ----------------------------------------------------------------

def test_hostile_strings_appear_only_escaped():
    breakout = "</script><script>alert(2)</script>\u2028<!--"
    findings = [finding(resource_id=HOSTILE, message=f"Bucket {HOSTILE} is public {breakout}",
                        frameworks={"cis-aws-3.0": ["2.1.4"]}, title=f"Title {HOSTILE}"),
                finding("s3_bucket_versioning_enabled", '"><img src=x onerror=alert(3)>', status=Status.PASS,
                        severity=Severity.MEDIUM, pillar=Pillar.RELIABILITY)]
    html = render(document(findings, scan_id=f"scan-{HOSTILE}"))
    assert "<script>alert" not in html and "alert(2)</script>" not in html
    assert "<img src=x" not in html and "<!--" not in html.split("<body>", 1)[1]
    # Exactly our two script elements: the JSON blob and the inline program.
    assert html.count("<script") == 2
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in element(html, "riskiest")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in element(html, "framework-cis-aws-3.0")
    assert "scan-&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The table data still carries the exact strings, for the page to show as text.
    rows = decode_table_rows(table_blob(html))
    assert {r["resource_id"] for r in rows} == {HOSTILE, '"><img src=x onerror=alert(3)>'}
    assert any(r["message"].endswith(breakout) for r in rows)


def test_report_has_no_external_references_and_a_locked_down_policy():
    f = finding(remediation="See https://docs.aws.amazon.com/AmazonS3/latest/userguide/. CLI: aws s3api x")
    html = render(document([f]))
    assert not re.search(r"""(?:src|href|action|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(?:https?:)?//", html, re.I)
    outside_data = re.sub(r'<script type="application/json" id="findings-data">.*?</script>', "", html, flags=re.S)
    assert "http://" not in outside_data.replace("http://www.w3.org", "") and "https://" not in outside_data
    csp = html_lib.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "unsafe-inline" not in csp


def test_rendering_without_check_metadata_still_gives_remediation_and_with_it_adds_risk():
    f = finding()
    meta = CheckMeta(id=f.check_id, title=f.title, service="s3", resource_type="AWS::S3::Bucket",
                     scope=Scope.REGIONAL, severity=Severity.CRITICAL, pillar=Pillar.SECURITY,
                     remediation=f.remediation, risk="Anyone can read the bucket's objects.")
    bare = table_blob(render(document([f])))["checks"][f.check_id]
    rich = table_blob(render(document([f]), {f.check_id: meta}))["checks"][f.check_id]
    assert bare["remediation"] == f.remediation and bare["risk"] == ""
    assert rich["risk"] == "Anyone can read the bucket's objects."
    assert rich["bp"] == "SEC03-BP07 Analyze public and cross-account access"


# -- summary sections -----------------------------------------------------------------------------

def test_riskiest_resources_are_ranked_by_severity_weighted_failures():
    findings = [
        finding("s3_a_check", "three-mediums", severity=Severity.MEDIUM),
        finding("s3_b_check", "three-mediums", severity=Severity.MEDIUM),
        finding("s3_c_check", "three-mediums", severity=Severity.MEDIUM),
        finding("s3_a_check", "one-critical", severity=Severity.CRITICAL),
        finding("s3_b_check", "passing", status=Status.PASS),
        finding("s3_d_check", "only-info", severity=Severity.INFORMATIONAL),
    ]
    table = element(render(document(findings)), "riskiest-table")
    order = re.findall(r'<span class="cell-main">([^<]+)</span>', table)
    assert order == ["one-critical", "three-mediums"]  # 10 > 3 x 2; passing and informational-only score 0
    assert '<td class="num score">10</td>' in table and '<td class="num score">6</td>' in table


def test_riskiest_lists_at_most_ten_resources():
    findings = [finding(resource_id=f"bucket-{i:02d}") for i in range(15)]
    assert element(render(document(findings)), "riskiest-table").count("<tr>") == 10 + 1  # + header row


def test_framework_view_shows_control_status_and_only_the_failing_resources():
    findings = [
        finding("s3_bucket_public_access_blocked", "open-bucket", severity=Severity.HIGH,
                frameworks={"cis-aws-3.0": ["2.1.4"], "aws-fsbp": ["S3.8"]}),
        finding("s3_bucket_public_access_blocked", "closed-bucket", status=Status.PASS, severity=Severity.HIGH,
                frameworks={"cis-aws-3.0": ["2.1.4"], "aws-fsbp": ["S3.8"]}),
        finding("iam_root_mfa_enabled", ACCOUNT, status=Status.PASS, service="iam", region="global",
                frameworks={"cis-aws-3.0": ["1.5"]}, resource_type="AWS::::Account"),
        finding("s3_bucket_secure_transport_required", "closed-bucket", status=Status.PASS,
                severity=Severity.MEDIUM, frameworks={"cis-aws-3.0": ["2.1.1"]}),
    ]
    cis = element(render(document(findings)), "framework-cis-aws-3.0")
    assert "CIS AWS Foundations Benchmark v3.0.0" in cis and "1 failing · 2 passing" in cis
    controls = re.findall(r'data-control="([^"]+)"', cis)
    assert controls == ["1.5", "2.1.1", "2.1.4"]
    row = cis[cis.index('data-control="2.1.4"'):]
    row = row[:row.index("</tr>")]
    assert "status-FAIL" in row and "open-bucket" in row and "closed-bucket" not in row
    assert "1 failing resource<" in row and "s3_bucket_public_access_blocked" in row
    passing = cis[cis.index('data-control="1.5"'):]
    assert "status-PASS" in passing[:passing.index("</tr>")]
    fsbp = element(render(document(findings)), "framework-aws-fsbp")
    assert 'data-control="S3.8"' in fsbp and "open-bucket" in fsbp


def test_framework_controls_sort_numerically():
    findings = [finding(resource_id=f"b{c}", frameworks={"aws-fsbp": [c]}) for c in ("S3.10", "S3.9", "S3.1")]
    fsbp = element(render(document(findings)), "framework-aws-fsbp")
    assert re.findall(r'data-control="([^"]+)"', fsbp) == ["S3.1", "S3.9", "S3.10"]


def test_wellarchitected_summary_gives_pass_rates_and_groups_failures_by_best_practice():
    findings = [
        finding("s3_bucket_acl_public_read_prohibited", "a"),
        finding("s3_bucket_acl_public_read_prohibited", "b", status=Status.PASS),
        finding("s3_bucket_default_encryption_enabled", "a", severity=Severity.MEDIUM),
        finding("rds_instance_multi_az_enabled", "db-1", severity=Severity.MEDIUM, pillar=Pillar.RELIABILITY,
                resource_type="AWS::RDS::DBInstance"),
        finding("s3_bucket_lifecycle_configured", "a", status=Status.MUTED, severity=Severity.LOW,
                pillar=Pillar.COST_OPTIMIZATION),
    ]
    html = render(document(findings))
    assert "33%" in element(html, "pillar-security")  # 1 pass of 3 evaluated
    assert "0%" in element(html, "pillar-reliability")
    assert "n/a" in element(html, "pillar-cost_optimization")  # only a muted finding: nothing evaluated
    security = element(html, "wa-security")
    assert "SEC03-BP07" in security and "Analyze public and cross-account access" in security
    assert "SEC08-BP02" in security and "Enforce encryption at rest" in security
    assert security.index("SEC03-BP07") < security.index("SEC08-BP02")
    reliability = element(html, "wa-reliability")
    assert "REL10-BP01" in reliability and "Deploy the workload to multiple locations" in reliability
    assert 'id="wa-cost_optimization"' not in html


def test_every_catalogue_check_maps_to_a_best_practice_of_its_own_pillar():
    from engine.checks import load_all

    for check_id, check in load_all().items():
        bp = best_practice_for(check_id, check.meta.pillar, check.meta.service)
        assert bp.id.startswith(_PILLAR_PREFIX[check.meta.pillar]), (check_id, bp.id)
        assert bp.title and bp.question.endswith("?")


def test_unknown_checks_fall_back_to_their_pillar_default():
    assert best_practice_for("foo_bar_baz", Pillar.SECURITY).id == "SEC01-BP03"
    assert best_practice_for("foo_bar_baz", "reliability").id == "REL11-BP01"
    assert best_practice_for("ec2_instance_profile_attached", Pillar.SECURITY).id == "SEC02-BP02"
    assert best_practice_for("kms_key_rotation_enabled", Pillar.SECURITY).id == "SEC08-BP01"


def test_charts_are_inline_svg_with_text_alternatives():
    findings = [finding(resource_id=f"b{i}", severity=sev) for i, sev in enumerate(Severity)]
    html = render(document(findings))
    for chart in ("chart-severity", "chart-service", "chart-account", "chart-pillar"):
        block = html[html.index(f'id="{chart}"'):]
        block = block[:block.index("</figure>")]
        assert "<svg" in block and 'role="img"' in block and "<desc" in block
    assert "Critical: 1." in html[html.index('id="chart-severity"'):]


# -- property --------------------------------------------------------------------------------------

_texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)
_findings = st.lists(
    st.builds(
        finding,
        check_id=st.sampled_from(["s3_bucket_acl_public_read_prohibited", "ec2_volume_encrypted",
                                  "iam_root_mfa_enabled", "rds_instance_multi_az_enabled"]),
        resource_id=st.one_of(_texts, st.sampled_from([HOSTILE, "</script>", "a&b", "x\u2028y"])),
        status=st.sampled_from(list(Status)),
        severity=st.sampled_from(list(Severity)),
        pillar=st.sampled_from(list(Pillar)),
        account_id=st.sampled_from([ACCOUNT, "222222222222"]),
        region=st.sampled_from(["us-east-1", "eu-west-1", "global"]),
        frameworks=st.sampled_from([{}, {"aws-fsbp": ["S3.2"]}, {"cis-aws-3.0": ["2.1.4"], "aws-fsbp": ["S3.8"]}]),
        message=st.one_of(st.none(), _texts),
        title=st.one_of(st.none(), _texts),
    ),
    max_size=30,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings=_findings)
def test_property_html_table_data_holds_every_finding_exactly_once(findings: list[Finding]) -> None:
    """Property 3: output consistency — the HTML table data holds every finding's check id and
    resource id exactly once, and the summary counts shown equal the document's."""
    doc = document(findings)
    html = render(doc)
    rows = decode_table_rows(table_blob(html))

    def key(f: dict[str, Any]) -> tuple[str, str, str, str]:
        return (f["check_id"], f["resource_id"], f["account_id"], f["region"])

    assert Counter(key(r) for r in rows) == Counter(key(f) for f in doc["findings"])
    assert sorted(rows, key=lambda r: json.dumps(r, sort_keys=True)) == \
        sorted(doc["findings"], key=lambda r: json.dumps(r, sort_keys=True))

    summary = doc["summary"]
    expected = {"total": summary["total"]}
    expected |= {f"status:{k}": v for k, v in summary["by_status"].items()}
    expected |= {f"severity:{k}": v for k, v in summary["by_severity"].items()}
    assert shown_counts(html) == expected
    assert "<script>alert" not in html
