"""ACM checks against the emulator (imported self-signed certificates, whose real dates and key sizes
the emulator keeps): one PASS and one FAIL test per check, the ERROR paths, and the demo estate's ACM
seeder."""

from __future__ import annotations

import functools
import json
import urllib.request
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from engine.credentials import AwsOptions, account_session
from engine.model import Unit
from engine.runtime.unit import run_unit
from engine.sandbox.estate import seed_demo_estate
from tests.conftest import findings_for, status_of

REGIONS = ("us-east-1", "eu-west-1")
EXPIRY = "acm_certificate_not_expiring_30_days"
KEY = "acm_certificate_rsa_key_2048"


def _fail(aws, action: str, count: int = 1) -> None:
    """Make the next `count` calls of `action` answer AccessDenied (not retried, so fast)."""
    spec = {"fail": {action: {"code": "AccessDeniedException", "status": 400, "count": count}}}
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST", data=json.dumps(spec).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


@functools.cache
def _key(kind: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """One key per kind for the whole test session (RSA generation is slow)."""
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))


def _import(aws, kind: str = "rsa2048", days: int = 365) -> str:
    """Import a self-signed certificate with a `kind` key valid for `days` more days; return its id."""
    key = _key(kind)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{kind}.example.com")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=days)).sign(key, hashes.SHA256()))
    arn = aws.client("acm").import_certificate(
        Certificate=cert.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption()))["CertificateArn"]
    return arn.rsplit("/", 1)[-1]


# -- expiry --

def test_certificate_valid_for_a_year_passes_expiry_check(aws):
    cert = _import(aws, days=365)
    assert status_of(aws.scan("acm"), EXPIRY, cert) == "PASS"


def test_certificate_expiring_in_ten_days_fails_expiry_check(aws):
    cert = _import(aws, "ec", days=10)
    findings = aws.scan("acm")
    assert status_of(findings, EXPIRY, cert) == "FAIL"
    assert "ec.example.com" in findings_for(findings, EXPIRY)[0].message


def test_certificate_expired_at_scan_time_fails_expiry_check(aws):
    # The emulator refuses to import an already-expired certificate: move the scan past its end instead.
    cert = _import(aws, days=365)
    findings = aws.scan("acm", scan_time=datetime.now(UTC) + timedelta(days=400))
    assert status_of(findings, EXPIRY, cert) == "FAIL"
    assert "expired on" in findings_for(findings, EXPIRY)[0].message


def test_expiry_threshold_is_a_parameter(aws):
    cert = _import(aws, "ec", days=10)
    findings = aws.scan("acm", params={EXPIRY: {"days": 5}})
    assert status_of(findings, EXPIRY, cert) == "PASS"


# -- key length --

def test_rsa_2048_and_ec_certificates_pass_key_check(aws):
    rsa_cert, ec_cert = _import(aws, "rsa2048"), _import(aws, "ec")
    findings = aws.scan("acm")
    assert status_of(findings, KEY, rsa_cert) == "PASS"
    assert status_of(findings, KEY, ec_cert) == "PASS"


def test_rsa_1024_certificate_fails_key_check(aws):
    cert = _import(aws, "rsa1024")
    assert status_of(aws.scan("acm"), KEY, cert) == "FAIL"


# -- summaries without details (older APIs): DescribeCertificate fills them in --

def _strip_summary_details(monkeypatch) -> None:
    from moto.acm.responses import AWSCertificateManagerResponse

    original = AWSCertificateManagerResponse.list_certificates

    def without_details(self):
        result = original(self)
        for summary in result.result["CertificateSummaryList"]:
            summary.pop("KeyAlgorithm", None)
            summary.pop("NotAfter", None)
        return result

    monkeypatch.setattr(AWSCertificateManagerResponse, "list_certificates", without_details)


def test_summary_without_key_and_expiry_is_completed_by_describe_certificate(aws, monkeypatch):
    _strip_summary_details(monkeypatch)
    cert = _import(aws, "rsa1024", days=10)
    findings = aws.scan("acm")
    assert status_of(findings, KEY, cert) == "FAIL"
    assert status_of(findings, EXPIRY, cert) == "FAIL"


def test_failed_describe_certificate_reports_error_never_pass(aws, monkeypatch):
    _strip_summary_details(monkeypatch)
    cert = _import(aws)
    _fail(aws, "DescribeCertificate")
    findings = aws.scan("acm")
    assert status_of(findings, KEY, cert) == "ERROR"
    assert status_of(findings, EXPIRY, cert) == "ERROR"


def test_failed_certificate_listing_reports_error_for_every_check(aws):
    _import(aws)
    _fail(aws, "ListCertificates")
    findings = aws.scan("acm")
    assert {(f.check_id, f.status.value) for f in findings} == {(EXPIRY, "ERROR"), (KEY, "ERROR")}


# -- demo estate --

def test_demo_estate_seeder_matches_acm_checks(aws):
    manifest = seed_demo_estate(aws.server, accounts=1, regions=REGIONS, services=("acm",))
    account = manifest.accounts[0]
    session = account_session(account, AwsOptions(endpoint_url=aws.endpoint, role_name=manifest.role_name,
                                                  external_id=manifest.external_id, api_rate_per_s=0))
    findings = [f for region in REGIONS for f in
                run_unit(Unit(account, region, "acm"), session, scanned_regions=REGIONS, threads=4).findings]
    got = {(f.check_id, f.region, f.resource_id): f.status.value for f in findings}
    assert len(got) == len(findings)
    assert got == {(e.check_id, e.region, e.resource_id): e.status for e in manifest.expectations
                   if e.check_id.startswith("acm_")}
