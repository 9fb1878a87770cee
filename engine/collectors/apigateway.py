"""API Gateway collector: REST APIs and their stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fill
from engine.model import Scope
from engine.throttle import paginate


@dataclass
class Stage(Resource):
    api_id: str = ""
    api_name: str = ""
    name: str = ""
    # methodSettings["*/*"].loggingLevel (the stage-wide execution logging level), None when unset.
    logging_level: str | None = None
    access_log_destination: str | None = None
    tracing_enabled: bool = False


@dataclass
class RestApi(Resource):
    name: str = ""
    # None when GetStages failed (the reason is in errors["stages"]).
    stages: list[Stage] | None = None


@dataclass
class ApiGatewayData(ServiceData):
    rest_apis: list[RestApi] = field(default_factory=list)


@collector("apigateway", scope=Scope.REGIONAL, cost=1.5, title="API Gateway")
def collect_apigateway(ctx: CollectContext) -> ApiGatewayData:
    """List the region's REST APIs, then fetch each one's stages."""
    apigw = ctx.client("apigateway")
    region = ctx.region
    data = ApiGatewayData(account_id=ctx.account_id, region=region)
    data.rest_apis = [
        RestApi(id=api["id"], arn=f"arn:aws:apigateway:{region}::/restapis/{api['id']}", region=region,
                name=api.get("name", ""))
        for api in paginate(apigw, "get_rest_apis", "items", limit=500)
    ]
    ctx.map(lambda api: fill(api, "stages", apigw.get_stages, restApiId=api.id,
                             transform=lambda r: [_stage(api, s) for s in r.get("item", [])]),
            data.rest_apis)
    return data


def _stage(api: RestApi, item: dict[str, Any]) -> Stage:
    name = item["stageName"]
    return Stage(
        id=f"{api.id}/{name}", arn=f"{api.arn}/stages/{name}", region=api.region, api_id=api.id,
        api_name=api.name, name=name,
        logging_level=((item.get("methodSettings") or {}).get("*/*") or {}).get("loggingLevel"),
        access_log_destination=(item.get("accessLogSettings") or {}).get("destinationArn") or None,
        tracing_enabled=bool(item.get("tracingEnabled")),
    )
