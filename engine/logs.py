"""The one logging set-up: text or JSON lines (python-json-logger), level configurable.

Stack traces go to the log (never to clients); secrets never appear in messages by design:
credentials are not logged anywhere in the engine."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields (request_id, ...) added to every record logged in the current task; see `bind`.
_context: ContextVar[Mapping[str, Any]] = ContextVar("cloudscreen_log_context", default=MappingProxyType({}))


def bind(**fields: Any) -> Token[Mapping[str, Any]]:
    """Add fields to every log record of the current context (an asyncio task or a thread);
    `unbind(token)` restores the previous ones."""
    return _context.set({**_context.get(), **fields})


def unbind(token: Token[Mapping[str, Any]]) -> None:
    _context.reset(token)


def bound(name: str) -> Any:
    """A field bound in the current context, or None."""
    return _context.get().get(name)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def configure_logging(level: str = "INFO", fmt: str = "text", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"asctime": "time", "levelname": "level",
                                                          "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(_TEXT))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    try:
        root.setLevel(level.upper())
    except ValueError:
        root.setLevel(logging.INFO)
        logging.getLogger("cloudscreen").warning("unknown log level %r; using INFO", level)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "ray"):
        logging.getLogger(noisy).setLevel(max(root.level, logging.WARNING))
