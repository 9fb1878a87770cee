"""The result store (engine/store.py): the same behaviour over file:// and s3:// (against the sandbox S3),
server-side encryption, signed report links and retention."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from engine import store as store_module
from engine.errors import StoreError
from engine.model import Finding, Pillar, Severity, Status, Unit, UnitResult
from engine.store import (
    MAX_PRESIGN_TTL_S,
    ResultStore,
    report_link_signature,
    verify_report_link,
)

BUCKET = "cloudscreen-results"
SECRET = "test-link-secret"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def make_unit_result(account: str = "111111111111", region: str = "us-east-1", service: str = "s3",
                     resource_id: str = "b1") -> UnitResult:
    f = Finding(check_id="s3_bucket_versioning_enabled", title="versioning", service=service, account_id=account,
                region=region, resource_type="AWS::S3::Bucket", resource_id=resource_id,
                resource_arn=f"arn:aws:s3:::{resource_id}", status=Status.FAIL, severity=Severity.MEDIUM,
                pillar=Pillar.RELIABILITY, frameworks={"aws-fsbp": ["S3.14"]}, message="off", remediation="on")
    return UnitResult(Unit(account, region, service, 2.0), [f], duration_s=1.5, api_calls=3)


@pytest.fixture
def file_store(tmp_path: Path) -> ResultStore:
    return ResultStore.from_url(f"file://{tmp_path / 'store'}")


@pytest.fixture
def s3_store(aws: Any) -> ResultStore:
    aws.client("s3").create_bucket(Bucket=BUCKET)
    return ResultStore.from_url(f"s3://{BUCKET}/prod/results", endpoint_url=aws.endpoint)


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest) -> Iterator[ResultStore]:
    yield request.getfixturevalue(f"{request.param}_store")


def s3_objects(aws: Any, prefix: str = "") -> list[str]:
    s3 = aws.client("s3")
    return sorted(o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
                  for o in p.get("Contents", []))


# ------------------------------------------------------------------------- public API, both backends

def test_json_objects_round_trip_and_missing_ones_read_as_none(store: ResultStore) -> None:
    store.put_json("a/b.json", {"x": [1, "é"], "when": datetime(2026, 1, 1)})
    assert store.get_json("a/b.json") == {"x": [1, "é"], "when": "2026-01-01 00:00:00"}
    assert store.get_json("a/missing.json") is None


def test_bytes_objects_round_trip(store: ResultStore) -> None:
    store.put_bytes("blobs/x.bin", b"\x00\xffdata")
    assert store.get_bytes("blobs/x.bin") == b"\x00\xffdata"
    assert store.get_bytes("blobs/none.bin") is None


def test_list_gives_sorted_json_keys_under_a_folder_only(store: ResultStore) -> None:
    for key in ("scans/a/z.json", "scans/a/units/x/y.json", "scans/ab/c.json", "scans/a/reports/report.html"):
        store.put_bytes(key, b"{}")
    assert store.list_keys("scans/a") == ["scans/a/units/x/y.json", "scans/a/z.json"]
    assert store.list_keys("scans/none") == []


def test_delete_removes_an_object_and_ignores_a_missing_one(store: ResultStore) -> None:
    store.put_json("k.json", {})
    store.delete("k.json")
    store.delete("k.json")
    assert store.get_json("k.json") is None


def test_keys_cannot_escape_the_store(store: ResultStore) -> None:
    with pytest.raises(StoreError, match="escapes"):
        store.put_json("../outside.json", {})


def test_check_writable_writes_a_probe(store: ResultStore) -> None:
    store.check_writable()
    assert store.get_json("health/probe.json") == {"ok": True}


def test_scan_account_and_findings_documents(store: ResultStore) -> None:
    store.save_scan("s1", {"scan_id": "s1", "created_at": "2026-01-01T00:00:00Z"})
    store.save_account("s1", "111111111111", "failed", "AccessDenied", retryable=True)
    store.save_findings("s1", {"scan_id": "s1", "findings": []})
    assert store.load_scan("s1") == {"scan_id": "s1", "created_at": "2026-01-01T00:00:00Z"}
    assert store.load_account("s1", "111111111111") == {"account_id": "111111111111", "status": "failed",
                                                        "error": "AccessDenied", "retryable": True}
    assert store.load_findings("s1") == {"scan_id": "s1", "findings": []}
    assert store.load_scan("nope") is None and store.load_account("s1", "2") is None
    assert store.load_findings("nope") is None


def test_units_are_stored_listed_and_loaded(store: ResultStore) -> None:
    a = make_unit_result(region="us-east-1", service="s3")
    b = make_unit_result(region="global", service="iam")
    other = make_unit_result(account="222222222222")
    for r in (a, b, other):
        store.save_unit("s1", r)
    assert store.finished_units("s1", "111111111111") == {"111111111111/us-east-1/s3", "111111111111/global/iam"}
    assert store.load_unit("s1", "111111111111", "us-east-1", "s3") == a
    assert store.load_unit("s1", "111111111111", "eu-west-1", "s3") is None
    assert sorted(u.unit.key for u in store.load_units("s1")) == sorted(r.unit.key for r in (a, b, other))
    assert store.finished_units("s2", "111111111111") == set()


def test_list_scans_gives_newest_id_first(store: ResultStore) -> None:
    assert store.list_scans() == []
    for scan_id in ("20260101-a", "20260301-c", "20260201-b"):
        store.save_scan(scan_id, {"scan_id": scan_id})
    assert store.list_scans() == ["20260301-c", "20260201-b", "20260101-a"]


def test_unit_costs_are_an_exponentially_weighted_mean(store: ResultStore) -> None:
    assert store.unit_costs() == {}
    store.record_unit_costs({"s3": [2.0, 4.0], "iam": []})
    assert store.unit_costs() == {"s3": 3.0}
    store.record_unit_costs({"s3": [13.0]}, alpha=0.5)
    assert store.unit_costs() == {"s3": 8.0}
    assert store.get_json("history/unit_costs.json")["s3"]["samples"] == 3


def test_the_url_reopens_the_same_store(store: ResultStore) -> None:
    store.save_scan("s1", {"scan_id": "s1"})
    assert ResultStore.from_url(store.url).load_scan("s1") == {"scan_id": "s1"}


def test_reports_are_stored_under_the_scan(store: ResultStore) -> None:
    assert store.save_report("s1", "html", b"<html></html>") == "scans/s1/reports/report.html"
    store.save_report("s1", "findings.csv", b"a,b\r\n")
    assert store.load_report("s1", "report.html") == b"<html></html>"
    assert store.load_report("s1", "csv") == b"a,b\r\n"
    assert store.get_bytes("scans/s1/reports/findings.csv") == b"a,b\r\n"
    assert store.load_report("s1", "ocsf") is None


def test_delete_scan_removes_everything_of_that_scan_only(store: ResultStore) -> None:
    for scan_id in ("s1", "s2"):
        store.save_scan(scan_id, {"scan_id": scan_id})
        store.save_unit(scan_id, make_unit_result())
        store.save_report(scan_id, "html", b"x")
    store.delete_scan("s1")
    assert store.list_scans() == ["s2"]
    assert store.load_units("s1") == [] and store.load_report("s1", "html") is None
    assert store.load_report("s2", "html") == b"x"
    with pytest.raises(StoreError):
        store.delete_scan("../s2")


def test_file_store_keeps_its_layout_on_disk(tmp_path: Path) -> None:
    store = ResultStore.from_url(f"file://{tmp_path}")
    store.save_unit("s1", make_unit_result())
    store.save_report("s1", "ocsf", b"[]")
    assert (tmp_path / "scans/s1/units/111111111111/us-east-1/s3.json").is_file()
    assert (tmp_path / "scans/s1/reports/findings.ocsf.json").read_bytes() == b"[]"
    assert store.url == f"file://{tmp_path}" and store.root == tmp_path
    assert not list(tmp_path.rglob(".tmp-*"))


def test_unsupported_store_url_is_refused() -> None:
    with pytest.raises(StoreError, match="unsupported result store"):
        ResultStore.from_url("ftp://host/x")


# ------------------------------------------------------------------------------------- S3 only

def test_s3_store_uses_the_same_key_layout_under_its_prefix(aws: Any, s3_store: ResultStore) -> None:
    s3_store.save_scan("s1", {"scan_id": "s1"})
    s3_store.save_unit("s1", make_unit_result())
    s3_store.save_report("s1", "html", b"<html></html>")
    assert s3_objects(aws) == ["prod/results/scans/s1/reports/report.html", "prod/results/scans/s1/scan.json",
                               "prod/results/scans/s1/units/111111111111/us-east-1/s3.json"]


def test_s3_every_object_is_written_with_sse_s3_by_default(aws: Any, s3_store: ResultStore) -> None:
    s3_store.save_scan("s1", {"scan_id": "s1"})
    s3_store.save_unit("s1", make_unit_result())
    s3_store.save_account("s1", "111111111111", "completed")
    s3_store.save_findings("s1", {"findings": []})
    s3_store.save_report("s1", "csv", b"x")
    s3_store.mark_audit_required("s1", "ticket 42")
    s3_store.record_unit_costs({"s3": [1.0]})
    s3_store.check_writable()
    s3 = aws.client("s3")
    keys = s3_objects(aws)
    assert len(keys) == 9  # findings.json and its summary.json among them
    for key in keys:
        assert s3.head_object(Bucket=BUCKET, Key=key)["ServerSideEncryption"] == "AES256", key
    # The emulator does not encrypt by itself: an object written without the header shows none.
    s3.put_object(Bucket=BUCKET, Key="control", Body=b"x")
    assert "ServerSideEncryption" not in s3.head_object(Bucket=BUCKET, Key="control")


def test_s3_sse_kms_with_the_configured_key(aws: Any) -> None:
    aws.client("s3").create_bucket(Bucket=BUCKET)
    key_id = aws.client("kms").create_key(Description="results")["KeyMetadata"]["KeyId"]
    store = ResultStore.from_url(f"s3://{BUCKET}/kms", endpoint_url=aws.endpoint, sse="aws:kms", kms_key_id=key_id)
    store.save_scan("s1", {"scan_id": "s1"})
    head = aws.client("s3").head_object(Bucket=BUCKET, Key="kms/scans/s1/scan.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key_id in head["SSEKMSKeyId"]
    assert store.load_scan("s1") == {"scan_id": "s1"}
    reopened = ResultStore.from_url(store.url)
    assert reopened.url == store.url
    reopened.save_scan("s2", {"scan_id": "s2"})
    assert aws.client("s3").head_object(Bucket=BUCKET, Key="kms/scans/s2/scan.json")["ServerSideEncryption"] \
        == "aws:kms"


def test_s3_options_come_from_the_url_and_the_settings(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    aws.client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("CLOUDSCREEN_AWS_ENDPOINT_URL", aws.endpoint)
    store = ResultStore.from_url(f"s3://{BUCKET}/env")
    store.save_scan("s1", {"scan_id": "s1"})
    assert s3_objects(aws, "env/") == ["env/scans/s1/scan.json"]
    assert parse_qs(urlsplit(store.url).query) == {"endpoint_url": [aws.endpoint]}
    with pytest.raises(StoreError, match="unknown option"):
        ResultStore.from_url(f"s3://{BUCKET}/x?colour=blue")
    with pytest.raises(StoreError, match="server-side encryption"):
        ResultStore.from_url(f"s3://{BUCKET}/x?sse=none")


def test_s3_listing_and_deleting_follow_pagination(aws: Any, s3_store: ResultStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "_LIST_PAGE_SIZE", 2)
    monkeypatch.setattr(store_module, "_DELETE_BATCH", 3)
    for i in range(7):
        s3_store.save_scan(f"s{i}", {"scan_id": f"s{i}"})
        s3_store.save_unit("s0", make_unit_result(region=f"r{i}"))
    assert len(s3_store.list_keys("scans/s0/units")) == 7
    assert s3_store.list_scans() == [f"s{i}" for i in reversed(range(7))]
    s3_store.delete_scan("s0")
    assert s3_objects(aws, "prod/results/scans/s0/") == []


def test_s3_missing_bucket_is_a_clear_error(aws: Any) -> None:
    store = ResultStore.from_url("s3://no-such-bucket/x", endpoint_url=aws.endpoint)
    with pytest.raises(StoreError, match="bucket 'no-such-bucket' does not exist"):
        store.check_writable()


def test_s3_report_objects_carry_their_content_type(aws: Any, s3_store: ResultStore) -> None:
    s3_store.save_report("s1", "html", b"<html></html>")
    s3_store.save_report("s1", "csv", b"a")
    s3 = aws.client("s3")
    assert s3.head_object(Bucket=BUCKET, Key="prod/results/scans/s1/reports/report.html")["ContentType"] \
        == "text/html; charset=utf-8"
    assert s3.head_object(Bucket=BUCKET, Key="prod/results/scans/s1/reports/findings.csv")["ContentType"] \
        == "text/csv; charset=utf-8"


def test_s3_report_link_is_a_presigned_get_that_expires(s3_store: ResultStore) -> None:
    s3_store.save_report("s1", "html", b"<html>report</html>")
    url = s3_store.report_link("s1", "html", ttl_s=300, base_url="https://unused", secret="")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert urlsplit(url).path.endswith("/cloudscreen-results/prod/results/scans/s1/reports/report.html")
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"<html>report</html>"
    with pytest.raises(StoreError, match="7-day"):
        s3_store.report_link("s1", "html", ttl_s=MAX_PRESIGN_TTL_S + 1, base_url="", secret="")


# --------------------------------------------------------------------------- signed links (file mode)

def _link_parts(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    _, api, scans, scan_id, reports, kind = parts.path.split("/")
    assert (api, scans, reports) == ("api", "scans", "reports")
    q = parse_qs(parts.query)
    return scan_id, kind, int(q["exp"][0]), q["sig"][0]


def test_file_report_link_is_signed_and_verifies_until_it_expires(file_store: ResultStore) -> None:
    now = 1_800_000_000
    url = file_store.report_link("s1", "report.html", ttl_s=600, base_url="https://cs.example/", secret=SECRET,
                                 now=now)
    assert url.startswith("https://cs.example/api/scans/s1/reports/html?exp=")
    scan_id, kind, exp, sig = _link_parts(url)
    assert (scan_id, kind, exp) == ("s1", "html", now + 600)
    assert sig == report_link_signature("s1", "html", exp, SECRET)
    assert verify_report_link("s1", "html", exp, sig, SECRET, now=now)
    assert verify_report_link("s1", "html", str(exp), sig.upper(), SECRET, now=exp)


def test_report_link_expired_is_refused(file_store: ResultStore) -> None:
    url = file_store.report_link("s1", "csv", ttl_s=60, base_url="http://x", secret=SECRET, now=1000)
    _, kind, exp, sig = _link_parts(url)
    assert not verify_report_link("s1", kind, exp, sig, SECRET, now=exp + 1)


@pytest.mark.parametrize("tamper", ["sig", "exp", "scan", "type", "secret"])
def test_report_link_tampered_or_for_another_report_is_refused(file_store: ResultStore, tamper: str) -> None:
    url = file_store.report_link("s1", "json", ttl_s=60, base_url="http://x", secret=SECRET, now=1000)
    scan_id, kind, exp, sig = _link_parts(url)
    args = {"scan_id": scan_id, "type": kind, "exp": exp, "sig": sig, "secret": SECRET}
    args.update({"sig": ("0" if sig[0] != "0" else "1") + sig[1:]} if tamper == "sig" else
                {"exp": exp + 3600} if tamper == "exp" else
                {"scan_id": "s2"} if tamper == "scan" else
                {"type": "html"} if tamper == "type" else {"secret": "other-secret"})
    assert not verify_report_link(**args, now=1000)


def test_report_link_malformed_input_is_refused() -> None:
    sig = report_link_signature("s1", "html", 2000, SECRET)
    assert not verify_report_link("s1", "html", "not-a-number", sig, SECRET, now=1000)
    assert not verify_report_link("s1", "html", 2000, "", SECRET, now=1000)
    assert not verify_report_link("s1", "html", 2000, sig, "", now=1000)


def test_report_link_needs_a_known_report_a_secret_and_a_positive_lifetime(file_store: ResultStore) -> None:
    with pytest.raises(StoreError, match="unknown report"):
        file_store.report_link("s1", "pdf", ttl_s=60, base_url="http://x", secret=SECRET)
    with pytest.raises(StoreError, match="secret"):
        file_store.report_link("s1", "html", ttl_s=60, base_url="http://x", secret="")
    with pytest.raises(StoreError, match="positive"):
        file_store.report_link("s1", "html", ttl_s=0, base_url="http://x", secret=SECRET)
    with pytest.raises(StoreError, match="segment"):
        file_store.report_link("a/b", "html", ttl_s=60, base_url="http://x", secret=SECRET)


# ----------------------------------------------------------------------------------------- retention

def _seed_scans(store: ResultStore) -> None:
    for scan_id, age_days in (("old", 40), ("old-audit", 45), ("recent", 5), ("edge", 29)):
        store.save_scan(scan_id, {"scan_id": scan_id, "created_at": _iso(NOW - timedelta(days=age_days))})
        store.save_unit(scan_id, make_unit_result())
        store.save_report(scan_id, "html", b"x")
    store.mark_audit_required("old-audit", "evidence for ticket 4711")


def test_prune_deletes_scans_older_than_the_retention_but_keeps_audit_ones(store: ResultStore) -> None:
    _seed_scans(store)
    assert store.prune(30, now=NOW) == ["old"]
    assert store.list_scans() == ["recent", "old-audit", "edge"]
    assert store.load_units("old") == [] and store.load_report("old", "html") is None
    assert store.audit_mark("old-audit")["reason"] == "evidence for ticket 4711"
    assert store.load_report("old-audit", "html") == b"x"


def test_prune_without_keep_audit_deletes_audit_scans_too(store: ResultStore) -> None:
    _seed_scans(store)
    assert sorted(store.prune(30, keep_audit=False, now=NOW)) == ["old", "old-audit"]
    assert store.list_scans() == ["recent", "edge"]


def test_prune_dates_a_scan_without_scan_json_by_its_findings_and_keeps_undatable_ones(store: ResultStore) -> None:
    store.save_findings("by-findings", {"started_at": _iso(NOW - timedelta(days=90))})
    store.save_unit("undatable", make_unit_result())
    store.save_scan("bad-date", {"created_at": "yesterday"})
    assert store.prune(30, now=NOW) == ["by-findings"]
    assert store.list_scans() == ["undatable", "bad-date"]


def test_prune_refuses_a_non_positive_retention(store: ResultStore) -> None:
    with pytest.raises(StoreError, match="positive"):
        store.prune(0)


def test_mark_audit_required_records_reason_and_time(store: ResultStore) -> None:
    assert store.audit_mark("s1") is None
    store.mark_audit_required("s1", "legal hold")
    mark = store.audit_mark("s1")
    assert mark["scan_id"] == "s1" and mark["reason"] == "legal hold"
    assert datetime.fromisoformat(mark["marked_at"]) <= datetime.now(UTC)


def test_a_scan_summary_is_kept_beside_its_findings_and_read_without_them(tmp_path: Path) -> None:
    store = ResultStore.from_url(f"file://{tmp_path}")
    doc = {"schema_version": 1, "scan_id": "s1", "status": "completed", "summary": {"total": 2},
           "findings": [{"check_id": "a"}, {"check_id": "b"}]}
    store.save_findings("s1", doc)
    assert store.load_summary("s1") == {"schema_version": 1, "scan_id": "s1", "status": "completed",
                                        "summary": {"total": 2}}
    assert store.load_findings("s1") == doc
    # A scan stored before summaries were kept: the head comes from findings.json.
    store.delete_scan("s1")
    store.put_json("scans/s2/findings.json", doc)
    assert store.load_summary("s2") == {k: v for k, v in doc.items() if k != "findings"}
    assert store.load_summary("missing") is None
