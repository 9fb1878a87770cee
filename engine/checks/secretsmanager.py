"""Secrets Manager checks: automatic rotation and rotation age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.checks import CheckContext, Result, check
from engine.collectors.secretsmanager import Secret


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


@check(id="secretsmanager_secret_rotation_enabled", service="secretsmanager",
       resource_type="AWS::SecretsManager::Secret", scope="regional", severity="medium", pillar="security",
       frameworks={"aws-fsbp": ["SecretsManager.1"]},
       title="Secrets Manager secret has automatic rotation enabled",
       risk="A secret that never rotates stays valid indefinitely if it leaks.",
       remediation="In the Secrets Manager console open the secret, Rotation, choose 'Edit rotation', turn on "
                   "automatic rotation, set a schedule and pick a rotation function. CLI: aws secretsmanager "
                   "rotate-secret --secret-id <secret> --rotation-lambda-arn <function-arn> --rotation-rules "
                   "AutomaticallyAfterDays=30",
       over="secrets")
def secretsmanager_secret_rotation_enabled(secret: Secret, ctx: CheckContext) -> Result:
    if not secret.rotation_enabled:
        return Result.failed(f"Secret {secret.id} has automatic rotation disabled.")
    return Result.passed(f"Secret {secret.id} has automatic rotation enabled.")


@check(id="secretsmanager_secret_rotated_90_days", service="secretsmanager",
       resource_type="AWS::SecretsManager::Secret", scope="regional", severity="medium", pillar="security",
       frameworks={"aws-fsbp": ["SecretsManager.4"]},
       title="Secrets Manager secret was rotated within the last 90 days",
       risk="The longer a secret stays unchanged, the longer a leaked copy remains usable.",
       remediation="Rotate the secret now and enable automatic rotation with a period of 90 days or less: in "
                   "the Secrets Manager console open the secret, Rotation, 'Rotate secret immediately'. CLI: aws "
                   "secretsmanager rotate-secret --secret-id <secret>",
       over="secrets")
def secretsmanager_secret_rotated_90_days(secret: Secret, ctx: CheckContext) -> Result:
    max_days = int(ctx.param("secretsmanager_secret_rotated_90_days", "max_days", 90))
    since, what = (secret.last_rotated, "last rotated") if secret.last_rotated else (secret.created, "created")
    if since is None:
        return Result.error(f"Secret {secret.id} has neither a last-rotated nor a creation date.")
    elapsed = _utc(ctx.scan_time) - _utc(since)
    age = elapsed.days
    if elapsed > timedelta(days=max_days):
        return Result.failed(f"Secret {secret.id} was {what} {age} days ago ({_utc(since):%Y-%m-%d}), more than "
                             f"{max_days} days.")
    return Result.passed(f"Secret {secret.id} was {what} {age} days ago, within {max_days} days.")
