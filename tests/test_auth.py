"""Authentication and authorization: Zendesk signed-URL tokens, session tokens, roles, allow-lists."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import tomllib
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.settings import DEFAULT_SESSION_SECRET
from frontend_server.auth import (
    AUTH_FAILURE_REASONS,
    Action,
    AuthError,
    Forbidden,
    InsecureSecretError,
    PublicKeyProvider,
    PublicKeyUnavailable,
    Role,
    RoleConfigError,
    RoleMapping,
    SessionTokens,
    SessionUser,
    ZendeskTokenVerifier,
    check_secret,
    zendesk_audience,
    zendesk_issuers,
    zendesk_user_id,
)
from frontend_server.zendesk import ZendeskGroup, ZendeskUser
from tests.zendesk_stub import ZendeskStub

# Keys are made once: RSA generation is the slow part of these tests.
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
OTHER_PUBLIC_PEM = OTHER_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
SUBDOMAIN = "acme"
AUD = zendesk_audience(SUBDOMAIN, 360001)
ISS = "acme.zendesk.com"
SECRET = "0123456789abcdef" * 4


# ---- token forging helpers ------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: Any, sign: Callable[[bytes], bytes] | None) -> str:
    """A JWT built by hand, so tests can make tokens no library would make."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{_b64(signature)}"


def rs256_signer(key: rsa.RSAPrivateKey) -> Callable[[bytes], bytes]:
    return lambda msg: key.sign(msg, padding.PKCS1v15(), hashes.SHA256())


def hs256_signer(secret: bytes) -> Callable[[bytes], bytes]:
    return lambda msg: hmac.new(secret, msg, hashlib.sha256).digest()


def zendesk_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "sub": 123456,
                              "context": {"product": "support", "location": "ticket_sidebar"}}
    for k, v in changes.items():
        if v is _DROP:
            claims.pop(k, None)
        else:
            claims[k] = v
    return claims


_DROP = object()


def zendesk_token(key: rsa.RSAPrivateKey = KEY, **changes: Any) -> str:
    return forge({"alg": "RS256", "typ": "JWT"}, zendesk_claims(**changes), rs256_signer(key))


def tamper(token: str, **changes: Any) -> str:
    """The same header and signature over a changed payload."""
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(changes)
    return f"{head}.{_b64(json.dumps(payload).encode())}.{sig}"


@pytest.fixture
def verifier() -> ZendeskTokenVerifier:
    return ZendeskTokenVerifier(PUBLIC_PEM, audience=AUD, issuer=zendesk_issuers(SUBDOMAIN))


def reason_of(fn: Callable[[], object]) -> str:
    with pytest.raises(AuthError) as info:
        fn()
    return info.value.reason


# ---- Zendesk signed-URL tokens --------------------------------------------------------------------

def test_valid_zendesk_token_gives_user_subdomain_and_installation(verifier: ZendeskTokenVerifier) -> None:
    ident = verifier.verify(zendesk_token())
    assert (ident.user_id, ident.subdomain, ident.installation) == ("123456", "acme", "360001")
    assert ident.claims["context"]["location"] == "ticket_sidebar"


@pytest.mark.parametrize("sub", [123456, "123456", "https://acme.zendesk.com/api/v2/users/123456.json",
                                 "/api/v2/users/123456", "user:123456", {"id": 123456}, {"user_id": "123456"},
                                 {"user": {"id": 123456}}])
def test_zendesk_sub_is_parsed_in_every_known_shape(verifier: ZendeskTokenVerifier, sub: Any) -> None:
    assert verifier.verify(zendesk_token(sub=sub)).user_id == "123456"


@pytest.mark.parametrize("sub", ["abc", 0, -5, True, [], {"name": "x"}, "users/abc", "12a", "1" * 25, 1.5])
def test_zendesk_sub_without_a_user_id_is_malformed(verifier: ZendeskTokenVerifier, sub: Any) -> None:
    assert reason_of(lambda: verifier.verify(zendesk_token(sub=sub))) == "malformed"


def test_zendesk_token_without_sub_is_missing_a_claim(verifier: ZendeskTokenVerifier) -> None:
    assert reason_of(lambda: verifier.verify(zendesk_token(sub=_DROP))) == "missing_claim"


def _hs256_with_public_key() -> str:
    return forge({"alg": "HS256", "typ": "JWT"}, zendesk_claims(), hs256_signer(PUBLIC_PEM))


