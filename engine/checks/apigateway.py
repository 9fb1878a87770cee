"""API Gateway checks on REST API stages: execution logging, access logging and X-Ray tracing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from engine.checks import CheckContext, Result, check
from engine.collectors.apigateway import RestApi, Stage

API_TYPE = "AWS::ApiGateway::RestApi"
EXECUTION_LOG_LEVELS = frozenset({"ERROR", "INFO"})


def _per_stage(api: RestApi, evaluate: Callable[[Stage], Result]) -> Iterator[Result]:
    """Evaluate every stage of an API; when its stages could not be listed, the API reports ERROR."""
    if "stages" in api.errors:
        yield Result.error(f"Stages of REST API {api.id} ({api.name}) could not be collected: "
                           f"{api.errors['stages']}", resource_type=API_TYPE)
        return
    for stage in api.stages or []:
        result = evaluate(stage)
        yield Result(result.status, result.message, resource=stage)


def _label(stage: Stage) -> str:
    return f"Stage {stage.name} of REST API {stage.api_id} ({stage.api_name})"


@check(id="apigateway_stage_execution_logging_enabled", service="apigateway",
       resource_type="AWS::ApiGateway::Stage", scope="regional", severity="medium",
       pillar="operational_excellence", frameworks={"aws-fsbp": ["APIGateway.1"]},
       title="API Gateway REST API stage has execution logging enabled",
       risk="Without execution logs, errors and suspicious requests that reach the API leave no trace in "
            "CloudWatch Logs, which hampers troubleshooting and incident response.",
       remediation="In the API Gateway console open the API, Stages, select the stage, Logs and tracing, "
                   "Edit, set CloudWatch logs to 'Errors only' or 'Errors and info logs' and save (the account "
                   "needs a CloudWatch Logs role under Settings). CLI: aws apigateway update-stage "
                   "--rest-api-id <api-id> --stage-name <stage> --patch-operations "
                   "op=replace,path=/*/*/logging/loglevel,value=INFO",
       over="rest_apis")
def apigateway_stage_execution_logging_enabled(api: RestApi, ctx: CheckContext) -> Iterator[Result]:
    def evaluate(stage: Stage) -> Result:
        level = (stage.logging_level or "").upper()
        if level in EXECUTION_LOG_LEVELS:
            return Result.passed(f"{_label(stage)} logs execution at level {level}.")
        return Result.failed(f"{_label(stage)} has execution logging {'set to ' + level if level else 'off'}.")

    yield from _per_stage(api, evaluate)


@check(id="apigateway_stage_access_logging_enabled", service="apigateway",
       resource_type="AWS::ApiGateway::Stage", scope="regional", severity="medium", pillar="security",
       title="API Gateway REST API stage has access logging enabled",
       risk="Without access logs there is no record of who called the API and with what result, which "
            "hampers detecting abuse and investigating incidents.",
       remediation="In the API Gateway console open the API, Stages, select the stage, Logs and tracing, "
                   "Edit, turn on 'Custom access logging', enter a CloudWatch Logs log group ARN and a log "
                   "format and save. CLI: aws apigateway update-stage --rest-api-id <api-id> --stage-name "
                   "<stage> --patch-operations op=replace,path=/accessLogSettings/destinationArn,"
                   "value=<log-group-arn> 'op=replace,path=/accessLogSettings/format,value=$context.requestId'",
       over="rest_apis")
def apigateway_stage_access_logging_enabled(api: RestApi, ctx: CheckContext) -> Iterator[Result]:
    def evaluate(stage: Stage) -> Result:
        if stage.access_log_destination:
            return Result.passed(f"{_label(stage)} sends access logs to {stage.access_log_destination}.")
        return Result.failed(f"{_label(stage)} has no access log destination.")

    yield from _per_stage(api, evaluate)


@check(id="apigateway_stage_xray_tracing_enabled", service="apigateway",
       resource_type="AWS::ApiGateway::Stage", scope="regional", severity="low",
       pillar="operational_excellence", frameworks={"aws-fsbp": ["APIGateway.3"]},
       title="API Gateway REST API stage has X-Ray tracing enabled",
       risk="Without X-Ray tracing, latency and errors across the API and its back ends cannot be traced "
            "request by request.",
       remediation="In the API Gateway console open the API, Stages, select the stage, Logs and tracing, "
                   "Edit, turn on 'X-Ray tracing' and save. CLI: aws apigateway update-stage --rest-api-id "
                   "<api-id> --stage-name <stage> --patch-operations op=replace,path=/tracingEnabled,value=true",
       over="rest_apis")
def apigateway_stage_xray_tracing_enabled(api: RestApi, ctx: CheckContext) -> Iterator[Result]:
    def evaluate(stage: Stage) -> Result:
        if stage.tracing_enabled:
            return Result.passed(f"{_label(stage)} has X-Ray tracing enabled.")
        return Result.failed(f"{_label(stage)} has X-Ray tracing disabled.")

    yield from _per_stage(api, evaluate)
