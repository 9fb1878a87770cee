"""IAM collector: one global unit per account.

Calls per account: GetAccountSummary, GetAccountPasswordPolicy, GenerateCredentialReport (polled
until COMPLETE) + GetCredentialReport, GetAccountAuthorizationDetails (paginated; it carries users,
groups, roles, their inline and attached policies, role trust policies and every local managed
policy with its versions, so no per-user policy calls and no per-policy GetPolicyVersion calls are
needed), ListEntitiesForPolicy(AWSSupportAccess), and ListAccessKeys per user (IAM has no batch API
for access key ids; the credential report has key state but not the key ids).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import botocore.exceptions

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch
from engine.model import GLOBAL_REGION
from engine.policydoc import normalise_document
from engine.throttle import aws_call, describe_error, error_code, pages, paginate

_AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)

SUPPORT_POLICY_ARN = "arn:aws:iam::aws:policy/AWSSupportAccess"

# Credential report generation is asynchronous; AWS usually finishes within seconds.
_REPORT_FIRST_WAIT_S = 0.1
_REPORT_MAX_WAIT_S = 2.0
_REPORT_DEADLINE_S = 60.0


@dataclass
class InlinePolicy:
    name: str
    document: dict[str, Any] | None


@dataclass
class AccessKey(Resource):
    """An IAM access key; `id` is the access key id (access keys have no ARN)."""

    user_name: str = ""
    status: str = ""
    create_date: datetime | None = None


@dataclass
class Principal(Resource):
    """A user, group or role: what inline-policy checks evaluate. `id` is the principal's name."""

    cfn_type: str = ""
    inline_policies: list[InlinePolicy] = field(default_factory=list)
    attached_policies: list[str] = field(default_factory=list)


@dataclass
class User(Principal):
    """An IAM user. `credential` is its credential report row (None when the report has no row
    for it); `access_keys` comes from ListAccessKeys."""

    cfn_type: str = "AWS::IAM::User"
    create_date: datetime | None = None
    credential: dict[str, str] | None = None
    access_keys: list[AccessKey] = field(default_factory=list)


@dataclass
class Group(Principal):
    cfn_type: str = "AWS::IAM::Group"


@dataclass
class Role(Principal):
    cfn_type: str = "AWS::IAM::Role"
    trust_policy: dict[str, Any] | None = None


@dataclass
class ManagedPolicy(Resource):
    """A customer managed policy attached to at least one principal; `id` is the policy name."""

    attachment_count: int = 0
    default_version_id: str = ""
    document: dict[str, Any] | None = None


@dataclass
class IamData(ServiceData):
    """IAM data of one account. Account-level fields that could not be fetched are recorded in
    `errors` under their field name."""

    summary: dict[str, Any] | None = None
    password_policy: dict[str, Any] | None = None
    credential_report: list[dict[str, str]] = field(default_factory=list)
    support_roles: list[str] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    policies: list[ManagedPolicy] = field(default_factory=list)

    @property
    def principals(self) -> list[Principal]:
        """Users, groups and roles together (for inline-policy checks)."""
        return [*self.users, *self.groups, *self.roles]

    @property
    def access_keys(self) -> list[AccessKey]:
        return [k for u in self.users for k in u.access_keys]


@collector("iam", scope="global", cost=3.0, title="IAM")
def collect_iam(ctx: CollectContext) -> IamData:
    """Collect the account's IAM configuration (global: one unit per account)."""
    iam = ctx.client("iam")
    data = IamData(account_id=ctx.account_id, region=GLOBAL_REGION)

    # The authorization details are the backbone (users, groups, roles, policies): if they
    # cannot be listed the whole service is reported as ERROR.
    details = _authorization_details(iam)
    data.users = [_user(u) for u in details["UserDetailList"]]
    data.groups = [_group(g) for g in details["GroupDetailList"]]
    data.roles = [_role(r) for r in details["RoleDetailList"]]
    data.policies = [p for p in (_policy(p) for p in details["Policies"]) if p.attachment_count > 0]

    # Everything else is independent: run the account-level calls and the per-user key listings
    # together on the unit's pool (the credential report's polling dominates otherwise).
    tasks: list[Callable[[], None]] = [
        lambda: _summary(iam, data), lambda: _password_policy(iam, data),
        lambda: _report(iam, data), lambda: _support_roles(iam, data),
        *(partial(_access_keys, iam, u) for u in data.users),
    ]
    ctx.map(lambda task: task(), tasks)

    rows = {r.get("user"): r for r in data.credential_report}
    for user in data.users:
        if "credential_report" in data.errors:
            user.errors["credential"] = data.errors["credential_report"]
        else:
            user.credential = rows.get(user.id)
    return data


def _summary(iam: Any, data: IamData) -> None:
    resp, err = fetch(iam.get_account_summary)
    if err:
        data.errors["summary"] = err
    else:
        data.summary = resp.get("SummaryMap", {})


