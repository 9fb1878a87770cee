"""ECR checks: image scanning on push, tag immutability, lifecycle policies and public repository
policies."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.ecr import Repository
from engine.policydoc import public_statement_ids


@check(id="ecr_repository_scan_on_push_enabled", service="ecr", resource_type="AWS::ECR::Repository",
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["ECR.1"]},
       title="ECR repository scans images on push",
       risk="Images that are never scanned can ship known vulnerabilities to production unnoticed.",
       remediation="In the ECR console open the repository, choose Edit and turn on 'Scan on push' (or enable "
                   "enhanced scanning for the registry under Private registry, Scanning). CLI: aws ecr "
                   "put-image-scanning-configuration --repository-name <repository> "
                   "--image-scanning-configuration scanOnPush=true",
       over="repositories")
def ecr_repository_scan_on_push_enabled(repo: Repository, ctx: CheckContext) -> Result:
    if repo.scan_on_push:
        return Result.passed(f"ECR repository {repo.id} scans images on push.")
    # Only now does the registry-wide setting matter, so only now can its absence make this an ERROR.
    if "registry_scan_type" in repo.errors:
        return Result.error(f"{repo.id}: could not collect registry_scan_type: {repo.errors['registry_scan_type']}")
    if repo.registry_scan_type == "ENHANCED":
        return Result.passed(f"ECR repository {repo.id} is covered by the registry's enhanced scanning.")
    return Result.failed(f"ECR repository {repo.id} does not scan images on push and the registry uses "
                         f"{repo.registry_scan_type or 'no'} scanning.")


@check(id="ecr_repository_tag_immutability_enabled", service="ecr", resource_type="AWS::ECR::Repository",
       scope="regional", severity="low", pillar="security", frameworks={"aws-fsbp": ["ECR.2"]},
       title="ECR repository has tag immutability enabled",
       risk="Mutable tags let anyone who can push overwrite a trusted tag with a different image.",
       remediation="In the ECR console open the repository, choose Edit and set 'Tag immutability' to "
                   "Immutable. CLI: aws ecr put-image-tag-mutability --repository-name <repository> "
                   "--image-tag-mutability IMMUTABLE",
       over="repositories")
def ecr_repository_tag_immutability_enabled(repo: Repository, ctx: CheckContext) -> Result:
    if repo.tag_mutability.startswith("MUTABLE"):
        return Result.failed(f"ECR repository {repo.id} has mutable image tags ({repo.tag_mutability}).")
    return Result.passed(f"ECR repository {repo.id} has immutable image tags ({repo.tag_mutability}).")


@check(id="ecr_repository_lifecycle_policy_configured", service="ecr", resource_type="AWS::ECR::Repository",
       scope="regional", severity="low", pillar="sustainability", frameworks={"aws-fsbp": ["ECR.3"]},
       title="ECR repository has a lifecycle policy",
       risk="Without a lifecycle policy, old and untagged images accumulate, adding storage cost and stale "
            "vulnerable images.",
       remediation="In the ECR console open the repository, Lifecycle Policy, 'Create rule', and expire "
                   "untagged or old images. CLI: aws ecr put-lifecycle-policy --repository-name <repository> "
                   "--lifecycle-policy-text file://lifecycle.json",
       over="repositories", needs=("has_lifecycle_policy",))
def ecr_repository_lifecycle_policy_configured(repo: Repository, ctx: CheckContext) -> Result:
    if not repo.has_lifecycle_policy:
        return Result.failed(f"ECR repository {repo.id} has no lifecycle policy.")
    return Result.passed(f"ECR repository {repo.id} has a lifecycle policy.")


@check(id="ecr_repository_policy_public_access_prohibited", service="ecr", resource_type="AWS::ECR::Repository",
       scope="regional", severity="critical", pillar="security",
       title="ECR repository policy does not allow public access",
       risk="A repository policy statement that allows any principal without conditions lets anyone pull "
            "(or push) images, exposing code and embedded secrets.",
       remediation="In the ECR console open the repository, Permissions, choose 'Edit policy JSON' and remove or "
                   "restrict (with specific principals or a Condition) the statements whose Principal is \"*\". "
                   "CLI: aws ecr set-repository-policy --repository-name <repository> --policy-text "
                   "file://policy.json (or aws ecr delete-repository-policy --repository-name <repository>)",
       over="repositories", needs=("policy",))
def ecr_repository_policy_public_access_prohibited(repo: Repository, ctx: CheckContext) -> Result:
    public = public_statement_ids(repo.policy)
    if public:
        return Result.failed(f"ECR repository {repo.id} policy has public statement(s) {', '.join(public)}.")
    return Result.passed(f"ECR repository {repo.id} policy has no public statement.")
