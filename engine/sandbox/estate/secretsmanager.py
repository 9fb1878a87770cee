"""Demo estate: Secrets Manager secrets (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

ROTATION = "secretsmanager_secret_rotation_enabled"
ROTATED_90 = "secretsmanager_secret_rotated_90_days"


@seeder("secretsmanager")
def seed_secretsmanager(ctx: SeedContext, region: str) -> None:
    """A secret without rotation and one rotated on a 30-day schedule.

    Both were created or rotated just now, so the 90-day age check passes on both: the emulator cannot
    back-date a secret, and the age FAIL is covered by a test with a later scan time."""
    sm = ctx.client("secretsmanager", region)
    static = ctx.name("static-secret")
    sm.create_secret(Name=static, SecretString="demo-not-a-real-password")
    ctx.expect(ROTATION, region, static, FAIL)
    ctx.expect(ROTATED_90, region, static, PASS)

    rotated = ctx.name("rotated-secret")
    sm.create_secret(Name=rotated, SecretString="demo-not-a-real-password")
    # Without a rotation function: the emulator would try to invoke one in Docker.
    sm.rotate_secret(SecretId=rotated, RotationRules={"AutomaticallyAfterDays": 30})
    ctx.expect(ROTATION, region, rotated, PASS)
    ctx.expect(ROTATED_90, region, rotated, PASS)