SECURITY_CASES: dict[str, tuple[Callable[[], str], str]] = {
    "expired beyond leeway": (lambda: zendesk_token(exp=int(time.time()) - 120), "expired"),
    "nbf in the future": (lambda: zendesk_token(nbf=int(time.time()) + 120), "not_yet_valid"),
    "iat in the future": (lambda: zendesk_token(iat=int(time.time()) + 120), "not_yet_valid"),
    "wrong audience": (lambda: zendesk_token(aud=zendesk_audience(SUBDOMAIN, 999)), "bad_audience"),
    "wrong issuer": (lambda: zendesk_token(iss="evil.zendesk.com"), "bad_issuer"),
    "HS256 signed with the public key": (_hs256_with_public_key, "bad_algorithm"),
    "alg none": (lambda: forge({"alg": "none", "typ": "JWT"}, zendesk_claims(), None), "bad_algorithm"),
    "alg None": (lambda: forge({"alg": "None"}, zendesk_claims(), None), "bad_algorithm"),
    "no alg": (lambda: forge({"typ": "JWT"}, zendesk_claims(), rs256_signer(KEY)), "bad_algorithm"),
    "RS512 with the right key": (lambda: jwt.encode(zendesk_claims(), KEY, algorithm="RS512"), "bad_algorithm"),
    "PS256 with the right key": (lambda: jwt.encode(zendesk_claims(), KEY, algorithm="PS256"), "bad_algorithm"),
    "ES256": (lambda: jwt.encode(zendesk_claims(), EC_KEY, algorithm="ES256"), "bad_algorithm"),
    "tampered payload": (lambda: tamper(zendesk_token(), sub=1), "bad_signature"),
    "signed by another key": (lambda: zendesk_token(key=OTHER_KEY), "bad_signature"),
    "missing exp": (lambda: zendesk_token(exp=_DROP), "missing_claim"),
    "missing iat": (lambda: zendesk_token(iat=_DROP), "missing_claim"),
    "exp not a number": (lambda: zendesk_token(exp="tomorrow"), "malformed"),
    "not a JWT": (lambda: "not-a-token", "malformed"),
    "empty": (lambda: "", "malformed"),
    "payload is not an object": (lambda: forge({"alg": "RS256"}, [1, 2], rs256_signer(KEY)), "malformed"),
    "oversized": (lambda: "a" * 20_000, "malformed"),
}


@pytest.mark.parametrize("case", list(SECURITY_CASES))
def test_zendesk_token_security_cases_are_rejected_with_their_reason(verifier: ZendeskTokenVerifier,
                                                                     case: str) -> None:
    make, reason = SECURITY_CASES[case]
    token = make()
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    assert info.value.reason == reason
    # The message is for users: no token content in it, nor in the log detail.
    for part in (p for p in token.split(".") if len(p) > 8):
        assert part not in str(info.value) and part not in info.value.detail


def test_leeway_accepts_a_token_expired_less_than_a_minute_ago(verifier: ZendeskTokenVerifier) -> None:
    now = int(time.time())
    assert verifier.verify(zendesk_token(exp=now - 30, iat=now - 330)).user_id == "123456"
    assert verifier.verify(zendesk_token(nbf=now + 30)).user_id == "123456"
    assert verifier.verify(zendesk_token(iat=now + 30)).user_id == "123456"


def test_leeway_does_not_stretch_beyond_its_setting() -> None:
    now = int(time.time())
    strict = ZendeskTokenVerifier(PUBLIC_PEM, leeway_s=0)
    assert reason_of(lambda: strict.verify(zendesk_token(exp=now - 3))) == "expired"
    assert reason_of(lambda: strict.verify(zendesk_token(nbf=now + 5))) == "not_yet_valid"
    ten = ZendeskTokenVerifier(PUBLIC_PEM, leeway_s=10)
    assert reason_of(lambda: ten.verify(zendesk_token(exp=now - 30))) == "expired"


@pytest.mark.parametrize("leeway", [61, 3600, -1])
def test_leeway_above_sixty_seconds_is_refused(leeway: float) -> None:
    with pytest.raises(ValueError, match="leeway"):
        ZendeskTokenVerifier(PUBLIC_PEM, leeway_s=leeway)


