"""Demo estate: ECR repositories (per region)."""

from __future__ import annotations

import json

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

REPOSITORY_CHECKS = (
    "ecr_repository_scan_on_push_enabled",
    "ecr_repository_tag_immutability_enabled",
    "ecr_repository_lifecycle_policy_configured",
    "ecr_repository_policy_public_access_prohibited",
)
EXPIRE_UNTAGGED = json.dumps({"rules": [{
    "rulePriority": 1, "description": "expire untagged images after 14 days",
    "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
    "action": {"type": "expire"}}]})


@seeder("ecr")
def seed_ecr(ctx: SeedContext, region: str) -> None:
    """A repository with every default (mutable tags, no scanning, no lifecycle) that anyone may pull from,
    and one passing every ECR check. The registry keeps basic scanning."""
    ecr = ctx.client("ecr", region)
    bad = ctx.name("open-repo")
    ecr.create_repository(repositoryName=bad)
    ecr.set_repository_policy(repositoryName=bad, policyText=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AnyoneMayPull", "Effect": "Allow", "Principal": "*",
        "Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]}]}))
    for check_id in REPOSITORY_CHECKS:
        ctx.expect(check_id, region, bad, FAIL)

    good = ctx.name("locked-repo")
    ecr.create_repository(repositoryName=good, imageTagMutability="IMMUTABLE",
                          imageScanningConfiguration={"scanOnPush": True})
    ecr.put_lifecycle_policy(repositoryName=good, lifecyclePolicyText=EXPIRE_UNTAGGED)
    for check_id in REPOSITORY_CHECKS:
        ctx.expect(check_id, region, good, PASS)
