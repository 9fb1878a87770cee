"""`cloudscreen` command line (CONTRACTS.md section 1).

Exit codes: 0 scan completed; 1 scan failed, partially failed or was cancelled; 2 usage error
(one line on stderr); 3 completed and the `--fail-on` threshold was met.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

from engine.errors import CloudScreenError, UsageError
from engine.model import ScanStatus, Severity

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_THRESHOLD = 0, 1, 2, 3
KNOWN_FORMATS = ("html", "json", "csv", "ocsf")


class _Parser(argparse.ArgumentParser):
    """argparse with the contract's usage errors: one line on stderr, exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"cloudscreen: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cloudscreen", description="Scan AWS accounts for security and Well-Architected problems.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("scan", help="scan accounts and write findings")
    who = s.add_mutually_exclusive_group()
    who.add_argument("--accounts", help="comma-separated 12-digit account ids (default: the caller's own)")
    who.add_argument("--org", action="store_true", help="scan every active account of the AWS Organization")
    s.add_argument("--role-name", help="role assumed in each account (default OrganizationAccountAccessRole)")
    s.add_argument("--external-id", help="external id for AssumeRole")
    s.add_argument("--regions", help="comma-separated regions, or 'all' (default: CLOUDSCREEN_DEFAULT_REGIONS)")
    s.add_argument("--services", help="comma-separated services, or 'all' (default: all)")
    s.add_argument("--out", default="cloudscreen-out", help="output folder (a sub-folder per scan)")
    s.add_argument("--format", default=None, help="report formats: html,json,csv,ocsf (default: all)")
    s.add_argument("--fail-on", choices=[v.value for v in Severity], help="exit 3 if a FAIL at or above this severity")
    s.add_argument("--endpoint-url", help="send every AWS call to this endpoint (e.g. the emulator)")
    s.add_argument("--demo", action="store_true", help="start the bundled emulator with the demo estate and scan it")
    s.add_argument("--demo-accounts", type=int, default=3, help="accounts in the demo estate (with --demo)")
    s.add_argument("--latency-ms", type=float, default=0.0, help="with --demo: delay every emulator answer")
    s.add_argument("--ray-address", help="Ray cluster address (default: start a local Ray)")
    s.add_argument("--max-concurrent-accounts", type=int, help="account jobs running at once (default 4)")
    s.add_argument("--mutelist", help="YAML/JSON file of accepted risks: matching FAILs become MUTED")
    s.add_argument("--framework", help="run only the checks mapped to this framework (cis-aws-3.0, aws-fsbp, "
                                       "aws-securityhub); the summary gets per-control counts")
    s.add_argument("--resume", metavar="SCAN_ID",
                   help="finish a stored scan: re-run its accounts, skipping the units already finished")
    s.add_argument("--quiet", action="store_true", help="no progress output")

    r = sub.add_parser("report", help="re-render the reports of a stored scan without rescanning")
    r.add_argument("scan", metavar="SCAN_DIR", help="a scan's output folder (holding findings.json) or a scan id")
    r.add_argument("--format", default=None, help="html,json,csv,ocsf (default: all)")
    r.add_argument("--out", help="where to write (default: SCAN_DIR, or ./cloudscreen-out/<scan_id>)")

    pr = sub.add_parser("prune", help="delete stored scans older than the retention period")
    pr.add_argument("--days", type=float, help="age limit (default: CLOUDSCREEN_RETENTION_DAYS)")
    pr.add_argument("--include-audit", action="store_true", help="also delete scans marked audit-required")

    a = sub.add_parser("audit", help="audit log tools: `cloudscreen audit verify FILE [--anchor HASH]`")
    a.add_argument("rest", nargs=argparse.REMAINDER, help="verify FILE [--anchor HASH]")

    c = sub.add_parser("checks", help="list the check catalogue")
    c.add_argument("--service", help="only this service (comma-separated list allowed)")
    c.add_argument("--framework", help="only checks mapped to this framework")
    c.add_argument("--format", choices=("table", "json"), default="table")

    sv = sub.add_parser("serve", help="run the front (REST + WebSocket) with Hypercorn")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8080)
    sv.add_argument("--demo", action="store_true", help="demo mode: dev sessions, demo-friendly roles")

    dm = sub.add_parser("demo", help="emulator + demo estate + local Ray + the front, on one machine")
    dm.add_argument("--port", type=int, default=8080)
    dm.add_argument("--accounts", type=int, default=3)

    sb = sub.add_parser("sandbox", help="run the bundled AWS emulator with the demo estate")
    sb.add_argument("--port", type=int, default=5000)
    sb.add_argument("--accounts", type=int, default=3)
    sb.add_argument("--regions", default="us-east-1,eu-west-1")
    sb.add_argument("--latency-ms", type=float, default=0.0)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "scan":
            return cmd_scan(args)
        if args.command == "sandbox":
            return cmd_sandbox(args)
        if args.command == "checks":
            return cmd_checks(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "prune":
            return cmd_prune(args)
        if args.command == "serve":
            from frontend_server.app import serve

            return serve(args)
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "audit":
            from frontend_server import audit

            return audit.main(args.rest)
    except UsageError as exc:
        sys.stderr.write(f"cloudscreen: error: {exc}\n")
        return EXIT_USAGE
    except CloudScreenError as exc:
        sys.stderr.write(f"cloudscreen: {exc}\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        sys.stderr.write("cloudscreen: interrupted\n")
        return EXIT_FAILED
    except Exception as exc:  # the trace goes to the log (CLOUDSCREEN_LOG_LEVEL=DEBUG), one line to the user
        import logging

        logging.getLogger("cloudscreen.cli").debug("unexpected error", exc_info=True)
        sys.stderr.write(f"cloudscreen: internal error: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                         " (set CLOUDSCREEN_LOG_LEVEL=DEBUG for details)\n")
        return EXIT_FAILED
    return EXIT_USAGE


# ---------------------------------------------------------------------------------------------- scan

def _formats(value: str | None) -> tuple[str, ...]:
    """The report formats asked for (default: all). findings.json is always written: it is the
    native format and the contract's last stdout line."""
    if value is None:
        return KNOWN_FORMATS
    wanted = [f.strip().lower() for f in value.split(",") if f.strip()]
    for f in wanted:
        if f not in KNOWN_FORMATS:
            raise UsageError(f"unknown format {f!r} (choose from {', '.join(KNOWN_FORMATS)})")
    return tuple(dict.fromkeys(["json", *wanted]))


def _write_reports(doc: dict[str, Any], out_dir: Path, formats: tuple[str, ...], store: Any = None) -> list[Any]:
    """Render the reports into `out_dir` (and keep a copy in the result store when given)."""
    from engine import checks
    from reports.formats import write_reports

    files = write_reports(doc, out_dir, formats, checks.metadata())
    if store is not None:
        for f in files:
            store.save_report(doc["scan_id"], f.type, Path(f.path).read_bytes())
    return files


def cmd_scan(args: argparse.Namespace) -> int:
    from engine import plan as planning
    from engine.logs import configure_logging
    from engine.settings import Settings

    settings = Settings.load(role_name=args.role_name, external_id=args.external_id,
                             aws_endpoint_url=args.endpoint_url, ray_address=args.ray_address,
                             max_concurrent_accounts=args.max_concurrent_accounts)
    configure_logging(settings.log_level if not args.quiet else "ERROR", settings.log_format)
    from engine.mutelist import load_mutelist

    formats = _formats(args.format)
    mutelist = load_mutelist(args.mutelist) if args.mutelist else None
    framework = planning.validate_framework(args.framework)
    if settings.max_concurrent_accounts < 1:
        raise UsageError("--max-concurrent-accounts must be at least 1")
    accounts = planning.validate_accounts(args.accounts) if args.accounts else ()
    default_regions = ("us-east-1", "eu-west-1") if args.demo else settings.default_regions
    regions = planning.validate_regions(args.regions, default_regions)
    services = planning.validate_services(args.services)
    if args.demo and args.endpoint_url:
        raise UsageError("--demo starts its own emulator; do not combine it with --endpoint-url")
    if args.demo and not 1 <= args.demo_accounts <= 50:
        raise UsageError("--demo-accounts must be between 1 and 50")
    out_root = Path(args.out).expanduser().resolve()

    sandbox = None
    try:
        if args.demo:
            sandbox, settings, demo_accounts = _start_demo(settings, args, regions)
            accounts = accounts or tuple(demo_accounts)
        return _run_scan(args, settings, accounts, regions, services, formats, out_root, mutelist, framework)
    finally:
        if sandbox is not None:
            sandbox.stop()


def _start_demo(settings: Any, args: argparse.Namespace, regions: tuple[str, ...]) -> tuple[Any, Any, list[str]]:
    import dataclasses

    from engine.sandbox.server import EmulatorProcess

    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                 ("AWS_DEFAULT_REGION", "us-east-1")):
        os.environ[k] = v  # the emulator's dummy credentials; inherited by the local Ray
    os.environ.pop("AWS_PROFILE", None)
    if not args.quiet:
        sys.stderr.write(f"starting the bundled AWS emulator with {args.demo_accounts} demo accounts "
                         f"in {', '.join(regions)}...\n")
    proc = EmulatorProcess(latency_ms=args.latency_ms, accounts=args.demo_accounts, regions=regions)
    info = proc.start()
    settings = dataclasses.replace(settings, aws_endpoint_url=info["endpoint"],
                                   role_name=args.role_name or info["role_name"],
                                   external_id=args.external_id or info["external_id"])
    return proc, settings, info["accounts"]


def _run_scan(args: argparse.Namespace, settings: Any, accounts: tuple[str, ...], regions: tuple[str, ...],
              services: tuple[str, ...], formats: tuple[str, ...], out_root: Path, mutelist: Any,
              framework: str | None) -> int:
    from engine.credentials import AwsOptions, caller_account
    from engine.model import ScanPlan, ScanRequest, Unit
    from engine.runtime.cluster import connect
    from engine.runtime.scan import ScanExecution, plan_for
    from engine.store import ResultStore

    store = ResultStore.from_url(settings.store)
    options = AwsOptions.from_settings(settings)
    from engine.mutelist import MuteRule
    from engine.plan import scope_to_framework

    self_account = None
    check_ids = None
    if args.resume:
        stored = store.load_scan(args.resume)
        if stored is None:
            raise UsageError(f"--resume: no scan {args.resume!r} in the result store {store.url}")
        req, eng = stored["request"], stored["engine"]
        self_account = eng.get("self_account")
        request = ScanRequest(accounts=tuple(req["accounts"]), regions=tuple(req["regions"]),
                              services=tuple(req["services"]), ticket_id=req.get("ticket_id"),
                              role_name=eng["role_name"], external_id=eng.get("external_id"))
        plan = ScanPlan(request, tuple(Unit(u["account_id"], u["region"], u["service"], u["cost"])
                                       for u in stored["plan"]["units"]))
        check_ids = eng.get("check_ids")
        framework = framework or eng.get("framework")
        if mutelist is None:
            mutelist = [MuteRule.from_dict(r) for r in eng.get("mutelist") or []]
    else:
        if args.org:
            accounts = tuple(_org_accounts(options))
        if not accounts:
            self_account = caller_account(options)
            accounts = (self_account,)
        request = ScanRequest(accounts=accounts, regions=regions, services=services,
                              role_name=settings.role_name, external_id=settings.external_id,
                              all_regions=(args.regions or "").strip() == "all")
        if framework:
            request, check_ids = scope_to_framework(request, framework)
        plan = plan_for(request, store)
    conn = connect(settings.ray_address)
    execution = ScanExecution(plan, settings, store, conn, scan_id=args.resume, self_account=self_account,
                              check_ids=check_ids, mutelist=mutelist, framework=framework)
    view = ProgressView(quiet=args.quiet, total=len(plan.units))

    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        if execution.cancelled:
            raise KeyboardInterrupt
        sys.stderr.write("\ncancelling the scan (Ctrl-C again to abort at once)...\n")
        execution.cancel()

    signal.signal(signal.SIGINT, on_sigint)
    try:
        outcome = execution.run(on_progress=view.update)
    finally:
        signal.signal(signal.SIGINT, previous)
        view.close()

    out_dir = out_root / outcome.scan_id
    files = _write_reports(outcome.document, out_dir, formats, store)
    path = out_dir / "findings.json"
    if not args.quiet:
        for f in files:
            sys.stderr.write(f"  {f.type:<5} {f.path} ({f.size:,} bytes)\n")
        _print_summary(outcome)
    print(str(path))
    if outcome.status is not ScanStatus.COMPLETED:
        return EXIT_FAILED
    if args.fail_on:
        from engine.model import Finding
        from engine.results import fails_at_or_above

        findings = [Finding.from_dict(f) for f in outcome.document["findings"]]
        if fails_at_or_above(findings, Severity(args.fail_on)):
            return EXIT_THRESHOLD
    return EXIT_OK


def _org_accounts(options: Any) -> list[str]:
    import boto3

    from engine.throttle import paginate

    s = boto3.Session()
    org = s.client("organizations", region_name="us-east-1", endpoint_url=options.endpoint_url,
                   config=options.botocore_config())
    accounts = [a["Id"] for a in paginate(org, "list_accounts", "Accounts") if a.get("Status") == "ACTIVE"]
    if not accounts:
        raise UsageError("--org: the organization has no active account")
    return accounts


def _print_summary(outcome: Any) -> None:
    doc = outcome.document
    s = doc["summary"]
    st = s["by_status"]
    sev = s["by_severity"]
    sys.stderr.write(
        f"scan {outcome.scan_id} {doc['status']} in {outcome.duration_s:.1f} s: {s['total']} findings — "
        f"{st['FAIL']} FAIL ({sev['critical']} critical, {sev['high']} high, {sev['medium']} medium, "
        f"{sev['low']} low), {st['PASS']} PASS, {st['ERROR']} ERROR, {st['SKIPPED']} SKIPPED\n")
    for a in doc["accounts"]:
        if a["status"] != "completed" or a.get("error"):
            sys.stderr.write(f"  account {a['account_id']}: {a['status']}: {a.get('error')}\n")


class ProgressView:
    """Progress on stderr: a rich bar on a terminal, plain lines otherwise, nothing when quiet."""

    def __init__(self, quiet: bool, total: int) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._last_line = 0.0
        self._last_pct = -1.0
        self._lock = threading.Lock()
        self._bar = None
        if not quiet and self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("[bold]{task.percentage:>5.1f}%"), BarColumn(),
                                 TextColumn("{task.fields[units]}"), TextColumn("ETA {task.fields[eta]}"),
                                 TextColumn("{task.description}"), console=Console(stderr=True), transient=False)
            self._task = self._bar.add_task("starting", total=100, units=f"0/{total}", eta="--")
            self._bar.start()

    def update(self, snap: dict[str, Any]) -> None:
        if self.quiet:
            return
        eta = snap.get("eta_seconds")
        if eta is None:
            eta_s = "--"
        else:
            eta_s = time.strftime("%M:%S", time.gmtime(eta)) if eta < 3600 else f"{eta / 3600:.1f}h"
        cur = snap.get("current") or {}
        parts = (cur.get("account_id"), cur.get("region"), cur.get("service"))
        where = "/".join(x for x in parts if x) or snap.get("message", "")
        with self._lock:
            if self._bar is not None:
                self._bar.update(self._task, completed=snap["percent"], description=where,
                                 units=f"{snap['done_units']}/{snap['total_units']}", eta=eta_s)
                return
            now = time.monotonic()
            final = snap["status"] not in ("pending", "running")
            if final or snap["percent"] - self._last_pct >= 5 or now - self._last_line >= 10:
                sys.stderr.write(f"[{snap['percent']:5.1f}%] {snap['done_units']}/{snap['total_units']} units, "
                                 f"ETA {eta_s}, {where} ({snap['status']})\n")
                sys.stderr.flush()
                self._last_line, self._last_pct = now, snap["percent"]

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


# -------------------------------------------------------------------------------------- report, prune

def cmd_report(args: argparse.Namespace) -> int:
    from engine.settings import Settings
    from engine.store import ResultStore

    formats = _formats(args.format)
    src = Path(args.scan).expanduser()
    if (src / "findings.json").is_file():
        try:
            doc = json.loads((src / "findings.json").read_text())
        except (OSError, ValueError) as exc:
            raise UsageError(f"{src / 'findings.json'} is not a readable findings document: {exc}") from exc
        out_dir = Path(args.out).expanduser() if args.out else src
    else:
        store = ResultStore.from_url(Settings.load().store)
        doc = store.load_findings(args.scan) if "/" not in args.scan else None
        if doc is None:
            raise UsageError(f"{args.scan!r} is neither a folder holding findings.json nor a scan id in {store.url}")
        out_dir = Path(args.out).expanduser() if args.out else Path("cloudscreen-out") / args.scan
    if not isinstance(doc, dict) or doc.get("schema_version") != 1 or "findings" not in doc:
        raise UsageError(f"{args.scan}: not a CloudScreen findings document (schema_version 1)")
    for f in _write_reports(doc, out_dir.resolve(), formats):
        sys.stderr.write(f"  {f.type:<5} {f.path} ({f.size:,} bytes)\n")
    print(str((out_dir / "findings.json").resolve()))
    return EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    from engine.settings import Settings
    from engine.store import ResultStore

    settings = Settings.load()
    days = args.days if args.days is not None else settings.retention_days
    if not days or days <= 0:
        raise UsageError("no retention period: pass --days N or set CLOUDSCREEN_RETENTION_DAYS")
    store = ResultStore.from_url(settings.store)
    deleted = store.prune(days, keep_audit=settings.retention_keep_audit and not args.include_audit)
    for scan_id in deleted:
        print(scan_id)
    sys.stderr.write(f"deleted {len(deleted)} scans older than {days:g} days from {store.url}\n")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- demo

def cmd_demo(args: argparse.Namespace) -> int:
    """The whole product on one machine: the bundled emulator seeded with the demo estate, a local
    Ray and the front in demo mode (dev sessions), until Ctrl-C."""
    from engine.sandbox.server import EmulatorProcess
    from frontend_server.app import serve

    if not 1 <= args.accounts <= 50:
        raise UsageError("--accounts must be between 1 and 50")
    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                 ("AWS_DEFAULT_REGION", "us-east-1")):
        os.environ[k] = v
    os.environ.pop("AWS_PROFILE", None)
    sys.stderr.write(f"starting the bundled AWS emulator with {args.accounts} demo accounts...\n")
    emulator = EmulatorProcess(accounts=args.accounts)
    info = emulator.start()
    os.environ.update(CLOUDSCREEN_AWS_ENDPOINT_URL=info["endpoint"], CLOUDSCREEN_ROLE_NAME=info["role_name"],
                      CLOUDSCREEN_EXTERNAL_ID=info["external_id"],
                      CLOUDSCREEN_DEFAULT_REGIONS=",".join(info["regions"]))
    sys.stderr.write(f"emulator at {info['endpoint']}; accounts {', '.join(info['accounts'])}; "
                     f"front on http://127.0.0.1:{args.port}; open http://127.0.0.1:{args.port}/dev for the demo "
                     "console (Ctrl-C to stop)\n")
    try:
        return serve(argparse.Namespace(host="127.0.0.1", port=args.port, demo=True,
                                        demo_accounts=tuple(info["accounts"])))
    finally:
        emulator.stop()


