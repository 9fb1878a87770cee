"""Demo estate: ACM certificates (per region), self-signed and imported."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

EXPIRY = "acm_certificate_not_expiring_30_days"
KEY = "acm_certificate_rsa_key_2048"


@seeder("acm")
def seed_acm(ctx: SeedContext, region: str) -> None:
    """A 1024-bit RSA certificate, an EC certificate that expires in 10 days, and a 2048-bit RSA
    certificate valid for a year."""
    acm = ctx.client("acm", region)
    for kind, expected in (("rsa1024", {EXPIRY: PASS, KEY: FAIL}), ("ec-expiring", {EXPIRY: FAIL, KEY: PASS}),
                           ("rsa2048", {EXPIRY: PASS, KEY: PASS})):
        cert, key = _pem(kind)
        arn = acm.import_certificate(Certificate=cert, PrivateKey=key, Tags=[
            {"Key": "Name", "Value": ctx.name(kind)}])["CertificateArn"]
        for check_id, status in expected.items():
            ctx.expect(check_id, region, arn.rsplit("/", 1)[-1], status)


@functools.cache
def _pem(kind: str) -> tuple[bytes, bytes]:
    """A self-signed certificate and its key, generated once per process (RSA key generation is slow)."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if kind == "ec-expiring":
        key, days = ec.generate_private_key(ec.SECP256R1()), 10
    else:
        key, days = rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:])), 365
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{kind}.demo.example.com")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=days)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()))
