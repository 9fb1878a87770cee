#!/usr/bin/env python3
"""Health check of a Ray node container: exit 0 when every named Ray process runs, else 1.

Usage: cloudscreen-ray-healthcheck gcs_server raylet   (head)
       cloudscreen-ray-healthcheck raylet              (worker)

It looks at local processes only (psutil, a Ray dependency), so it needs neither the cluster's
auth token nor a network call; `ray start --block` already exits when its processes die.
"""

from __future__ import annotations

import sys

import psutil


def main(names: list[str]) -> int:
    running = set()
    for proc in psutil.process_iter(["name"]):
        name = proc.info.get("name")
        if name:
            running.add(name)
    missing = [n for n in names if n not in running]
    if missing:
        print("not running: " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["raylet"]))
