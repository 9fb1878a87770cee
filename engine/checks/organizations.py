"""Organizations checks: the account belongs to an AWS organization."""

from __future__ import annotations

from engine.checks import CheckContext, Result, check
from engine.collectors.organizations import OrganizationsData


@check(id="organizations_account_in_organization", service="organizations", resource_type="AWS::::Account",
       scope="global", severity="informational", pillar="operational_excellence",
       title="Account is a member of an AWS organization",
       risk="A standalone account cannot be governed centrally: organization-wide guardrails (service "
            "control policies), consolidated billing and delegated security services do not apply to it.",
       remediation="From the organization's management account, open the AWS Organizations console, AWS "
                   "accounts, 'Add an AWS account', 'Invite an existing AWS account', enter the account id and "
                   "send the invitation; then accept it in this account (Organizations console, Invitations). "
                   "CLI: aws organizations invite-account-to-organization --target Id=<account-id>,Type=ACCOUNT "
                   "(from the management account), then aws organizations accept-handshake --handshake-id "
                   "<handshake-id> (from this account)",
       needs=("organization",))
def organizations_account_in_organization(data: OrganizationsData, ctx: CheckContext) -> Result:
    org = data.organization
    if org is None:
        return Result.failed(f"Account {data.account_id} is not a member of an AWS organization.")
    return Result.passed(f"Account {data.account_id} is a member of organization {org.get('Id')} "
                         f"(management account {org.get('MasterAccountId')}).")
