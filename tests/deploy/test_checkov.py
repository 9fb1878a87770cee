"""checkov over deploy/terraform (with our policies in deploy/checkov/policies) and over the policies' fixtures.

checkov lives in its own virtualenv (.venv-checkov, created by `make test`) because it ships a module named hcl2
that clashes with python-hcl2; it runs here as a subprocess, offline. Three runs in all (about 3-5 s each): the real
tree, the policy fixtures, and a broken file proving parse errors are detected (checkov exits 0 on them).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
TERRAFORM = ROOT / "deploy" / "terraform"
POLICIES = ROOT / "deploy" / "checkov" / "policies"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "checkov"
CUSTOM_POLICIES = sorted(d.name for d in FIXTURES.iterdir() if d.is_dir() and d.name.startswith("CKV_CS_"))
MAX_SKIPS = 15

# Offline: no mapping or policy download, no version check, no SCA; a dead proxy turns any stray request
# into an immediate error instead of a network call.
OFFLINE_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "CHECKOV_NO_OUTPUT": "false",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
}


def run_checkov(directory: Path, *extra: str) -> dict[str, Any]:
    """Run checkov on one directory and return its JSON report (results lists + summary)."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(ROOT)} is missing: run `make test`, which creates the checkov virtualenv")
    command = [str(CHECKOV), "-d", str(directory), "--framework", "terraform", "--skip-download",
               "--external-checks-dir", str(POLICIES), "-o", "json", *extra]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, **OFFLINE_ENV}, capture_output=True, text=True,
                          timeout=180, check=False)
    elapsed = time.monotonic() - started
    # 0 = no failed check, 1 = failed checks; anything else is checkov itself breaking.
    assert done.returncode in (0, 1), f"checkov crashed ({done.returncode}): {done.stderr[-2000:]}"
    reports = parse_reports(done.stdout)
    assert len(reports) == 1, f"one terraform report expected, got {len(reports)}"
    report = reports[0]
    report["elapsed_s"] = elapsed
    report.setdefault("results", {})
    for key in ("failed_checks", "passed_checks", "skipped_checks", "parsing_errors"):
        report["results"].setdefault(key, [])
    return report


def parse_reports(stdout: str) -> list[dict[str, Any]]:
    """checkov prints one JSON document per report (several are concatenated); decode them all."""
    decoder = json.JSONDecoder()
    reports, index = [], 0
    while index < len(stdout):
        if stdout[index].isspace():
            index += 1
            continue
        document, index = decoder.raw_decode(stdout, index)
        reports.extend(document if isinstance(document, list) else [document])
    return reports


def parsing_errors(report: dict[str, Any]) -> list[str]:
    return list(report["results"]["parsing_errors"]) or (
        ["(count only)"] * int(report.get("summary", {}).get("parsing_errors", 0)))


def describe(checks: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}" for c in checks)


@pytest.fixture(scope="module")
def tree_report() -> dict[str, Any]:
    return run_checkov(TERRAFORM)


@pytest.fixture(scope="module")
def fixtures_report() -> dict[str, Any]:
    return run_checkov(FIXTURES, "--check", ",".join(CUSTOM_POLICIES))


def test_there_is_a_fixture_for_every_custom_policy() -> None:
    assert CUSTOM_POLICIES == [f"CKV_CS_{n}" for n in range(1, 8)]
    for policy in CUSTOM_POLICIES:
        assert (FIXTURES / policy / "main.tf").is_file(), f"{policy} has no failing fixture"


def test_terraform_tree_has_no_failed_check(tree_report: dict[str, Any]) -> None:
    failed = tree_report["results"]["failed_checks"]
    assert not failed, f"checkov failed {len(failed)} checks:\n{describe(failed)}"


def test_terraform_tree_has_no_parsing_error(tree_report: dict[str, Any]) -> None:
    assert not parsing_errors(tree_report), f"checkov could not parse: {parsing_errors(tree_report)}"
    assert tree_report["summary"]["resource_count"] > 30, "checkov saw too few resources: did it parse the tree?"


def test_every_skipped_check_carries_a_reason(tree_report: dict[str, Any]) -> None:
    skipped = tree_report["results"]["skipped_checks"]
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment") or ""
        assert len(reason) >= 20 and reason != "No comment provided", \
            f"{check['check_id']} on {check['resource']} is skipped without a real reason: {reason!r}"
    distinct = {(c["check_id"], c["resource"]) for c in skipped}
    assert len(distinct) <= MAX_SKIPS, f"too many skips ({len(distinct)}): fix the code instead"


def test_custom_policies_run_on_the_tree(tree_report: dict[str, Any]) -> None:
    ran = {c["check_id"] for c in tree_report["results"]["passed_checks"]}
    assert set(CUSTOM_POLICIES) <= ran, f"custom policies not loaded: {set(CUSTOM_POLICIES) - ran}"


@pytest.mark.parametrize("policy", CUSTOM_POLICIES)
def test_custom_policy_fails_its_failing_fixture(fixtures_report: dict[str, Any], policy: str) -> None:
    failing = [c for c in fixtures_report["results"]["failed_checks"]
               if c["check_id"] == policy and c["file_path"] == f"/{policy}/main.tf"]
    assert failing, f"{policy} did not fail tests/deploy/fixtures/checkov/{policy}/main.tf"
    assert not parsing_errors(fixtures_report)


@pytest.mark.parametrize("policy", CUSTOM_POLICIES)
def test_custom_policy_passes_its_passing_fixture(fixtures_report: dict[str, Any], policy: str) -> None:
    path = f"/{policy}/pass/main.tf"
    passed = [c for c in fixtures_report["results"]["passed_checks"] if c["check_id"] == policy
              and c["file_path"] == path]
    failed = [c for c in fixtures_report["results"]["failed_checks"] if c["check_id"] == policy
              and c["file_path"] == path]
    assert passed and not failed, f"{policy} on its passing fixture:\n{describe(failed)}"


def test_parse_errors_are_detected_although_checkov_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "broken" {\n  bucket = "x"\n')
    report = run_checkov(tmp_path)
    assert parsing_errors(report), "a broken .tf file must show up as a parsing error"


def test_checkov_runs_stay_fast(tree_report: dict[str, Any], fixtures_report: dict[str, Any]) -> None:
    assert tree_report["elapsed_s"] + fixtures_report["elapsed_s"] < 60, "checkov got slow: group runs again"
