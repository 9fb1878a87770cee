"""Organizations collector (global): the organization the account belongs to, if any."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.collectors import CollectContext, ServiceData, collector, fetch
from engine.model import Scope


@dataclass
class OrganizationsData(ServiceData):
    # Id, Arn, MasterAccountId and FeatureSet of the account's organization; None when the account
    # is in no organization (AWSOrganizationsNotInUseException) or it could not be read (see errors).
    organization: dict[str, Any] | None = None


@collector("organizations", scope=Scope.GLOBAL, cost=0.5, title="Organizations")
def collect_organizations(ctx: CollectContext) -> OrganizationsData:
    """Describe the account's organization."""
    data = OrganizationsData(account_id=ctx.account_id, region=ctx.region)
    resp, err = fetch(ctx.client("organizations").describe_organization,
                      absent=("AWSOrganizationsNotInUseException",))
    if err is not None:
        data.errors["organization"] = err
    elif resp is not None:
        org = resp.get("Organization", {})
        data.organization = {k: org.get(k) for k in ("Id", "Arn", "MasterAccountId", "FeatureSet")}
    return data
