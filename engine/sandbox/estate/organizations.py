"""Demo estate: Organizations (global)."""

from __future__ import annotations

from engine.model import GLOBAL_REGION
from engine.sandbox.estate import FAIL, SeedContext, seeder


@seeder("organizations", scope="global")
def seed_organizations(ctx: SeedContext, region: str) -> None:
    """Nothing to create: member accounts are in no organization (the emulator's organization would
    belong to the management account), so the check fails, informationally."""
    ctx.expect("organizations_account_in_organization", GLOBAL_REGION, ctx.account_id, FAIL)
