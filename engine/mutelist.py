"""Mutelists: accepted risks, muted by check, account, region and resource (ids or globs).

A mutelist file is YAML or JSON:

    mutes:
      - check: s3_bucket_versioning_enabled      # check id or glob (default "*")
        account: "111111111111"                  # account id or glob (default "*")
        region: "*"                              # region or glob (default "*"; IAM etc. use "global")
        resource: "logs-*"                       # resource id or ARN, or a glob of either (default "*")
        reason: "access-log buckets are write-once"   # required
        expires: 2027-01-31                      # optional date or datetime (UTC); after it the rule is off

A FAIL finding matched by a rule in force becomes MUTED (its message says why); nothing else
changes: PASS, ERROR and SKIPPED findings stay as they are, and no rule can turn a FAIL into a PASS.
Invalid files are refused with a message naming the line.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml

from engine.errors import UsageError
from engine.model import Finding, Status

_FIELDS = ("check", "account", "region", "resource", "reason", "expires")


@dataclass(frozen=True)
class MuteRule:
    reason: str
    check: str = "*"
    account: str = "*"
    region: str = "*"
    resource: str = "*"
    expires: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        return self.expires is None or at < self.expires

    def matches(self, f: Finding) -> bool:
        return (_glob(f.check_id, self.check) and _glob(f.account_id, self.account)
                and _glob(f.region, self.region)
                and (_glob(f.resource_id, self.resource) or (f.resource_arn is not None
                                                            and _glob(f.resource_arn, self.resource))))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["expires"] = self.expires.isoformat() if self.expires else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MuteRule:
        exp = d.get("expires")
        return cls(reason=d["reason"], check=d.get("check", "*"), account=d.get("account", "*"),
                   region=d.get("region", "*"), resource=d.get("resource", "*"),
                   expires=datetime.fromisoformat(exp) if exp else None)


def _glob(value: str, pattern: str) -> bool:
    return value == pattern or fnmatch.fnmatchcase(value, pattern)


class MutelistError(UsageError):
    """An invalid mutelist file (a usage error: exit code 2)."""


def load_mutelist(path: str | Path) -> list[MuteRule]:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise MutelistError(f"mutelist {p}: cannot read it: {exc.strerror or exc}") from exc
    return parse_mutelist(text, str(p))


def parse_mutelist(text: str, name: str = "mutelist") -> list[MuteRule]:
    """Parse YAML or JSON (JSON is read as YAML) into rules; raise MutelistError naming the line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MutelistError(f"{name}{where}: not valid YAML/JSON: {problem}") from None
    if root is None:
        return []

    def fail(node: yaml.Node, message: str) -> MutelistError:
        return MutelistError(f"{name} line {node.start_mark.line + 1}: {message}")

    if not isinstance(root, yaml.MappingNode):
        raise fail(root, 'expected a mapping with a "mutes" list')
    top = {k.value: v for k, v in root.value}
    unknown = set(top) - {"mutes"}
    if unknown:
        key = next(k for k, _ in root.value if k.value in unknown)
        raise fail(key, f"unknown key {key.value!r} (expected 'mutes')")
    mutes = top.get("mutes")
    if mutes is None:
        return []
    if not isinstance(mutes, yaml.SequenceNode):
        raise fail(mutes, '"mutes" must be a list of rules')
    rules: list[MuteRule] = []
    for item in mutes.value:
        if not isinstance(item, yaml.MappingNode):
            raise fail(item, "each rule must be a mapping (check, account, region, resource, reason, expires)")
        values: dict[str, Any] = {}
        for k, v in item.value:
            if k.value not in _FIELDS:
                raise fail(k, f"unknown field {k.value!r} (allowed: {', '.join(_FIELDS)})")
            if not isinstance(v, yaml.ScalarNode):
                raise fail(v, f"field {k.value!r} must be a single value")
            values[k.value] = v
        if "reason" not in values or not str(values["reason"].value).strip():
            raise fail(item, "a rule needs a non-empty 'reason'")
        kwargs: dict[str, Any] = {}
        for key in ("check", "account", "region", "resource", "reason"):
            if key in values:
                text_value = str(values[key].value).strip()
                if not text_value:
                    raise fail(values[key], f"field {key!r} is empty")
                kwargs[key] = text_value
        if "expires" in values:
            kwargs["expires"] = _parse_expiry(values["expires"], fail)
        rules.append(MuteRule(**kwargs))
    return rules


def _parse_expiry(node: yaml.ScalarNode, fail: Any) -> datetime:
    raw = str(node.value).strip()
    try:
        if len(raw) == 10:
            d = date.fromisoformat(raw)
            # A date means "through that day": the rule is off from the next midnight UTC.
            return datetime.combine(d, time.max, tzinfo=UTC)
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise fail(node, f"expires {raw!r} is not an ISO date (YYYY-MM-DD) or date-time") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def apply_mutelist(findings: list[Finding], rules: list[MuteRule], at: datetime) -> list[Finding]:
    """Return the findings with every FAIL matched by a rule in force at `at` turned MUTED."""
    active = [r for r in rules if r.in_force(at)]
    if not active:
        return findings
    out: list[Finding] = []
    for f in findings:
        if f.status is Status.FAIL:
            rule = next((r for r in active if r.matches(f)), None)
            if rule is not None:
                f = dataclasses.replace(f, status=Status.MUTED, message=f"{f.message} (muted: {rule.reason})")
        out.append(f)
    return out
