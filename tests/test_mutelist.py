"""Mutelists: parsing with line-numbered errors, matching, expiry, and the muting property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model import Finding, Pillar, Severity, Status
from engine.mutelist import MutelistError, MuteRule, apply_mutelist, load_mutelist, parse_mutelist

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _finding(check="s3_bucket_versioning_enabled", account="111111111111", region="us-east-1",
             resource="logs-bucket", status=Status.FAIL) -> Finding:
    return Finding(check_id=check, title="t", service=check.split("_")[0], account_id=account, region=region,
                   resource_type="AWS::S3::Bucket", resource_id=resource, resource_arn=f"arn:aws:s3:::{resource}",
                   status=status, severity=Severity.MEDIUM, pillar=Pillar.RELIABILITY, frameworks={},
                   message="versioning is off", remediation="r")


def test_yaml_rule_mutes_matching_fail_and_says_why():
    rules = parse_mutelist("""
mutes:
  - check: s3_bucket_versioning_enabled
    account: "111111111111"
    resource: "logs-*"
    reason: access-log buckets are write-once
""")
    out = apply_mutelist([_finding(), _finding(resource="data-bucket")], rules, NOW)
    assert out[0].status is Status.MUTED and "access-log buckets are write-once" in out[0].message
    assert out[1].status is Status.FAIL


def test_json_mutelist_and_arn_globs_work_too():
    rules = parse_mutelist('{"mutes": [{"resource": "arn:aws:s3:::logs-*", "reason": "accepted"}]}')
    assert apply_mutelist([_finding()], rules, NOW)[0].status is Status.MUTED


def test_expired_rule_no_longer_mutes_and_a_date_lasts_through_that_day(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("mutes:\n  - check: '*'\n    reason: temporary\n    expires: 2026-11-23\n")
    rules = load_mutelist(path)
    assert apply_mutelist([_finding()], rules, NOW)[0].status is Status.MUTED
    assert apply_mutelist([_finding()], rules, NOW + timedelta(days=1))[0].status is Status.FAIL


def test_pass_error_and_skipped_findings_are_never_muted():
    rules = [MuteRule(reason="all")]
    for status in (Status.PASS, Status.ERROR, Status.SKIPPED):
        assert apply_mutelist([_finding(status=status)], rules, NOW)[0].status is status


@pytest.mark.parametrize("text,line,message", [
    ("mutes:\n  - check: x\n", 2, "needs a non-empty 'reason'"),
    ("mutes:\n  - reason: ok\n    acount: '1'\n", 3, "unknown field 'acount'"),
    ("mutes:\n  - reason: ok\n    expires: next week\n", 3, "not an ISO date"),
    ("mute:\n  - reason: ok\n", 1, "unknown key 'mute'"),
    ("mutes: {reason: ok}\n", 1, '"mutes" must be a list'),
    ("mutes:\n  - reason: ok\n  - just-a-string\n", 3, "must be a mapping"),
    ("mutes:\n  - reason: ok\n    check: [a, b]\n", 3, "must be a single value"),
    ("mutes:\n  - reason: [unclosed\n", 3, "not valid YAML/JSON"),
])
def test_invalid_files_are_refused_naming_the_line(text, line, message):
    with pytest.raises(MutelistError) as err:
        parse_mutelist(text, "m.yaml")
    assert f"m.yaml line {line}:" in str(err.value) and message in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(MutelistError, match="cannot read it"):
        load_mutelist(tmp_path / "nope.yaml")


def test_rules_round_trip_through_the_scan_document():
    rule = MuteRule(reason="r", check="a*", expires=NOW)
    assert MuteRule.from_dict(rule.to_dict()) == rule


patterns = st.sampled_from(["*", "s3_*", "*versioning*", "iam_*", "111111111111", "2222*", "us-*", "global",
                            "logs-*", "arn:aws:s3:::*", "?", "x"])
statuses = st.sampled_from(list(Status))
findings_st = st.lists(st.builds(_finding, check=st.sampled_from(["s3_bucket_versioning_enabled", "iam_user_x",
                                                                  "ec2_volume_encrypted"]),
                                 account=st.sampled_from(["111111111111", "222222222222"]),
                                 region=st.sampled_from(["us-east-1", "eu-west-1", "global"]),
                                 resource=st.sampled_from(["logs-a", "data-b", "x"]), status=statuses),
                       max_size=30)
rules_st = st.lists(st.builds(MuteRule, reason=st.just("r"), check=patterns, account=patterns, region=patterns,
                              resource=patterns,
                              expires=st.one_of(st.none(), st.just(NOW - timedelta(days=1)),
                                                st.just(NOW + timedelta(days=1)))), max_size=6)


@settings(max_examples=300, deadline=None)
@given(findings=findings_st, rules=rules_st)
def test_muting_never_turns_a_fail_into_a_pass_and_only_mutes_matches(findings, rules):
    """Property: mutelist safety — any combination of rules never turns a FAIL into PASS, changes
    nothing but FAIL → MUTED, and mutes exactly the FAILs that a rule in force matches."""
    out = apply_mutelist(findings, rules, NOW)
    assert len(out) == len(findings)
    for before, after in zip(findings, out, strict=True):
        matched = any(r.in_force(NOW) and r.matches(before) for r in rules)
        if before.status is Status.FAIL and matched:
            assert after.status is Status.MUTED
        else:
            assert after.status is before.status and after.message == before.message
        assert (before.check_id, before.resource_id, before.account_id) == (after.check_id, after.resource_id,
                                                                            after.account_id)
