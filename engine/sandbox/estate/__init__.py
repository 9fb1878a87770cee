"""The demo estate: member accounts of the bundled emulator, seeded with known good and bad resources.

`seed_demo_estate(server)` creates, in every member account, the audit role the scanner assumes and,
through the per-service seeders of this package (one module per AWS service, registered with
`@seeder`), known bad and known good resources, once per account or in each region. It returns a
`Manifest`: the accounts and, for every seeded resource, the status each check must report on it.
Tests and benchmarks compare scans with it.

`unassumable` extra accounts hold nothing, not even the audit role, so assuming into them is denied.
A new service adds `engine/sandbox/estate/<service>.py` and nothing else.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import boto3
import botocore.config

from engine.model import GLOBAL_REGION
from engine.sandbox.server import MANAGEMENT_ACCOUNT, EmulatorServer

FAIL = "FAIL"
PASS = "PASS"
PREFIX = "cs-demo"

_BASE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3},
                                 max_pool_connections=16)


@dataclass
class Expectation:
    """One finding a correct scan of the estate must produce: `check_id` on `resource_id` is `status`."""

    check_id: str
    account_id: str
    region: str
    resource_id: str
    status: str


@dataclass
class Manifest:
    """The ground truth of a seeded estate."""

    accounts: list[str]
    regions: tuple[str, ...]
    role_name: str
    external_id: str
    expectations: list[Expectation] = field(default_factory=list)
    unassumable_accounts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (lists and strings only)."""
        d = asdict(self)
        d["regions"] = list(self.regions)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        """The inverse of `to_dict`."""
        return cls(accounts=list(d["accounts"]), regions=tuple(d["regions"]), role_name=d["role_name"],
                   external_id=d["external_id"],
                   expectations=[Expectation(**e) for e in d.get("expectations", [])],
                   unassumable_accounts=list(d.get("unassumable_accounts", [])))

    def expectations_for(self, account_id: str) -> list[Expectation]:
        """The expectations about one account."""
        return [e for e in self.expectations if e.account_id == account_id]


def member_account_id(n: int) -> str:
    """The n-th (1-based) demo account id: 111111111111 … 999999999999, then 100000000010, …"""
    if n < 1:
        raise ValueError(f"account number {n} must be at least 1")
    return str(n) * 12 if n <= 9 else str(100_000_000_000 + n)


