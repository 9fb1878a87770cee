"""`cloudscreen sandbox` runs the emulator with the demo estate and tells how to scan it."""

from __future__ import annotations

import subprocess
import sys
import time

import boto3

from engine.sandbox.server import free_port


def test_sandbox_prints_endpoint_and_accounts_and_serves_the_estate():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "frontend_server.cli", "sandbox", "--port", str(port),
                             "--accounts", "2", "--regions", "us-east-1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines: dict[str, str] = {}
        deadline = time.monotonic() + 120
        while "scan it" not in lines and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            key, _, value = line.partition(":")
            lines[key.strip()] = value.strip()
        assert lines["endpoint"] == f"http://127.0.0.1:{port}"
        assert lines["accounts"] == "111111111111,222222222222"
        assert "--external-id cloudscreen-demo" in lines["scan it"]
        sts = boto3.client("sts", endpoint_url=lines["endpoint"], region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        creds = sts.assume_role(RoleArn="arn:aws:iam::222222222222:role/CloudScreenAudit", RoleSessionName="test",
                                ExternalId="cloudscreen-demo")["Credentials"]
        s3 = boto3.client("s3", endpoint_url=lines["endpoint"], region_name="us-east-1",
                          aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                          aws_session_token=creds["SessionToken"])
        names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        assert "cs-demo-222222222222-us-east-1-public" in names
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode == 0


def test_sandbox_refuses_a_busy_port_with_one_line():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "frontend_server.cli", "sandbox", "--port", str(port)],
                           capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("cloudscreen: error: cannot listen on 127.0.0.1:")
