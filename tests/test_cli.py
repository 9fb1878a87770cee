"""CLI usage errors: exit code 2 with a one-line message, before anything starts."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "frontend_server.cli", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("args,message", [
    (["scan", "--accounts", "12ab"], "account '12ab' is not a 12-digit AWS account id"),
    (["scan", "--accounts", "111111111111", "--regions", "mars-1"], "unknown region 'mars-1'"),
    (["scan", "--accounts", "111111111111", "--services", "nosuch"], "unknown service 'nosuch'"),
    (["scan", "--nosuchflag"], "unrecognized arguments: --nosuchflag"),
    (["scan", "--fail-on", "urgent"], "argument --fail-on: invalid choice"),
    (["scan", "--accounts", "111111111111", "--format", "pdf"], "unknown format 'pdf'"),
    (["scan", "--accounts", "111111111111", "--max-concurrent-accounts", "0"], "at least 1"),
    (["scan", "--accounts", "111111111111", "--org"], "not allowed with argument"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_input_exits_2_with_one_line(args, message):
    r = _run(*args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("cloudscreen: error: ") and message in lines[0]
    assert r.stdout == ""
