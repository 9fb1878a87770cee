"""The front's Quart app: `create_app(settings)` wires the REST blueprint, the `/ws` socket, auth,
audit, metrics and the scan service; `hypercorn_config` and `serve` run it (`cloudscreen serve`).

The front is a Ray driver: it connects to Ray when it starts serving (or reuses the connection the
process already has) and drives each scan from a worker thread (see `frontend_server.scans`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypercorn.config import Config as HypercornConfig
from hypercorn.protocol import ws_stream
from pydantic import TypeAdapter
from quart import Quart, g, request
from quart.typing import ResponseReturnValue
from quart_schema import QuartSchema
from quart_schema.openapi import OpenAPIProvider
from wsproto.extensions import PerMessageDeflate

from engine.logs import bind, unbind
from engine.settings import Settings
from engine.store import ResultStore
from frontend_server.audit import AuditLog
from frontend_server.auth import RoleMapping, SessionTokens, check_secret
from frontend_server.metrics import Metrics
from frontend_server.scans import ScanService

log = logging.getLogger("cloudscreen.front")

MAX_WS_MESSAGE_BYTES = 64 * 1024
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is kept only when it is short and plain (it lands in logs and headers).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class WsLimits:
    """Per-connection WebSocket limits (token bucket; sustained abuse closes the socket with 1008)."""

    auth_timeout_s: float = 10.0
    rate_per_s: float = 20.0
    burst: int = 40
    # Refused messages tolerated before the connection is closed.
    max_violations: int = 20


@dataclass
class FrontState:
    """Everything the handlers share; one per app (`app.extensions["cloudscreen"]`)."""

    settings: Settings
    demo: bool
    store: ResultStore
    tokens: SessionTokens
    roles: RoleMapping
    audit: AuditLog
    metrics: Metrics
    scans: ScanService
    ws_limits: WsLimits = field(default_factory=WsLimits)
    ray_connect: Callable[[], Any] | None = None


def state() -> FrontState:
    """The running app's shared state (inside a request or websocket context)."""
    from quart import current_app

    return current_app.extensions["cloudscreen"]


class CloudScreenOpenAPI(OpenAPIProvider):
    """The REST schema from the route decorators, plus the `/ws` messages (OpenAPI has no notation for
    WebSocket messages): their models go to `components.schemas` and `x-websocket` lists them by type."""

    def schema(self) -> dict[str, Any]:
        from frontend_server.schemas import CLIENT_MESSAGES, SERVER_MESSAGES

        spec = super().schema()
        components = spec["components"]["schemas"]
        ref = "#/components/schemas/{model}"
        listing: dict[str, dict[str, str]] = {"client": {}, "server": {}}
        for side, models in (("client", CLIENT_MESSAGES), ("server", SERVER_MESSAGES)):
            for kind, model in models.items():
                schema = TypeAdapter(model).json_schema(ref_template=ref)
                components.update(schema.pop("$defs", {}))
                components[model.__name__] = schema
                listing[side][kind] = ref.format(model=model.__name__)
        spec["x-websocket"] = {"path": "/ws", "description": "JSON text frames, one object each (CONTRACTS.md "
                               "section 3); the first client message must be `auth`.", "messages": listing}
        return spec


def _default_connect(settings: Settings) -> Callable[[], Any]:
    def connect_ray() -> Any:
        from engine.runtime.cluster import connect

        return connect(settings.ray_address)

    return connect_ray