def _password_policy(iam: Any, data: IamData) -> None:
    resp, err = fetch(iam.get_account_password_policy, absent=("NoSuchEntity",))
    if err:
        data.errors["password_policy"] = err
    elif resp is not None:
        data.password_policy = resp.get("PasswordPolicy")


def _report(iam: Any, data: IamData) -> None:
    try:
        data.credential_report = _credential_report(iam)
    except (*_AWS_ERRORS, TimeoutError, UnicodeDecodeError, csv.Error) as exc:
        data.errors["credential_report"] = describe_error(exc)


def _support_roles(iam: Any, data: IamData) -> None:
    try:
        data.support_roles = [r["RoleName"] for r in paginate(
            iam, "list_entities_for_policy", "PolicyRoles", PolicyArn=SUPPORT_POLICY_ARN, EntityFilter="Role")]
    except _AWS_ERRORS as exc:
        # The policy not existing (emulator without AWS managed policies) means no role uses it.
        if error_code(exc) != "NoSuchEntity":
            data.errors["support_roles"] = describe_error(exc)


def _authorization_details(iam: Any) -> dict[str, list[dict[str, Any]]]:
    """All pages of GetAccountAuthorizationDetails, without AWS managed policies (≈1,500 of them)."""
    keys = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
    for page in pages(iam, "get_account_authorization_details", Filter=["User", "Group", "Role", "LocalManagedPolicy"]):
        for key, items in out.items():
            items.extend(page.get(key, []))
    return out


def _inline(entries: list[dict[str, Any]]) -> list[InlinePolicy]:
    return [InlinePolicy(e.get("PolicyName", ""), normalise_document(e.get("PolicyDocument")))
            for e in entries]


def _user(u: dict[str, Any]) -> User:
    return User(id=u["UserName"], arn=u.get("Arn"), region=GLOBAL_REGION, create_date=u.get("CreateDate"),
                inline_policies=_inline(u.get("UserPolicyList", [])),
                attached_policies=[p.get("PolicyArn", "") for p in u.get("AttachedManagedPolicies", [])])


def _group(g: dict[str, Any]) -> Group:
    return Group(id=g["GroupName"], arn=g.get("Arn"), region=GLOBAL_REGION,
                 inline_policies=_inline(g.get("GroupPolicyList", [])),
                 attached_policies=[p.get("PolicyArn", "") for p in g.get("AttachedManagedPolicies", [])])


def _role(r: dict[str, Any]) -> Role:
    return Role(id=r["RoleName"], arn=r.get("Arn"), region=GLOBAL_REGION,
                inline_policies=_inline(r.get("RolePolicyList", [])),
                attached_policies=[p.get("PolicyArn", "") for p in r.get("AttachedManagedPolicies", [])],
                trust_policy=normalise_document(r.get("AssumeRolePolicyDocument")))


def _policy(p: dict[str, Any]) -> ManagedPolicy:
    default = p.get("DefaultVersionId", "")
    doc = next((v.get("Document") for v in p.get("PolicyVersionList", [])
                if v.get("IsDefaultVersion") or v.get("VersionId") == default), None)
    name = p.get("PolicyName") or p["Arn"].rsplit("/", 1)[-1]
    return ManagedPolicy(id=name, arn=p.get("Arn"), region=GLOBAL_REGION,
                         attachment_count=int(p.get("AttachmentCount") or 0), default_version_id=default,
                         document=normalise_document(doc))


def _credential_report(iam: Any) -> list[dict[str, str]]:
    """Generate the credential report (polling until COMPLETE) and parse its CSV rows."""
    deadline = time.monotonic() + _REPORT_DEADLINE_S
    wait = _REPORT_FIRST_WAIT_S
    while aws_call(iam.generate_credential_report).get("State") != "COMPLETE":
        if time.monotonic() + wait > deadline:
            raise TimeoutError(f"credential report not complete after {_REPORT_DEADLINE_S:.0f} s")
        time.sleep(wait)
        wait = min(wait * 2, _REPORT_MAX_WAIT_S)
    content = aws_call(iam.get_credential_report)["Content"]
    if isinstance(content, (bytes, bytearray)):
        content = content.decode("utf-8")
    return list(csv.DictReader(io.StringIO(content)))


def _access_keys(iam: Any, user: User) -> None:
    """Fill `user.access_keys` (ListAccessKeys is per user; there is no account-wide list)."""
    try:
        metas = list(paginate(iam, "list_access_keys", "AccessKeyMetadata", UserName=user.id))
    except _AWS_ERRORS as exc:
        user.errors["access_keys"] = describe_error(exc)
        return
    user.access_keys = [AccessKey(id=m["AccessKeyId"], arn=None, region=GLOBAL_REGION, user_name=user.id,
                                  status=m.get("Status", ""), create_date=m.get("CreateDate")) for m in metas]
