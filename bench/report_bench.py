"""HTML report benchmark: render a findings document of 50,000 synthetic findings and open it.

Findings are spread over the real check catalogue (its titles, remediation and frameworks), 20
accounts and 4 regions, with a realistic status mix. Prints the render time, the HTML size, and,
when Debian's Chromium is installed, the time until the first page of table rows is in the DOM
and how long a free-text filter over all rows takes. Figures, not assertions.

    .venv/bin/python bench/report_bench.py [--findings 50000] [--out report.html] [--no-browser]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine.checks import load_all  # noqa: E402
from engine.model import Finding, Status  # noqa: E402
from engine.results import findings_document  # noqa: E402
from reports.render import render_html  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
STATUS_CYCLE = [Status.PASS] * 11 + [Status.FAIL] * 7 + [Status.MUTED, Status.ERROR]


def synthetic_findings(n: int) -> tuple[list[Finding], dict]:
    """`n` findings over the catalogue's checks; returns them and the check metadata."""
    metas = sorted((c.meta for c in load_all().values()), key=lambda m: m.id)
    out = []
    for i in range(n):
        m = metas[i % len(metas)]
        account = f"{100000000000 + (i // 7) % 20:012d}"
        region = "global" if m.scope.value == "global" else REGIONS[(i // 3) % len(REGIONS)]
        resource = f"{m.service}-resource-{i:06d}"
        status = STATUS_CYCLE[(i * 7) % len(STATUS_CYCLE)]
        out.append(Finding(
            check_id=m.id, title=m.title, service=m.service, account_id=account, region=region,
            resource_type=m.resource_type, resource_id=resource,
            resource_arn=f"arn:aws:{m.service}:{region}:{account}:resource/{resource}", status=status,
            severity=m.severity, pillar=m.pillar, frameworks={k: list(v) for k, v in m.frameworks.items()},
            message=(f"{m.resource_type.split('::')[-1]} {resource} in {region} "
                     f"{'does not meet' if status is not Status.PASS else 'meets'} the condition of {m.id}."),
            remediation=m.remediation))
    return out, {m.id: m for m in metas}


def browser_figures(path: Path) -> dict[str, float]:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1360, "height": 1000})
        start = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector("html[data-table-ready=true]", timeout=120_000)
        wall = time.perf_counter() - start
        ready_ms = float(page.get_attribute("html", "data-table-ready-ms") or 0)
        rows = page.locator("#findings-body tr.finding").count()

        start = time.perf_counter()
        page.fill("#f-text", "resource-04999")
        expect(page.locator("#findings-body tr.finding")).to_have_count(10, timeout=60_000)
        filter_s = time.perf_counter() - start - 0.15  # minus the input debounce
        browser.close()
    return {"rows_on_first_page": rows, "first_page_ms": ready_ms, "load_wall_s": wall, "filter_s": filter_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--findings", type=int, default=50_000)
    ap.add_argument("--out", type=Path, default=None, help="where to write the HTML (default: a temp dir)")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium timing")
    args = ap.parse_args()

    t0 = time.perf_counter()
    findings, checks = synthetic_findings(args.findings)
    doc = findings_document(scan_id="bench", status="completed", started_at="2026-01-01T00:00:00Z",
                            finished_at="2026-01-01T00:20:00Z",
                            request={"accounts": sorted({f.account_id for f in findings}), "regions": REGIONS,
                                     "services": sorted({f.service for f in findings})},
                            accounts=[], findings=findings)
    t1 = time.perf_counter()
    html = render_html(doc, checks)
    t2 = time.perf_counter()

    out = args.out or Path(tempfile.mkdtemp(prefix="report-bench-")) / "report.html"
    out.write_text(html, encoding="utf-8")
    size = out.stat().st_size
    print(f"findings:        {len(findings):,} over {len(checks)} checks")
    print(f"document build:  {t1 - t0:.2f} s")
    print(f"render_html:     {t2 - t1:.2f} s")
    print(f"HTML size:       {size / 1e6:.1f} MB ({size:,} bytes) -> {out}")

    if args.no_browser:
        return
    if not os.path.exists(CHROMIUM):
        print(f"browser:         skipped ({CHROMIUM} missing; `make test` installs it)")
        return
    fig = browser_figures(out)
    print(f"first page:      {fig['rows_on_first_page']} rows in the DOM {fig['first_page_ms'] / 1000:.2f} s after "
          f"navigation start ({fig['load_wall_s']:.2f} s wall clock from navigation)")
    print(f"text filter:     {fig['filter_s']:.2f} s to filter all rows and redraw")


if __name__ == "__main__":
    main()
