"""ECS checks against the emulator: one PASS and one FAIL test per check, the ERROR path, and the demo
estate's ECS expectations."""

from __future__ import annotations

from tests.conftest import estate_mismatches, findings_for, inject_failure, status_of

LOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1",
                                            "awslogs-stream-prefix": "web"}}


def _container(name: str = "web", **overrides) -> dict:
    return {"name": name, "image": "nginx:stable", "memory": 128, "logConfiguration": LOGS, **overrides}


def _task(aws, *containers: dict, family: str = "web", **kwargs) -> str:
    aws.client("ecs").register_task_definition(family=family, containerDefinitions=list(containers or
                                                                                        [_container()]), **kwargs)
    return family


# -- privileged containers --

def test_task_without_privileged_containers_passes_privileged_check(aws):
    task = _task(aws, _container(privileged=False))
    findings = aws.scan("ecs")
    assert status_of(findings, "ecs_task_definition_no_privileged_containers", task) == "PASS"
    assert findings_for(findings, "ecs_task_definition_no_privileged_containers", task)[0].resource_arn == \
        "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"


def test_task_with_privileged_container_fails_privileged_check(aws):
    task = _task(aws, _container(), _container("sidecar", privileged=True))
    findings = aws.scan("ecs")
    assert status_of(findings, "ecs_task_definition_no_privileged_containers", task) == "FAIL"
    assert "sidecar" in findings_for(findings, "ecs_task_definition_no_privileged_containers", task)[0].message


def test_only_the_latest_active_revision_is_evaluated(aws):
    _task(aws, _container(privileged=True))
    task = _task(aws, _container())
    findings = aws.scan("ecs")
    assert status_of(findings, "ecs_task_definition_no_privileged_containers", task) == "PASS"
    assert "web:2" in findings_for(findings, "ecs_task_definition_no_privileged_containers", task)[0].message


# -- host PID --

def test_task_with_task_pid_mode_passes_host_pid_check(aws):
    task = _task(aws, pidMode="task")
    assert status_of(aws.scan("ecs"), "ecs_task_definition_no_host_pid", task) == "PASS"


def test_task_with_host_pid_mode_fails_host_pid_check(aws):
    task = _task(aws, pidMode="host")
    assert status_of(aws.scan("ecs"), "ecs_task_definition_no_host_pid", task) == "FAIL"


# -- credentials in environment --

def test_task_with_ordinary_environment_passes_env_secrets_check(aws):
    task = _task(aws, _container(environment=[{"name": "AWS_REGION", "value": "us-east-1"}]))
    assert status_of(aws.scan("ecs"), "ecs_task_definition_no_env_secrets", task) == "PASS"


def test_task_with_access_keys_in_environment_fails_env_secrets_check(aws):
    task = _task(aws, _container(environment=[{"name": "AWS_SECRET_ACCESS_KEY", "value": "not-a-real-key"}]))
    findings = aws.scan("ecs")
    assert status_of(findings, "ecs_task_definition_no_env_secrets", task) == "FAIL"
    message = findings_for(findings, "ecs_task_definition_no_env_secrets", task)[0].message
    assert "web:AWS_SECRET_ACCESS_KEY" in message and "not-a-real-key" not in message


# -- logging --

def test_task_with_logging_for_every_container_passes_logging_check(aws):
    task = _task(aws, _container(), _container("sidecar"))
    assert status_of(aws.scan("ecs"), "ecs_task_definition_logging_configured", task) == "PASS"


def test_task_with_unlogged_container_fails_logging_check(aws):
    sidecar = {"name": "sidecar", "image": "busybox", "memory": 64}
    task = _task(aws, _container(), sidecar)
    findings = aws.scan("ecs")
    assert status_of(findings, "ecs_task_definition_logging_configured", task) == "FAIL"
    assert findings_for(findings, "ecs_task_definition_logging_configured", task)[0].frameworks == \
        {"aws-fsbp": ["ECS.9"]}


# -- errors --

def test_task_definition_that_cannot_be_described_reports_error_not_pass(aws):
    task = _task(aws)
    inject_failure(aws, "DescribeTaskDefinition")
    findings = aws.scan("ecs")
    assert len(findings) == 4 and {f.status.value for f in findings} == {"ERROR"}
    assert {f.resource_id for f in findings} == {task}


# -- demo estate --

def test_demo_estate_seeder_matches_ecs_checks(aws):
    assert estate_mismatches(aws, "ecs") == []