def test_audience_and_issuer_are_checked_only_when_configured() -> None:
    loose = ZendeskTokenVerifier(PUBLIC_PEM)
    assert loose.verify(zendesk_token(aud="https://other.zendesk.com/x", iss="other.zendesk.com")).user_id == "123456"
    several = ZendeskTokenVerifier(PUBLIC_PEM, audience=[zendesk_audience(SUBDOMAIN, 1), AUD])
    assert several.verify(zendesk_token()).installation == "360001"
    assert reason_of(lambda: several.verify(zendesk_token(aud=_DROP))) == "missing_claim"


def test_issuer_may_carry_the_scheme(verifier: ZendeskTokenVerifier) -> None:
    assert verifier.verify(zendesk_token(iss="https://acme.zendesk.com")).subdomain == "acme"


def test_zendesk_user_id_reads_claims_without_a_token() -> None:
    assert zendesk_user_id({"sub": "https://acme.zendesk.com/api/v2/users/42.json"}) == "42"


# ---- the public key source ------------------------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_public_key_is_read_from_the_configured_file(tmp_path) -> None:
    path = tmp_path / "zendesk.pem"
    path.write_bytes(PUBLIC_PEM)
    verifier = ZendeskTokenVerifier(PublicKeyProvider(key_file=path))
    assert verifier.verify(zendesk_token()).user_id == "123456"


