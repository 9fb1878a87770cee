"""ACM collector: certificates of every key type, with their key algorithm and expiry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch
from engine.model import Scope
from engine.throttle import paginate

# Without Includes.keyTypes, ListCertificates returns only RSA_1024 and RSA_2048 certificates.
ALL_KEY_TYPES = ("RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1",
                 "EC_secp521r1")
# Statuses of certificates that have been issued, so have (or had) a validity period.
ISSUED_STATUSES = frozenset({"ISSUED", "EXPIRED", "INACTIVE", "REVOKED"})
DETAIL_FIELDS = ("key_algorithm", "not_after")


@dataclass
class Certificate(Resource):
    domain_name: str = ""
    status: str = ""
    key_algorithm: str | None = None
    # None for a certificate that was never issued (e.g. pending validation).
    not_after: datetime | None = None


@dataclass
class AcmData(ServiceData):
    certificates: list[Certificate] = field(default_factory=list)


@collector("acm", scope=Scope.REGIONAL, cost=1.0, title="ACM")
def collect_acm(ctx: CollectContext) -> AcmData:
    """List the region's certificates of all key types. The summaries carry the key algorithm and
    expiry; DescribeCertificate is called only for a certificate whose summary lacks them."""
    acm = ctx.client("acm")
    data = AcmData(account_id=ctx.account_id, region=ctx.region)
    data.certificates = [
        _certificate(ctx.region, s) for s in
        paginate(acm, "list_certificates", "CertificateSummaryList",
                 Includes={"keyTypes": list(ALL_KEY_TYPES)}, MaxItems=1000)
    ]
    incomplete = [c for c in data.certificates
                  if c.key_algorithm is None or (c.not_after is None and c.status in ISSUED_STATUSES)]
    ctx.map(lambda c: _describe(acm, c), incomplete)
    return data


def _certificate(region: str, summary: dict[str, Any]) -> Certificate:
    arn = summary["CertificateArn"]
    return Certificate(id=arn.rsplit("/", 1)[-1], arn=arn, region=region,
                       domain_name=summary.get("DomainName", ""), status=summary.get("Status", ""),
                       key_algorithm=summary.get("KeyAlgorithm"),
                       not_after=summary.get("NotAfter"))


def _describe(acm: Any, cert: Certificate) -> None:
    resp, err = fetch(acm.describe_certificate, CertificateArn=cert.arn)
    if err is not None:
        for name in DETAIL_FIELDS:
            cert.errors[name] = err
        return
    detail = resp.get("Certificate", {})
    cert.key_algorithm = detail.get("KeyAlgorithm") or cert.key_algorithm
    cert.not_after = detail.get("NotAfter") or cert.not_after
    cert.status = detail.get("Status") or cert.status
