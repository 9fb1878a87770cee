"""The one logging set-up: text or JSON lines (python-json-logger), level configurable.

Stack traces go to the log (never to clients); secrets never appear in messages by design:
credentials are not logged anywhere in the engine."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "INFO", fmt: str = "text", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
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