def test_public_key_file_that_is_missing_or_not_a_key_is_reported(tmp_path) -> None:
    with pytest.raises(PublicKeyUnavailable, match="cannot read"):
        PublicKeyProvider(key_file=tmp_path / "absent.pem").current()
    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    with pytest.raises(PublicKeyUnavailable, match="not a PEM"):
        PublicKeyProvider(key_file=bad).current()
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    bad.write_bytes(small.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(PublicKeyUnavailable, match="1024 bits"):
        PublicKeyProvider(key_file=bad).current()


def test_public_key_is_fetched_from_zendesk_once_and_cached() -> None:
    with ZendeskStub(public_key_pem=PUBLIC_PEM) as stub:
        provider = PublicKeyProvider(app_id=77, base_url=stub.url)
        verifier = ZendeskTokenVerifier(provider, audience=AUD)
        for _ in range(3):
            assert verifier.verify(zendesk_token()).user_id == "123456"
        fetches = stub.calls("GET", "/api/v2/apps/77/public_key.pem")
        assert len(fetches) == 1
        assert "authorization" not in fetches[0].headers  # the key is public: no credentials sent


def test_public_key_url_is_built_from_the_subdomain() -> None:
    seen: list[str] = []

    def fetch(url: str, timeout: float) -> bytes:
        seen.append(url)
        return PUBLIC_PEM

    PublicKeyProvider(subdomain="acme", app_id="123", fetch=fetch).current()
    assert seen == ["https://acme.zendesk.com/api/v2/apps/123/public_key.pem"]


def test_public_key_json_wrapper_is_accepted() -> None:
    provider = PublicKeyProvider(subdomain="acme", app_id=1,
                                 fetch=lambda url, t: json.dumps({"public_key": PUBLIC_PEM.decode()}).encode())
    assert provider.current().key_size == 2048


def test_rotated_key_is_refetched_once_after_a_signature_failure() -> None:
    clock = FakeClock()
    with ZendeskStub(public_key_pem=PUBLIC_PEM) as stub:
        provider = PublicKeyProvider(app_id=77, base_url=stub.url, clock=clock)
        verifier = ZendeskTokenVerifier(provider)
        verifier.verify(zendesk_token())
        stub.public_key_pem = OTHER_PUBLIC_PEM  # Zendesk rotated the app's key
        clock.now += 120
        assert verifier.verify(zendesk_token(key=OTHER_KEY)).user_id == "123456"
        assert len(stub.calls("GET", "/api/v2/apps/77/")) == 2


def test_forged_tokens_cannot_force_more_than_one_refetch_a_minute() -> None:
    clock = FakeClock()
    with ZendeskStub(public_key_pem=PUBLIC_PEM) as stub:
        verifier = ZendeskTokenVerifier(PublicKeyProvider(app_id=77, base_url=stub.url, clock=clock))
        verifier.verify(zendesk_token())
        clock.now += 61
        for _ in range(20):
            assert reason_of(lambda: verifier.verify(zendesk_token(key=OTHER_KEY))) == "bad_signature"
            clock.now += 1
        # one fetch at start, one refetch for the first forgery, one more once the minute had passed
        assert len(stub.calls("GET", "/api/v2/apps/77/")) == 2
        clock.now += 60
        reason_of(lambda: verifier.verify(zendesk_token(key=OTHER_KEY)))
        assert len(stub.calls("GET", "/api/v2/apps/77/")) == 3


def test_expired_cache_is_refetched_and_a_failed_refetch_keeps_the_old_key() -> None:
    clock = FakeClock()
    answers = [PUBLIC_PEM]

    def fetch(url: str, timeout: float) -> bytes:
        if not answers:
            raise OSError("connection refused")
        return answers.pop(0)

    provider = PublicKeyProvider(subdomain="acme", app_id=1, ttl_s=3600, clock=clock, fetch=fetch)
    verifier = ZendeskTokenVerifier(provider)
    verifier.verify(zendesk_token())
    clock.now += 3601
    assert verifier.verify(zendesk_token()).user_id == "123456"  # refetch failed: cached key still used
    answers.append(OTHER_PUBLIC_PEM)
    clock.now += 61
    assert reason_of(lambda: verifier.verify(zendesk_token())) == "bad_signature"  # new key took over
    assert provider.loads == 2


def test_no_key_at_all_is_a_server_problem_not_an_auth_failure() -> None:
    provider = PublicKeyProvider(subdomain="acme", app_id=1, fetch=lambda url, t: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(PublicKeyUnavailable, match="cannot fetch"):
        ZendeskTokenVerifier(provider).verify(zendesk_token())


# ---- property: Zendesk tokens ---------------------------------------------------------------------

# Each fault alone makes a token unacceptable; a case draws none (about half the time) or several.
ZENDESK_FAULTS = ("RS384", "PS256", "HS256-public-key", "none", "ES256", "other-key", "no-exp", "expired",
                  "no-iat", "iat-future", "nbf-future", "wrong-aud", "no-aud", "wrong-iss", "no-iss", "bad-sub",
                  "tampered")
_GOOD_SUBS = [123456, "123456", "https://acme.zendesk.com/api/v2/users/123456.json", {"id": 123456}, "user:123456"]
_BAD_SUBS = ["abc", 0, None, [], {"x": 1}, True, "users/"]


def _faults(kinds: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(kinds), min_size=1, max_size=3))


@st.composite
def zendesk_cases(draw: st.DrawFn) -> tuple[str, bool]:
    """A token and whether it deserves acceptance (RS256, configured key, valid claims, untampered)."""
    faults = draw(_faults(ZENDESK_FAULTS))
    now = int(time.time())
    # Offsets stay 30 s or more away from the 60 s leeway boundary, so the clock cannot flip a case.
    claims: dict[str, Any] = {
        "exp": now + draw(st.sampled_from([-7200, -300, -90]) if "expired" in faults
                          else st.sampled_from([-30, 30, 300, 86400])),
        "iat": now + draw(st.sampled_from([90, 3600]) if "iat-future" in faults
                          else st.sampled_from([-600, -30, 0, 30])),
        "aud": zendesk_audience("evil", 1) if "wrong-aud" in faults else draw(st.sampled_from([AUD, [AUD, "x"]])),
        "iss": "evil.zendesk.com" if "wrong-iss" in faults else ISS,
        "sub": draw(st.sampled_from(_BAD_SUBS if "bad-sub" in faults else _GOOD_SUBS)),
    }
    if "nbf-future" in faults:
        claims["nbf"] = now + draw(st.sampled_from([90, 3600]))
    elif draw(st.booleans()):
        claims["nbf"] = now + draw(st.sampled_from([-600, -30, 0, 30]))
    for fault, name in (("no-exp", "exp"), ("no-iat", "iat"), ("no-aud", "aud"), ("no-iss", "iss")):
        if fault in faults:
            del claims[name]
    claims.update(draw(st.dictionaries(st.sampled_from(["context", "qsh", "jti", "name"]), st.text(max_size=8),
                                       max_size=2)))
    algs = [f for f in faults if f in ("RS384", "PS256", "HS256-public-key", "none", "ES256")]
    alg = algs[0] if algs else "RS256"
    header = {"alg": alg.split("-")[0], "typ": "JWT"}
    if draw(st.booleans()):
        header["kid"] = draw(st.text(max_size=6))
    signing = OTHER_KEY if "other-key" in faults else KEY
    if alg == "RS256":
        token = forge(header, claims, rs256_signer(signing))
    elif alg == "HS256-public-key":
        token = forge(header, claims, hs256_signer(OTHER_PUBLIC_PEM if "other-key" in faults else PUBLIC_PEM))
    elif alg == "none":
        token = forge(header, claims, None)
    elif alg == "ES256":
        token = forge(header, claims, lambda m: EC_KEY.sign(m, ec.ECDSA(hashes.SHA256())))
    elif alg == "RS384":
        token = forge(header, claims, lambda m: signing.sign(m, padding.PKCS1v15(), hashes.SHA384()))
    else:  # PS256
        token = forge(header, claims, lambda m: signing.sign(
            m, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()))
    if "tampered" in faults:
        token = tamper(token, sub=draw(st.integers(1, 10**9).filter(lambda v: v != 123456)))
    return token, not faults


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=zendesk_cases())
def test_property_only_validly_signed_zendesk_tokens_are_accepted(case: tuple[str, bool]) -> None:
    """Property 4: authentication — any token not signed by the configured key with valid claims is
    rejected (RS256 only, exp/iat required, nbf honoured, aud and iss enforced, sub a user id), and a
    rejection is always an AuthError with one of the known reasons."""
    token, should_accept = case
    verifier = ZendeskTokenVerifier(PUBLIC_PEM, audience=AUD, issuer=ISS)
    try:
        ident = verifier.verify(token)
    except AuthError as exc:
        assert not should_accept, f"rejected a valid token: {exc.reason} ({exc.detail})"
        assert exc.reason in AUTH_FAILURE_REASONS
    else:
        assert should_accept, "accepted a token that is not validly signed with valid claims"
        assert ident.user_id == "123456"


