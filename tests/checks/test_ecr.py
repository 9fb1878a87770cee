"""ECR checks against the emulator: one PASS and one FAIL test per check, the ERROR paths, and the demo
estate's ECR expectations."""

from __future__ import annotations

import json

from engine.sandbox.estate.ecr import EXPIRE_UNTAGGED
from tests.conftest import estate_mismatches, findings_for, inject_failure, status_of


def _repo(aws, name: str = "web", **kwargs) -> str:
    aws.client("ecr").create_repository(repositoryName=name, **kwargs)
    return name


def _pull_policy(principal, condition: dict | None = None) -> str:
    statement = {"Sid": "Pull", "Effect": "Allow", "Principal": principal,
                 "Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


# -- scan on push --

def test_repository_scanning_on_push_passes_scan_check(aws):
    repo = _repo(aws, imageScanningConfiguration={"scanOnPush": True})
    findings = aws.scan("ecr")
    assert status_of(findings, "ecr_repository_scan_on_push_enabled", repo) == "PASS"
    assert findings_for(findings, "ecr_repository_scan_on_push_enabled", repo)[0].resource_arn == \
        "arn:aws:ecr:us-east-1:123456789012:repository/web"


def test_repository_in_registry_with_enhanced_scanning_passes_scan_check(aws):
    repo = _repo(aws)
    aws.client("ecr").put_registry_scanning_configuration(scanType="ENHANCED", rules=[{
        "scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}])
    assert status_of(aws.scan("ecr"), "ecr_repository_scan_on_push_enabled", repo) == "PASS"


def test_repository_without_scanning_fails_scan_check(aws):
    repo = _repo(aws)
    assert status_of(aws.scan("ecr"), "ecr_repository_scan_on_push_enabled", repo) == "FAIL"


# -- tag immutability --

def test_repository_with_immutable_tags_passes_immutability_check(aws):
    repo = _repo(aws, imageTagMutability="IMMUTABLE")
    assert status_of(aws.scan("ecr"), "ecr_repository_tag_immutability_enabled", repo) == "PASS"


def test_repository_with_mutable_tags_fails_immutability_check(aws):
    repo = _repo(aws)
    assert status_of(aws.scan("ecr"), "ecr_repository_tag_immutability_enabled", repo) == "FAIL"


def test_repository_mutable_with_exclusions_fails_immutability_check(aws):
    repo = _repo(aws, imageTagMutability="MUTABLE_WITH_EXCLUSION",
                 imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "release-*"}])
    assert status_of(aws.scan("ecr"), "ecr_repository_tag_immutability_enabled", repo) == "FAIL"


# -- lifecycle policy --

def test_repository_with_lifecycle_policy_passes_lifecycle_check(aws):
    repo = _repo(aws)
    aws.client("ecr").put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=EXPIRE_UNTAGGED)
    assert status_of(aws.scan("ecr"), "ecr_repository_lifecycle_policy_configured", repo) == "PASS"


def test_repository_without_lifecycle_policy_fails_lifecycle_check(aws):
    repo = _repo(aws)
    findings = aws.scan("ecr")
    assert status_of(findings, "ecr_repository_lifecycle_policy_configured", repo) == "FAIL"
    assert findings_for(findings, "ecr_repository_lifecycle_policy_configured", repo)[0].frameworks == \
        {"aws-fsbp": ["ECR.3"]}


# -- repository policy --

def test_repository_policy_for_one_account_passes_public_policy_check(aws):
    repo = _repo(aws)
    aws.client("ecr").set_repository_policy(repositoryName=repo, policyText=_pull_policy(
        {"AWS": "arn:aws:iam::210987654321:root"}))
    assert status_of(aws.scan("ecr"), "ecr_repository_policy_public_access_prohibited", repo) == "PASS"


def test_repository_without_policy_passes_public_policy_check(aws):
    repo = _repo(aws)
    assert status_of(aws.scan("ecr"), "ecr_repository_policy_public_access_prohibited", repo) == "PASS"


def test_repository_policy_open_to_anyone_fails_public_policy_check(aws):
    repo = _repo(aws)
    aws.client("ecr").set_repository_policy(repositoryName=repo, policyText=_pull_policy({"AWS": ["*"]}))
    findings = aws.scan("ecr")
    assert status_of(findings, "ecr_repository_policy_public_access_prohibited", repo) == "FAIL"
    assert findings_for(findings, "ecr_repository_policy_public_access_prohibited", repo)[0].frameworks == {}


# -- errors --

def test_unreadable_registry_scanning_reports_error_only_where_it_matters(aws):
    unscanned = _repo(aws, "unscanned")
    scanned = _repo(aws, "scanned", imageScanningConfiguration={"scanOnPush": True})
    inject_failure(aws, "GetRegistryScanningConfiguration")
    findings = aws.scan("ecr")
    assert status_of(findings, "ecr_repository_scan_on_push_enabled", unscanned) == "ERROR"
    assert status_of(findings, "ecr_repository_scan_on_push_enabled", scanned) == "PASS"
    assert status_of(findings, "ecr_repository_tag_immutability_enabled", unscanned) == "FAIL"


def test_repository_whose_policies_cannot_be_read_reports_error_not_pass(aws):
    repo = _repo(aws)
    inject_failure(aws, "GetRepositoryPolicy")
    inject_failure(aws, "GetLifecyclePolicy")
    findings = aws.scan("ecr")
    assert status_of(findings, "ecr_repository_policy_public_access_prohibited", repo) == "ERROR"
    assert status_of(findings, "ecr_repository_lifecycle_policy_configured", repo) == "ERROR"


# -- demo estate --

def test_demo_estate_seeder_matches_ecr_checks(aws):
    assert estate_mismatches(aws, "ecr") == []
