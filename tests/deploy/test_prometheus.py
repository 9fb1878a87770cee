"""Prometheus configuration, rules and rule unit tests, checked offline with promtool.

promtool comes from Debian's `prometheus` package, which `make test` installs (target apt-deps). A
missing promtool is a failure, never a skip: these checks are the only proof the alerts work.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"
CONFIG = PROM / "prometheus.yml"
RULES = PROM / "rules" / "cloudscreen.rules.yml"
RULE_TESTS = PROM / "tests" / "cloudscreen.rules.test.yml"
RUNBOOKS = PROM / "README.md"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "prometheus"

EXPECTED_ALERTS = {
    "CloudScreenScanFailureRateHigh",
    "CloudScreenScanQueueBacklog",
    "CloudScreenAwsThrottlingHigh",
    "CloudScreenScansStalled",
    "CloudScreenFrontDown",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    path = Path("/usr/bin/promtool")
    found = str(path) if path.exists() else shutil.which("promtool")
    if not found:
        pytest.fail("promtool not found (/usr/bin/promtool): `make test` installs it (apt-deps installs Debian's "
                    "prometheus package); or run `sudo apt-get install -y prometheus`")
    return found


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)


def rules_doc() -> dict:
    return yaml.safe_load(RULES.read_text())


def all_rules() -> list[dict]:
    return [rule for group in rules_doc()["groups"] for rule in group["rules"]]


def alerts() -> dict[str, dict]:
    return {r["alert"]: r for r in all_rules() if "alert" in r}


# --------------------------------------------------------------------------------------- promtool


def test_promtool_check_config(promtool: str) -> None:
    res = run([promtool, "check", "config", str(CONFIG)])
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout + res.stderr
    # The rule_files glob found the rules file (and promtool checked it as part of the config).
    assert "1 rule files found" in out, out
    assert "SUCCESS" in out


def test_promtool_check_rules(promtool: str) -> None:
    res = run([promtool, "check", "rules", str(RULES)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"SUCCESS: {len(all_rules())} rules found" in res.stdout


def test_promtool_rule_unit_tests_pass(promtool: str) -> None:
    res = run([promtool, "test", "rules", str(RULE_TESTS)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout


@pytest.mark.parametrize(("fixture", "message"), [
    ("broken-promql.rules.yml", "parse error"),
    ("broken-alert.rules.yml", "not a valid duration"),
])
def test_promtool_rejects_broken_rules(promtool: str, fixture: str, message: str) -> None:
    """The check above means something: promtool does fail on broken rule files."""
    res = run([promtool, "check", "rules", str(FIXTURES / fixture)])
    assert res.returncode != 0, res.stdout + res.stderr
    assert message in res.stdout + res.stderr


def test_rule_unit_tests_fail_when_an_expected_alert_is_missing(promtool: str, tmp_path: Path) -> None:
    """Flip every 'fires' expectation to 'silent': promtool must then fail for each of the five alerts,
    so the unit tests really observe each alert firing (not vacuous)."""
    doc = yaml.safe_load(RULE_TESTS.read_text())
    doc["rule_files"] = [str(RULES)]
    flipped = 0
    for case in doc["tests"]:
        for check in case.get("alert_rule_test", []):
            if check.get("exp_alerts"):
                check["exp_alerts"] = []
                flipped += 1
    mutated = tmp_path / "mutated.test.yml"
    mutated.write_text(yaml.safe_dump(doc, sort_keys=False))
    res = run([promtool, "test", "rules", str(mutated)])
    assert res.returncode != 0
    out = res.stdout + res.stderr
    failed = set(re.findall(r"alertname: (\w+), time:", out))
    assert failed == EXPECTED_ALERTS, out
    assert flipped >= len(EXPECTED_ALERTS)


# ------------------------------------------------------------------------------------ the config


def test_scrape_jobs() -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    jobs = {job["job_name"]: job for job in cfg["scrape_configs"]}
    assert set(jobs) == {"cloudscreen-front", "ray"}

    front = jobs["cloudscreen-front"]
    assert front.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for sc in front["static_configs"] for t in sc["targets"]]
    assert targets and all(t.endswith(":8080") for t in targets)

    ray = jobs["ray"]
    files = [f for sd in ray["file_sd_configs"] for f in sd["files"]]
    assert files == ["/tmp/ray/prom_metrics_service_discovery.json"]

    # rule_files (relative to the config's directory) cover the rules file.
    matched = {p.resolve() for pattern in cfg["rule_files"] for p in CONFIG.parent.glob(pattern)}
    assert RULES.resolve() in matched


# ------------------------------------------------------------------------------------- the alerts


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def test_expected_alerts_exist() -> None:
    assert set(alerts()) == EXPECTED_ALERTS


@pytest.mark.parametrize("name", sorted(EXPECTED_ALERTS))
def test_alert_has_severity_summary_description_runbook(name: str) -> None:
    rule = alerts()[name]
    assert rule["labels"]["severity"] in {"critical", "warning", "info"}
    ann = rule["annotations"]
    for key in ("summary", "description", "runbook"):
        assert str(ann.get(key, "")).strip(), f"{name}: annotation {key} missing"
    # The runbook points at a section of deploy/prometheus/README.md that exists.
    path, _, anchor = ann["runbook"].partition("#")
    assert (ROOT / path).resolve() == RUNBOOKS.resolve(), ann["runbook"]
    headings = {github_anchor(h) for h in re.findall(r"^#+ (.+)$", RUNBOOKS.read_text(), flags=re.M)}
    assert anchor in headings, f"{name}: no heading for anchor #{anchor} in {RUNBOOKS.name}"


def test_alert_expressions_use_the_contract_metrics() -> None:
    """Each alert is built on the metric the contract names for it."""
    expected = {
        "CloudScreenScanFailureRateHigh": ["cloudscreen_scans_total"],
        "CloudScreenScanQueueBacklog": ["cloudscreen_scan_queue_depth"],
        "CloudScreenAwsThrottlingHigh": ["cloudscreen_aws_throttles_total", "cloudscreen_aws_api_calls_total"],
        "CloudScreenScansStalled": ["cloudscreen_scans_active", "cloudscreen_units_total",
                                    "ray_cloudscreen_unit_runs_total"],
        "CloudScreenFrontDown": ['up{job="cloudscreen-front"}'],
    }
    rules = alerts()
    for name, needles in expected.items():
        for needle in needles:
            assert needle in rules[name]["expr"], f"{name} does not use {needle}"


def test_every_alert_is_unit_tested_firing_and_silent() -> None:
    doc = yaml.safe_load(RULE_TESTS.read_text())
    assert doc["rule_files"] == ["../rules/cloudscreen.rules.yml"]
    fires: set[str] = set()
    silent: set[str] = set()
    for case in doc["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    assert fires == EXPECTED_ALERTS, f"alerts never expected to fire: {EXPECTED_ALERTS - fires}"
    assert silent == EXPECTED_ALERTS, f"alerts never expected to stay silent: {EXPECTED_ALERTS - silent}"


def test_recording_rule_names_follow_convention() -> None:
    records = [r["record"] for r in all_rules() if "record" in r]
    assert records
    for name in records:
        assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", name), name
