"""ECS collector: the latest ACTIVE revision of each task definition family.

Environment variable values are not kept: the checks look at variable names only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch
from engine.model import Scope
from engine.throttle import paginate


@dataclass(frozen=True)
class Container:
    """What the checks need of one container definition."""

    name: str
    privileged: bool = False
    environment_names: tuple[str, ...] = ()
    log_driver: str | None = None


@dataclass
class TaskDefinition(Resource):
    """A task definition family, at its latest ACTIVE revision (`id` is the family name, `arn` the
    revision's ARN). `errors["definition"]` means DescribeTaskDefinition failed."""

    revision: int | None = None
    pid_mode: str | None = None
    containers: list[Container] = field(default_factory=list)

    @property
    def label(self) -> str:
        """`family:revision` (for messages)."""
        return f"{self.id}:{self.revision}" if self.revision is not None else self.id


@dataclass
class EcsData(ServiceData):
    task_definitions: list[TaskDefinition] = field(default_factory=list)


@collector("ecs", scope=Scope.REGIONAL, cost=1.5, title="ECS")
def collect_ecs(ctx: CollectContext) -> EcsData:
    """List the ACTIVE task definition families once, then describe each family's latest revision."""
    data = EcsData(account_id=ctx.account_id, region=ctx.region)
    ecs = ctx.client("ecs")
    families = list(paginate(ecs, "list_task_definition_families", "families", status="ACTIVE", maxResults=100))
    data.task_definitions = ctx.map(lambda family: _describe(ecs, family, ctx.region), families)
    return data


def _describe(ecs: Any, family: str, region: str) -> TaskDefinition:
    td = TaskDefinition(id=family, arn=None, region=region)
    # A bare family name resolves to its latest ACTIVE revision.
    resp, err = fetch(ecs.describe_task_definition, taskDefinition=family)
    if err is not None:
        td.errors["definition"] = err
        return td
    definition = resp.get("taskDefinition", {})
    td.arn = definition.get("taskDefinitionArn")
    td.revision = definition.get("revision")
    td.pid_mode = definition.get("pidMode")
    td.containers = [
        Container(name=c.get("name", "?"), privileged=bool(c.get("privileged")),
                  environment_names=tuple(e.get("name", "") for e in c.get("environment") or []),
                  log_driver=(c.get("logConfiguration") or {}).get("logDriver") or None)
        for c in definition.get("containerDefinitions") or []
    ]
    return td
