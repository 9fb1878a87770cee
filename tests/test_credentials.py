"""Per-account sessions: assume-role with external id, refresh before expiry, emulator endpoint
handling (s3control host, not-implemented answers), client reuse, credential errors."""

from __future__ import annotations

import time

import pytest

from engine.credentials import AwsOptions, account_session, forget_sessions
from engine.errors import AssumeRoleError
from engine.model import Status
from engine.sandbox.estate import seed_demo_estate
from engine.throttle import CallStats, current_stats, describe_error

from .conftest import ACCOUNT
from .conftest import sandbox_control as _sandbox


@pytest.fixture
def member(aws):
    manifest = seed_demo_estate(aws.server, accounts=1, regions=("us-east-1",))
    forget_sessions()
    return manifest


def test_assume_role_with_external_id_acts_in_the_member_account(aws, member):
    opts = AwsOptions(endpoint_url=aws.endpoint, role_name=member.role_name, external_id=member.external_id)
    s = account_session(member.accounts[0], opts)
    assert s.client("sts", "us-east-1").get_caller_identity()["Account"] == member.accounts[0]


@pytest.mark.parametrize("role,external_id", [("CloudScreenAudit", "wrong-id"), ("NoSuchRole", "cloudscreen-demo"),
                                              ("CloudScreenAudit", None)])
def test_unassumable_role_is_a_clear_error_naming_the_role(aws, member, role, external_id):
    opts = AwsOptions(endpoint_url=aws.endpoint, role_name=role, external_id=external_id)
    with pytest.raises(AssumeRoleError) as err:
        account_session(member.accounts[0], opts)
    msg = str(err.value)
    assert f"arn:aws:iam::{member.accounts[0]}:role/{role}" in msg and "AccessDenied" in msg
    assert "trust policy" in msg


def test_credentials_are_refreshed_before_they_expire(aws, member):
    # 15-minute credentials sit inside botocore's advisory refresh window: each use renews them.
    opts = AwsOptions(endpoint_url=aws.endpoint, role_name=member.role_name, external_id=member.external_id,
                      assume_role_duration_s=900)
    _sandbox(aws.endpoint, "reset-stats", {})
    s = account_session(member.accounts[0], opts)
    first = s.credentials.get_frozen_credentials().access_key
    s.client("ec2", "us-east-1").describe_vpcs()
    s.client("ec2", "us-east-1").describe_vpcs()
    assert _sandbox(aws.endpoint, "stats")["by_action"]["AssumeRole"] >= 2
    assert s.credentials.get_frozen_credentials().access_key != first
    assert s.client("sts", "us-east-1").get_caller_identity()["Account"] == member.accounts[0]


def test_s3control_reaches_a_custom_endpoint_despite_the_account_host_prefix(aws):
    c = aws.client("s3control")
    cfg = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    c.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=cfg)
    assert c.get_public_access_block(AccountId=ACCOUNT)["PublicAccessBlockConfiguration"] == cfg


def test_not_implemented_operation_fails_fast_without_retries(aws):
    ec2 = aws.client("ec2")
    ec2.describe_vpcs()  # warm the region's backend
    _sandbox(aws.endpoint, "reset-stats", {})
    t0 = time.monotonic()
    with pytest.raises(Exception) as err:
        ec2.get_snapshot_block_public_access_state()
    assert time.monotonic() - t0 < 1.0
    assert "not supported by the endpoint" in describe_error(err.value)
    assert _sandbox(aws.endpoint, "stats")["requests"] == 1


def test_clients_are_built_once_per_account_region_service(aws):
    stats = CallStats()
    token = current_stats.set(stats)
    try:
        s = aws.session()
        assert s.client("ec2", "us-east-1") is s.client("ec2", "us-east-1")
        assert s.client("ec2", "eu-west-1") is not s.client("ec2", "us-east-1")
    finally:
        current_stats.reset(token)
    assert stats.clients_created == 2


def test_expired_token_mid_scan_is_an_error_finding_not_a_pass(aws):
    aws.client("ec2").create_security_group(GroupName="web", Description="web")
    expired = {"code": "ExpiredToken", "count": 5, "message": "The security token included in the request is expired"}
    _sandbox(aws.endpoint, "faults", {"fail": {"DescribeSecurityGroups": expired}})
    findings = aws.scan("ec2", "us-east-1")
    sg = [f for f in findings if f.check_id.startswith("ec2_securitygroup")]
    assert sg and all(f.status is Status.ERROR for f in sg)
    assert all("ExpiredToken" in f.message for f in sg)
    assert not any(f.status is Status.PASS and f.check_id.startswith("ec2_securitygroup") for f in findings)
