"""ECR collector: the region's private repositories with their scanning, tag mutability, lifecycle
policy and repository policy, and the registry's scanning configuration (read once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch, set_policy
from engine.model import Scope
from engine.throttle import paginate


@dataclass
class Repository(Resource):
    """An ECR repository. `registry_scan_type` is the registry-wide setting, copied to each repository
    (with its error, if GetRegistryScanningConfiguration failed) because the scan-on-push check needs it."""

    # DescribeRepositories imageScanningConfiguration.scanOnPush (the emulator's batch API is unreliable).
    scan_on_push: bool = False
    tag_mutability: str = "MUTABLE"
    # GetLifecyclePolicy: whether a lifecycle policy exists.
    has_lifecycle_policy: bool = False
    # GetRepositoryPolicy policyText, parsed; None when the repository has no policy.
    policy: dict[str, Any] | None = None
    registry_scan_type: str | None = None


@dataclass
class EcrData(ServiceData):
    repositories: list[Repository] = field(default_factory=list)
    registry_scan_type: str | None = None


@collector("ecr", scope=Scope.REGIONAL, cost=1.5, title="ECR")
def collect_ecr(ctx: CollectContext) -> EcrData:
    """List repositories once, read the registry scanning configuration once, then each repository's
    lifecycle policy and repository policy."""
    data = EcrData(account_id=ctx.account_id, region=ctx.region)
    ecr = ctx.client("ecr")
    data.repositories = [
        Repository(id=r["repositoryName"], arn=r.get("repositoryArn"), region=ctx.region,
                   scan_on_push=bool((r.get("imageScanningConfiguration") or {}).get("scanOnPush")),
                   tag_mutability=r.get("imageTagMutability") or "MUTABLE")
        for r in paginate(ecr, "describe_repositories", "repositories", maxResults=1000)
    ]
    resp, err = fetch(ecr.get_registry_scanning_configuration)
    if err is not None:
        data.errors["registry_scan_type"] = err
    else:
        data.registry_scan_type = (resp.get("scanningConfiguration") or {}).get("scanType")
    for repo in data.repositories:
        repo.registry_scan_type = data.registry_scan_type
        if err is not None:
            repo.errors["registry_scan_type"] = err
    ctx.map(lambda repo: _fill_repository(ecr, repo), data.repositories)
    return data


def _fill_repository(ecr: Any, repo: Repository) -> None:
    resp, err = fetch(ecr.get_lifecycle_policy, repositoryName=repo.id, absent=("LifecyclePolicyNotFoundException",))
    if err is not None:
        repo.errors["has_lifecycle_policy"] = err
    else:
        repo.has_lifecycle_policy = resp is not None
    resp, err = fetch(ecr.get_repository_policy, repositoryName=repo.id,
                      absent=("RepositoryPolicyNotFoundException",))
    if err is not None:
        repo.errors["policy"] = err
    elif resp is not None:
        set_policy(repo, resp.get("policyText"), "GetRepositoryPolicy")