# ---- session tokens -------------------------------------------------------------------------------

ANALYST = SessionUser(id="123456", name="Ana Lyst", role=Role.ANALYST, groups=("Cloud Security",))


def test_session_token_round_trip_carries_the_contract_claims() -> None:
    tokens = SessionTokens(SECRET)
    token, expires_at = tokens.issue(ANALYST)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="cloudscreen")
    assert {k: claims[k] for k in ("iss", "aud", "sub", "name", "role")} == {
        "iss": "cloudscreen", "aud": "cloudscreen", "sub": "123456", "name": "Ana Lyst", "role": "analyst"}
    assert claims["exp"] - claims["iat"] == 900
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    user = tokens.verify(token)
    assert (user.id, user.name, user.role, user.groups) == ("123456", "Ana Lyst", Role.ANALYST, ("Cloud Security",))
    assert user.expires_at == expires_at
    assert user.public() == {"id": "123456", "name": "Ana Lyst", "role": "analyst"}


def _session_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": "cloudscreen", "aud": "cloudscreen", "sub": "1", "name": "n", "role": "admin",
              "iat": now, "exp": now + 600}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not _DROP}


SESSION_CASES: dict[str, tuple[Callable[[], str], str]] = {
    "tampered role": (lambda: tamper(SessionTokens(SECRET).issue(ANALYST)[0], role="admin"), "bad_signature"),
    "another secret": (lambda: SessionTokens("x" * 40).issue(ANALYST)[0], "bad_signature"),
    "HS512": (lambda: jwt.encode(_session_claims(), SECRET, algorithm="HS512"), "bad_algorithm"),
    "alg none": (lambda: forge({"alg": "none"}, _session_claims(), None), "bad_algorithm"),
    "RS256": (lambda: jwt.encode(_session_claims(), KEY, algorithm="RS256"), "bad_algorithm"),
    "wrong issuer": (lambda: jwt.encode(_session_claims(iss="zendesk"), SECRET, "HS256"), "bad_issuer"),
    "wrong audience": (lambda: jwt.encode(_session_claims(aud="other"), SECRET, "HS256"), "bad_audience"),
    "audience list": (lambda: jwt.encode(_session_claims(aud=["cloudscreen"]), SECRET, "HS256"), "bad_audience"),
    "expired": (lambda: SessionTokens(SECRET, clock=lambda: time.time() - 2000).issue(ANALYST)[0], "expired"),
    "no sub": (lambda: jwt.encode(_session_claims(sub=_DROP), SECRET, "HS256"), "missing_claim"),
    "no exp": (lambda: jwt.encode(_session_claims(exp=_DROP), SECRET, "HS256"), "missing_claim"),
    "no name": (lambda: jwt.encode(_session_claims(name=_DROP), SECRET, "HS256"), "missing_claim"),
    "unknown role": (lambda: jwt.encode(_session_claims(role="root"), SECRET, "HS256"), "malformed"),
    "numeric sub": (lambda: forge({"alg": "HS256"}, _session_claims(sub=1), hs256_signer(SECRET.encode())),
                    "malformed"),
    "a Zendesk token": (lambda: zendesk_token(), "bad_algorithm"),
}


