"""IAM checks (global: one evaluation per account, findings in region `global`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from engine.checks import CheckContext, Result, check
from engine.collectors.iam import IamData, ManagedPolicy, Principal, Role, User
from engine.policydoc import has_admin_statement, has_public_statement

# Credential report values that mean "no date" (never used, no password, not tracked).
_NO_DATE = frozenset({"", "N/A", "no_information", "not_supported"})


# ---- credential report helpers ----

def _truthy(row: dict[str, str], key: str) -> bool:
    return (row.get(key) or "").strip().lower() == "true"


def _report_date(row: dict[str, str], key: str) -> datetime | None:
    value = (row.get(key) or "").strip()
    if value in _NO_DATE:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _no_report_row(user: User) -> Result:
    # A report generated before the user existed has no row: that is missing data, never a PASS.
    return Result.error(f"IAM user {user.id} is not in the credential report (it predates the user).")


def _days(delta: timedelta) -> int:
    return int(delta.total_seconds() // 86400)


# ---- root account ----

@check(
    id="iam_root_mfa_enabled", service="iam", resource_type="AWS::::Account", scope="global",
    severity="critical", pillar="security",
    title="Root user has MFA enabled",
    risk="Without MFA, anyone who obtains the root password has unrestricted control of the account, "
         "including billing and account closure.",
    remediation="Console: sign in as the root user, open Security credentials, and under Multi-factor "
                "authentication choose Assign MFA device (prefer a hardware key). CLI: root MFA cannot be "
                "enabled by an IAM principal; verify with `aws iam get-account-summary --query "
                "SummaryMap.AccountMFAEnabled`.",
    frameworks={"cis-aws-3.0": ["1.5"], "aws-securityhub": ["IAM.9"]},
    needs=("summary",),
)
def iam_root_mfa_enabled(data: IamData, ctx: CheckContext) -> Result:
    if (data.summary or {}).get("AccountMFAEnabled") == 1:
        return Result.passed(f"Root user of account {data.account_id} has MFA enabled.")
    return Result.failed(f"Root user of account {data.account_id} does not have MFA enabled.")


@check(
    id="iam_root_access_key_absent", service="iam", resource_type="AWS::::Account", scope="global",
    severity="critical", pillar="security",
    title="Root user has no access keys",
    risk="A root access key gives unrestricted, non-MFA-protected programmatic control of the account; "
         "a leaked key is a full account takeover.",
    remediation="Console: sign in as the root user, open Security credentials, and under Access keys "
                "deactivate then delete each key (use IAM roles or users for automation). CLI: root keys "
                "cannot be deleted by an IAM principal; verify with `aws iam get-account-summary --query "
                "SummaryMap.AccountAccessKeysPresent`.",
    frameworks={"cis-aws-3.0": ["1.4"], "aws-fsbp": ["IAM.4"]},
    needs=("summary",),
)
def iam_root_access_key_absent(data: IamData, ctx: CheckContext) -> Result:
    if (data.summary or {}).get("AccountAccessKeysPresent") == 0:
        return Result.passed(f"Root user of account {data.account_id} has no access keys.")
    return Result.failed(f"Root user of account {data.account_id} has access keys.")


# ---- password policy ----

_PASSWORD_CLI = ("`aws iam update-account-password-policy --minimum-password-length 14 "
                 "--password-reuse-prevention 24 --require-uppercase-characters "
                 "--require-lowercase-characters --require-numbers --require-symbols`")


@check(
    id="iam_password_policy_min_length_14", service="iam", resource_type="AWS::::Account", scope="global",
    severity="medium", pillar="security",
    title="Password policy requires at least 14 characters",
    risk="Short passwords are easier to guess or brute-force, exposing console access of IAM users.",
    remediation="Console: IAM > Account settings > Password policy > Edit, set Minimum password length "
                f"to 14 or more. CLI: {_PASSWORD_CLI}.",
    frameworks={"cis-aws-3.0": ["1.8"], "aws-securityhub": ["IAM.15"]},
    needs=("password_policy",),
)
def iam_password_policy_min_length_14(data: IamData, ctx: CheckContext) -> Result:
    minimum = int(ctx.param("iam_password_policy_min_length_14", "min_length", 14))
    policy = data.password_policy
    if policy is None:
        return Result.failed(f"Account {data.account_id} has no IAM password policy.")
    length = int(policy.get("MinimumPasswordLength") or 0)
    if length < minimum:
        return Result.failed(f"Account {data.account_id} password policy requires {length} characters, "
                             f"fewer than {minimum}.")
    return Result.passed(f"Account {data.account_id} password policy requires {length} characters.")


@check(
    id="iam_password_policy_reuse_24", service="iam", resource_type="AWS::::Account", scope="global",
    severity="medium", pillar="security",
    title="Password policy prevents reuse of the last 24 passwords",
    risk="Allowing password reuse lets users cycle back to compromised passwords.",
    remediation="Console: IAM > Account settings > Password policy > Edit, enable Prevent password reuse "
                f"and set it to 24. CLI: {_PASSWORD_CLI}.",
    frameworks={"cis-aws-3.0": ["1.9"], "aws-securityhub": ["IAM.16"]},
    needs=("password_policy",),
)
def iam_password_policy_reuse_24(data: IamData, ctx: CheckContext) -> Result:
    minimum = int(ctx.param("iam_password_policy_reuse_24", "reuse_count", 24))
    policy = data.password_policy
    if policy is None:
        return Result.failed(f"Account {data.account_id} has no IAM password policy.")
    reuse = policy.get("PasswordReusePrevention")
    if reuse is None or int(reuse) < minimum:
        shown = "not set" if reuse is None else str(reuse)
        return Result.failed(f"Account {data.account_id} password reuse prevention is {shown}, "
                             f"below {minimum}.")
    return Result.passed(f"Account {data.account_id} password policy prevents reuse of the last {reuse} "
                         "passwords.")


_CHARACTER_CLASSES = (
    ("RequireUppercaseCharacters", "uppercase letters"), ("RequireLowercaseCharacters", "lowercase letters"),
    ("RequireNumbers", "numbers"), ("RequireSymbols", "symbols"),
)


@check(
    id="iam_password_policy_strong", service="iam", resource_type="AWS::::Account", scope="global",
    severity="medium", pillar="security",
    title="Password policy requires strong passwords",
    risk="Passwords without upper- and lower-case letters, numbers and symbols, or shorter than 8 "
         "characters, are easy to guess.",
    remediation="Console: IAM > Account settings > Password policy > Edit, require at least one uppercase "
                "letter, lowercase letter, number and non-alphanumeric character, with a minimum length of "
                f"at least 8. CLI: {_PASSWORD_CLI}.",
    frameworks={"aws-fsbp": ["IAM.7"]},
    needs=("password_policy",),
)
def iam_password_policy_strong(data: IamData, ctx: CheckContext) -> Result:
    minimum = int(ctx.param("iam_password_policy_strong", "min_length", 8))
    policy = data.password_policy
    if policy is None:
        return Result.failed(f"Account {data.account_id} has no IAM password policy.")
    missing = [label for key, label in _CHARACTER_CLASSES if not policy.get(key)]
    length = int(policy.get("MinimumPasswordLength") or 0)
    if length < minimum:
        missing.append(f"a minimum length of {minimum} (it is {length})")
    if missing:
        return Result.failed(f"Account {data.account_id} password policy does not require "
                             f"{', '.join(missing)}.")
    return Result.passed(f"Account {data.account_id} password policy requires strong passwords.")


# ---- users (credential report) ----

@check(
    id="iam_user_console_mfa_enabled", service="iam", resource_type="AWS::IAM::User", scope="global",
    severity="high", pillar="security",
    title="IAM user with console access has MFA enabled",
    risk="A console user without MFA can be taken over with a phished or leaked password alone.",
    remediation="Console: IAM > Users > the user > Security credentials > Assign MFA device. CLI: "
                "`aws iam create-virtual-mfa-device --virtual-mfa-device-name <user>` then "
                "`aws iam enable-mfa-device --user-name <user> --serial-number <arn> "
                "--authentication-code1 <code> --authentication-code2 <code>`.",
    frameworks={"cis-aws-3.0": ["1.10"], "aws-fsbp": ["IAM.5"]},
    over="users", needs=("credential",),
)
def iam_user_console_mfa_enabled(user: User, ctx: CheckContext) -> Result:
    row = user.credential
    if row is None:
        return _no_report_row(user)
    if not _truthy(row, "password_enabled"):
        return Result.passed(f"IAM user {user.id} has no console password.")
    if _truthy(row, "mfa_active"):
        return Result.passed(f"IAM user {user.id} has console access with MFA enabled.")
    return Result.failed(f"IAM user {user.id} has console access without MFA.")


@check(
    id="iam_user_console_no_unused_access_key", service="iam", resource_type="AWS::IAM::User",
    scope="global", severity="medium", pillar="security",
    title="IAM console user has no never-used access key",
    risk="Access keys created together with a console user and never used are unneeded long-lived "
         "credentials that can leak unnoticed.",
    remediation="Console: IAM > Users > the user > Security credentials, deactivate and delete access keys "
                "that were never used. CLI: `aws iam delete-access-key --user-name <user> "
                "--access-key-id <key-id>`.",
    frameworks={"cis-aws-3.0": ["1.11"]},
    over="users", needs=("credential",),
)
def iam_user_console_no_unused_access_key(user: User, ctx: CheckContext) -> Result:
    row = user.credential
    if row is None:
        return _no_report_row(user)
    if not _truthy(row, "password_enabled"):
        return Result.passed(f"IAM user {user.id} has no console password.")
    unused = [n for n in (1, 2) if _truthy(row, f"access_key_{n}_active")
              and (row.get(f"access_key_{n}_last_used_date") or "N/A").strip() == "N/A"]
    if unused:
        return Result.failed(f"IAM user {user.id} has console access and {len(unused)} active access key(s) "
                             "that were never used.")
    return Result.passed(f"IAM user {user.id} has no active access key that was never used.")


@check(
    id="iam_user_no_unused_credentials_45_days", service="iam", resource_type="AWS::IAM::User",
    scope="global", severity="medium", pillar="security",
    title="IAM user has no credentials unused for 45 days",
    risk="Credentials that nobody uses are unmonitored ways into the account; removing them shrinks the "
         "attack surface.",
    remediation="Console: IAM > Users > the user > Security credentials, disable the console password "
                "(Manage console access) and deactivate access keys not used in 45 days. CLI: "
                "`aws iam delete-login-profile --user-name <user>` and `aws iam update-access-key "
                "--user-name <user> --access-key-id <key-id> --status Inactive`.",
    frameworks={"cis-aws-3.0": ["1.12"], "aws-securityhub": ["IAM.22"]},
    over="users", needs=("credential",),
)
def iam_user_no_unused_credentials_45_days(user: User, ctx: CheckContext) -> Result:
    row = user.credential
    if row is None:
        return _no_report_row(user)
    max_days = int(ctx.param("iam_user_no_unused_credentials_45_days", "max_days", 45))
    limit = timedelta(days=max_days)
    stale: list[str] = []
    if _truthy(row, "password_enabled"):
        last = _report_date(row, "password_last_used") or _report_date(row, "user_creation_time")
        if last is not None and ctx.scan_time - last > limit:
            stale.append(f"console password (last used or created {_days(ctx.scan_time - last)} days ago)")
    for n in (1, 2):
        if not _truthy(row, f"access_key_{n}_active"):
            continue
        last = _report_date(row, f"access_key_{n}_last_used_date") or \
            _report_date(row, f"access_key_{n}_last_rotated")
        if last is not None and ctx.scan_time - last > limit:
            stale.append(f"access key {n} (last used or rotated {_days(ctx.scan_time - last)} days ago)")
    if stale:
        return Result.failed(f"IAM user {user.id} has credentials unused for more than {max_days} days: "
                             f"{'; '.join(stale)}.")
    return Result.passed(f"IAM user {user.id} has no credentials unused for more than {max_days} days.")


# ---- users (access keys and policies) ----

@check(
    id="iam_user_access_key_rotated_90_days", service="iam", resource_type="AWS::IAM::AccessKey",
    scope="global", severity="medium", pillar="security",
    title="Active IAM access key is rotated within 90 days",
    risk="Long-lived access keys are more likely to have leaked; rotating them limits how long a leaked "
         "key stays usable.",
    remediation="Console: IAM > Users > the user > Security credentials, create a new access key, move "
                "workloads to it, then deactivate and delete the old key. CLI: `aws iam create-access-key "
                "--user-name <user>`, then `aws iam update-access-key --user-name <user> --access-key-id "
                "<old-key-id> --status Inactive` and `aws iam delete-access-key --user-name <user> "
                "--access-key-id <old-key-id>`.",
    frameworks={"cis-aws-3.0": ["1.14"], "aws-fsbp": ["IAM.3"]},
    over="users",
)
def iam_user_access_key_rotated_90_days(user: User, ctx: CheckContext) -> Iterator[Result]:
    # Iterates users, not keys: a user whose keys could not be listed must yield an ERROR finding.
    if "access_keys" in user.errors:
        yield Result.error(f"IAM user {user.id}: could not list access keys: {user.errors['access_keys']}",
                           resource_type="AWS::IAM::User")
        return
    max_days = int(ctx.param("iam_user_access_key_rotated_90_days", "max_days", 90))
    for key in user.access_keys:
        name = f"Access key {key.id} of IAM user {user.id}"
        if key.status != "Active":
            yield Result.passed(f"{name} is inactive.", resource=key)
        elif key.create_date is None:
            yield Result.error(f"{name} has no creation date.", resource=key)
        else:
            age = _days(ctx.scan_time - key.create_date)
            if ctx.scan_time - key.create_date > timedelta(days=max_days):
                yield Result.failed(f"{name} is {age} days old (more than {max_days}).", resource=key)
            else:
                yield Result.passed(f"{name} is {age} days old.", resource=key)


@check(
    id="iam_user_single_active_access_key", service="iam", resource_type="AWS::IAM::User", scope="global",
    severity="low", pillar="security",
    title="IAM user has at most one active access key",
    risk="Two active keys for one user double the long-lived credentials to protect and usually mean an "
         "unfinished rotation.",
    remediation="Console: IAM > Users > the user > Security credentials, deactivate and delete the access "
                "key no longer in use. CLI: `aws iam update-access-key --user-name <user> --access-key-id "
                "<key-id> --status Inactive` then `aws iam delete-access-key --user-name <user> "
                "--access-key-id <key-id>`.",
    frameworks={"cis-aws-3.0": ["1.13"]},
    over="users", needs=("access_keys",),
)
def iam_user_single_active_access_key(user: User, ctx: CheckContext) -> Result:
    active = [k.id for k in user.access_keys if k.status == "Active"]
    if len(active) > 1:
        return Result.failed(f"IAM user {user.id} has {len(active)} active access keys.")
    return Result.passed(f"IAM user {user.id} has {len(active)} active access key(s).")


@check(
    id="iam_user_no_direct_policies", service="iam", resource_type="AWS::IAM::User", scope="global",
    severity="low", pillar="security",
    title="IAM user receives permissions only through groups or roles",
    risk="Policies attached directly to users are hard to review and keep consistent, so users "
         "accumulate permissions nobody audits.",
    remediation="Console: IAM > Users > the user > Permissions, add the user to a group that carries the "
                "permissions, then remove the directly attached and inline policies. CLI: `aws iam "
                "add-user-to-group --user-name <user> --group-name <group>`, `aws iam detach-user-policy "
                "--user-name <user> --policy-arn <arn>` and `aws iam delete-user-policy --user-name <user> "
                "--policy-name <name>`.",
    frameworks={"cis-aws-3.0": ["1.15"], "aws-fsbp": ["IAM.2"]},
    over="users",
)
def iam_user_no_direct_policies(user: User, ctx: CheckContext) -> Result:
    attached, inline = len(user.attached_policies), len(user.inline_policies)
    if attached or inline:
        return Result.failed(f"IAM user {user.id} has {attached} attached and {inline} inline policies.")
    return Result.passed(f"IAM user {user.id} has no policies attached directly.")


# ---- policies ----

@check(
    id="iam_policy_no_full_admin_attached", service="iam", resource_type="AWS::IAM::ManagedPolicy",
    scope="global", severity="high", pillar="security",
    title="Attached customer managed policy does not grant full administrative access",
    risk="A policy allowing every action on every resource gives its principals complete control of the "
         "account, defeating least privilege.",
    remediation="Console: IAM > Policies > the policy > Edit, replace the `\"Action\": \"*\"` on "
                "`\"Resource\": \"*\"` statement with the actions and resources actually needed (or detach "
                "the policy). CLI: `aws iam create-policy-version --policy-arn <arn> --policy-document "
                "file://least-privilege.json --set-as-default`.",
    frameworks={"cis-aws-3.0": ["1.16"], "aws-fsbp": ["IAM.1"]},
    over="policies",
)
def iam_policy_no_full_admin_attached(policy: ManagedPolicy, ctx: CheckContext) -> Result:
    if has_admin_statement(policy.document):
        return Result.failed(f"IAM policy {policy.id} ({policy.default_version_id}) allows \"*\" on \"*\" "
                             f"and is attached to {policy.attachment_count} principal(s).")
    return Result.passed(f"IAM policy {policy.id} does not allow \"*\" on \"*\".")


@check(
    id="iam_inline_policy_no_full_admin", service="iam",
    resource_type="AWS::IAM::User/AWS::IAM::Group/AWS::IAM::Role", scope="global",
    severity="high", pillar="security",
    title="Inline policies of IAM users, groups and roles do not grant full administrative access",
    risk="An inline policy allowing every action on every resource gives the principal complete control of "
         "the account and is easy to overlook in reviews of managed policies.",
    remediation="Console: IAM > Users, Groups or Roles > the principal > Permissions, edit the inline policy "
                "to list only the needed actions and resources, or remove it. CLI: `aws iam "
                "delete-user-policy --user-name <user> --policy-name <name>` (or `delete-group-policy` / "
                "`delete-role-policy`), then attach a least-privilege policy.",
    over="principals",
)
def iam_inline_policy_no_full_admin(principal: Principal, ctx: CheckContext) -> Result:
    kind = principal.cfn_type.rsplit("::", 1)[-1].lower()
    admin = [p.name for p in principal.inline_policies if has_admin_statement(p.document)]
    if admin:
        return Result.failed(f"IAM {kind} {principal.id} has inline policies allowing \"*\" on \"*\": "
                             f"{', '.join(admin)}.", resource_type=principal.cfn_type)
    return Result.passed(f"IAM {kind} {principal.id} has no inline policy allowing \"*\" on \"*\".",
                         resource_type=principal.cfn_type)


@check(
    id="iam_support_role_exists", service="iam", resource_type="AWS::::Account", scope="global",
    severity="low", pillar="security",
    title="A role for AWS Support incident handling exists",
    risk="Without a role holding AWSSupportAccess, incident handling with AWS Support needs broader or "
         "root credentials.",
    remediation="Console: IAM > Roles > Create role, trust the account's users who handle incidents, and "
                "attach the AWSSupportAccess managed policy. CLI: `aws iam create-role --role-name "
                "aws-support --assume-role-policy-document file://trust.json` then `aws iam "
                "attach-role-policy --role-name aws-support --policy-arn "
                "arn:aws:iam::aws:policy/AWSSupportAccess`.",
    frameworks={"cis-aws-3.0": ["1.17"], "aws-securityhub": ["IAM.18"]},
    needs=("support_roles",),
)
def iam_support_role_exists(data: IamData, ctx: CheckContext) -> Result:
    if data.support_roles:
        return Result.passed(f"Account {data.account_id} has AWSSupportAccess on role(s): "
                             f"{', '.join(sorted(data.support_roles))}.")
    return Result.failed(f"Account {data.account_id} has no role with the AWSSupportAccess policy.")


@check(
    id="iam_role_trust_no_public_principal", service="iam", resource_type="AWS::IAM::Role", scope="global",
    severity="critical", pillar="security",
    title="IAM role trust policy does not allow any principal to assume the role",
    risk="A trust policy allowing principal \"*\" without conditions lets any AWS account assume the role "
         "and use its permissions.",
    remediation="Console: IAM > Roles > the role > Trust relationships > Edit trust policy, replace the "
                "\"*\" principal with specific account or service principals (or add conditions such as "
                "sts:ExternalId). CLI: `aws iam update-assume-role-policy --role-name <role> "
                "--policy-document file://trust.json`.",
    over="roles",
)
def iam_role_trust_no_public_principal(role: Role, ctx: CheckContext) -> Result:
    if has_public_statement(role.trust_policy):
        return Result.failed(f"IAM role {role.id} can be assumed by any principal.")
    return Result.passed(f"IAM role {role.id} trust policy has no public statement.")
