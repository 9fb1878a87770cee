"""Shared fixtures: one in-process AWS emulator (moto server over real HTTP) per test session,
reset before each test that asks for `aws`."""

from __future__ import annotations

import io
import json
import logging
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)

from engine.credentials import AccountSession, AwsOptions, account_session, forget_sessions  # noqa: E402
from engine.logs import configure_logging  # noqa: E402
from engine.model import Finding, Unit  # noqa: E402
from engine.runtime.unit import run_unit  # noqa: E402
from engine.sandbox.estate import seed_demo_estate  # noqa: E402
from engine.sandbox.server import MANAGEMENT_ACCOUNT, EmulatorServer  # noqa: E402

ACCOUNT = MANAGEMENT_ACCOUNT


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer().start()
    yield server
    server.stop()


@dataclass
class Aws:
    """A fresh emulator for one test: clients for the default account and a way to run a unit."""

    server: EmulatorServer
    options: AwsOptions

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    def session(self, account_id: str = ACCOUNT) -> AccountSession:
        return account_session(account_id, self.options, assume=False)

    def client(self, service: str, region: str = "us-east-1"):
        return self.session().client(service, region)

    def scan(self, service: str, region: str = "us-east-1", *, regions: tuple[str, ...] | None = None,
             scan_time: datetime | None = None, params: dict | None = None) -> list[Finding]:
        """Run one unit of `service` (region `global` for global services) and return its findings."""
        from engine.collectors import COLLECTORS, load_all
        from engine.model import GLOBAL_REGION, Scope

        load_all()
        if COLLECTORS[service].scope is Scope.GLOBAL:
            region = GLOBAL_REGION
        scanned = regions or (("us-east-1",) if region == GLOBAL_REGION else (region,))
        result = run_unit(Unit(ACCOUNT, region, service), self.session(), scanned_regions=scanned,
                          scan_time=scan_time or datetime.now(UTC), threads=4, params=params)
        return result.findings


@pytest.fixture
def aws(emulator: EmulatorServer) -> Iterator[Aws]:
    from engine import throttle

    emulator.reset()
    forget_sessions()
    # Fast retries in tests: still exercised, but without multi-second back-offs.
    throttle.configure(attempts=2, max_wait_s=0.05, initial_wait_s=0.01)
    yield Aws(emulator, AwsOptions(endpoint_url=emulator.endpoint, api_rate_per_s=0, max_attempts=2))
    throttle.configure(attempts=3, max_wait_s=8.0)


ESTATE_REGIONS = ("us-east-1", "eu-west-1")


def sandbox_control(endpoint: str, cmd: str, body: dict | None = None) -> dict:
    """Call the emulator's `/_sandbox/<cmd>` control endpoint (POST with a JSON body, else GET)."""
    req = urllib.request.Request(f"{endpoint}/_sandbox/{cmd}", method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


def inject_failure(aws, action: str, code: str = "AccessDeniedException", count: int = 1000) -> None:
    """Make the next `count` calls of `action` fail with the AWS error `code` (not retried: fast)."""
    sandbox_control(aws.endpoint, "faults", {"fail": {action: {"code": code, "count": count}}})


def estate_mismatches(aws: Aws | EmulatorServer, service: str, *, both_outcomes: bool = False) -> list[str]:
    """Seed one demo account with `service` only (two regions), scan it as a real scan would (through
    the audit role), and list every expectation about the service's checks the scan does not meet —
    and every check of the service the seeder left without an expectation."""
    from engine.checks import checks_for
    from engine.collectors import COLLECTORS, load_all
    from engine.model import GLOBAL_REGION, Scope

    server = aws.server if isinstance(aws, Aws) else aws
    server.reset()
    forget_sessions()
    try:
        manifest = seed_demo_estate(server, accounts=1, regions=ESTATE_REGIONS, services=(service,))
        account = manifest.accounts[0]
        session = account_session(account, AwsOptions(endpoint_url=server.endpoint, role_name=manifest.role_name,
                                                      external_id=manifest.external_id, api_rate_per_s=0,
                                                      max_attempts=2))
        load_all()
        unit_regions = (GLOBAL_REGION,) if COLLECTORS[service].scope is Scope.GLOBAL else ESTATE_REGIONS
        got: dict[tuple[str, str, str], list[str]] = {}
        for region in unit_regions:
            result = run_unit(Unit(account, region, service), session, scanned_regions=ESTATE_REGIONS, threads=4)
            assert result.error is None, f"{service} in {region} could not be collected: {result.error}"
            for f in result.findings:
                got.setdefault((f.check_id, f.region, f.resource_id), []).append(f.status.value)
        ids = {c.meta.id for c in checks_for(service)}
        wanted = [e for e in manifest.expectations if e.check_id in ids]
        wrong = [f"{e.check_id} {e.region} {e.resource_id}: expected {e.status}, got {got.get(k)}"
                 for e in wanted if got.get(k := (e.check_id, e.region, e.resource_id)) != [e.status]]
        wrong += [f"{cid}: the seeder records no expectation" for cid in sorted(ids - {e.check_id for e in wanted})]
        if both_outcomes:  # every check must be seen failing on a bad resource and passing on a good one
            for outcome in ("FAIL", "PASS"):
                seen = {e.check_id for e in wanted if e.status == outcome}
                wrong += [f"{cid}: the seeder records no {outcome} expectation" for cid in sorted(ids - seen)]
        return wrong
    finally:
        forget_sessions()


def findings_for(findings: list[Finding], check_id: str, resource_id: str | None = None) -> list[Finding]:
    return [f for f in findings if f.check_id == check_id and (resource_id is None or f.resource_id == resource_id)]


def status_of(findings: list[Finding], check_id: str, resource_id: str | None = None) -> str:
    """The one status of `check_id` on `resource_id`; fails the test if there is not exactly one."""
    got = findings_for(findings, check_id, resource_id)
    seen = [(f.resource_id, f.status.value) for f in got]
    assert len(got) == 1, f"expected one {check_id} finding for {resource_id}, got {seen}"
    return got[0].status.value


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The process's logging as `CLOUDSCREEN_LOG_FORMAT=json` sets it up, into a buffer (restored after)."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("INFO", "json", stream=buffer)
    try:
        yield buffer
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved_handlers:
            root.addHandler(h)
        root.setLevel(saved_level)


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (installed by `make test`; missing = failure)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make test`, which installs Debian's "
                    "chromium package before running the tests.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()
