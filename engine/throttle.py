"""The one retry policy and the per-(account, region, API) rate budgets.

Layering: botocore's `standard` retry mode retries throttling and transient errors at the HTTP
level (with its own retry quota); `aws_call` wraps each logical call in a tenacity policy that
backs off exponentially with jitter when an error survives botocore's attempts, and stops at its
limit. Errors that retrying cannot fix (access denied, not implemented, validation) are not retried.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import botocore.exceptions
import jmespath
from tenacity import (
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity import Retrying as _Retrying

T = TypeVar("T")

THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "EC2ThrottledException", "PriorRequestNotComplete",
})
TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable",
                             "InternalFailure", "InternalServerError"})
ACCESS_DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
    "AuthorizationError", "AuthorizationErrorException", "Forbidden", "InvalidClientTokenId",
    "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException", "SignatureDoesNotMatch",
})
NOT_IMPLEMENTED_CODE = "NotImplemented"


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, botocore.exceptions.ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
                        botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError)):
        return True
    code = error_code(exc)
    return code in THROTTLING_CODES or code in TRANSIENT_CODES


def describe_error(exc: BaseException) -> str:
    """A one-line, user-facing reason for an AWS error (no stack trace, no request ids)."""
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code") or "Error"
        if code == NOT_IMPLEMENTED_CODE:
            return f"{exc.operation_name} is not supported by the endpoint (not implemented)"
        msg = (err.get("Message") or "").strip()
        prefix = f"{exc.operation_name}: " if getattr(exc, "operation_name", None) else ""
        return f"{prefix}{code}" + (f" — {msg}" if msg else "")
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class RetryPolicy:
    attempts: int = 3
    initial_wait_s: float = 0.5
    max_wait_s: float = 8.0

    def retrying(self) -> _Retrying:
        return _Retrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_after_attempt(max(1, self.attempts)),
            wait=wait_exponential_jitter(initial=self.initial_wait_s, max=self.max_wait_s),
            before_sleep=_count_retry,
            reraise=True,
        )


_policy = RetryPolicy()


def configure(attempts: int, max_wait_s: float, initial_wait_s: float = 0.5) -> None:
    """Set the process's retry policy (from Settings)."""
    global _policy
    _policy = RetryPolicy(attempts=attempts, initial_wait_s=initial_wait_s, max_wait_s=max_wait_s)


def aws_call(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Call a boto3 client method under the retry policy."""
    return _policy.retrying()(fn, *args, **kwargs)


def paginate(client: Any, operation: str, result_key: str, **kwargs: Any) -> Iterator[Any]:
    """Yield the items of `result_key` across all pages, page by page (bounded memory)."""
    for page in pages(client, operation, **kwargs):
        yield from jmespath.search(result_key, page) or []


def pages(client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Yield the whole pages of a paginated operation (for operations with several result keys).

    Each page is one call under the retry policy, resumed from the previous page's token: a
    botocore page iterator cannot be retried once a page failed (it just ends), which would turn a
    throttled listing into a silently short one."""
    cfg = client.get_paginator(operation)._pagination_cfg  # the service's paginators-1.json entry
    in_toks = _as_list(cfg["input_token"])
    out_toks = _as_list(cfg["output_token"])
    more = cfg.get("more_results")
    method = getattr(client, operation)
    params = dict(kwargs)
    seen: set[tuple[Any, ...]] = set()
    while True:
        page = aws_call(method, **params)
        yield page
        tokens = tuple(jmespath.search(t, page) for t in out_toks)
        if (more and not jmespath.search(more, page)) or not any(tokens) or tokens in seen:
            return
        seen.add(tokens)
        for name, value in zip(in_toks, tokens, strict=False):
            if value is None:
                params.pop(name, None)
            else:
                params[name] = value


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, list) else [v]


# ---- accounting of API calls per unit (a context variable follows the unit into its threads) ----

@dataclass
class CallStats:
    api_calls: int = 0
    throttles: int = 0
    retries: int = 0
    clients_created: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, **kw: int) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)


current_stats: ContextVar[CallStats | None] = ContextVar("cloudscreen_call_stats", default=None)
process_stats = CallStats()


def record(**kw: int) -> None:
    process_stats.add(**kw)
    st = current_stats.get()
    if st is not None:
        st.add(**kw)


def _count_retry(state: RetryCallState) -> None:
    record(retries=1)


# ---- rate budgets ----

class RateBudget:
    """Token buckets keyed by (account, region, operation): parallel units share one budget per API,
    so fan-out does not turn into a throttling storm."""

    def __init__(self, rate_per_s: float, burst: float | None = None) -> None:
        self.rate = rate_per_s
        self.burst = burst if burst is not None else max(1.0, rate_per_s)
        self._buckets: dict[tuple[str, str, str], list[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: tuple[str, str, str]) -> float:
        """Take one token, sleeping until one is available. Returns the time slept."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            tokens, last = self._buckets.get(key, [self.burst, now])
            tokens = min(self.burst, tokens + (now - last) * self.rate) - 1.0
            self._buckets[key] = [tokens, now]
            wait = 0.0 if tokens >= 0 else -tokens / self.rate
        if wait > 0:
            time.sleep(wait)
        return wait
