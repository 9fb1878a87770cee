"""Demo estate: API Gateway REST API stages (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

CHECKS = ("apigateway_stage_execution_logging_enabled", "apigateway_stage_access_logging_enabled",
          "apigateway_stage_xray_tracing_enabled")


@seeder("apigateway")
def seed_apigateway(ctx: SeedContext, region: str) -> None:
    """One REST API with a stage that has no logging or tracing, and a stage with all three."""
    apigw = ctx.client("apigateway", region)
    api = apigw.create_rest_api(name=ctx.name("api"), description="demo REST API")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    # A deployment needs at least one method.
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigw.create_deployment(restApiId=api, stageName="dev")["id"]
    for check_id in CHECKS:
        ctx.expect(check_id, region, f"{api}/dev", FAIL)

    apigw.create_stage(restApiId=api, stageName="prod", deploymentId=deployment, tracingEnabled=True)
    log_group = f"arn:aws:logs:{region}:{ctx.account_id}:log-group:{ctx.name('api-access')}"
    apigw.update_stage(restApiId=api, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"},
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": log_group},
        {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"},
    ])
    for check_id in CHECKS:
        ctx.expect(check_id, region, f"{api}/prod", PASS)
