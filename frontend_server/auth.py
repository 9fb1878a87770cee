"""Who the user is and what they may do: Zendesk signed-URL tokens, CloudScreen session tokens, roles.

Three parts, used in this order by `POST /api/session` and `POST /zendesk/sidebar`:

1. `ZendeskTokenVerifier.verify(token)` checks the RS256 JWT that Zendesk posts on the first load of
   the sidebar (CONTRACTS.md section 4) and returns a `ZendeskIdentity` (the Zendesk user id).
   The key comes from `PublicKeyProvider` (a PEM file, or Zendesk's `public_key.pem` endpoint, cached).
2. The front looks the user up through the Zendesk API (`frontend_server.zendesk`) and
   `RoleMapping.resolve(user)` turns role, custom role and groups into a `SessionUser`.
3. `SessionTokens.issue(user)` signs the short-lived HS256 session token used on the WebSocket and the
   REST API; `SessionTokens.verify(token)` gives the `SessionUser` back on every request, and
   `RoleMapping.authorize(user, action, accounts)` raises `Forbidden` when the role or the account
   allow-list does not allow the action.

Failures are types: `AuthError(reason)` (reason is one of `AUTH_FAILURE_REASONS`, a bounded set fit for
the `auth_failures_total{reason}` label; the message is safe to show and never holds token content),
`Forbidden(action, reason)`, `PublicKeyUnavailable` (a server-side problem, not the user's),
`RoleConfigError` and `InsecureSecretError` (configuration errors found at start-up).

Role configuration: the `[roles]` table of the TOML settings file (`CLOUDSCREEN_CONFIG`), passed as a
dict to `RoleMapping.from_config`::

    [roles]
    default = "viewer"          # role of agents no rule matches; "none" refuses them (default "viewer")
    admins_unrestricted = true  # admins may scan every account unless [roles.accounts] has an "admin" entry

    [roles.zendesk]             # Zendesk built-in role ("admin", "agent") -> role
    admin = "admin"

    [roles.custom_roles]        # Zendesk custom role id -> role
    360000123456 = "analyst"

    [roles.groups]              # Zendesk group id or group name -> role
    "Cloud Security" = "analyst"
    360000654321 = "admin"
    "Contractors" = "none"      # "none" refuses members of this group, whatever else matches

    [roles.accounts]            # account allow-lists, by role name or by "group:<group id or name>"
    analyst = ["111111111111", "222222222222"]
    "group:Cloud Security" = ["333333333333"]
    # "*" instead of a list means every account

Precedence: Zendesk end-users and suspended or inactive users are always refused; a "none" rule that
matches refuses the user; otherwise the user gets the most privileged role among every rule that
matches (Zendesk role, custom role, each group), and `default` only when no rule matches. Rules add
privileges, they never take them away: this keeps "add Bob to Cloud Security" doing what it says.
Nothing is mapped by default, so every agent starts as a viewer until an administrator maps them.

Allow-lists: a user may scan the union of the lists under their role and under each of their groups;
"*" anywhere means every account. Admins are unrestricted unless an `admin` entry exists (or
`admins_unrestricted = false`). Analysts with no entry may scan nothing: access is granted, not assumed.

Why the allow-list is not a session-token claim: the token carries the role and the matched group keys
only (claim `groups`), and the accounts are looked up in the configuration on every request. A list of
hundreds of account ids would bloat every bearer header and WebSocket auth message, and a revoked
account stops being scannable at once instead of when the token expires; every front reads the same
configuration, so fronts stay stateless.
"""

from __future__ import annotations

import enum
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from engine.errors import CloudScreenError, UsageError
from engine.settings import DEFAULT_SESSION_SECRET

log = logging.getLogger("cloudscreen.auth")

ZENDESK_ALGORITHM = "RS256"
SESSION_ALGORITHM = "HS256"
SESSION_ISSUER = "cloudscreen"
SESSION_AUDIENCE = "cloudscreen"
MAX_LEEWAY_S = 60.0
MIN_SECRET_LENGTH = 32  # HS256 wants at least 256 bits of key (RFC 7518 section 3.2)
MIN_RSA_BITS = 2048
MAX_TOKEN_LENGTH = 16_384  # far above any real token; bounds the work an attacker can ask for