def trust_policy(external_id: str) -> dict[str, Any]:
    """The audit role's trust policy: the management account, with the external id."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }],
    }


class SeedContext:
    """What a seeder gets: clients acting in one member account, and a way to record expectations."""

    def __init__(self, account_id: str, regions: tuple[str, ...], role_name: str, external_id: str,
                 endpoint: str, base: boto3.Session, base_lock: threading.Lock, credentials: dict[str, str]) -> None:
        self.account_id = account_id
        self.regions = regions
        self.role_name = role_name
        self.external_id = external_id
        self.endpoint = endpoint
        self.prefix = PREFIX
        self._base = base
        self._base_lock = base_lock
        self._credentials = credentials
        self._clients: dict[tuple[str, str], Any] = {}
        self.expectations: list[Expectation] = []

    def client(self, service: str, region: str = "us-east-1") -> Any:
        key = (service, region)
        if key not in self._clients:
            # Clients of one shared session reuse its parsed service models (the EC2 model alone
            # takes ~100 ms to load); building clients on a shared session must be serialised.
            with self._base_lock:
                self._clients[key] = self._base.client(service, region_name=region, endpoint_url=self.endpoint,
                                                       config=_CONFIG, **self._credentials)
        return self._clients[key]

    def expect(self, check_id: str, region: str, resource_id: str, status: str) -> None:
        """Record that a scan must report `status` for `check_id` on `resource_id` in `region`."""
        self.expectations.append(Expectation(check_id, self.account_id, region, resource_id, status))

    def name(self, *parts: str) -> str:
        """A resource name unique to this account: `cs-demo-<parts>`; add the region for global namespaces."""
        return "-".join((self.prefix, *parts))


SeedFn = Callable[[SeedContext, str], None]


@dataclass(frozen=True)
class Seeder:
    service: str
    scope: str  # "global": called once per account with region "global"; "regional": once per region
    fn: SeedFn
    order: int


SEEDERS: dict[str, Seeder] = {}


def seeder(service: str, *, scope: str = "regional", order: int = 100) -> Callable[[SeedFn], SeedFn]:
    """Register the demo-estate seeder of an AWS service (lower `order` runs first)."""
    if scope not in ("regional", "global"):
        raise ValueError(f"seeder scope {scope!r} must be regional or global")

    def register(fn: SeedFn) -> SeedFn:
        if service in SEEDERS:
            raise ValueError(f"seeder for {service!r} registered twice")
        SEEDERS[service] = Seeder(service, scope, fn, order)
        return fn

    return register


def load_seeders() -> list[Seeder]:
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    return sorted(SEEDERS.values(), key=lambda s: (s.order, s.service))


def seed_demo_estate(server: EmulatorServer, accounts: int = 3,
                     regions: tuple[str, ...] = ("us-east-1", "eu-west-1"), unassumable: int = 0,
                     role_name: str = "CloudScreenAudit", external_id: str = "cloudscreen-demo",
                     services: tuple[str, ...] | None = None) -> Manifest:
    """Seed `accounts` member accounts (plus `unassumable` ones without the audit role) in the running
    emulator `server` and return the manifest of what a scan must find. `services` limits the seeders
    (default: all).

    Assume-role enforcement is switched off while seeding (the seeder must enter accounts before their
    role exists) and is on when this returns."""
    if server.middleware is None:
        raise RuntimeError("the emulator is not running: call server.start() before seeding it")
    if accounts < 1 or unassumable < 0:
        raise ValueError(f"need at least one member account and no negative count "
                         f"(accounts={accounts}, unassumable={unassumable})")
    if not regions:
        raise ValueError("need at least one region to seed")
    members = [member_account_id(i) for i in range(1, accounts + 1)]
    denied = [member_account_id(i) for i in range(accounts + 1, accounts + unassumable + 1)]
    base = boto3.Session(region_name="us-east-1", **_BASE_CREDENTIALS)
    sts = base.client("sts", endpoint_url=server.endpoint, config=_CONFIG)
    server.middleware.enforce_assume_role = False
    try:
        lock = threading.Lock()
        # Threads overlap the accounts' round trips; beyond a few the in-process emulator's GIL is the limit.
        with ThreadPoolExecutor(max_workers=min(len(members), 8), thread_name_prefix="seed") as pool:
            per_account = list(pool.map(
                lambda a: _seed_account(a, tuple(regions), role_name, external_id, server.endpoint, base, lock,
                                        sts, services), members))
    finally:
        server.middleware.enforce_assume_role = True
    return Manifest(accounts=members, regions=tuple(regions), role_name=role_name, external_id=external_id,
                    expectations=[e for exps in per_account for e in exps], unassumable_accounts=denied)


def _seed_account(account_id: str, regions: tuple[str, ...], role_name: str, external_id: str, endpoint: str,
                  base: boto3.Session, base_lock: threading.Lock, sts: Any, services: tuple[str, ...] | None
                  ) -> list[Expectation]:
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}",
                            RoleSessionName="cloudscreen-seed", ExternalId=external_id)["Credentials"]
    ctx = SeedContext(account_id, regions, role_name, external_id, endpoint, base, base_lock,
                      {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                       "aws_session_token": creds["SessionToken"]})
    # The audit role comes first: every scan enters the account through it.
    ctx.client("iam").create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust_policy(external_id)),
                                  Description="CloudScreen read-only audit role (demo estate)")
    ctx.expect("iam_role_trust_no_public_principal", GLOBAL_REGION, role_name, PASS)
    for s in load_seeders():
        if services is not None and s.service not in services:
            continue
        if s.scope == "global":
            s.fn(ctx, GLOBAL_REGION)
        else:
            for region in regions:
                s.fn(ctx, region)
    return ctx.expectations
