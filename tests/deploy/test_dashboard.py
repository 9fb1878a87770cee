"""The Grafana capacity dashboard and its provisioning, and the metric names the dashboard and the
Prometheus rules query: every one must exist in the code (or be a recording rule, or an allow-listed
Ray/Prometheus built-in)."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "cloudscreen-capacity.json"
DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "cloudscreen.yml"
COMPOSE = ROOT / "deploy" / "docker" / "docker-compose.yml"
RULES = ROOT / "deploy" / "prometheus" / "rules" / "cloudscreen.rules.yml"
RAY_METRICS_SOURCE = ROOT / "engine" / "runtime" / "metrics.py"

# Names that exist without any CloudScreen code defining them, and why:
BUILTIN_METRICS = {
    # Prometheus' own per-target scrape health.
    "up",
    # Ray's per-node system metrics (dashboard reporter agent, METRICS_GAUGES in
    # ray/dashboard/modules/reporter/reporter_agent.py), exported with the ray_ prefix. Checked against
    # the installed Ray below.
    "ray_node_cpu_utilization",
    "ray_node_cpu_count",
    "ray_node_mem_used",
    "ray_node_mem_total",
}

# PromQL words that are not metric names (functions and aggregations are recognised by the `(` after
# them; these are the words that stand alone).
PROMQL_KEYWORDS = {
    "and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "inf", "nan", "start", "end",
}
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"


def metric_names(expr: str) -> set[str]:
    """The metric (and recording rule) names a PromQL expression reads.

    Works on the text, not a full parser: drop strings, label matchers, range/subquery brackets,
    grouping label lists, Grafana variables, offsets and numbers; what is left that is an identifier,
    not followed by `(` (a function or aggregation) and not a keyword, is a metric name.
    """
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\{[^{}]*\}", "{}", s)  # label matchers (keep a marker: a name before `{` is a metric)
    s = re.sub(r"\[[^\[\]]*\]", "[]", s)  # range vectors, subqueries
    s = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", s)
    s = re.sub(r"\$\{?\w+(?::\w+)?\}?", "1", s)  # Grafana variables ($__rate_interval, ${datasource})
    s = re.sub(r"\boffset\s+-?[0-9a-z]+", "", s)
    s = re.sub(r"@\s*(?:[0-9.]+|start\(\)|end\(\))", "", s)
    s = re.sub(r"(?<![\w:.])(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)", "1", s)
    names = set()
    for m in re.finditer(rf"(?<![\w:]){_NAME}", s):
        name = m.group(0)
        rest = s[m.end():].lstrip()
        if rest.startswith("("):
            continue  # a function or an aggregation
        if name.lower() in PROMQL_KEYWORDS:
            continue
        names.add(name)
    return names


def front_metric_names() -> set[str]:
    """Every series name the front's `Metrics` registry can expose, whether or not it has samples yet."""
    from frontend_server.metrics import Metrics

    names: set[str] = set()
    for family in Metrics().registry.collect():
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.update({family.name + "_total", family.name + "_created"})
        elif family.type == "histogram":
            names.update({family.name + s for s in ("_bucket", "_sum", "_count", "_created")})
        else:
            names.add(family.name)
    return names