AUTH_FAILURE_REASONS = ("expired", "not_yet_valid", "bad_audience", "bad_issuer", "bad_signature",
                        "bad_algorithm", "malformed", "missing_claim")

_MESSAGES = {
    "expired": "Your sign-in has expired. Reload the app to sign in again.",
    "not_yet_valid": "Your sign-in is not valid yet; check that this computer's clock is right, then reload the app.",
    "bad_audience": "This sign-in was issued for another installation of the app.",
    "bad_issuer": "This sign-in was issued by an unexpected Zendesk account.",
    "bad_signature": "This sign-in could not be verified. Reload the app to sign in again.",
    "bad_algorithm": "This sign-in uses a signing method that CloudScreen does not accept.",
    "malformed": "This sign-in token is not well formed. Reload the app to sign in again.",
    "missing_claim": "This sign-in token lacks required information. Reload the app to sign in again.",
}


# ---------------------------------------------------------------------------------------------------
# errors

class AuthError(CloudScreenError):
    """A token was refused. `reason` is a stable machine reason (one of AUTH_FAILURE_REASONS), the
    message is safe to show to the user, `detail` is for the log (never token content)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in AUTH_FAILURE_REASONS:
            raise ValueError(f"unknown auth failure reason {reason!r}")
        self.reason = reason
        self.detail = detail
        super().__init__(_MESSAGES[reason])


class Forbidden(CloudScreenError):
    """The user is who they say, but may not do this. `action` and `reason` are for the audit log and
    metrics; the message tells the user what is missing."""

    def __init__(self, action: str, reason: str, message: str, accounts: Sequence[str] = ()) -> None:
        self.action = action
        self.reason = reason
        self.accounts = tuple(accounts)
        super().__init__(message)


class PublicKeyUnavailable(CloudScreenError):
    """Zendesk's public key for the app cannot be read or fetched: nobody can sign in until it can."""


class RoleConfigError(UsageError):
    """The `[roles]` configuration is invalid."""


class InsecureSecretError(CloudScreenError):
    """The session secret is missing, too short or the demo default while running in production."""


def check_secret(secret: str | None, production: bool) -> None:
    """Refuse to run production with a missing, short or default `CLOUDSCREEN_SESSION_SECRET`.

    Demo mode accepts anything (it ships with a known default on purpose)."""
    if not production:
        return
    hint = ("set CLOUDSCREEN_SESSION_SECRET to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters, e.g. the output of `openssl rand -hex 32`")
    if not secret:
        raise InsecureSecretError(f"production needs a session secret: {hint}")
    if secret == DEFAULT_SESSION_SECRET:
        raise InsecureSecretError(f"the session secret is the public demo default: {hint}")
    if len(secret) < MIN_SECRET_LENGTH:
        raise InsecureSecretError(f"the session secret has {len(secret)} characters, too short to be safe: {hint}")


# ---------------------------------------------------------------------------------------------------
# Zendesk public key

class KeySource(Protocol):
    """Where the Zendesk token verifier gets its key from."""

    def current(self) -> RSAPublicKey:
        """The key to verify with (may load or refetch it)."""
        ...

    def refresh_after_failure(self) -> bool:
        """Reload the key after a signature failure; True when a different key is now current."""
        ...


def load_rsa_public_key(pem: str | bytes) -> RSAPublicKey:
    """Parse a PEM public key, refusing anything but an RSA key of at least 2048 bits."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise PublicKeyUnavailable(f"the Zendesk public key is not a PEM public key: {exc}") from None
    if not isinstance(key, RSAPublicKey):
        raise PublicKeyUnavailable(f"the Zendesk public key is a {type(key).__name__}, not an RSA key")
    if key.key_size < MIN_RSA_BITS:
        raise PublicKeyUnavailable(f"the Zendesk public key has {key.key_size} bits; at least {MIN_RSA_BITS} needed")
    return key


class StaticKey:
    """A fixed key (given as PEM text): nothing to refresh."""

    def __init__(self, pem: str | bytes) -> None:
        self._key = load_rsa_public_key(pem)

    def current(self) -> RSAPublicKey:
        return self._key

    def refresh_after_failure(self) -> bool:
        return False


_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def zendesk_base_url(subdomain: str) -> str:
    """`https://<subdomain>.zendesk.com`, refusing subdomains that would point elsewhere."""
    if not _SUBDOMAIN.match(subdomain or ""):
        raise UsageError(f"Zendesk subdomain {subdomain!r} is not valid (letters, digits and dashes only)")
    return f"https://{subdomain}.zendesk.com"


def zendesk_audience(subdomain: str, installation_id: str | int) -> str:
    """The `aud` Zendesk puts in signed-URL tokens for one installation of the app."""
    return f"{zendesk_base_url(subdomain)}/api/v2/apps/installations/{int(installation_id)}.json"


def zendesk_issuers(subdomain: str) -> tuple[str, ...]:
    """The `iss` values a Zendesk account's tokens may carry (host, with or without scheme)."""
    base = zendesk_base_url(subdomain)
    return (base.removeprefix("https://"), base)