def create_app(settings: Settings, *, demo: bool = False, demo_accounts: tuple[str, ...] = (),
               ws_limits: WsLimits | None = None, audit: AuditLog | None = None,
               metrics: Metrics | None = None, ray_connect: Callable[[], Any] | None = None) -> Quart:
    """Build the front. Production (`demo=False`) refuses a missing, short or default session secret.

    `demo_accounts`: what a `scan.start` without accounts scans in demo mode. `ray_connect` returns the
    Ray connection (default: `engine.runtime.cluster.connect(settings.ray_address)`)."""
    check_secret(settings.session_secret, production=not demo)
    ws_limits = ws_limits or WsLimits(
        auth_timeout_s=settings.ws_auth_timeout_s, rate_per_s=settings.ws_rate_per_s, burst=settings.ws_burst,
        max_violations=settings.ws_max_violations)
    app = Quart("cloudscreen", static_folder=None)
    connect_ray = ray_connect or _default_connect(settings)
    store = ResultStore.from_url(settings.store)
    metrics = metrics or Metrics()
    front = FrontState(
        settings=settings, demo=demo, store=store,
        tokens=SessionTokens(settings.session_secret, ttl_s=settings.session_ttl_s),
        roles=RoleMapping.from_config(_roles_table(settings, demo)),
        audit=audit or AuditLog(settings.audit_log, fsync=settings.audit_fsync),
        metrics=metrics,
        scans=ScanService(settings, store, metrics, connect_ray, demo_accounts=demo_accounts,
                          report_base_url=settings.public_url),
        ws_limits=ws_limits, ray_connect=connect_ray,
    )
    app.extensions["cloudscreen"] = front
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024

    from frontend_server.api import blueprint as api_blueprint
    from frontend_server.dev import blueprint as dev_blueprint
    from frontend_server.ws import blueprint as ws_blueprint
    from frontend_server.zendesk_api import blueprint as zendesk_blueprint

    app.register_blueprint(api_blueprint)
    app.register_blueprint(ws_blueprint)
    app.register_blueprint(zendesk_blueprint)
    app.register_blueprint(dev_blueprint)
    # OpenAPI at /openapi.json and Swagger UI at /docs (the UI page loads its own assets from a CDN).
    QuartSchema(app, openapi_provider_class=CloudScreenOpenAPI, openapi_path="/openapi.json",
                swagger_ui_path="/docs", redoc_ui_path=None, scalar_ui_path=None,
                info={"title": "CloudScreen", "version": "0.1.0"},
                security_schemes={"session": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}})
    metrics.allow_routes(rule.rule for rule in app.url_map.iter_rules())

    @app.before_serving
    async def _connect_ray() -> None:
        # A Ray outage at start must not stop the front from serving /health; /ready reports it.
        try:
            await asyncio.to_thread(connect_ray)
        except Exception as exc:
            log.error("cannot connect to Ray (%s): scans fail until it is reachable", exc)

    @app.after_serving
    async def _shutdown() -> None:
        await front.scans.close()

    @app.before_request
    async def _request_id() -> None:
        # One id per HTTP request, in every log record and audit line of it and in the answer's header.
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        g.log_token = bind(request_id=g.request_id)

    @app.after_request
    async def _count(response: Any) -> Any:
        rule = request.url_rule.rule if request.url_rule is not None else None
        metrics.http_request(request.method, rule, response.status_code)
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response

    @app.teardown_request
    async def _unbind(_: BaseException | None) -> None:
        token = g.pop("log_token", None)
        if token is not None:
            with contextlib.suppress(ValueError):  # set in another context (an early error)
                unbind(token)

    @app.errorhandler(400)
    async def _bad_request(_: Exception) -> ResponseReturnValue:
        return {"error": {"code": "bad_request", "message": "the request is malformed (is the body valid JSON?)"}}, 400

    @app.errorhandler(404)
    async def _not_found(_: Exception) -> ResponseReturnValue:
        return {"error": {"code": "not_found", "message": "no such endpoint"}}, 404

    @app.errorhandler(405)
    async def _not_allowed(_: Exception) -> ResponseReturnValue:
        return {"error": {"code": "bad_request", "message": "method not allowed on this endpoint"}}, 405

    @app.errorhandler(413)
    async def _too_large(_: Exception) -> ResponseReturnValue:
        return {"error": {"code": "too_large", "message": "the request body is over 1 MiB"}}, 413

    @app.errorhandler(500)
    async def _internal(_: Exception) -> ResponseReturnValue:
        return {"error": {"code": "internal", "message": "internal error; see the server log"}}, 500

    return app


def _roles_table(settings: Settings, demo: bool) -> Any:
    """The `[roles]` configuration. Without one, demo mode lets analysts scan any (emulated) account;
    production keeps the auth module's default (no allow-list: analysts may scan nothing)."""
    table = settings.extra.get("roles")
    if table is None and demo:
        return {"accounts": {"analyst": "*"}}
    return table


class _DeclinedDeflate(PerMessageDeflate):
    """permessage-deflate that declines every client offer (RFC 7692 lets a server do so)."""

    def accept(self, offer: str) -> None:
        return None


def set_websocket_compression(enabled: bool) -> None:
    """Whether this process's Hypercorn accepts permessage-deflate (browsers always offer it).

    Off by default: stream messages are small JSON sent to many sockets, and deflating each one per
    socket cost more than half of the front's CPU per delivery in `bench/ws_load.py`. Hypercorn has no
    option for it, so its handshake's extension class is swapped; process-wide, like Hypercorn itself."""
    ws_stream.PerMessageDeflate = PerMessageDeflate if enabled else _DeclinedDeflate  # type: ignore[misc]


def hypercorn_config(host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, ping_interval_s: float = 20.0,
                     read_timeout_s: float = 60.0, compression: bool = False) -> HypercornConfig:
    """Hypercorn settings for the front: 64 KiB WebSocket messages (bigger ones close with 1009),
    protocol pings with a read timeout (Hypercorn sends pings but only the read timeout drops a
    silent peer), graceful shutdown, no server header leaking versions, WebSocket compression off
    unless asked (see `set_websocket_compression`)."""
    set_websocket_compression(compression)
    config = HypercornConfig()
    config.websocket_ping_interval = ping_interval_s
    config.read_timeout = int(read_timeout_s)
    config.bind = [f"{host}:{port}"]
    config.websocket_max_message_size = MAX_WS_MESSAGE_BYTES
    config.graceful_timeout = 20.0
    config.include_server_header = False
    config.accesslog = None
    return config


def serve(args: argparse.Namespace) -> int:
    """`cloudscreen serve [--host H] [--port P] [--demo]`: run the front until SIGINT/SIGTERM."""
    from hypercorn.asyncio import serve as hypercorn_serve

    from engine.logs import configure_logging
    from engine.runtime.cluster import disconnect

    settings = Settings.load()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings, demo=bool(getattr(args, "demo", False)),
                     demo_accounts=tuple(getattr(args, "demo_accounts", ()) or ()))
    host = getattr(args, "host", None) or "127.0.0.1"
    port = int(getattr(args, "port", None) or DEFAULT_PORT)

    # Connect in the main thread, before our signal handlers: Ray's core worker installs a native
    # SIGTERM handler that would otherwise kill the process without a graceful shutdown.
    try:
        from engine.runtime.cluster import connect

        connect(settings.ray_address)
    except Exception as exc:
        log.error("cannot connect to Ray (%s): scans fail until it is reachable", exc)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("serving on http://%s:%d%s", host, port, " (demo mode)" if args.demo else "")
        config = hypercorn_config(host, port, ping_interval_s=settings.ws_ping_interval_s,
                                  read_timeout_s=settings.ws_read_timeout_s, compression=settings.ws_compression)
        await hypercorn_serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    try:
        asyncio.run(main())
    finally:
        disconnect()
    return 0