def ray_side_metric_names() -> set[str]:
    """The names Ray exports for engine/runtime/metrics.py's `ray.util.metrics` (read from the source):
    ray_<name>_total for counters (and the legacy ray_<name> gauge), ray_<name>_bucket/_sum/_count for
    histograms, ray_<name> for gauges."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(RAY_METRICS_SOURCE.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        first = node.args[0]
        if func not in {"Counter", "Histogram", "Gauge"} or not isinstance(first, ast.Constant):
            continue
        base = "ray_" + str(first.value)
        if func == "Counter":
            names.update({base + "_total", base})
        elif func == "Histogram":
            names.update({base + "_bucket", base + "_sum", base + "_count"})
        else:
            names.add(base)
    return names


def recording_rules() -> set[str]:
    doc = yaml.safe_load(RULES.read_text())
    return {r["record"] for g in doc["groups"] for r in g["rules"] if "record" in r}


def rule_exprs() -> list[tuple[str, str]]:
    doc = yaml.safe_load(RULES.read_text())
    return [(r.get("alert") or r["record"], r["expr"]) for g in doc["groups"] for r in g["rules"]]


@pytest.fixture(scope="module")
def known_metrics() -> set[str]:
    return front_metric_names() | ray_side_metric_names() | BUILTIN_METRICS


def unknown_metrics(exprs: list[tuple[str, str]], known: set[str], records: set[str]) -> dict[str, set[str]]:
    """For each (where, expr): the names it reads that are neither known metrics nor recording rules."""
    bad = {}
    for where, expr in exprs:
        missing = metric_names(expr) - known - records
        if missing:
            bad[where] = missing
    return bad


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def data_panels(dash: dict) -> list[dict]:
    found = []
    for panel in dash["panels"]:
        if panel.get("type") == "row":
            found.extend(panel.get("panels", []))  # panels of a collapsed row
        else:
            found.append(panel)
    return found


def dashboard_exprs() -> list[tuple[str, str]]:
    return [(f"{p['title']} / {t['refId']}", t["expr"]) for p in data_panels(dashboard()) for t in p["targets"]]


# ------------------------------------------------------------------------ the PromQL name extractor


@pytest.mark.parametrize(("expr", "expected"), [
    ("up", {"up"}),
    ('up{job="cloudscreen-front"} == 0', {"up"}),
    ("histogram_quantile(0.9, sum by (service, le) (rate(cloudscreen_unit_duration_seconds_bucket[30m])))",
     {"cloudscreen_unit_duration_seconds_bucket"}),
    ("sum(rate(a_total[5m])) by (status) / ignoring(status) group_left sum(rate(b_total[5m]))", {"a_total", "b_total"}),
    ("a / on(instance) group_left(ip) b offset 5m", {"a", "b"}),
    ('sum(x{route=~"/api/scans|sum(fake)"}) * 1e3 + 0x1F', {"x"}),
    ("min_over_time(sum(cloudscreen_scans_active)[15m:1m]) > 0 unless (sum(increase(c[15m])) > 0)",
     {"cloudscreen_scans_active", "c"}),
    ("rate(cloudscreen_ws_messages_total[$__rate_interval])", {"cloudscreen_ws_messages_total"}),
    ("topk(10, sum by (route) (rate(cloudscreen_http_requests_total[5m])))", {"cloudscreen_http_requests_total"}),
    ("cloudscreen:scans:increase1h", {"cloudscreen:scans:increase1h"}),
    ("sum(x) and bool y", {"x", "y"}),
])
def test_metric_name_extraction(expr: str, expected: set[str]) -> None:
    assert metric_names(expr) == expected


def test_unknown_metric_is_reported(known_metrics: set[str]) -> None:
    fake = [("fake panel", "sum(rate(cloudscreen_scans_totl[5m])) / sum(rate(cloudscreen_scans_total[5m]))"),
            ("fake recording", "cloudscreen:not_recorded:rate5m"),
            ("fine", "sum(cloudscreen_ws_connections)")]
    assert unknown_metrics(fake, known_metrics, recording_rules()) == {
        "fake panel": {"cloudscreen_scans_totl"},
        "fake recording": {"cloudscreen:not_recorded:rate5m"},
    }


# ------------------------------------------------------------------------------- the names in code


def test_front_metric_names_are_the_contract(known_metrics: set[str]) -> None:
    """CONTRACTS.md section 7, as the front's registry exposes them (the set the checks below use)."""
    front = front_metric_names()
    for name in ("cloudscreen_scans_total", "cloudscreen_scans_active", "cloudscreen_scan_queue_depth",
                 "cloudscreen_units_total", "cloudscreen_findings_total", "cloudscreen_aws_api_calls_total",
                 "cloudscreen_aws_throttles_total", "cloudscreen_ws_connections", "cloudscreen_ws_messages_total",
                 "cloudscreen_auth_failures_total", "cloudscreen_http_requests_total"):
        assert name in front, name
    for hist in ("cloudscreen_scan_duration_seconds", "cloudscreen_unit_duration_seconds"):
        assert {hist + "_bucket", hist + "_sum", hist + "_count"} <= front


def test_ray_side_metric_names_match_the_engine_docs() -> None:
    names = ray_side_metric_names()
    assert {"ray_cloudscreen_unit_runs_total", "ray_cloudscreen_unit_duration_seconds_bucket",
            "ray_cloudscreen_unit_api_calls_total", "ray_cloudscreen_unit_throttles_total"} <= names
    # The module's docstring table lists what Ray exports; keep the two in step.
    documented = set(re.findall(r"``(ray_cloudscreen_\w+)``", RAY_METRICS_SOURCE.read_text()))
    assert documented and {d if d.endswith("_total") else d + "_bucket" for d in documented} <= names


def test_allow_listed_ray_node_metrics_exist_in_installed_ray() -> None:
    """The ray_node_* names of the allow-list are gauges of the installed Ray's reporter agent."""
    spec = importlib.util.find_spec("ray")
    assert spec and spec.origin
    source = Path(spec.origin).parent / "dashboard" / "modules" / "reporter" / "reporter_agent.py"
    gauges = set(re.findall(r'^\s*"(node_\w+)": Gauge\(', source.read_text(), flags=re.M))
    assert gauges, f"no METRICS_GAUGES found in {source}"
    for name in BUILTIN_METRICS - {"up"}:
        assert name.removeprefix("ray_") in gauges, name


# ------------------------------------------------------------------- every queried name is defined