class PublicKeyProvider:
    """Zendesk's public key for the app, from a PEM file or fetched from Zendesk and cached.

    * `key_file` (`CLOUDSCREEN_ZENDESK_PUBLIC_KEY_FILE`) wins when given; otherwise the key is fetched
      (anonymously) from `<base>/api/v2/apps/<app_id>/public_key.pem`, where base is
      `https://<subdomain>.zendesk.com` or `base_url` (tests, proxies).
    * A fetched key is kept `ttl_s`; when a refetch fails the cached key stays in use.
    * After a signature failure the key is reloaded at most once per `refetch_interval_s`, so a key
      rotation is picked up quickly while a flood of forged tokens cannot turn into a flood of fetches.
    """

    def __init__(self, *, key_file: str | Path | None = None, subdomain: str | None = None,
                 app_id: str | int | None = None, base_url: str | None = None, ttl_s: float = 3600.0,
                 refetch_interval_s: float = 60.0, timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic,
                 fetch: Callable[[str, float], bytes] | None = None) -> None:
        self._file = Path(key_file) if key_file else None
        self._url: str | None = None
        if self._file is None:
            if app_id is None or not str(app_id).isdigit():
                raise UsageError("the Zendesk public key needs CLOUDSCREEN_ZENDESK_PUBLIC_KEY_FILE, "
                                 "or a Zendesk subdomain and the numeric app id to fetch it")
            if base_url:
                if not base_url.startswith(("https://", "http://")):
                    raise UsageError(f"Zendesk base URL {base_url!r} must start with https://")
                base = base_url.rstrip("/")
            elif subdomain:
                base = zendesk_base_url(subdomain)
            else:
                raise UsageError("fetching the Zendesk public key needs the Zendesk subdomain")
            self._url = f"{base}/api/v2/apps/{int(app_id)}/public_key.pem"
        self._ttl_s = ttl_s
        self._refetch_interval_s = refetch_interval_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._fetch = fetch or _http_get
        self._lock = threading.Lock()
        self._key: RSAPublicKey | None = None
        self._loaded_at = 0.0
        self._last_attempt: float | None = None
        self.loads = 0  # successful loads, for tests and the log

    @property
    def source(self) -> str:
        """Where the key comes from (a path or a URL), for messages."""
        return str(self._file) if self._file else str(self._url)

    def current(self) -> RSAPublicKey:
        """The current key, loading it first if needed or if the cached one is older than the TTL."""
        with self._lock:
            if self._key is None:
                self._load()
            elif self._url and self._clock() - self._loaded_at >= self._ttl_s:
                try:
                    self._load()
                except PublicKeyUnavailable as exc:
                    log.warning("keeping the cached Zendesk public key: %s", exc)
                    self._loaded_at = self._clock() - self._ttl_s + self._refetch_interval_s
            assert self._key is not None
            return self._key

    def refresh_after_failure(self) -> bool:
        """Reload after a signature failure (at most once per refetch interval); True if the key changed."""
        with self._lock:
            now = self._clock()
            if self._last_attempt is not None and now - self._last_attempt < self._refetch_interval_s:
                return False
            old = self._key
            try:
                self._load()
            except PublicKeyUnavailable as exc:
                log.warning("could not reload the Zendesk public key after a signature failure: %s", exc)
                return False
            return old is None or old.public_numbers() != self._key.public_numbers()  # type: ignore[union-attr]

    def _load(self) -> None:
        self._last_attempt = self._clock()
        if self._file is not None:
            try:
                data = self._file.read_bytes()
            except OSError as exc:
                raise PublicKeyUnavailable(f"cannot read the Zendesk public key file {self._file}: "
                                           f"{exc.strerror or exc}") from None
        else:
            assert self._url is not None
            try:
                data = self._fetch(self._url, self._timeout_s)
            except (OSError, ValueError) as exc:
                raise PublicKeyUnavailable(f"cannot fetch the Zendesk public key from {self._url}: {exc}") from None
            data = _unwrap_pem(data)
        self._key = load_rsa_public_key(data)
        self._loaded_at = self._clock()
        self.loads += 1
        log.info("loaded the Zendesk public key from %s", self.source)


