"""Secrets Manager collector: the region's secrets with their rotation settings, all from ListSecrets
(which carries RotationEnabled, LastRotatedDate and CreatedDate: no per-secret call)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from engine.collectors import CollectContext, Resource, ServiceData, collector
from engine.model import Scope
from engine.throttle import paginate


@dataclass
class Secret(Resource):
    rotation_enabled: bool = False
    last_rotated: datetime | None = None
    created: datetime | None = None


@dataclass
class SecretsManagerData(ServiceData):
    secrets: list[Secret] = field(default_factory=list)


@collector("secretsmanager", scope=Scope.REGIONAL, cost=0.5, title="Secrets Manager")
def collect_secretsmanager(ctx: CollectContext) -> SecretsManagerData:
    """List the region's secrets (secrets scheduled for deletion are not listed)."""
    data = SecretsManagerData(account_id=ctx.account_id, region=ctx.region)
    sm = ctx.client("secretsmanager")
    data.secrets = [
        Secret(id=s["Name"], arn=s.get("ARN"), region=ctx.region, rotation_enabled=bool(s.get("RotationEnabled")),
               last_rotated=s.get("LastRotatedDate"), created=s.get("CreatedDate"))
        for s in paginate(sm, "list_secrets", "SecretList", MaxResults=100)
    ]
    return data
