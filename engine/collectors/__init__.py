"""Collector registry: one module per AWS service, each fetching that service's data once per
(account, region). Adding a service = adding a module here (and its checks module)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from engine.model import GLOBAL_REGION, Scope

if TYPE_CHECKING:
    from engine.credentials import AccountSession

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Resource:
    """A collected resource. `errors` maps a field name to why that field could not be collected;
    checks that need an errored field report ERROR for this resource instead of guessing."""

    id: str
    arn: str | None
    region: str
    errors: dict[str, str] = field(default_factory=dict, kw_only=True)


@dataclass
class ServiceData:
    """Base of every collector's result for one (account, region)."""

    account_id: str
    region: str
    errors: dict[str, str] = field(default_factory=dict, kw_only=True)


@dataclass
class CollectContext:
    account_id: str
    region: str
    session: AccountSession
    scan_time: datetime
    scanned_regions: tuple[str, ...]
    threads: int = 8
    params: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        return self.session.client(service, region or self._client_region())

    def _client_region(self) -> str:
        return self.scanned_regions[0] if self.region == GLOBAL_REGION else self.region

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Run `fn` over items on the unit's thread pool (boto3 calls are I/O), in order."""
        items = list(items)
        if self.threads <= 1 or len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(self.threads, len(items))) as pool:
            # copy_context per call: API-call accounting lives in a context variable.
            futures = [pool.submit(copy_context().run, fn, i) for i in items]
            return [f.result() for f in futures]


CollectFn = Callable[[CollectContext], ServiceData]


@dataclass(frozen=True)
class Collector:
    service: str
    scope: Scope
    fn: CollectFn
    cost: float
    title: str


COLLECTORS: dict[str, Collector] = {}


def collector(service: str, *, scope: Scope | str, cost: float = 1.0,
              title: str = "") -> Callable[[CollectFn], CollectFn]:
    """Register the collector of an AWS service. `cost` is the default expected unit cost."""

    def register(fn: CollectFn) -> CollectFn:
        if service in COLLECTORS:
            raise ValueError(f"collector for service {service!r} registered twice")
        COLLECTORS[service] = Collector(service, Scope(scope), fn, cost, title or service)
        return fn

    return register


_imported = False


def load_all() -> dict[str, Collector]:
    """Import every collector module (idempotent) and return the registry."""
    global _imported
    if not _imported:  # scanning the package folder once per process is enough (units call this a lot)
        for mod in pkgutil.iter_modules(__path__):
            if not mod.name.startswith("_"):
                importlib.import_module(f"{__name__}.{mod.name}")
        _imported = True
    return COLLECTORS


def iter_services() -> Iterator[str]:
    return iter(sorted(load_all()))


_MISSING = object()


def fetch(fn: Callable[..., Any], /, *args: Any, absent: Iterable[str] = (), **kwargs: Any) -> tuple[Any, str | None]:
    """Call a boto3 method under the retry policy, turning errors into data.

    Returns `(response, None)` on success; `(None, None)` when the error code is in `absent`
    ("not configured" is data, e.g. NoSuchBucketPolicy); `(None, reason)` for any other error, the
    reason being a one-line description for an ERROR finding. Never raises for AWS errors.
    """
    from engine.throttle import aws_call, describe_error, error_code

    try:
        return aws_call(fn, *args, **kwargs), None
    except Exception as exc:
        if error_code(exc) in set(absent):
            return None, None
        return None, describe_error(exc)


def set_policy(resource: Resource, raw: Any, operation: str, name: str = "policy") -> None:
    """Set `resource.<name>` to a parsed policy document (dict, JSON or URL-encoded JSON), or record in
    `resource.errors[name]` that it is unreadable: an unreadable policy must not read as "no public
    statement"."""
    from engine.policydoc import normalise_document

    try:
        setattr(resource, name, normalise_document(raw))
    except ValueError as exc:
        resource.errors[name] = f"{operation}: the policy is not valid JSON ({exc})"


def fill(resource: Resource, name: str, fn: Callable[..., Any], /, *args: Any, absent: Iterable[str] = (),
         transform: Callable[[Any], Any] | None = None, **kwargs: Any) -> None:
    """Set `resource.<name>` from an API call (through `transform`), or record why it failed in
    `resource.errors[name]`. An `absent` error code sets the field to None."""
    resp, err = fetch(fn, *args, absent=absent, **kwargs)
    if err is not None:
        resource.errors[name] = err
        return
    setattr(resource, name, transform(resp) if (transform and resp is not None) else resp)
