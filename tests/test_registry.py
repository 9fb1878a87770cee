"""The check registry refuses broken metadata at import and holds the catalogue of this release."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from engine import checks
from engine.checks import CHECKS, check
from engine.collectors import load_all as load_collectors
from engine.errors import CheckDefinitionError
from engine.model import Pillar

# The catalogue is the shared contract beside the repository (as in CI), or where CLOUDSCREEN_SHARED_DIR says.
SHARED = os.environ.get("CLOUDSCREEN_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared"
CATALOGUE = Path(SHARED) / "CHECKS.md"
GOOD = dict(service="zz", resource_type="AWS::S3::Bucket", scope="regional", severity="high",
            pillar="security", title="A title", remediation="Do this; aws s3api ...")


def _define(**overrides):
    meta = {**GOOD, **overrides}
    name = meta.pop("name", None) or meta.get("id", "zz_example_check")

    def fn(resource, ctx):
        return None

    fn.__name__ = name
    try:
        return check(**meta)(fn)
    finally:
        CHECKS.pop(meta.get("id", ""), None)


@pytest.mark.parametrize("overrides,problem", [
    ({"id": "zz_ok_check", "severity": "urgent"}, "severity"),
    ({"id": "zz_ok_check", "pillar": "speed"}, "pillar"),
    ({"id": "zz_ok_check", "title": " "}, "title is empty"),
    ({"id": "zz_ok_check", "remediation": ""}, "remediation is empty"),
    ({"id": "zz_ok_check", "scope": "planet"}, "scope"),
    ({"id": "Bad-Id"}, "lower_snake_case"),
    ({"id": "yy_other_service"}, "must start with its service"),
    ({"id": "zz_ok_check", "name": "zz_other_name"}, "named after the id"),
    ({"id": "zz_ok_check", "resource_type": "Bucket"}, "CloudFormation"),
    ({"id": "zz_ok_check", "frameworks": {"cis": ["1.1"]}}, "framework 'cis'"),
    ({"id": "zz_ok_check", "frameworks": {"aws-fsbp": []}}, "non-empty"),
])
def test_inconsistent_metadata_fails_at_definition(overrides, problem):
    with pytest.raises(CheckDefinitionError, match=problem):
        _define(**overrides)


def test_duplicate_id_is_refused():
    existing = next(iter(checks.load_all()))
    with pytest.raises(CheckDefinitionError, match="registered twice"):
        meta = {**GOOD, "service": existing.split("_")[0]}

        def fn(r, c):
            return None

        fn.__name__ = existing
        check(id=existing, **meta)(fn)


def _catalogue() -> dict[str, set[str]]:
    """Check ids by service section of CHECKS.md (the section's `(service)` tag)."""
    assert CATALOGUE.is_file(), f"the check catalogue {CATALOGUE} is missing (set CLOUDSCREEN_SHARED_DIR)"
    out: dict[str, set[str]] = {}
    current = None
    for line in CATALOGUE.read_text().splitlines():
        m = re.match(r"^## .*\(`([a-z0-9]+)`\)", line)
        if m:
            current = m.group(1)
            out[current] = set()
        elif line.startswith("## "):
            current = None
        elif current and line.startswith("| ") and not line.startswith(("| id", "|---")):
            out[current].add(line.split("|")[1].strip())
    return out


def test_registry_holds_exactly_the_catalogue_checks():
    catalogue = _catalogue()
    assert sum(len(v) for v in catalogue.values()) == 129 and len(catalogue) == 29
    registry = checks.load_all()
    assert {c.meta.id for c in registry.values()} == set().union(*catalogue.values())
    for c in registry.values():
        assert c.meta.id in catalogue[c.meta.service], f"{c.meta.id} is filed under service {c.meta.service}"


def test_every_catalogue_service_has_a_collector_and_every_pillar_is_covered():
    collectors = load_collectors()
    assert set(_catalogue()) == set(collectors)
    assert {c.meta.pillar for c in checks.load_all().values()} == set(Pillar)
    for service in collectors:
        assert checks.checks_for(service), f"service {service} has a collector but no checks"


def test_every_framework_reference_is_filed_under_the_right_key():
    for c in checks.load_all().values():
        for key, refs in c.meta.frameworks.items():
            for ref in refs:
                if key == "cis-aws-3.0":
                    assert re.match(r"^\d+(\.\d+)+$", ref), (c.meta.id, ref)
                else:
                    assert re.match(r"^[A-Za-z0-9]+\.\d+$", ref), (c.meta.id, ref)
