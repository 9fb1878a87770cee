"""Secrets Manager checks against the emulator: one PASS and one FAIL test per check, the ERROR path,
and the demo estate's Secrets Manager expectations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import estate_mismatches, findings_for, inject_failure, status_of


def _secret(aws, name: str = "db-credentials", rotate: bool = False) -> str:
    sm = aws.client("secretsmanager")
    sm.create_secret(Name=name, SecretString="not-a-real-password")
    if rotate:
        # No rotation function: the emulator would invoke it in Docker; the schedule alone enables rotation.
        sm.rotate_secret(SecretId=name, RotationRules={"AutomaticallyAfterDays": 30})
    return name


# -- rotation enabled --

def test_secret_with_rotation_passes_rotation_check(aws):
    secret = _secret(aws, rotate=True)
    findings = aws.scan("secretsmanager")
    assert status_of(findings, "secretsmanager_secret_rotation_enabled", secret) == "PASS"
    assert findings_for(findings, "secretsmanager_secret_rotation_enabled", secret)[0].resource_arn.startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-")


def test_secret_without_rotation_fails_rotation_check(aws):
    secret = _secret(aws)
    assert status_of(aws.scan("secretsmanager"), "secretsmanager_secret_rotation_enabled", secret) == "FAIL"


# -- rotated within 90 days [clock] --

def test_secret_created_recently_passes_rotation_age_check(aws):
    secret = _secret(aws)
    later = datetime.now(UTC) + timedelta(days=89)
    findings = aws.scan("secretsmanager", scan_time=later)
    assert status_of(findings, "secretsmanager_secret_rotated_90_days", secret) == "PASS"


def test_secret_never_rotated_for_over_90_days_fails_rotation_age_check(aws):
    secret = _secret(aws)
    later = datetime.now(UTC) + timedelta(days=100)
    findings = aws.scan("secretsmanager", scan_time=later)
    assert status_of(findings, "secretsmanager_secret_rotated_90_days", secret) == "FAIL"
    assert "created 100 days ago" in findings_for(findings, "secretsmanager_secret_rotated_90_days",
                                                  secret)[0].message


def test_secret_last_rotated_over_90_days_ago_fails_rotation_age_check(aws):
    secret = _secret(aws, rotate=True)
    later = datetime.now(UTC) + timedelta(days=91)
    findings = aws.scan("secretsmanager", scan_time=later)
    assert status_of(findings, "secretsmanager_secret_rotated_90_days", secret) == "FAIL"
    assert "last rotated" in findings_for(findings, "secretsmanager_secret_rotated_90_days", secret)[0].message


def test_rotation_age_threshold_is_a_parameter(aws):
    secret = _secret(aws)
    later = datetime.now(UTC) + timedelta(days=40)
    params = {"secretsmanager_secret_rotated_90_days": {"max_days": 30}}
    findings = aws.scan("secretsmanager", scan_time=later, params=params)
    assert status_of(findings, "secretsmanager_secret_rotated_90_days", secret) == "FAIL"


# -- errors --

def test_failing_secret_listing_reports_error_for_every_check(aws):
    _secret(aws)
    inject_failure(aws, "ListSecrets")
    findings = aws.scan("secretsmanager")
    assert len(findings) == 2 and {f.status.value for f in findings} == {"ERROR"}


# -- demo estate --

def test_demo_estate_seeder_matches_secretsmanager_checks(aws):
    assert estate_mismatches(aws, "secretsmanager") == []
