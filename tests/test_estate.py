"""The demo estate: its accounts, its assume-role behaviour, and that a scan of it finds exactly what
its manifest promises (the ground truth the end-to-end tests and benchmarks rely on)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import botocore.exceptions
import pytest

from engine.checks import load_all as load_checks
from engine.collectors import load_all as load_collectors
from engine.credentials import AccountSession, AwsOptions, account_session, forget_sessions
from engine.errors import AssumeRoleError
from engine.model import GLOBAL_REGION, Finding, Scope, Unit
from engine.runtime.unit import run_unit
from engine.sandbox.estate import Manifest, member_account_id, seed_demo_estate
from engine.sandbox.server import EmulatorServer

REGIONS = ("us-east-1", "eu-west-1")
MEMBERS = ["111111111111", "222222222222", "333333333333"]


@pytest.fixture(scope="module")
def estate(emulator: EmulatorServer) -> Iterator[Manifest]:
    """Three member accounts in two regions plus one account without the audit role."""
    emulator.reset()
    # Cached assumed-role sessions of earlier tests hold keys the reset made unknown to the emulator.
    forget_sessions()
    yield seed_demo_estate(emulator, accounts=3, regions=REGIONS, unassumable=1)
    forget_sessions()
    emulator.reset()


def _options(server: EmulatorServer, manifest: Manifest, external_id: str | None = None) -> AwsOptions:
    return AwsOptions(endpoint_url=server.endpoint, role_name=manifest.role_name,
                      external_id=external_id or manifest.external_id, api_rate_per_s=0, max_attempts=2)


def _sts(server: EmulatorServer):
    return boto3.client("sts", region_name="us-east-1", endpoint_url=server.endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_member_account_ids_are_deterministic_twelve_digit_ids() -> None:
    assert [member_account_id(n) for n in (1, 9, 10, 11)] == [
        "111111111111", "999999999999", "100000000010", "100000000011"]


def test_manifest_lists_members_and_unassumable_accounts_apart(estate: Manifest) -> None:
    assert estate.accounts == MEMBERS
    assert estate.unassumable_accounts == ["444444444444"]
    assert estate.regions == REGIONS
    assert {e.account_id for e in estate.expectations} == set(MEMBERS)


def test_manifest_round_trips_through_json(estate: Manifest) -> None:
    assert Manifest.from_dict(json.loads(json.dumps(estate.to_dict()))) == estate


def test_manifest_expects_each_finding_once_and_only_registered_checks(estate: Manifest) -> None:
    keys = [(e.check_id, e.account_id, e.region, e.resource_id) for e in estate.expectations]
    assert len(keys) == len(set(keys))
    assert {e.check_id for e in estate.expectations} <= set(load_checks())
    assert {e.status for e in estate.expectations} == {"PASS", "FAIL"}


def test_assume_role_into_unassumable_account_is_denied(emulator: EmulatorServer, estate: Manifest) -> None:
    account = estate.unassumable_accounts[0]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        _sts(emulator).assume_role(RoleArn=f"arn:aws:iam::{account}:role/{estate.role_name}",
                                   RoleSessionName="test", ExternalId=estate.external_id)
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    # The scanner's own session reports it as an actionable assume-role error.
    with pytest.raises(AssumeRoleError) as err:
        AccountSession(account, _options(emulator, estate))
    assert err.value.code == "AccessDenied"


def test_assume_role_with_the_external_id_enters_the_member_account(emulator: EmulatorServer,
                                                                    estate: Manifest) -> None:
    account = estate.accounts[1]
    creds = _sts(emulator).assume_role(RoleArn=f"arn:aws:iam::{account}:role/{estate.role_name}",
                                       RoleSessionName="test", ExternalId=estate.external_id)["Credentials"]
    me = boto3.client("sts", region_name="us-east-1", endpoint_url=emulator.endpoint,
                      aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                      aws_session_token=creds["SessionToken"]).get_caller_identity()
    assert me["Account"] == account


def test_assume_role_with_a_wrong_external_id_is_denied(emulator: EmulatorServer, estate: Manifest) -> None:
    account = estate.accounts[0]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        _sts(emulator).assume_role(RoleArn=f"arn:aws:iam::{account}:role/{estate.role_name}",
                                   RoleSessionName="test", ExternalId="not-the-external-id")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"


def _scan_account(server: EmulatorServer, manifest: Manifest, account: str) -> list[Finding]:
    session = account_session(account, _options(server, manifest))
    units: list[Unit] = []
    for service, col in sorted(load_collectors().items()):  # every service of the catalogue
        if col.scope is Scope.GLOBAL:
            units.append(Unit(account, GLOBAL_REGION, service))
        else:
            units.extend(Unit(account, region, service) for region in manifest.regions)
    findings: list[Finding] = []
    for unit in units:
        result = run_unit(unit, session, scanned_regions=manifest.regions, threads=4)
        assert result.error is None, f"{unit.key} could not be collected: {result.error}"
        findings.extend(result.findings)
    return findings


@pytest.mark.parametrize("account", MEMBERS)
def test_a_scan_of_the_account_meets_every_expectation(emulator: EmulatorServer, estate: Manifest,
                                                       account: str) -> None:
    findings = _scan_account(emulator, estate, account)
    got: dict[tuple[str, str, str], list[str]] = {}
    for f in findings:
        assert f.account_id == account
        got.setdefault((f.check_id, f.region, f.resource_id), []).append(f.status.value)
    wrong = []
    for e in estate.expectations_for(account):
        statuses = got.get((e.check_id, e.region, e.resource_id))
        if statuses != [e.status]:
            wrong.append(f"{e.check_id} {e.region} {e.resource_id}: expected {e.status}, got {statuses}")
    assert not wrong, f"{len(wrong)} expectations not met:\n" + "\n".join(wrong)