def _http_get(url: str, timeout_s: float) -> bytes:
    req = urllib.request.Request(url, headers={"Accept": "application/x-pem-file, text/plain, */*"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 - URL built from config
            return resp.read(65_536)
    except urllib.error.HTTPError as exc:
        raise OSError(f"HTTP {exc.code}") from None


def _unwrap_pem(data: bytes) -> bytes:
    """The endpoint answers PEM text; accept a JSON wrapper too (`{"public_key": "..."}`)."""
    stripped = data.strip()
    if stripped.startswith(b"{"):
        try:
            obj = json.loads(stripped)
        except ValueError:
            return data
        for name in ("public_key", "key", "pem"):
            if isinstance(obj.get(name), str):
                return obj[name].encode()
    return data


# ---------------------------------------------------------------------------------------------------
# Zendesk signed-URL token

@dataclass(frozen=True)
class ZendeskIdentity:
    """Who Zendesk says the agent is. `user_id` is the Zendesk user id (decimal digits)."""

    user_id: str
    subdomain: str | None
    installation: str | None
    claims: Mapping[str, Any]


class ZendeskTokenVerifier:
    """Verifies the signed-URL token Zendesk posts to the sidebar URL.

    RS256 only: the header is checked before anything else, and pyjwt is also told RS256 only, so an
    HS256 token "signed" with the public key (a classic forgery) never reaches an HMAC check. `exp` and
    `iat` are required, `nbf` checked when present, all with at most 60 s of leeway; `aud` and `iss`
    are enforced when configured (strings or lists of accepted values)."""

    def __init__(self, key: str | bytes | KeySource, *, audience: str | Sequence[str] | None = None,
                 issuer: str | Sequence[str] | None = None, leeway_s: float = 60.0) -> None:
        if not 0 <= leeway_s <= MAX_LEEWAY_S:
            raise ValueError(f"leeway_s must be between 0 and {MAX_LEEWAY_S:g} seconds, not {leeway_s}")
        self._keys: KeySource = StaticKey(key) if isinstance(key, (str, bytes)) else key
        self._audience = _one_or_list(audience)
        self._issuer = _one_or_list(issuer)
        self._leeway_s = leeway_s

    def verify(self, token: str) -> ZendeskIdentity:
        """Return the identity in a valid token; raise `AuthError` otherwise.

        May block briefly to fetch the key (at most once per TTL): call it through
        `asyncio.to_thread` from async code."""
        _check_header(token, ZENDESK_ALGORITHM)
        try:
            claims = self._decode(token)
        except AuthError as exc:
            if exc.reason != "bad_signature" or not self._keys.refresh_after_failure():
                raise
            claims = self._decode(token)  # the key was rotated: one more try with the new one
        return ZendeskIdentity(user_id=zendesk_user_id(claims), subdomain=_subdomain_of(claims.get("iss")),
                               installation=_installation_of(claims.get("aud")), claims=claims)

    def _decode(self, token: str) -> dict[str, Any]:
        options: dict[str, Any] = {
            "require": ["exp", "iat"],
            "verify_aud": self._audience is not None,
            "verify_iss": self._issuer is not None,
            # Zendesk's `sub` is not always a string (RFC 7519 says it should be): parsed below instead.
            "verify_sub": False,
        }
        return _decode(token, self._keys.current(), ZENDESK_ALGORITHM, options=options,
                       audience=self._audience, issuer=self._issuer, leeway=self._leeway_s)


def zendesk_user_id(claims: Mapping[str, Any]) -> str:
    """The Zendesk user id in a signed-URL token's `sub`, parsed defensively.

    Accepts a number, a string of digits, a user URL or path (`.../users/123.json`, `user:123`), or an
    object with `id` / `user_id` (possibly under `user`). Anything else is `malformed`."""
    if "sub" not in claims or claims["sub"] in (None, ""):
        raise AuthError("missing_claim", "the token has no sub claim")
    user_id = _id_from(claims["sub"])
    if user_id is None:
        raise AuthError("malformed", f"the token's sub claim ({type(claims['sub']).__name__}) holds no user id")
    return user_id


_USER_IN_STRING = re.compile(r"(?:^|/)users?[/:](\d{1,20})(?:\.json)?/?$")


def _id_from(value: Any, depth: int = 0) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if 0 < value < 10**20 else None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 20 and int(text) > 0:
            return text
        m = _USER_IN_STRING.search(text)
        return m.group(1) if m and int(m.group(1)) > 0 else None
    if isinstance(value, Mapping) and depth < 2:
        for name in ("id", "user_id", "user"):
            if name in value:
                found = _id_from(value[name], depth + 1)
                if found:
                    return found
    return None


def _subdomain_of(iss: Any) -> str | None:
    if not isinstance(iss, str):
        return None
    host = iss.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    return host.removesuffix(".zendesk.com") if host.endswith(".zendesk.com") else None


def _installation_of(aud: Any) -> str | None:
    for value in aud if isinstance(aud, list) else [aud]:
        if isinstance(value, str):
            m = re.search(r"/apps/installations/(\d+)(?:\.json)?$", value)
            if m:
                return m.group(1)
    return None


def _one_or_list(value: str | Sequence[str] | None) -> str | list[str] | None:
    if value is None or isinstance(value, str):
        return value or None
    values = [v for v in value if v]
    return values or None


def _check_header(token: Any, algorithm: str) -> None:
    """Refuse a token whose header names any algorithm but ours, before any key is touched."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthError("malformed", "the token is empty, not text or too long")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthError("malformed", f"unreadable header: {type(exc).__name__}") from None
    alg = header.get("alg")
    if alg != algorithm:
        shown = alg if isinstance(alg, str) and len(alg) <= 16 else type(alg).__name__
        raise AuthError("bad_algorithm", f"header alg {shown!r}, only {algorithm} is accepted")


def _decode(token: str, key: Any, algorithm: str, *, options: dict[str, Any], audience: Any, issuer: Any,
            leeway: float) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, key, algorithms=[algorithm], options=options,  # type: ignore[arg-type]
                            audience=audience, issuer=issuer, leeway=leeway)
    except jwt.ExpiredSignatureError:
        raise AuthError("expired", "exp is past (beyond the leeway)") from None
    except jwt.ImmatureSignatureError as exc:
        raise AuthError("not_yet_valid", str(exc)) from None
    except jwt.InvalidAudienceError as exc:
        raise AuthError("bad_audience", str(exc)) from None
    except jwt.InvalidIssuerError as exc:
        raise AuthError("bad_issuer", str(exc)) from None
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError("missing_claim", f"missing claim {exc.claim!r}") from None
    except jwt.InvalidAlgorithmError as exc:
        raise AuthError("bad_algorithm", str(exc)) from None
    except jwt.InvalidSignatureError:
        raise AuthError("bad_signature", "the signature does not match the key") from None
    except jwt.InvalidKeyError as exc:
        raise AuthError("bad_algorithm", f"key refused for this algorithm: {exc}") from None
    except jwt.PyJWTError as exc:
        raise AuthError("malformed", f"{type(exc).__name__}: {exc}"[:200]) from None
    if not isinstance(claims, dict):
        raise AuthError("malformed", "the payload is not an object")
    return claims


# ---------------------------------------------------------------------------------------------------
# roles

class Role(enum.StrEnum):
    """CloudScreen roles, least privileged first."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_ORDER.index(self)


_ROLE_ORDER = (Role.VIEWER, Role.ANALYST, Role.ADMIN)


class Action(enum.StrEnum):
    """What a request wants to do; each needs a minimum role (and, for some, the account allow-list)."""

    VIEW = "view"                 # scans, progress, findings, reports
    START_SCAN = "scan.start"
    CANCEL_SCAN = "scan.cancel"
    ATTACH = "zendesk.attach"     # internal note with the report, follow-up task
    QUERY = "query"               # live CloudTrail / CloudWatch questions about an account
    MANAGE = "settings"


_MIN_ROLE = {Action.VIEW: Role.VIEWER, Action.START_SCAN: Role.ANALYST, Action.CANCEL_SCAN: Role.ANALYST,
             Action.ATTACH: Role.ANALYST, Action.QUERY: Role.ANALYST, Action.MANAGE: Role.ADMIN}
# Actions that reach into AWS accounts: the allow-list applies to them.
_ACCOUNT_ACTIONS = frozenset({Action.START_SCAN, Action.QUERY})
_DOING = {Action.VIEW: "see scans", Action.START_SCAN: "start scans", Action.CANCEL_SCAN: "cancel scans",
          Action.ATTACH: "attach results to tickets", Action.QUERY: "query accounts",
          Action.MANAGE: "manage settings"}


@dataclass(frozen=True)
class SessionUser:
    """The signed-in user as the session token carries them.

    `groups` holds the keys of `[roles]` group rules the user matched (group ids or names as written in
    the configuration), used to look up allow-lists; `expires_at` is set on verified tokens."""

    id: str
    name: str
    role: Role
    groups: tuple[str, ...] = ()
    expires_at: datetime | None = None

    def public(self) -> dict[str, str]:
        """The `user` object of `auth.ok` and `/api/session` answers."""
        return {"id": self.id, "name": self.name, "role": self.role.value}


class DirectoryGroup(Protocol):
    """A Zendesk group as the role mapping needs it."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str | None: ...


class DirectoryUser(Protocol):
    """A Zendesk user as the role mapping needs it (`frontend_server.zendesk.ZendeskUser` is one)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def custom_role_id(self) -> str | None: ...

    @property
    def active(self) -> bool: ...

    @property
    def suspended(self) -> bool: ...

    @property
    def groups(self) -> Sequence[DirectoryGroup]: ...


_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROLE_KEYS = {"default", "admins_unrestricted", "zendesk", "custom_roles", "groups", "accounts"}


@dataclass(frozen=True)
class RoleMapping:
    """Zendesk role / custom role / groups → CloudScreen role, and account allow-lists.

    Build it with `from_config(settings_table)`; the rules are described in the module docstring.
    A rule value of None means "none" (refuse)."""

    default: Role | None = Role.VIEWER
    zendesk: Mapping[str, Role | None] = field(default_factory=dict)
    custom_roles: Mapping[str, Role | None] = field(default_factory=dict)
    groups: Mapping[str, Role | None] = field(default_factory=dict)
    # key: a role name, or "group:<id or name>"; value: account ids, or None for every account
    accounts: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    admins_unrestricted: bool = True

    @classmethod
    def from_config(cls, table: Mapping[str, Any] | None) -> RoleMapping:
        """Read the `[roles]` table; raise `RoleConfigError` naming the bad entry."""
        table = dict(table or {})
        unknown = set(table) - _ROLE_KEYS
        if unknown:
            raise RoleConfigError(f"[roles] has unknown keys {sorted(unknown)}; known: {sorted(_ROLE_KEYS)}")
        default = _role_value(table.get("default", "viewer"), "[roles] default")
        unrestricted = table.get("admins_unrestricted", True)
        if not isinstance(unrestricted, bool):
            raise RoleConfigError("[roles] admins_unrestricted must be true or false")
        zendesk = _rules(table.get("zendesk"), "zendesk")
        bad = set(zendesk) - {"admin", "agent"}
        if bad:
            raise RoleConfigError(f"[roles.zendesk] keys must be Zendesk roles admin or agent, not {sorted(bad)} "
                                  "(end-users are always refused)")
        custom = _rules(table.get("custom_roles"), "custom_roles")
        for key in custom:
            if not key.isdigit():
                raise RoleConfigError(f"[roles.custom_roles] key {key!r} must be a numeric custom role id")
        groups = _rules(table.get("groups"), "groups")
        accounts: dict[str, frozenset[str] | None] = {}
        raw_accounts = table.get("accounts") or {}
        if not isinstance(raw_accounts, Mapping):
            raise RoleConfigError("[roles.accounts] must be a table")
        for key, value in raw_accounts.items():
            key = str(key)
            if not (key in {r.value for r in Role} or (key.startswith("group:") and len(key) > 6)):
                raise RoleConfigError(f"[roles.accounts] key {key!r} must be a role name (admin, analyst, viewer) "
                                      "or group:<group id or name>")
            accounts[key] = _account_list(value, key)
        return cls(default=default, zendesk=zendesk, custom_roles=custom, groups=groups, accounts=accounts,
                   admins_unrestricted=unrestricted)

    def resolve(self, user: DirectoryUser) -> SessionUser:
        """The session user for a Zendesk user; `Forbidden` (action "session") if they may not sign in."""
        if user.role == "end-user":
            raise Forbidden("session", "end_user", "CloudScreen is for agents; end-users cannot sign in.")
        if user.role not in ("agent", "admin"):
            raise Forbidden("session", "no_role", f"Zendesk role {user.role!r} is not an agent role.")
        if user.suspended or not user.active:
            raise Forbidden("session", "inactive", "This Zendesk user is suspended or inactive.")
        matched: list[Role | None] = []
        if user.role in self.zendesk:
            matched.append(self.zendesk[user.role])
        if user.custom_role_id is not None and str(user.custom_role_id) in self.custom_roles:
            matched.append(self.custom_roles[str(user.custom_role_id)])
        group_keys = self._group_keys(user.groups)
        matched.extend(self.groups[k] for k in group_keys if k in self.groups)
        if None in matched:
            raise Forbidden("session", "denied", "Your Zendesk role or group is not allowed to use CloudScreen.")
        if matched:
            role = max((r for r in matched if r is not None), key=lambda r: r.rank)
        elif self.default is None:
            raise Forbidden("session", "no_role", "No CloudScreen role is configured for you; ask an administrator "
                                                  "to map your Zendesk role or group in [roles].")
        else:
            role = self.default
        return SessionUser(id=str(user.id), name=user.name or f"user {user.id}", role=role, groups=group_keys)

    def allowed_accounts(self, user: SessionUser) -> frozenset[str] | None:
        """The accounts the user may scan; None means every account."""
        keys = [user.role.value] + [f"group:{g}" for g in user.groups]
        entries = [self.accounts[k] for k in keys if k in self.accounts]
        if user.role is Role.ADMIN and self.admins_unrestricted and Role.ADMIN.value not in self.accounts:
            return None
        if any(e is None for e in entries):
            return None
        return frozenset().union(*(e for e in entries if e is not None))

    def may_scan(self, user: SessionUser, accounts: Iterable[str] | None) -> bool:
        """True when the user's role may start scans and every named account is in their allow-list.

        `accounts` must be the resolved account ids; None (not known) is allowed only for unrestricted users."""
        try:
            self.authorize(user, Action.START_SCAN, accounts)
        except Forbidden:
            return False
        return True

    def authorize(self, user: SessionUser, action: Action | str, accounts: Iterable[str] | None = None) -> None:
        """Raise `Forbidden` unless the user's role allows `action` (and, for scans and queries, every
        account in `accounts` is in their allow-list)."""
        try:
            act = Action(action)
        except ValueError:
            raise ValueError(f"unknown action {action!r}") from None
        needed = _MIN_ROLE[act]
        if user.role.rank < needed.rank:
            raise Forbidden(act.value, "role", f"A {user.role.value} cannot {_DOING[act]}; ask a CloudScreen "
                                               f"administrator for the {needed.value} role.")
        if act in _ACCOUNT_ACTIONS or (accounts is not None and act is Action.CANCEL_SCAN):
            allowed = self.allowed_accounts(user)
            if allowed is None:
                return
            if accounts is None:
                raise Forbidden(act.value, "accounts_required", "Name the AWS accounts: your access is limited "
                                                               "to an account allow-list.")
            wanted = sorted({str(a) for a in accounts})
            outside = [a for a in wanted if a not in allowed]
            if outside:
                shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
                raise Forbidden(act.value, "account_not_allowed",
                                f"You may not {_DOING[act]} for account {shown}: not in your allow-list.",
                                accounts=outside)

    def _group_keys(self, groups: Sequence[DirectoryGroup]) -> tuple[str, ...]:
        """The configuration keys (as written) that name one of these groups, by id or by name."""
        known = list(self.groups) + [k.removeprefix("group:") for k in self.accounts if k.startswith("group:")]
        found: list[str] = []
        for key in dict.fromkeys(known):
            folded = key.casefold()
            for g in groups:
                if key == str(g.id) or (g.name is not None and folded == g.name.casefold()):
                    found.append(key)
                    break
        return tuple(found)


def _role_value(value: Any, where: str) -> Role | None:
    if value == "none":
        return None
    try:
        return Role(value)
    except ValueError:
        raise RoleConfigError(f"{where}: {value!r} is not a role (admin, analyst, viewer or none)") from None


def _rules(value: Any, name: str) -> dict[str, Role | None]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RoleConfigError(f"[roles.{name}] must be a table of key = role")
    return {str(k): _role_value(v, f"[roles.{name}] {k}") for k, v in value.items()}


def _account_list(value: Any, key: str) -> frozenset[str] | None:
    if value == "*":
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise RoleConfigError(f"[roles.accounts] {key}: expected a list of 12-digit account ids or \"*\"")
    ids = [str(v) for v in value]
    bad = [v for v in ids if not _ACCOUNT_ID.match(v)]
    if bad:
        raise RoleConfigError(f"[roles.accounts] {key}: {bad[0]!r} is not a 12-digit account id")
    return frozenset(ids)


# ---------------------------------------------------------------------------------------------------
# session tokens

class SessionTokens:
    """Issues and verifies CloudScreen session tokens (HS256, CONTRACTS.md section 4)."""

    def __init__(self, secret: str, ttl_s: int = 900, *, leeway_s: float = 5.0,
                 clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise InsecureSecretError("the session secret is empty: set CLOUDSCREEN_SESSION_SECRET")
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self._secret = secret.encode()
        self._ttl_s = int(ttl_s)
        # A few seconds only: the fronts that issue and verify share NTP-synced clocks.
        self._leeway_s = min(leeway_s, MAX_LEEWAY_S)
        self._clock = clock

    @property
    def ttl_s(self) -> int:
        return self._ttl_s

    def issue(self, user: SessionUser) -> tuple[str, datetime]:
        """A signed session token for `user` and the moment it expires (UTC)."""
        now = int(self._clock())
        exp = now + self._ttl_s
        claims: dict[str, Any] = {"iss": SESSION_ISSUER, "aud": SESSION_AUDIENCE, "sub": str(user.id),
                                  "name": user.name, "role": Role(user.role).value, "iat": now, "exp": exp}
        if user.groups:
            claims["groups"] = list(user.groups)
        token = jwt.encode(claims, self._secret, algorithm=SESSION_ALGORITHM)
        return token, datetime.fromtimestamp(exp, UTC)

    def verify(self, token: str) -> SessionUser:
        """The user in a valid session token; `AuthError` for any other algorithm (including none),
        wrong issuer or audience, bad signature, expiry or missing claims."""
        _check_header(token, SESSION_ALGORITHM)
        options = {"require": ["exp", "iat", "sub", "iss", "aud"], "verify_sub": True, "strict_aud": True}
        claims = _decode(token, self._secret, SESSION_ALGORITHM, options=options, audience=SESSION_AUDIENCE,
                         issuer=SESSION_ISSUER, leeway=self._leeway_s)
        try:
            role = Role(claims.get("role"))
        except ValueError:
            raise AuthError("malformed", "the role claim is not a role") from None
        name = claims.get("name")
        if not isinstance(name, str):
            raise AuthError("missing_claim", "no name claim")
        groups = claims.get("groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise AuthError("malformed", "the groups claim is not a list of strings")
        if not claims["sub"]:
            raise AuthError("missing_claim", "empty sub")
        return SessionUser(id=claims["sub"], name=name, role=role, groups=tuple(groups),
                           expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC))
