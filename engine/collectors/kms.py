"""KMS collector: the region's customer-managed keys with their state, rotation status and key policy.

AWS-managed keys are not collected: no KMS check evaluates them. A key is AWS-managed when DescribeKey
says `KeyManager` `AWS`, or when an `alias/aws/*` alias targets it (CHECKS.md, "Customer-managed KMS
key": the emulator labels the keys behind those aliases `CUSTOMER`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch, fill, set_policy
from engine.model import Scope
from engine.throttle import paginate

AWS_ALIAS_PREFIX = "alias/aws/"


@dataclass
class Key(Resource):
    """A customer-managed KMS key. `errors["metadata"]` means DescribeKey failed (state unknown)."""

    manager: str | None = None
    spec: str | None = None
    origin: str | None = None
    state: str | None = None
    deletion_date: datetime | None = None
    aliases: list[str] = field(default_factory=list)
    # GetKeyRotationStatus; collected only for keys the rotation check evaluates (see `rotation_applies`).
    rotation_enabled: bool | None = None
    # GetKeyPolicy(PolicyName="default"), parsed.
    policy: dict[str, Any] | None = None

    @property
    def rotation_applies(self) -> bool:
        """Automatic rotation exists only for enabled symmetric keys with KMS-generated material."""
        return self.spec == "SYMMETRIC_DEFAULT" and self.origin == "AWS_KMS" and self.state == "Enabled"

    @property
    def label(self) -> str:
        """The key id, with its aliases when it has any (for messages)."""
        return f"{self.id} ({', '.join(self.aliases)})" if self.aliases else self.id


@dataclass
class KmsData(ServiceData):
    keys: list[Key] = field(default_factory=list)


@collector("kms", scope=Scope.REGIONAL, cost=2.0, title="KMS")
def collect_kms(ctx: CollectContext) -> KmsData:
    """List keys and aliases once, then describe each key not behind an `alias/aws/*` alias and read
    the rotation status and key policy of the customer-managed ones."""
    data = KmsData(account_id=ctx.account_id, region=ctx.region)
    kms = ctx.client("kms")
    aliases: dict[str, list[str]] = {}
    for alias in paginate(kms, "list_aliases", "Aliases", Limit=100):
        if alias.get("TargetKeyId"):
            aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
    candidates = [
        Key(id=k["KeyId"], arn=k.get("KeyArn"), region=ctx.region, aliases=sorted(aliases.get(k["KeyId"], [])))
        for k in paginate(kms, "list_keys", "Keys", Limit=1000)
        if not any(a.startswith(AWS_ALIAS_PREFIX) for a in aliases.get(k["KeyId"], []))
    ]
    described = ctx.map(lambda key: _describe(kms, key), candidates)
    data.keys = [k for k in described if k.manager == "CUSTOMER" or "metadata" in k.errors]
    ctx.map(lambda key: _fill_key(kms, key), [k for k in data.keys if "metadata" not in k.errors])
    return data


def _describe(kms: Any, key: Key) -> Key:
    resp, err = fetch(kms.describe_key, KeyId=key.id)
    if err is not None:
        # Without the metadata nothing about the key can be judged: every key check reports ERROR.
        key.errors["metadata"] = err
        return key
    meta = resp.get("KeyMetadata", {})
    key.arn = meta.get("Arn") or key.arn
    key.manager = meta.get("KeyManager")
    key.spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec")
    key.origin = meta.get("Origin")
    key.state = meta.get("KeyState")
    key.deletion_date = meta.get("DeletionDate")
    return key


def _fill_key(kms: Any, key: Key) -> None:
    if key.rotation_applies:
        fill(key, "rotation_enabled", kms.get_key_rotation_status, KeyId=key.id,
             transform=lambda r: bool(r.get("KeyRotationEnabled")))
    resp, err = fetch(kms.get_key_policy, KeyId=key.id, PolicyName="default")
    if err is not None:
        key.errors["policy"] = err
        return
    set_policy(key, (resp or {}).get("Policy"), "GetKeyPolicy")
