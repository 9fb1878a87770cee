"""Demo estate: OpenSearch Service domains (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

CHECKS = ("opensearch_domain_encrypted_at_rest", "opensearch_domain_node_to_node_encrypted",
          "opensearch_domain_https_tls12_enforced", "opensearch_domain_in_vpc")


@seeder("opensearch")
def seed_opensearch(ctx: SeedContext, region: str) -> None:
    """A public domain with every protection off (the defaults), and a VPC domain with all of them on."""
    client = ctx.client("opensearch", region)
    bad, good = ctx.name("os-public"), ctx.name("os-good")
    client.create_domain(DomainName=bad, EngineVersion="OpenSearch_2.11")
    subnet = ctx.client("ec2", region).describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]["SubnetId"]
    client.create_domain(
        DomainName=good, EngineVersion="OpenSearch_2.11",
        EncryptionAtRestOptions={"Enabled": True}, NodeToNodeEncryptionOptions={"Enabled": True},
        DomainEndpointOptions={"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"},
        VPCOptions={"SubnetIds": [subnet]})
    for check_id in CHECKS:
        ctx.expect(check_id, region, bad, FAIL)
        ctx.expect(check_id, region, good, PASS)
