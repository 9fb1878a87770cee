"""OpenSearch checks against the emulator: one PASS and one FAIL test per check, batching, the ERROR
path, and the demo estate's OpenSearch seeder."""

from __future__ import annotations

import json
import urllib.request

from engine.credentials import AwsOptions, account_session
from engine.model import Unit
from engine.runtime.unit import run_unit
from engine.sandbox.estate import seed_demo_estate
from tests.conftest import status_of

REGIONS = ("us-east-1", "eu-west-1")
AT_REST = "opensearch_domain_encrypted_at_rest"
NODE_TO_NODE = "opensearch_domain_node_to_node_encrypted"
TLS = "opensearch_domain_https_tls12_enforced"
VPC = "opensearch_domain_in_vpc"
ALL_CHECKS = (AT_REST, NODE_TO_NODE, TLS, VPC)
TLS12 = "Policy-Min-TLS-1-2-PFS-2023-10"
DESCRIBE_DOMAINS = "POST /2021-01-01/opensearch/domain-info"


def _sandbox(aws, command: str, spec: dict | None = None, *, post: bool = True) -> dict:
    req = urllib.request.Request(aws.endpoint + "/_sandbox/" + command, method="POST" if post else "GET",
                                 data=json.dumps(spec or {}).encode() if post else None,
                                 headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


def _fail(aws, action: str, count: int = 1) -> None:
    """Make the next `count` calls of `action` answer AccessDenied (not retried, so fast)."""
    _sandbox(aws, "faults", {"fail": {action: {"code": "AccessDeniedException", "status": 403, "count": count}}})


def _domain(aws, name: str, *, at_rest: bool = True, node_to_node: bool = True, enforce_https: bool = True,
            tls_policy: str = TLS12, vpc: bool = True) -> str:
    options = {"EncryptionAtRestOptions": {"Enabled": at_rest},
               "NodeToNodeEncryptionOptions": {"Enabled": node_to_node},
               "DomainEndpointOptions": {"EnforceHTTPS": enforce_https, "TLSSecurityPolicy": tls_policy}}
    if vpc:
        options["VPCOptions"] = {"SubnetIds": ["subnet-0123456789abcdef0"]}
    aws.client("opensearch").create_domain(DomainName=name, **options)
    return name


def test_domain_with_every_protection_passes_all_checks(aws):
    domain = _domain(aws, "cs-good")
    findings = aws.scan("opensearch")
    for check_id in ALL_CHECKS:
        assert status_of(findings, check_id, domain) == "PASS", check_id


def test_domain_without_encryption_at_rest_fails(aws):
    domain = _domain(aws, "cs-plain", at_rest=False)
    assert status_of(aws.scan("opensearch"), AT_REST, domain) == "FAIL"


def test_domain_without_node_to_node_encryption_fails(aws):
    domain = _domain(aws, "cs-plain", node_to_node=False)
    assert status_of(aws.scan("opensearch"), NODE_TO_NODE, domain) == "FAIL"


def test_domain_without_https_or_with_old_tls_fails_tls_check(aws):
    no_https = _domain(aws, "cs-http", enforce_https=False)
    old_tls = _domain(aws, "cs-tls10", tls_policy="Policy-Min-TLS-1-0-2019-07")
    findings = aws.scan("opensearch")
    assert status_of(findings, TLS, no_https) == "FAIL"
    assert status_of(findings, TLS, old_tls) == "FAIL"


def test_domain_outside_vpc_fails_vpc_check(aws):
    domain = _domain(aws, "cs-public", vpc=False)
    assert status_of(aws.scan("opensearch"), VPC, domain) == "FAIL"


def test_domains_are_described_five_at_a_time(aws):
    names = [_domain(aws, f"cs-domain-{i}") for i in range(6)]
    _sandbox(aws, "reset-stats")
    findings = aws.scan("opensearch")
    assert all(status_of(findings, AT_REST, name) == "PASS" for name in names)
    assert _sandbox(aws, "stats", post=False)["by_action"][DESCRIBE_DOMAINS] == 2


def test_failed_describe_domains_reports_error_never_pass(aws):
    domain = _domain(aws, "cs-good")
    _fail(aws, DESCRIBE_DOMAINS)
    findings = aws.scan("opensearch")
    for check_id in ALL_CHECKS:
        assert status_of(findings, check_id, domain) == "ERROR", check_id


def test_demo_estate_seeder_matches_opensearch_checks(aws):
    manifest = seed_demo_estate(aws.server, accounts=1, regions=REGIONS, services=("opensearch",))
    account = manifest.accounts[0]
    session = account_session(account, AwsOptions(endpoint_url=aws.endpoint, role_name=manifest.role_name,
                                                  external_id=manifest.external_id, api_rate_per_s=0))
    findings = [f for region in REGIONS for f in
                run_unit(Unit(account, region, "opensearch"), session, scanned_regions=REGIONS,
                         threads=4).findings]
    got = {(f.check_id, f.region, f.resource_id): f.status.value for f in findings}
    assert len(got) == len(findings)
    assert got == {(e.check_id, e.region, e.resource_id): e.status for e in manifest.expectations
                   if e.check_id.startswith("opensearch_")}
