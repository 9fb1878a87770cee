"""The HTML report in a real browser: headless Chromium opens the file offline, and the findings
table filters, expands, pages and shows hostile names as text. Assertions are on the DOM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from engine.model import Finding, Pillar, Severity, Status
from engine.results import findings_document
from reports.render import render_html

HOSTILE = "<script>alert(1)</script>"
SERVICES = ["s3", "ec2", "iam", "rds", "lambda"]
REGIONS = ["us-east-1", "eu-west-1"]
ACCOUNTS = ["111111111111", "222222222222"]
STATUSES = [Status.FAIL, Status.PASS, Status.PASS, Status.FAIL, Status.MUTED, Status.ERROR]
SEVERITIES = list(Severity)
TOTAL = 300  # 299 generated + the hostile bucket


def _findings() -> list[Finding]:
    out = []
    for i in range(TOTAL - 1):
        service = SERVICES[i % len(SERVICES)]
        out.append(Finding(
            check_id=f"{service}_resource_check_{i % 7}", title=f"{service.upper()} resource passes check {i % 7}",
            service=service, account_id=ACCOUNTS[i % 2], region=REGIONS[(i // 2) % 2],
            resource_type=f"AWS::{service.upper()}::Thing", resource_id=f"{service}-resource-{i:03d}",
            resource_arn=f"arn:aws:{service}:us-east-1:{ACCOUNTS[i % 2]}:thing/{i}",
            status=STATUSES[i % len(STATUSES)], severity=SEVERITIES[(i // 5) % len(SEVERITIES)],
            pillar=Pillar.SECURITY, frameworks={"aws-fsbp": [f"{service.upper()}.{i % 5 + 1}"]},
            message=f"Resource {service}-resource-{i:03d} was evaluated.",
            remediation=f"Fix it in the console. CLI: aws {service} fix-thing --id {i}"))
    out.append(Finding(
        check_id="s3_bucket_acl_public_read_prohibited", title="S3 bucket ACL does not grant public read",
        service="s3", account_id=ACCOUNTS[0], region="us-east-1", resource_type="AWS::S3::Bucket",
        resource_id=HOSTILE, resource_arn=f"arn:aws:s3:::{HOSTILE}", status=Status.FAIL, severity=Severity.CRITICAL,
        pillar=Pillar.SECURITY, frameworks={"aws-fsbp": ["S3.2"]},
        message=f"Bucket {HOSTILE} grants READ to AllUsers.",
        remediation="Remove the AllUsers grant in the console. CLI: aws s3api put-bucket-acl --bucket b --acl private",
    ))
    return out


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    return _findings()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, findings: list[Finding]) -> Path:
    doc = findings_document(scan_id="browser-test", status="completed", started_at="2026-01-02T03:00:00Z",
                            finished_at="2026-01-02T03:01:00Z",
                            request={"accounts": ACCOUNTS, "regions": REGIONS, "services": SERVICES},
                            accounts=[{"account_id": a, "status": "completed"} for a in ACCOUNTS],
                            findings=findings)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(doc), encoding="utf-8")
    return path


@pytest.fixture
def page(browser: Any, report: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    pg = context.new_page()
    pg.dialogs = []
    pg.errors = []
    pg.requests = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.goto(report.as_uri())
    pg.wait_for_selector("html[data-table-ready=true]", timeout=15000)
    yield pg
    context.close()


def visible_rows(page: Any) -> Any:
    return page.locator("#findings-body tr.finding")


def column_texts(page: Any, column: int) -> list[str]:
    return visible_rows(page).evaluate_all(
        f"rows => rows.map(r => r.cells[{column}].textContent)")


def resource_ids(page: Any) -> list[str]:
    return visible_rows(page).evaluate_all(
        "rows => rows.map(r => r.querySelector('td.col-resource .cell-main').textContent)")


def test_table_filters_by_severity_and_free_text(page: Any, findings: list[Finding]) -> None:
    assert page.locator("#table-status").text_content() == f"Showing 1–100 of {TOTAL} findings"
    assert visible_rows(page).count() == 100

    page.select_option("#f-severity", "critical")
    critical = [f for f in findings if f.severity is Severity.CRITICAL]
    expect(visible_rows(page)).to_have_count(len(critical))
    assert set(column_texts(page, 1)) == {"critical"}

    page.fill("#f-text", "lambda-resource")
    expected = sorted(f.resource_id for f in critical if f.resource_id.startswith("lambda-resource"))
    assert expected
    expect(visible_rows(page)).to_have_count(len(expected))
    assert sorted(resource_ids(page)) == expected
    assert page.locator("#table-status").text_content().endswith(f"(filtered from {TOTAL})")

    page.click("#f-reset")
    expect(visible_rows(page)).to_have_count(100)
    assert page.dialogs == [] and page.errors == []


def test_row_expands_to_message_risk_and_remediation(page: Any) -> None:
    page.fill("#f-text", "s3-resource-000")
    expect(visible_rows(page)).to_have_count(1)
    button = page.locator("#findings-body button.expand").first
    assert button.get_attribute("aria-expanded") == "false"
    button.focus()
    page.keyboard.press("Enter")  # keyboard accessible
    assert button.get_attribute("aria-expanded") == "true"
    detail = page.locator("#" + button.get_attribute("aria-controls"))
    assert detail.is_visible()
    assert "Resource s3-resource-000 was evaluated." in detail.text_content()
    assert detail.locator(".remediation-console").text_content() == "Fix it in the console."
    assert detail.locator(".remediation-cli").text_content() == "aws s3 fix-thing --id 0"
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "false" and detail.count() == 0


def test_hostile_bucket_name_is_shown_as_text_and_runs_nothing(page: Any) -> None:
    page.fill("#f-text", "alert(1)")
    expect(visible_rows(page)).to_have_count(1)
    resource_cell = visible_rows(page).first.locator("td.col-resource .cell-main")
    assert resource_cell.text_content() == HOSTILE
    visible_rows(page).first.locator("button.expand").click()
    assert f"Bucket {HOSTILE} grants READ to AllUsers." in page.locator("tr.detail").text_content()
    # Only the page's own two script elements exist; nothing was injected or run.
    assert page.evaluate("document.querySelectorAll('script').length") == 2
    assert page.evaluate("document.querySelectorAll('#findings-body script, #findings-body img').length") == 0
    assert page.dialogs == [] and page.errors == []
    # The riskiest-resources table (server-rendered) shows it as text too.
    assert HOSTILE in page.locator("#riskiest-table").text_content()


def test_pages_forward_and_sorts_by_column(page: Any, tmp_path: Path) -> None:
    first_page = resource_ids(page)
    page.click("#p-next")
    assert page.locator("#p-info").text_content() == "Page 2 of 3"
    assert page.locator("#table-status").text_content() == f"Showing 101–200 of {TOTAL} findings"
    assert not set(resource_ids(page)) & set(first_page)
    page.click("#p-last")
    assert visible_rows(page).count() == TOTAL - 200 and page.locator("#p-next").is_disabled()

    page.click("th[data-sort=resource] button")
    assert page.get_attribute("th[data-sort=resource]", "aria-sort") == "ascending"
    assert page.locator("#p-info").text_content() == "Page 1 of 3"
    resources = resource_ids(page)
    assert resources == sorted(resources) and len(resources) == 100

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_opens_offline_without_any_request(page: Any, report: Path) -> None:
    assert page.requests == [report.as_uri()]
    assert page.locator("#chart-severity svg").is_visible()
