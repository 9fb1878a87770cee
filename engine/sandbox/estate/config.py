"""Demo estate: AWS Config (per region). A recording all-resources recorder in the first region; in the
others a recorder that was never started."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder


@seeder("config", order=43)
def seed_config(ctx: SeedContext, region: str) -> None:
    """Recording in the first region (good); a stopped recorder elsewhere (bad)."""
    cfg = ctx.client("config", region)
    cfg.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": f"arn:aws:iam::{ctx.account_id}:role/{ctx.name('config-recorder')}",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": region == ctx.regions[0]}})
    if region != ctx.regions[0]:
        ctx.expect("config_recorder_enabled", region, ctx.account_id, FAIL)
        return
    # The delivery bucket is not checked by the emulator; recording needs a delivery channel.
    cfg.put_delivery_channel(DeliveryChannel={"name": "default",
                                              "s3BucketName": f"{ctx.prefix}-{ctx.account_id}-config"})
    cfg.start_configuration_recorder(ConfigurationRecorderName="default")
    ctx.expect("config_recorder_enabled", region, ctx.account_id, PASS)