# -------------------------------------------------------------------------------------------- checks

def cmd_checks(args: argparse.Namespace) -> int:
    from engine import checks as registry
    from engine.plan import validate_framework, validate_services

    services = set(validate_services(args.service)) if args.service else None
    framework = validate_framework(args.framework)
    rows = [c.meta for c in sorted(registry.load_all().values(), key=lambda c: (c.meta.service, c.meta.id))
            if (services is None or c.meta.service in services)
            and (framework is None or framework in c.meta.frameworks)]
    if args.format == "json":
        print(json.dumps([{"id": m.id, "title": m.title, "service": m.service, "resource_type": m.resource_type,
                           "scope": m.scope.value, "severity": m.severity.value, "pillar": m.pillar.value,
                           "frameworks": {k: list(v) for k, v in m.frameworks.items()},
                           "risk": m.risk, "remediation": m.remediation} for m in rows], indent=2))
        return EXIT_OK
    width = max((len(m.id) for m in rows), default=2)
    print(f"{'id':<{width}}  {'service':<14} {'severity':<13} {'pillar':<23} frameworks")
    for m in rows:
        refs = "; ".join(f"{k} {', '.join(v)}" for k, v in m.frameworks.items())
        print(f"{m.id:<{width}}  {m.service:<14} {m.severity.value:<13} {m.pillar.value:<23} {refs}")
    sys.stderr.write(f"{len(rows)} checks\n")
    return EXIT_OK


