"""OpenSearch Service checks: encryption at rest and in transit, HTTPS with TLS 1.2, VPC placement."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.opensearch import Domain

DOMAIN_TYPE = "AWS::OpenSearchService::Domain"
TLS12_POLICY_PREFIX = "Policy-Min-TLS-1-2"


@check(id="opensearch_domain_encrypted_at_rest", service="opensearch", resource_type=DOMAIN_TYPE,
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["OpenSearch.1"]},
       title="OpenSearch domain is encrypted at rest",
       risk="Without encryption at rest, indices, logs and automated snapshots of the domain are stored in "
            "clear text.",
       remediation="In the OpenSearch Service console open the domain, Actions, 'Edit security configuration', "
                   "turn on 'Enable encryption of data at rest' and save (older engine versions need a new "
                   "domain). CLI: aws opensearch update-domain-config --domain-name <domain> "
                   "--encryption-at-rest-options Enabled=true",
       over="domains", needs=("encryption_at_rest",))
def opensearch_domain_encrypted_at_rest(domain: Domain, ctx: CheckContext) -> Result:
    if domain.encryption_at_rest:
        return Result.passed(f"OpenSearch domain {domain.id} is encrypted at rest.")
    return Result.failed(f"OpenSearch domain {domain.id} is not encrypted at rest.")


@check(id="opensearch_domain_node_to_node_encrypted", service="opensearch", resource_type=DOMAIN_TYPE,
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["OpenSearch.3"]},
       title="OpenSearch domain encrypts node-to-node traffic",
       risk="Without node-to-node encryption, data exchanged between the domain's nodes travels in clear "
            "text inside the network.",
       remediation="In the OpenSearch Service console open the domain, Actions, 'Edit security configuration', "
                   "turn on 'Node-to-node encryption' and save. CLI: aws opensearch update-domain-config "
                   "--domain-name <domain> --node-to-node-encryption-options Enabled=true",
       over="domains", needs=("node_to_node_encryption",))
def opensearch_domain_node_to_node_encrypted(domain: Domain, ctx: CheckContext) -> Result:
    if domain.node_to_node_encryption:
        return Result.passed(f"OpenSearch domain {domain.id} encrypts node-to-node traffic.")
    return Result.failed(f"OpenSearch domain {domain.id} does not encrypt node-to-node traffic.")


@check(id="opensearch_domain_https_tls12_enforced", service="opensearch", resource_type=DOMAIN_TYPE,
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["OpenSearch.8"]},
       title="OpenSearch domain requires HTTPS with TLS 1.2 or later",
       risk="A domain that accepts plain HTTP or TLS 1.0/1.1 lets clients send queries and credentials over "
            "connections that can be intercepted or downgraded.",
       remediation="In the OpenSearch Service console open the domain, Actions, 'Edit security configuration', "
                   "turn on 'Require HTTPS for all traffic to the domain', choose TLS security policy "
                   "Policy-Min-TLS-1-2-PFS-2023-10 and save. CLI: aws opensearch update-domain-config "
                   "--domain-name <domain> --domain-endpoint-options "
                   "EnforceHTTPS=true,TLSSecurityPolicy=Policy-Min-TLS-1-2-PFS-2023-10",
       over="domains", needs=("endpoint_options",))
def opensearch_domain_https_tls12_enforced(domain: Domain, ctx: CheckContext) -> Result:
    options = domain.endpoint_options or {}
    policy = options.get("TLSSecurityPolicy") or ""
    if not options.get("EnforceHTTPS"):
        return Result.failed(f"OpenSearch domain {domain.id} does not require HTTPS.")
    if not policy.startswith(TLS12_POLICY_PREFIX):
        return Result.failed(f"OpenSearch domain {domain.id} allows TLS below 1.2 (policy {policy or 'unset'}).")
    return Result.passed(f"OpenSearch domain {domain.id} requires HTTPS with TLS 1.2 or later ({policy}).")


@check(id="opensearch_domain_in_vpc", service="opensearch", resource_type=DOMAIN_TYPE,
       scope="regional", severity="high", pillar="security", frameworks={"aws-fsbp": ["OpenSearch.2"]},
       title="OpenSearch domain is deployed in a VPC",
       risk="A domain outside a VPC has a public endpoint, reachable from the internet and protected only by "
            "its access policy.",
       remediation="A domain cannot be moved into a VPC: create a new domain with VPC access (OpenSearch "
                   "Service console, 'Create domain', Network: 'VPC access', choose subnets and security "
                   "groups), migrate the data (for example from a snapshot) and delete the public domain. CLI: "
                   "aws opensearch create-domain --domain-name <domain> --vpc-options "
                   "SubnetIds=<subnet-id>,SecurityGroupIds=<sg-id> ...",
       over="domains", needs=("vpc_subnet_ids",))
def opensearch_domain_in_vpc(domain: Domain, ctx: CheckContext) -> Result:
    if domain.vpc_subnet_ids:
        return Result.passed(f"OpenSearch domain {domain.id} is deployed in a VPC "
                             f"(subnets {', '.join(domain.vpc_subnet_ids)}).")
    return Result.failed(f"OpenSearch domain {domain.id} is not deployed in a VPC (public endpoint).")
