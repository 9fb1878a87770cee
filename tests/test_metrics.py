"""The front's Prometheus metrics (CONTRACTS.md section 7) and the Ray-side unit metrics."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.model import Finding, Pillar, Severity, Status, Unit, UnitResult
from engine.runtime import metrics as ray_metrics
from frontend_server.metrics import Metrics

# CONTRACTS.md section 7: name -> (type, label names).
SECTION_7 = {
    "cloudscreen_scans_total": ("counter", {"status"}),
    "cloudscreen_scan_duration_seconds": ("histogram", set()),
    "cloudscreen_scans_active": ("gauge", set()),
    "cloudscreen_scan_queue_depth": ("gauge", set()),
    "cloudscreen_units_total": ("counter", {"service", "status"}),
    "cloudscreen_unit_duration_seconds": ("histogram", {"service"}),
    "cloudscreen_findings_total": ("counter", {"severity"}),
    "cloudscreen_aws_api_calls_total": ("counter", {"service"}),
    "cloudscreen_aws_throttles_total": ("counter", {"service"}),
    "cloudscreen_ws_connections": ("gauge", set()),
    "cloudscreen_ws_messages_total": ("counter", {"type", "direction"}),
    "cloudscreen_auth_failures_total": ("counter", {"reason"}),
    "cloudscreen_http_requests_total": ("counter", {"method", "route", "status"}),
}
ACCOUNT = "111111111111"
SCAN_ID = "scan-20240101-abcdef"
USER_ID = "98765"


def _finding(service: str, status: Status, severity: Severity = Severity.HIGH) -> Finding:
    return Finding(check_id=f"{service}_check", title="t", service=service, account_id=ACCOUNT, region="us-east-1",
                   resource_type="AWS::X::Y", resource_id="r", resource_arn=None, status=status, severity=severity,
                   pillar=Pillar.SECURITY, frameworks={}, message="m", remediation="r")


def _unit(service: str, *, region: str = "us-east-1", duration: float = 1.0, api_calls: int = 0,
          throttles: int = 0, error: str | None = None, findings: list[Finding] | None = None) -> UnitResult:
    return UnitResult(unit=Unit(ACCOUNT, region, service), findings=findings or [], duration_s=duration,
                      api_calls=api_calls, throttles=throttles, error=error)


FINDINGS_DOC = {
    "schema_version": 1, "scan_id": SCAN_ID, "status": "partial",
    "started_at": "2024-01-01T10:00:00+00:00", "finished_at": "2024-01-01T10:01:30+00:00",
    "request": {"accounts": [ACCOUNT], "regions": ["us-east-1"], "services": ["s3", "iam"], "ticket_id": "42"},
    "accounts": [{"account_id": ACCOUNT, "status": "failed", "error": "boom"}],
    "summary": {"total": 9, "by_status": {"PASS": 3, "FAIL": 6, "ERROR": 0, "SKIPPED": 0, "MUTED": 0},
                "by_severity": {"critical": 1, "high": 2, "medium": 3, "low": 0, "informational": 0},
                "by_pillar": {}, "by_service": {"s3": 9}},
    "findings": [],
}
UNITS = [
    _unit("s3", duration=1.5, api_calls=10, throttles=2, findings=[_finding("s3", Status.FAIL)]),
    _unit("iam", region="global", duration=0.2, api_calls=3, error="role cannot be assumed"),
    _unit("ec2", duration=0.0, findings=[_finding("ec2", Status.SKIPPED), _finding("ec2", Status.SKIPPED)]),
    _unit("not-a-service", duration=0.3, api_calls=1),
]


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


def _exercise(m: Metrics) -> None:
    """One sample in every series family, the way the front will record them."""
    m.record_scan(FINDINGS_DOC, UNITS)
    m.set_scan_load(active=2, queued=5)
    m.ws_connections.inc()
    m.ws_message("scan.start", "in")
    m.ws_message("scan.progress", "out")
    m.auth_failure("expired")
    m.http_request("GET", "/api/scans/<scan_id>", 200)


def _value(m: Metrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_every_section_7_metric_exists_with_its_type_and_labels(metrics: Metrics) -> None:
    _exercise(metrics)
    found: dict[str, tuple[str, set[str]]] = {}
    for family in metrics.registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        labels = {k for s in family.samples for k in s.labels if k != "le"}
        found[name] = (family.type, labels)
    assert found == SECTION_7


def test_recording_a_finished_scan_moves_its_series(metrics: Metrics) -> None:
    metrics.record_scan(FINDINGS_DOC, UNITS)
    assert _value(metrics, "cloudscreen_scans_total", status="partial") == 1
    assert _value(metrics, "cloudscreen_scans_total", status="completed") == 0
    assert _value(metrics, "cloudscreen_scan_duration_seconds_sum") == 90.0
    assert _value(metrics, "cloudscreen_scan_duration_seconds_bucket", le="60.0") == 0
    assert _value(metrics, "cloudscreen_scan_duration_seconds_bucket", le="120.0") == 1
    assert [_value(metrics, "cloudscreen_findings_total", severity=s.value) for s in Severity] == [1, 2, 3, 0, 0]


def test_recording_units_counts_outcome_duration_calls_and_throttles_by_service(metrics: Metrics) -> None:
    metrics.record_scan(FINDINGS_DOC, UNITS)
    assert _value(metrics, "cloudscreen_units_total", service="s3", status="ok") == 1
    assert _value(metrics, "cloudscreen_units_total", service="iam", status="error") == 1
    assert _value(metrics, "cloudscreen_units_total", service="ec2", status="skipped") == 1
    assert _value(metrics, "cloudscreen_units_total", service="other", status="ok") == 1
    assert _value(metrics, "cloudscreen_unit_duration_seconds_sum", service="s3") == 1.5
    assert _value(metrics, "cloudscreen_unit_duration_seconds_count", service="iam") == 1
    assert _value(metrics, "cloudscreen_aws_api_calls_total", service="s3") == 10
    assert _value(metrics, "cloudscreen_aws_api_calls_total", service="iam") == 3
    assert _value(metrics, "cloudscreen_aws_throttles_total", service="s3") == 2
    assert _value(metrics, "cloudscreen_aws_throttles_total", service="iam") is None


def test_fail_findings_are_counted_from_the_findings_when_there_is_no_summary(metrics: Metrics) -> None:
    doc = {"status": "completed", "findings": [f.to_dict() for f in (
        _finding("s3", Status.FAIL, Severity.CRITICAL), _finding("s3", Status.FAIL, Severity.CRITICAL),
        _finding("s3", Status.PASS, Severity.CRITICAL), _finding("s3", Status.MUTED, Severity.LOW))]}
    metrics.record_scan(doc)
    assert _value(metrics, "cloudscreen_findings_total", severity="critical") == 2
    assert _value(metrics, "cloudscreen_findings_total", severity="low") == 0
    assert _value(metrics, "cloudscreen_scan_duration_seconds_count") == 0  # no timestamps: no duration


def test_scan_load_and_connection_gauges_follow_the_front(metrics: Metrics) -> None:
    metrics.set_scan_load(active=3, queued=7)
    metrics.ws_connections.inc()
    metrics.ws_connections.inc()
    metrics.ws_connections.dec()
    assert _value(metrics, "cloudscreen_scans_active") == 3
    assert _value(metrics, "cloudscreen_scan_queue_depth") == 7
    assert _value(metrics, "cloudscreen_ws_connections") == 1


def test_front_events_are_counted_with_their_labels(metrics: Metrics) -> None:
    metrics.ws_message("ping", "in")
    metrics.ws_message("pong", "out")
    metrics.auth_failure("wrong_audience")
    metrics.http_request("post", "/api/scans", 202)
    assert _value(metrics, "cloudscreen_ws_messages_total", type="ping", direction="in") == 1
    assert _value(metrics, "cloudscreen_ws_messages_total", type="pong", direction="out") == 1
    assert _value(metrics, "cloudscreen_auth_failures_total", reason="wrong_audience") == 1
    assert _value(metrics, "cloudscreen_http_requests_total", method="POST", route="/api/scans", status="202") == 1


def test_unknown_label_values_are_mapped_to_other(metrics: Metrics) -> None:
    metrics.record_scan({"status": "exploded"})
    metrics.ws_message(f"scan.start-{SCAN_ID}", "sideways")
    metrics.ws_message(None, "in")
    metrics.auth_failure(f"user {USER_ID} is not allowed")
    metrics.http_request("BREW", f"/api/scans/{SCAN_ID}", 999)
    assert _value(metrics, "cloudscreen_scans_total", status="other") == 1
    assert _value(metrics, "cloudscreen_ws_messages_total", type="other", direction="other") == 1
    assert _value(metrics, "cloudscreen_ws_messages_total", type="other", direction="in") == 1
    assert _value(metrics, "cloudscreen_auth_failures_total", reason="other") == 1
    metrics.allow_routes(["/api/scans/<scan_id>", "/health"])
    metrics.http_request("GET", f"/api/scans/{SCAN_ID}", 200)
    metrics.http_request("GET", None, 404)
    assert _value(metrics, "cloudscreen_http_requests_total", method="other", route=f"/api/scans/{SCAN_ID}",
                  status="other") == 1  # before allow_routes a template-looking route passes as given
    assert _value(metrics, "cloudscreen_http_requests_total", method="GET", route="other", status="200") == 1
    assert _value(metrics, "cloudscreen_http_requests_total", method="GET", route="unmatched", status="404") == 1


def test_no_scan_account_or_user_id_appears_as_a_label(metrics: Metrics) -> None:
    metrics.allow_routes(["/api/scans/<scan_id>"])
    _exercise(metrics)
    metrics.http_request("GET", f"/api/scans/{SCAN_ID}", 200)
    body, _ = metrics.render()
    allowed = {"status", "service", "severity", "type", "direction", "reason", "method", "route", "le"}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            assert set(sample.labels) <= allowed, sample
            for value in sample.labels.values():
                assert not re.search(r"\d{12}", value) and SCAN_ID not in value and USER_ID not in value, sample


def test_each_metrics_object_has_its_own_registry_and_leaves_the_global_one_alone() -> None:
    a, b = Metrics(), Metrics()  # a second app in one process must not hit "Duplicated timeseries"
    a.auth_failure("expired")
    assert b.registry.get_sample_value("cloudscreen_auth_failures_total", {"reason": "expired"}) is None
    assert prometheus_client.REGISTRY.get_sample_value("cloudscreen_scans_total", {"status": "completed"}) is None


def test_render_gives_the_text_format_and_its_content_type(metrics: Metrics) -> None:
    _exercise(metrics)
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"# TYPE cloudscreen_scans_total counter" in body
    assert b'cloudscreen_units_total{service="s3",status="ok"} 1.0' in body


def test_render_output_passes_promtool_check_metrics(metrics: Metrics) -> None:
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: `make test` installs it (Debian package `prometheus`: "
                    "apt-get install -y prometheus)")
    _exercise(metrics)
    body, _ = metrics.render()
    proc = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, timeout=60)
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), proc


# -- Ray-side unit metrics (engine.runtime.metrics) ---------------------------------------------------

class _FakeMetric:
    def __init__(self) -> None:
        self.calls: list[tuple[float, dict[str, str]]] = []

    def inc(self, value: float = 1.0, tags: dict[str, str] | None = None) -> None:
        self.calls.append((value, dict(tags or {})))

    observe = inc


class _FakeUnitMetrics:
    def __init__(self) -> None:
        self.runs, self.duration, self.api_calls, self.throttles = (_FakeMetric() for _ in range(4))


@pytest.fixture
def fresh_ray_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ray_metrics, "_metrics", None)
    monkeypatch.setattr(ray_metrics, "_warned", False)


def test_ray_unit_metrics_are_a_no_op_without_ray(monkeypatch: pytest.MonkeyPatch, fresh_ray_metrics: None) -> None:
    monkeypatch.setattr(ray_metrics.ray, "is_initialized", lambda: False)

    def must_not_build() -> None:
        raise AssertionError("Ray metrics built without Ray")

    monkeypatch.setattr(ray_metrics, "_UnitMetrics", must_not_build)
    ray_metrics.record_unit("s3", "ok", 1.0, api_calls=3, throttles=1)
    assert ray_metrics._metrics is None


def test_ray_unit_metrics_record_bounded_tags(monkeypatch: pytest.MonkeyPatch, fresh_ray_metrics: None) -> None:
    monkeypatch.setattr(ray_metrics.ray, "is_initialized", lambda: True)
    monkeypatch.setattr(ray_metrics, "_UnitMetrics", _FakeUnitMetrics)
    ray_metrics.record_unit("s3", "ok", 1.25, api_calls=4, throttles=0)
    ray_metrics.record_unit("made-up", "weird", -1.0, api_calls=0, throttles=2)
    m = ray_metrics._metrics
    assert isinstance(m, _FakeUnitMetrics)
    assert m.runs.calls == [(1, {"service": "s3", "status": "ok"}), (1, {"service": "other", "status": "other"})]
    assert m.duration.calls == [(1.25, {"service": "s3"}), (0.0, {"service": "other"})]
    assert m.api_calls.calls == [(4, {"service": "s3"})]
    assert m.throttles.calls == [(2, {"service": "other"})]


def test_a_broken_ray_metrics_path_never_fails_a_unit(monkeypatch: pytest.MonkeyPatch, fresh_ray_metrics: None,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(ray_metrics.ray, "is_initialized", lambda: True)

    def broken() -> None:
        raise RuntimeError("metrics agent unavailable")

    monkeypatch.setattr(ray_metrics, "_UnitMetrics", broken)
    with caplog.at_level(logging.WARNING, logger="cloudscreen.engine.metrics"):
        ray_metrics.record_unit("s3", "ok", 1.0)
        ray_metrics.record_unit("s3", "ok", 1.0)
    assert len([r for r in caplog.records if "Ray unit metrics" in r.getMessage()]) == 1


def test_unit_status_distinguishes_ok_error_and_skipped() -> None:
    assert ray_metrics.unit_status(UNITS[0]) == "ok"
    assert ray_metrics.unit_status(UNITS[1]) == "error"
    assert ray_metrics.unit_status(UNITS[2]) == "skipped"
    assert ray_metrics.unit_status(_unit("s3")) == "ok"  # a unit with no findings still ran