def test_dashboard_queries_only_known_metrics(known_metrics: set[str]) -> None:
    exprs = dashboard_exprs()
    assert exprs
    assert unknown_metrics(exprs, known_metrics, recording_rules()) == {}


def test_rules_query_only_known_metrics(known_metrics: set[str]) -> None:
    exprs = rule_exprs()
    assert exprs
    assert unknown_metrics(exprs, known_metrics, recording_rules()) == {}


def test_recording_rules_used_by_the_dashboard_are_defined() -> None:
    used = {n for _, e in dashboard_exprs() for n in metric_names(e) if ":" in n}
    assert used, "the dashboard uses no recording rule"
    assert used <= recording_rules()


def test_dashboard_exprs_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses each dashboard query (wrapped as a recording rule in a scratch rules file)."""
    promtool = "/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else shutil.which("promtool")
    if not promtool:
        pytest.fail("promtool not found (/usr/bin/promtool): `make test` installs it (Debian's prometheus package)")
    rules = [{"record": f"dashboard:expr:n{i}", "expr": re.sub(r"\$\{?\w+\}?", "5m", e)}
             for i, (_, e) in enumerate(dashboard_exprs())]
    scratch = tmp_path / "dashboard.rules.yml"
    scratch.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    res = subprocess.run([promtool, "check", "rules", str(scratch)], capture_output=True, text=True, timeout=60,
                         check=False)
    assert res.returncode == 0, res.stdout + res.stderr


# --------------------------------------------------------------------------------- the dashboard


def test_dashboard_structure() -> None:
    dash = dashboard()
    assert dash["uid"] == "cloudscreen-capacity"
    assert dash["title"]
    assert dash["panels"]
    panels = data_panels(dash)
    assert len(panels) >= 10
    ids = [p["id"] for p in dash["panels"]] + [p["id"] for r in dash["panels"] for p in r.get("panels", [])]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for p in panels:
        assert p["title"], p
        assert p["targets"], f"panel {p['title']!r} has no targets"
        for t in p["targets"]:
            assert t.get("expr", "").strip(), f"panel {p['title']!r} target {t.get('refId')} has no expr"
            assert t["datasource"]["uid"] == "${datasource}"
        assert p["datasource"]["uid"] == "${datasource}"
        grid = p["gridPos"]
        assert grid["x"] + grid["w"] <= 24


def test_dashboard_has_a_prometheus_datasource_variable() -> None:
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


@pytest.mark.parametrize(("topic", "needle"), [
    ("scans per hour", "cloudscreen:scans:increase1h"),
    ("scan duration quantiles", "cloudscreen:scan_duration_seconds:quantile_rate1h"),
    ("unit latency by service", "cloudscreen_unit_duration_seconds_bucket"),
    ("API calls by service", "cloudscreen_aws_api_calls_total"),
    ("throttles by service", "cloudscreen_aws_throttles_total"),
    ("queue depth", "cloudscreen_scan_queue_depth"),
    ("active scans", "cloudscreen_scans_active"),
    ("worker CPU", "ray_node_cpu_utilization"),
    ("worker memory", "ray_node_mem_used"),
    ("WebSocket connections", "cloudscreen_ws_connections"),
    ("WebSocket messages", "cloudscreen_ws_messages_total"),
    ("HTTP requests by status", "cloudscreen_http_requests_total"),
    ("auth failures", "cloudscreen_auth_failures_total"),
])
def test_dashboard_covers_capacity_topics(topic: str, needle: str) -> None:
    assert any(needle in e for _, e in dashboard_exprs()), f"no panel for {topic} ({needle})"


def test_unit_latency_panel_is_by_service() -> None:
    exprs = [e for _, e in dashboard_exprs() if "cloudscreen_unit_duration_seconds_bucket" in e]
    assert exprs and all("histogram_quantile" in e and re.search(r"by \((service, le|le, service)\)", e)
                         for e in exprs)


# ------------------------------------------------------------------------------------ provisioning


def test_grafana_datasource_provisioning() -> None:
    doc = yaml.safe_load(DATASOURCES.read_text())
    assert doc["apiVersion"] == 1
    (ds,) = doc["datasources"]
    assert ds["type"] == "prometheus"
    assert ds["url"] == "http://prometheus:9090"
    assert ds["access"] == "proxy"
    assert ds.get("isDefault") is True


def test_grafana_dashboard_provider_matches_the_compose_mounts() -> None:
    doc = yaml.safe_load(PROVIDERS.read_text())
    assert doc["apiVersion"] == 1
    (provider,) = doc["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    grafana = yaml.safe_load(COMPOSE.read_text())["services"]["grafana"]
    mounts = dict(reversed(v.split(":")[:2]) for v in grafana["volumes"])
    assert (COMPOSE.parent / mounts[path]).resolve() == DASHBOARD.parent.resolve()
    assert (COMPOSE.parent / mounts["/etc/grafana/provisioning"]).resolve() == DATASOURCES.parents[1].resolve()
