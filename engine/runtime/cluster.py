"""Connecting to Ray: an existing cluster (`CLOUDSCREEN_RAY_ADDRESS`) or a local instance."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import ray

from engine.runtime.progress import NAMESPACE

log = logging.getLogger("cloudscreen.engine.cluster")


@dataclass(frozen=True)
class RayConnection:
    address: str
    dashboard_url: str
    started_locally: bool


_connection: RayConnection | None = None


def connect(address: str | None = None, *, num_cpus: int | None = None) -> RayConnection:
    """Connect this process as a Ray driver (idempotent). Without an address, start a local Ray
    with its dashboard on 127.0.0.1 (the Jobs API lives there; never expose it)."""
    global _connection
    if _connection is not None and ray.is_initialized():
        return _connection
    if address:
        ctx = ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING)
        local = False
    else:
        ctx = ray.init(num_cpus=num_cpus or os.cpu_count() or 2, include_dashboard=True, dashboard_host="127.0.0.1",
                       namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING)
        local = True
    dash = ctx.dashboard_url or ""
    if dash and not dash.startswith("http"):
        dash = "http://" + dash
    if not dash:
        raise RuntimeError("the Ray cluster has no dashboard; the Jobs API needs ray[default] on the head node")
    info: dict[str, str] = ctx.address_info  # type: ignore[attr-defined]  # a RayContext, typed as BaseContext
    _connection = RayConnection(address=info.get("address", address or ""), dashboard_url=dash, started_locally=local)
    log.info("connected to Ray at %s (dashboard %s)", _connection.address, dash)
    return _connection


def disconnect() -> None:
    global _connection
    if ray.is_initialized():
        ray.shutdown()
    _connection = None


def cluster_cpus() -> int:
    return int(ray.cluster_resources().get("CPU", 1)) or 1
