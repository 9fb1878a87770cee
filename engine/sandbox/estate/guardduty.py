"""Demo estate: GuardDuty (per region). An enabled detector in the first region, a suspended one
elsewhere."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder


@seeder("guardduty", order=44)
def seed_guardduty(ctx: SeedContext, region: str) -> None:
    """Enabled in the first region (good), suspended in the others (bad)."""
    enabled = region == ctx.regions[0]
    ctx.client("guardduty", region).create_detector(Enable=enabled)
    ctx.expect("guardduty_detector_enabled", region, ctx.account_id, PASS if enabled else FAIL)
