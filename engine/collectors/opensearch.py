"""OpenSearch Service collector: domains (OpenSearch and Elasticsearch engines) with their
encryption, endpoint and network settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch
from engine.model import Scope
from engine.throttle import aws_call

# DescribeDomains accepts at most this many names per call.
DESCRIBE_BATCH = 5
DOMAIN_FIELDS = ("encryption_at_rest", "node_to_node_encryption", "endpoint_options", "vpc_subnet_ids")


@dataclass
class Domain(Resource):
    encryption_at_rest: bool | None = None
    node_to_node_encryption: bool | None = None
    # DomainEndpointOptions reduced to EnforceHTTPS and TLSSecurityPolicy.
    endpoint_options: dict[str, Any] | None = None
    vpc_subnet_ids: list[str] | None = None


@dataclass
class OpenSearchData(ServiceData):
    domains: list[Domain] = field(default_factory=list)


@collector("opensearch", scope=Scope.REGIONAL, cost=1.0, title="OpenSearch")
def collect_opensearch(ctx: CollectContext) -> OpenSearchData:
    """List the region's domain names, then describe them five at a time (the API's batch limit)."""
    client = ctx.client("opensearch")
    region, account = ctx.region, ctx.account_id
    data = OpenSearchData(account_id=account, region=region)
    listed = aws_call(client.list_domain_names).get("DomainNames", [])
    domains = [Domain(id=d["DomainName"], region=region,
                      arn=f"arn:aws:es:{region}:{account}:domain/{d['DomainName']}") for d in listed]
    batches = [domains[i:i + DESCRIBE_BATCH] for i in range(0, len(domains), DESCRIBE_BATCH)]
    kept = ctx.map(lambda batch: _describe_batch(client, batch), batches)
    data.domains = [d for batch in kept for d in batch]
    return data


def _describe_batch(client: Any, batch: list[Domain]) -> list[Domain]:
    """Fill a batch of domains; drop those deleted since listing. A failed call errors the whole batch."""
    resp, err = fetch(client.describe_domains, DomainNames=[d.id for d in batch])
    if err is not None:
        for domain in batch:
            for name in DOMAIN_FIELDS:
                domain.errors[name] = err
        return batch
    statuses = {s["DomainName"]: s for s in resp.get("DomainStatusList", [])}
    kept = []
    for domain in batch:
        status = statuses.get(domain.id)
        if status is None or status.get("Deleted"):
            continue
        domain.arn = status.get("ARN") or domain.arn
        domain.encryption_at_rest = bool((status.get("EncryptionAtRestOptions") or {}).get("Enabled"))
        domain.node_to_node_encryption = bool((status.get("NodeToNodeEncryptionOptions") or {}).get("Enabled"))
        endpoint = status.get("DomainEndpointOptions") or {}
        domain.endpoint_options = {"EnforceHTTPS": bool(endpoint.get("EnforceHTTPS")),
                                   "TLSSecurityPolicy": endpoint.get("TLSSecurityPolicy") or ""}
        domain.vpc_subnet_ids = list((status.get("VPCOptions") or {}).get("SubnetIds") or [])
        kept.append(domain)
    return kept
