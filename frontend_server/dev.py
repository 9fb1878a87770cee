"""The demo console (`GET /dev`): a page that signs in with a dev session and drives a scan over `/ws`.

It exists only in demo mode (`cloudscreen demo`, `cloudscreen serve --demo`); otherwise every path
here answers 404 like any unknown path. The page loads nothing but its own script and style sheet.
"""

from __future__ import annotations

import functools
from importlib import resources

from quart import Blueprint, Response, request
from quart.typing import ResponseReturnValue
from quart_schema import hide

from frontend_server.api import ApiError
from frontend_server.app import state

blueprint = Blueprint("dev", __name__)

_FILES = {"dev.html": "text/html; charset=utf-8", "dev.js": "text/javascript; charset=utf-8",
          "dev.css": "text/css; charset=utf-8"}


def _asset(name: str) -> Response:
    if not state().demo:
        raise ApiError("not_found", "no such endpoint")
    body = _read(name)
    # The socket is same-origin; CSP 'self' does not cover ws:/wss: in every browser, so name them.
    host = request.host
    csp = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
           f"connect-src 'self' ws://{host} wss://{host}; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'")
    return Response(body, content_type=_FILES[name], headers={
        "Content-Security-Policy": csp, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer"})


@functools.cache
def _read(name: str) -> bytes:
    return resources.files("frontend_server").joinpath("devpage", name).read_bytes()


@blueprint.get("/dev")
@hide
async def page() -> ResponseReturnValue:
    """The console page (demo mode only)."""
    return _asset("dev.html")


@blueprint.get("/dev/<name>")
@hide
async def asset(name: str) -> ResponseReturnValue:
    if name not in ("dev.js", "dev.css"):
        raise ApiError("not_found", "no such endpoint")
    return _asset(name)
