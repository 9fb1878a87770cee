"""Demo estate: Security Hub (per region). Enabled in the first region, not subscribed elsewhere."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder


@seeder("securityhub", order=45)
def seed_securityhub(ctx: SeedContext, region: str) -> None:
    """Enabled in the first region (good); nothing elsewhere, as in a new account (bad)."""
    enabled = region == ctx.regions[0]
    if enabled:
        ctx.client("securityhub", region).enable_security_hub(EnableDefaultStandards=False)
    ctx.expect("securityhub_hub_enabled", region, ctx.account_id, PASS if enabled else FAIL)
