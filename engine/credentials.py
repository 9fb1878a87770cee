"""Per-account AWS sessions and the one client factory.

* An account other than the caller's own is reached by STS AssumeRole into
  `arn:aws:iam::<id>:role/<role_name>` (with the external id when configured). The credentials are
  botocore RefreshableCredentials, so they are renewed before they expire, mid-scan included.
* Clients are built once per (account, region, service) in a process and reused: building a boto3
  client costs tens of ms of CPU, which must stay off the per-call path.
* With a custom endpoint (the emulator) every client goes there; s3control's account-id host
  prefix is folded back onto the configured host, and the emulator's "not implemented" 500
  answers become 501 `NotImplemented` so they are reported at once instead of being retried.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.loaders
import botocore.session

from engine.errors import AssumeRoleError
from engine.throttle import NOT_IMPLEMENTED_CODE, THROTTLING_CODES, RateBudget, aws_call, record

# One loader of botocore's service models per process: each botocore session otherwise re-parses
# the (large) JSON models, ~0.25 s of CPU per account for five clients instead of ~0.02 s.
_LOADER = botocore.loaders.create_loader()


def _botocore_session() -> botocore.session.Session:
    bs = botocore.session.get_session()
    bs.register_component("data_loader", _LOADER)
    return bs


def base_session() -> boto3.Session:
    """A boto3 session on the environment's credential chain, sharing the process's model loader."""
    return boto3.Session(botocore_session=_botocore_session())


class AwsOptions:
    """What the engine needs to know to talk to AWS (a slice of Settings)."""

    def __init__(self, endpoint_url: str | None = None, role_name: str = "OrganizationAccountAccessRole",
                 external_id: str | None = None, max_attempts: int = 3, max_pool_connections: int = 32,
                 api_rate_per_s: float = 25.0, assume_role_duration_s: int = 3600,
                 session_name: str = "cloudscreen") -> None:
        self.endpoint_url = endpoint_url or None
        self.role_name = role_name
        self.external_id = external_id or None
        self.max_attempts = max_attempts
        self.max_pool_connections = max_pool_connections
        self.api_rate_per_s = api_rate_per_s
        self.assume_role_duration_s = assume_role_duration_s
        self.session_name = session_name

    @classmethod
    def from_settings(cls, settings: Any, session_name: str = "cloudscreen") -> AwsOptions:
        return cls(endpoint_url=settings.aws_endpoint_url, role_name=settings.role_name,
                   external_id=settings.external_id, max_attempts=settings.botocore_max_attempts,
                   api_rate_per_s=settings.api_rate_per_s,
                   assume_role_duration_s=settings.assume_role_duration_s, session_name=session_name)

    def key(self) -> tuple[Any, ...]:
        return (self.endpoint_url, self.role_name, self.external_id, self.max_attempts,
                self.api_rate_per_s, self.assume_role_duration_s)

    def botocore_config(self) -> botocore.config.Config:
        return botocore.config.Config(
            retries={"mode": "standard", "max_attempts": self.max_attempts},
            max_pool_connections=self.max_pool_connections,
            connect_timeout=10, read_timeout=60,
            user_agent_extra="cloudscreen/0.1",
        )

    def role_arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:role/{self.role_name}"


class AccountSession:
    """A boto3 session acting in one account, with a cache of its clients."""

    def __init__(self, account_id: str, options: AwsOptions, *, assume: bool = True,
                 base: boto3.Session | None = None, budget: RateBudget | None = None) -> None:
        self.account_id = account_id
        self.options = options
        self._base = base or base_session()
        self._budget = budget or RateBudget(options.api_rate_per_s)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._config = options.botocore_config()
        if assume:
            self._session = self._assumed_session()
        else:
            self._session = self._base

    # -- credentials --
    def _assume(self) -> dict[str, str]:
        sts = self._new_client(self._base, "sts", self._base.region_name or "us-east-1")
        kwargs: dict[str, Any] = {
            "RoleArn": self.options.role_arn(self.account_id),
            "RoleSessionName": self.options.session_name[:64],
            "DurationSeconds": self.options.assume_role_duration_s,
        }
        if self.options.external_id:
            kwargs["ExternalId"] = self.options.external_id
        try:
            creds = aws_call(sts.assume_role, **kwargs)["Credentials"]
        except botocore.exceptions.ClientError as exc:
            err = exc.response.get("Error", {})
            raise AssumeRoleError(self.account_id, kwargs["RoleArn"], err.get("Code", "Error"),
                                  err.get("Message", "")) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise AssumeRoleError(self.account_id, kwargs["RoleArn"], type(exc).__name__, str(exc)) from None
        expiry = creds["Expiration"]
        if isinstance(expiry, datetime):
            expiry = expiry.astimezone(UTC).isoformat()
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": expiry}

    def _assumed_session(self) -> boto3.Session:
        # The first assume happens now, so an unassumable role fails the account at once.
        creds = botocore.credentials.RefreshableCredentials.create_from_metadata(
            metadata=self._assume(), refresh_using=self._assume, method="sts-assume-role")
        bs = _botocore_session()
        bs._credentials = creds  # botocore's documented way to plug refreshable credentials in
        return boto3.Session(botocore_session=bs, region_name=self._base.region_name)

    @property
    def credentials(self) -> botocore.credentials.Credentials | None:
        return self._session.get_credentials()

    # -- clients --
    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        c = self._clients.get(key)
        if c is None:
            with self._lock:  # client creation on a shared session is not thread-safe
                c = self._clients.get(key)
                if c is None:
                    c = self._new_client(self._session, service, region)
                    self._clients[key] = c
        return c

    def _new_client(self, session: boto3.Session, service: str, region: str) -> Any:
        c = session.client(service, region_name=region, endpoint_url=self.options.endpoint_url,
                           config=self._config)
        record(clients_created=1)
        events = c.meta.events
        account, budget = self.account_id, self._budget
        def take_budget(model: Any, **_: Any) -> None:  # must return None: a value short-circuits the call
            budget.acquire((account, region, model.name))

        events.register("before-call", take_budget, unique_id="cloudscreen-budget")
        events.register("before-send", _count_send, unique_id="cloudscreen-count")
        events.register("needs-retry", _count_throttle, unique_id="cloudscreen-throttle")
        if self.options.endpoint_url:
            events.register("before-parse", _emulator_not_implemented, unique_id="cloudscreen-501")
            events.register_first("needs-retry", _no_retry_not_implemented, unique_id="cloudscreen-501-retry")
            if service == "s3control":
                events.register("before-send.s3-control", _keep_endpoint_host(self.options.endpoint_url),
                                unique_id="cloudscreen-s3control-host")
        return c


def _count_send(**_: Any) -> None:
    record(api_calls=1)


def _count_throttle(response: Any = None, **_: Any) -> None:
    if response and isinstance(response, tuple) and len(response) == 2 and isinstance(response[1], dict):
        code = response[1].get("Error", {}).get("Code")
        if code in THROTTLING_CODES:
            record(throttles=1)
    return None


def _emulator_not_implemented(response_dict: dict[str, Any], **_: Any) -> None:
    """moto answers operations it does not implement with HTTP 500 and a short body; make that a
    non-retryable 501 NotImplemented error so it becomes an ERROR finding at once."""
    if response_dict.get("status_code") != 500:
        return
    body = response_dict.get("body") or b""
    if isinstance(body, bytes) and (b"not been implemented" in body or b"not yet implemented" in body
                                    or b"<!doctype html>" in body[:64].lower()):
        response_dict["status_code"] = 501
        response_dict["headers"]["x-amzn-errortype"] = NOT_IMPLEMENTED_CODE
        response_dict["body"] = (b'<?xml version="1.0"?><ErrorResponse><Error><Code>NotImplemented</Code>'
                                 b"<Message>operation not implemented by the endpoint</Message></Error>"
                                 b"</ErrorResponse>")


def _no_retry_not_implemented(response: Any = None, **_: Any) -> None:
    """Runs before botocore's retry handler: a NotImplemented answer is final, whatever its status."""
    if response and isinstance(response, tuple) and len(response) == 2 and isinstance(response[1], dict):
        if response[1].get("Error", {}).get("Code") == NOT_IMPLEMENTED_CODE and response[0] is not None:
            response[0].status_code = 501


def _keep_endpoint_host(endpoint_url: str) -> Any:
    want = urlsplit(endpoint_url)

    def rewrite(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc != want.netloc:
            request.url = urlunsplit((want.scheme, want.netloc, parts.path, parts.query, parts.fragment))
            request.headers["Host"] = want.netloc

    return rewrite


# One cache of account sessions per process (Ray runner processes serve many units).
_sessions: dict[tuple[Any, ...], AccountSession] = {}
_sessions_lock = threading.Lock()


def account_session(account_id: str, options: AwsOptions, *, assume: bool = True) -> AccountSession:
    key = (account_id, assume, options.key())
    s = _sessions.get(key)
    if s is None:
        with _sessions_lock:
            s = _sessions.get(key)
            if s is None:
                s = AccountSession(account_id, options, assume=assume)
                _sessions[key] = s
    return s


def forget_sessions() -> None:
    with _sessions_lock:
        _sessions.clear()


def caller_account(options: AwsOptions) -> str:
    """The account id of the credentials in the environment (GetCallerIdentity)."""
    s = base_session()
    sts = s.client("sts", region_name=s.region_name or "us-east-1", endpoint_url=options.endpoint_url,
                   config=options.botocore_config())
    return aws_call(sts.get_caller_identity)["Account"]