# ------------------------------------------------------------------------------------------- sandbox

def cmd_sandbox(args: argparse.Namespace) -> int:
    from engine.plan import validate_regions
    from engine.sandbox.estate import seed_demo_estate
    from engine.sandbox.server import EmulatorServer

    regions = validate_regions(args.regions, ())
    if not 1 <= args.accounts <= 50:
        raise UsageError("--accounts must be between 1 and 50")
    if args.latency_ms < 0:
        raise UsageError("--latency-ms must not be negative")
    try:
        server = EmulatorServer(args.port).start()
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}") from exc
    manifest = seed_demo_estate(server, accounts=args.accounts, regions=regions)
    assert server.middleware is not None
    server.middleware.latency_s = args.latency_ms / 1000.0
    print(f"endpoint:    {server.endpoint}")
    print(f"accounts:    {','.join(manifest.accounts)}")
    print(f"regions:     {','.join(manifest.regions)}")
    print(f"role name:   {manifest.role_name}")
    print(f"external id: {manifest.external_id}")
    print("credentials: AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing")
    print(f"scan it:     cloudscreen scan --endpoint-url {server.endpoint} --accounts {','.join(manifest.accounts)} "
          f"--regions {','.join(manifest.regions)} --role-name {manifest.role_name} "
          f"--external-id {manifest.external_id}")
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
