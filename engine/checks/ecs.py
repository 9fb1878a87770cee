"""ECS checks on the latest ACTIVE revision of each task definition family: privileged containers, host
PID namespace, credentials in environment variables and container logging."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.ecs import TaskDefinition

# Environment variable names that carry AWS or registry credentials (Security Hub ECS.8).
CREDENTIAL_VARIABLES = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"})


@check(id="ecs_task_definition_no_privileged_containers", service="ecs", resource_type="AWS::ECS::TaskDefinition",
       scope="regional", severity="high", pillar="security", frameworks={"aws-fsbp": ["ECS.4"]},
       title="ECS task definition runs no privileged containers",
       risk="A privileged container has root access to the host, so a compromised container compromises the "
            "instance and every task on it.",
       remediation="In the ECS console open Task definitions, select the family, 'Create new revision', and in "
                   "each container clear 'Privileged' (Docker configuration); then update services to the new "
                   "revision. CLI: aws ecs register-task-definition --cli-input-json file://taskdef.json (with "
                   "\"privileged\": false), then aws ecs deregister-task-definition --task-definition "
                   "<family:old-revision>",
       over="task_definitions", needs=("definition",))
def ecs_task_definition_no_privileged_containers(td: TaskDefinition, ctx: CheckContext) -> Result:
    privileged = [c.name for c in td.containers if c.privileged]
    if privileged:
        return Result.failed(f"ECS task definition {td.label} runs privileged container(s) {', '.join(privileged)}.")
    return Result.passed(f"ECS task definition {td.label} runs no privileged container.")


@check(id="ecs_task_definition_no_host_pid", service="ecs", resource_type="AWS::ECS::TaskDefinition",
       scope="regional", severity="high", pillar="security", frameworks={"aws-fsbp": ["ECS.3"]},
       title="ECS task definition does not share the host's process namespace",
       risk="With pidMode host, containers can see and signal every process on the host, breaking container "
            "isolation.",
       remediation="In the ECS console open Task definitions, select the family, 'Create new revision', and set "
                   "'PID mode' to task or leave it unset; then update services to the new revision. CLI: aws ecs "
                   "register-task-definition --cli-input-json file://taskdef.json (without \"pidMode\": "
                   "\"host\")",
       over="task_definitions", needs=("definition",))
def ecs_task_definition_no_host_pid(td: TaskDefinition, ctx: CheckContext) -> Result:
    if td.pid_mode == "host":
        return Result.failed(f"ECS task definition {td.label} shares the host's process namespace (pidMode host).")
    return Result.passed(f"ECS task definition {td.label} does not use the host's process namespace.")


@check(id="ecs_task_definition_no_env_secrets", service="ecs", resource_type="AWS::ECS::TaskDefinition",
       scope="regional", severity="high", pillar="security", frameworks={"aws-fsbp": ["ECS.8"]},
       title="ECS task definition passes no credentials in environment variables",
       risk="Credentials in plain environment variables are visible to anyone who can describe the task "
            "definition and are never rotated.",
       remediation="Give the task an IAM task role instead of access keys, and pass other secrets with the "
                   "container's 'secrets' (Secrets Manager or SSM Parameter Store) rather than 'environment'; "
                   "in the ECS console create a new revision without those variables. CLI: aws ecs "
                   "register-task-definition --cli-input-json file://taskdef.json (with --task-role-arn and "
                   "\"secrets\" entries)",
       over="task_definitions", needs=("definition",))
def ecs_task_definition_no_env_secrets(td: TaskDefinition, ctx: CheckContext) -> Result:
    found = [f"{c.name}:{name}" for c in td.containers for name in c.environment_names
             if name in CREDENTIAL_VARIABLES]
    if found:
        return Result.failed(f"ECS task definition {td.label} sets credential environment variable(s) "
                             f"{', '.join(found)}.")
    return Result.passed(f"ECS task definition {td.label} sets no credential environment variable.")


@check(id="ecs_task_definition_logging_configured", service="ecs", resource_type="AWS::ECS::TaskDefinition",
       scope="regional", severity="medium", pillar="operational_excellence", frameworks={"aws-fsbp": ["ECS.9"]},
       title="ECS task definition configures logging for every container",
       risk="Containers without a log driver leave no record of their output for troubleshooting or incident "
            "investigation.",
       remediation="In the ECS console open Task definitions, select the family, 'Create new revision', and "
                   "turn on log collection (for example awslogs to CloudWatch Logs) for every container. CLI: "
                   "aws ecs register-task-definition --cli-input-json file://taskdef.json (with a "
                   "\"logConfiguration\" in each container definition)",
       over="task_definitions", needs=("definition",))
def ecs_task_definition_logging_configured(td: TaskDefinition, ctx: CheckContext) -> Result:
    unlogged = [c.name for c in td.containers if not c.log_driver]
    if unlogged:
        return Result.failed(f"ECS task definition {td.label} has container(s) without a log driver: "
                             f"{', '.join(unlogged)}.")
    return Result.passed(f"ECS task definition {td.label} configures a log driver for every container.")
