"""Demo estate: ECS task definitions (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

TASK_DEFINITION_CHECKS = (
    "ecs_task_definition_no_privileged_containers",
    "ecs_task_definition_no_host_pid",
    "ecs_task_definition_no_env_secrets",
    "ecs_task_definition_logging_configured",
)


@seeder("ecs")
def seed_ecs(ctx: SeedContext, region: str) -> None:
    """A task definition failing every ECS check (privileged, host PID, access keys in the environment,
    no logging) and one passing them all."""
    ecs = ctx.client("ecs", region)
    bad = ctx.name("legacy-task")
    ecs.register_task_definition(family=bad, pidMode="host", containerDefinitions=[{
        "name": "agent", "image": "public.ecr.aws/docker/library/busybox:latest", "memory": 128,
        "privileged": True,
        "environment": [{"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
                        {"name": "AWS_SECRET_ACCESS_KEY", "value": "demo-not-a-real-secret"}]}])
    for check_id in TASK_DEFINITION_CHECKS:
        ctx.expect(check_id, region, bad, FAIL)

    good = ctx.name("hardened-task")
    ecs.register_task_definition(family=good, containerDefinitions=[{
        "name": "web", "image": "public.ecr.aws/nginx/nginx:stable", "memory": 128,
        "environment": [{"name": "LOG_LEVEL", "value": "info"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": f"/ecs/{good}", "awslogs-region": region, "awslogs-stream-prefix": "web"}}}])
    for check_id in TASK_DEFINITION_CHECKS:
        ctx.expect(check_id, region, good, PASS)
