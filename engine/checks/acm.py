"""ACM checks: certificate expiry and RSA key length."""

from __future__ import annotations

from datetime import UTC, timedelta

from engine.checks import CheckContext, Result, check
from engine.collectors.acm import Certificate


def _label(cert: Certificate) -> str:
    return f"Certificate {cert.id} ({cert.domain_name})" if cert.domain_name else f"Certificate {cert.id}"


@check(id="acm_certificate_not_expiring_30_days", service="acm",
       resource_type="AWS::CertificateManager::Certificate", scope="regional", severity="medium",
       pillar="reliability", frameworks={"aws-fsbp": ["ACM.1"]},
       title="ACM certificate does not expire within 30 days",
       risk="An expired certificate breaks TLS for every client of the services that use it; imported "
            "certificates are not renewed by ACM.",
       remediation="For an imported certificate, obtain a new certificate from the issuer and re-import it "
                   "over the existing one in the ACM console (Certificates, select it, 'Reimport'). For an "
                   "ACM-issued certificate, complete the domain validation so ACM can renew it, or request a "
                   "new one and switch the services to it. CLI: aws acm import-certificate --certificate-arn "
                   "<certificate-arn> --certificate fileb://cert.pem --private-key fileb://key.pem "
                   "--certificate-chain fileb://chain.pem",
       over="certificates", needs=("not_after",))
def acm_certificate_not_expiring_30_days(cert: Certificate, ctx: CheckContext) -> Result | None:
    if cert.not_after is None:  # never issued (e.g. pending validation): nothing expires
        return None
    days = int(ctx.param("acm_certificate_not_expiring_30_days", "days", 30))
    not_after = cert.not_after if cert.not_after.tzinfo else cert.not_after.replace(tzinfo=UTC)
    left = not_after - ctx.scan_time
    when = not_after.astimezone(UTC).strftime("%Y-%m-%d")
    if left <= timedelta(0):
        return Result.failed(f"{_label(cert)} expired on {when}.")
    if left < timedelta(days=days):
        return Result.failed(f"{_label(cert)} expires on {when}, in {left.days} day(s) (threshold {days}).")
    return Result.passed(f"{_label(cert)} is valid until {when}, more than {days} days from now.")


@check(id="acm_certificate_rsa_key_2048", service="acm",
       resource_type="AWS::CertificateManager::Certificate", scope="regional", severity="high",
       pillar="security", frameworks={"aws-fsbp": ["ACM.2"]},
       title="ACM certificate uses an RSA key of at least 2048 bits",
       risk="A 1024-bit RSA key is within reach of well-funded attackers, who could impersonate the service "
            "or decrypt recorded traffic.",
       remediation="Issue a replacement certificate with an RSA 2048-bit (or larger) or ECDSA key: request "
                   "one in the ACM console (Request, choose the key algorithm) or import one generated with "
                   "such a key, move the services that use the old certificate to it, then delete the old "
                   "one. CLI: aws acm request-certificate --domain-name <domain> --validation-method DNS "
                   "--key-algorithm RSA_2048",
       over="certificates", needs=("key_algorithm",))
def acm_certificate_rsa_key_2048(cert: Certificate, ctx: CheckContext) -> Result | None:
    if cert.key_algorithm is None:
        return None
    if cert.key_algorithm == "RSA_1024":
        return Result.failed(f"{_label(cert)} uses a 1024-bit RSA key.")
    return Result.passed(f"{_label(cert)} uses key algorithm {cert.key_algorithm}.")