@pytest.mark.parametrize("case", list(SESSION_CASES))
def test_session_token_security_cases_are_rejected(case: str) -> None:
    make, reason = SESSION_CASES[case]
    assert reason_of(lambda: SessionTokens(SECRET).verify(make())) == reason


def test_session_tokens_refuse_an_empty_secret() -> None:
    with pytest.raises(InsecureSecretError):
        SessionTokens("")


SESSION_FAULTS = ("HS384", "HS512", "none", "RS256", "wrong-secret", "wrong-iss", "no-iss", "wrong-aud", "no-aud",
                  "aud-list", "no-sub", "int-sub", "empty-sub", "bad-role", "no-role", "no-name", "int-name",
                  "expired", "no-exp", "iat-future", "no-iat", "tampered")


@st.composite
def session_cases(draw: st.DrawFn) -> tuple[str, bool]:
    """A session token and whether CloudScreen would have issued it (and it is still valid)."""
    faults = draw(_faults(SESSION_FAULTS))
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "zendesk" if "wrong-iss" in faults else "cloudscreen",
        "aud": "other" if "wrong-aud" in faults else ["cloudscreen"] if "aud-list" in faults else "cloudscreen",
        "sub": 123 if "int-sub" in faults else "" if "empty-sub" in faults else draw(st.sampled_from(["1", "demo"])),
        "role": "root" if "bad-role" in faults else draw(st.sampled_from(["admin", "analyst", "viewer"])),
        "name": 5 if "int-name" in faults else draw(st.text(max_size=10)),
        "exp": now + draw(st.sampled_from([-3600, -60]) if "expired" in faults else st.sampled_from([60, 900])),
        "iat": now + draw(st.sampled_from([60, 3600]) if "iat-future" in faults else st.sampled_from([-100, 0])),
    }
    if draw(st.booleans()):
        claims["groups"] = draw(st.lists(st.text(max_size=5), max_size=3))
    for fault, name in (("no-iss", "iss"), ("no-aud", "aud"), ("no-sub", "sub"), ("no-role", "role"),
                        ("no-name", "name"), ("no-exp", "exp"), ("no-iat", "iat")):
        if fault in faults:
            del claims[name]
    algs = [f for f in faults if f in ("HS384", "HS512", "none", "RS256")]
    alg = algs[0] if algs else "HS256"
    secret = ("y" * 64 if "wrong-secret" in faults else SECRET).encode()
    if alg.startswith("HS"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        token = forge({"alg": alg, "typ": "JWT"}, claims, lambda m: hmac.new(secret, m, digest).digest())
    elif alg == "none":
        token = forge({"alg": "none"}, claims, None)
    else:
        token = forge({"alg": "RS256"}, claims, rs256_signer(KEY))
    if "tampered" in faults:
        token = tamper(token, role="admin", sub="999")
    return token, not faults


@settings(max_examples=200, deadline=None)
@given(case=session_cases())
def test_property_only_cloudscreen_issued_session_tokens_are_accepted(case: tuple[str, bool]) -> None:
    """Property 4: authentication — a session token is accepted only when CloudScreen signed it with
    HS256 and its secret, for iss and aud "cloudscreen", unexpired, with a subject, a name and a known
    role; everything else is an AuthError with a known reason."""
    token, should_accept = case
    try:
        user = SessionTokens(SECRET).verify(token)
    except AuthError as exc:
        assert not should_accept, f"rejected a valid session token: {exc.reason} ({exc.detail})"
        assert exc.reason in AUTH_FAILURE_REASONS
    else:
        assert should_accept, "accepted a session token CloudScreen would not have issued"
        assert user.role in Role


# ---- the session secret ---------------------------------------------------------------------------

@pytest.mark.parametrize("secret", [None, "", DEFAULT_SESSION_SECRET, "short-secret"])
def test_production_refuses_a_missing_default_or_short_secret(secret: str | None) -> None:
    with pytest.raises(InsecureSecretError, match="CLOUDSCREEN_SESSION_SECRET"):
        check_secret(secret, production=True)


def test_production_accepts_a_long_random_secret_and_demo_accepts_the_default() -> None:
    check_secret("0123456789abcdef" * 4, production=True)
    check_secret(DEFAULT_SESSION_SECRET, production=False)
    check_secret(None, production=False)


# ---- roles ----------------------------------------------------------------------------------------

EXAMPLE_TOML = """
[roles]
default = "viewer"
admins_unrestricted = true

[roles.zendesk]
admin = "admin"

[roles.custom_roles]
360000123456 = "analyst"

[roles.groups]
"Cloud Security" = "analyst"
360000654321 = "admin"
"Contractors" = "none"

[roles.accounts]
analyst = ["111111111111", "222222222222"]
"group:Cloud Security" = ["333333333333"]
"""


@pytest.fixture
def mapping() -> RoleMapping:
    return RoleMapping.from_config(tomllib.loads(EXAMPLE_TOML)["roles"])


def agent(role: str = "agent", custom_role_id: str | None = None, groups: tuple[tuple[str, str], ...] = (),
          **kw: Any) -> ZendeskUser:
    return ZendeskUser(id="42", name="Agent Smith", email="a@example.com", role=role, custom_role_id=custom_role_id,
                       groups=tuple(ZendeskGroup(id=i, name=n) for i, n in groups), **kw)


def test_an_agent_no_rule_matches_is_a_viewer(mapping: RoleMapping) -> None:
    user = mapping.resolve(agent(groups=(("1", "Billing"),)))
    assert (user.id, user.name, user.role, user.groups) == ("42", "Agent Smith", Role.VIEWER, ())


def test_nothing_is_mapped_by_default() -> None:
    assert RoleMapping.from_config(None).resolve(agent(role="admin")).role is Role.VIEWER


@pytest.mark.parametrize("zendesk_user", [
    agent(role="end-user"), agent(role="end-user", groups=(("360000654321", "x"),)),
    agent(suspended=True), agent(active=False), agent(role="robot")])
def test_end_users_suspended_and_unknown_roles_are_refused(mapping: RoleMapping, zendesk_user: ZendeskUser) -> None:
    with pytest.raises(Forbidden) as info:
        mapping.resolve(zendesk_user)
    assert info.value.action == "session"


def test_zendesk_role_custom_role_and_groups_map_to_roles(mapping: RoleMapping) -> None:
    assert mapping.resolve(agent(role="admin")).role is Role.ADMIN
    assert mapping.resolve(agent(custom_role_id="360000123456")).role is Role.ANALYST
    assert mapping.resolve(agent(groups=(("7", "cloud security"),))).role is Role.ANALYST  # names ignore case
    assert mapping.resolve(agent(groups=(("360000654321", "Ops"),))).role is Role.ADMIN   # by id


def test_the_most_privileged_matching_rule_wins(mapping: RoleMapping) -> None:
    user = mapping.resolve(agent(custom_role_id="360000123456", groups=(("360000654321", "Ops"),)))
    assert user.role is Role.ADMIN
    assert user.groups == ("360000654321",)


def test_a_none_rule_refuses_whatever_else_matches(mapping: RoleMapping) -> None:
    with pytest.raises(Forbidden) as info:
        mapping.resolve(agent(role="admin", groups=(("9", "Contractors"),)))
    assert info.value.reason == "denied"


def test_default_none_refuses_unmapped_agents() -> None:
    strict = RoleMapping.from_config({"default": "none", "groups": {"Ops": "analyst"}})
    with pytest.raises(Forbidden) as info:
        strict.resolve(agent())
    assert info.value.reason == "no_role"
    assert strict.resolve(agent(groups=(("1", "Ops"),))).role is Role.ANALYST


@pytest.mark.parametrize("table, words", [
    ({"colour": "red"}, "unknown keys"),
    ({"default": "root"}, "not a role"),
    ({"zendesk": {"end-user": "viewer"}}, "end-users are always refused"),
    ({"custom_roles": {"Light agent": "viewer"}}, "numeric"),
    ({"accounts": {"analyst": ["1234"]}}, "12-digit"),
    ({"accounts": {"analyst": "111111111111"}}, "list"),
    ({"accounts": {"Cloud Security": ["111111111111"]}}, "group:"),
    ({"groups": ["Ops"]}, "table"),
    ({"admins_unrestricted": "yes"}, "true or false"),
])
def test_bad_role_configuration_is_reported(table: dict[str, Any], words: str) -> None:
    with pytest.raises(RoleConfigError, match=words):
        RoleMapping.from_config(table)


def test_allow_lists_come_from_role_and_groups(mapping: RoleMapping) -> None:
    plain = SessionUser(id="1", name="a", role=Role.ANALYST)
    grouped = SessionUser(id="1", name="a", role=Role.ANALYST, groups=("Cloud Security",))
    assert mapping.allowed_accounts(plain) == {"111111111111", "222222222222"}
    assert mapping.allowed_accounts(grouped) == {"111111111111", "222222222222", "333333333333"}
    assert mapping.allowed_accounts(SessionUser(id="1", name="a", role=Role.ADMIN)) is None


def test_admins_are_restricted_when_configured() -> None:
    listed = RoleMapping.from_config({"accounts": {"admin": ["111111111111"]}})
    admin = SessionUser(id="1", name="a", role=Role.ADMIN)
    assert listed.allowed_accounts(admin) == {"111111111111"}
    assert RoleMapping.from_config({"admins_unrestricted": False}).allowed_accounts(admin) == frozenset()


def test_star_means_every_account_and_no_entry_means_none() -> None:
    star = RoleMapping.from_config({"accounts": {"group:Ops": "*"}})
    assert star.allowed_accounts(SessionUser(id="1", name="a", role=Role.ANALYST, groups=("Ops",))) is None
    assert star.allowed_accounts(SessionUser(id="1", name="a", role=Role.ANALYST)) == frozenset()


def test_viewers_cannot_start_cancel_attach_query_or_manage(mapping: RoleMapping) -> None:
    viewer = SessionUser(id="1", name="v", role=Role.VIEWER)
    mapping.authorize(viewer, Action.VIEW)
    for action in (Action.START_SCAN, Action.CANCEL_SCAN, Action.ATTACH, Action.QUERY, Action.MANAGE):
        with pytest.raises(Forbidden) as info:
            mapping.authorize(viewer, action, ["111111111111"])
        assert (info.value.action, info.value.reason) == (action.value, "role")
        assert "viewer" in str(info.value) and "analyst" in str(info.value) or action is Action.MANAGE
    assert not mapping.may_scan(viewer, ["111111111111"])


def test_analysts_scan_inside_their_allow_list_only(mapping: RoleMapping) -> None:
    analyst = SessionUser(id="1", name="a", role=Role.ANALYST)
    mapping.authorize(analyst, "scan.start", ["111111111111", "222222222222"])
    mapping.authorize(analyst, Action.CANCEL_SCAN)
    mapping.authorize(analyst, Action.ATTACH)
    with pytest.raises(Forbidden) as info:
        mapping.authorize(analyst, Action.START_SCAN, ["111111111111", "999999999999"])
    assert info.value.reason == "account_not_allowed" and info.value.accounts == ("999999999999",)
    assert "999999999999" in str(info.value)
    with pytest.raises(Forbidden) as info:
        mapping.authorize(analyst, Action.QUERY, ["999999999999"])
    assert info.value.reason == "account_not_allowed"
    with pytest.raises(Forbidden) as info:
        mapping.authorize(analyst, Action.START_SCAN, None)
    assert info.value.reason == "accounts_required"
    with pytest.raises(Forbidden):
        mapping.authorize(analyst, Action.MANAGE)
    assert mapping.may_scan(analyst, ["222222222222"]) and not mapping.may_scan(analyst, ["333333333333"])


def test_admins_do_everything_everywhere_by_default(mapping: RoleMapping) -> None:
    admin = SessionUser(id="1", name="a", role=Role.ADMIN)
    for action in Action:
        mapping.authorize(admin, action, ["999999999999"])
    mapping.authorize(admin, Action.START_SCAN, None)


def test_unknown_actions_are_a_programming_error(mapping: RoleMapping) -> None:
    with pytest.raises(ValueError, match="unknown action"):
        mapping.authorize(SessionUser(id="1", name="a", role=Role.ADMIN), "scan.delete")


def test_role_mapping_to_session_token_to_authorization(mapping: RoleMapping) -> None:
    tokens = SessionTokens(SECRET)
    user = mapping.resolve(agent(groups=(("7", "Cloud Security"),)))
    back = tokens.verify(tokens.issue(user)[0])
    mapping.authorize(back, Action.START_SCAN, ["333333333333"])
