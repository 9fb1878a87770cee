"""The demo estate: member accounts of the bundled emulator, seeded with known good and bad resources.

`seed_demo_estate(server)` creates, in every member account, the audit role the scanner assumes and a
fixed set of resources in each region (S3 buckets, security groups, EBS volumes) and once per account
(IAM users, a policy, a password policy). It returns a `Manifest`: the accounts, and for every seeded
resource the status each check must report on it. Tests and benchmarks compare a scan with it.

Per account and region:
* bucket `…-public`: canned ACL public-read, nothing else configured (fails every bucket check but
  the public-write and public-policy ones);
* bucket `…-plain`: no encryption, no versioning, nothing else configured;
* bucket `…-good`: passes every bucket check (encryption, versioning, public access block,
  BucketOwnerEnforced, access logging to itself, an enabled lifecycle rule, a TLS-only policy);
* security groups open to 0.0.0.0/0 on 22, on 3389 and on 3306, and one open to 10.0.0.0/8 only;
* an unencrypted and an encrypted EBS volume; EBS encryption by default stays off.
Per account: a console user without MFA holding one never-used key, a user with two active keys
and a directly attached customer policy allowing `*:*`, a weak password policy, and no account-level
S3 public access block.

`unassumable` extra accounts hold nothing, not even the audit role, so assuming into them is denied.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import boto3
import botocore.config

from engine.model import GLOBAL_REGION
from engine.sandbox.server import MANAGEMENT_ACCOUNT, EmulatorServer

FAIL = "FAIL"
PASS = "PASS"

# Every S3 check that evaluates a bucket (CHECKS.md, section S3).
BUCKET_CHECKS = (
    "s3_bucket_public_access_blocked",
    "s3_bucket_acl_public_read_prohibited",
    "s3_bucket_acl_public_write_prohibited",
    "s3_bucket_policy_public_access_prohibited",
    "s3_bucket_default_encryption_enabled",
    "s3_bucket_versioning_enabled",
    "s3_bucket_secure_transport_required",
    "s3_bucket_server_access_logging_enabled",
    "s3_bucket_acls_disabled",
    "s3_bucket_lifecycle_configured",
)

# The security-group checks for ingress open to the world, and the port each single-port bad
# group opens (the all-ports check passes on every group seeded here).
SG_SSH = "ec2_securitygroup_ingress_ssh_not_open_to_world"
SG_RDP = "ec2_securitygroup_ingress_rdp_not_open_to_world"
SG_DB = "ec2_securitygroup_ingress_db_ports_not_open_to_world"
SG_ALL = "ec2_securitygroup_ingress_all_ports_not_open_to_world"
SG_OPEN_CHECKS = (SG_SSH, SG_RDP, SG_DB, SG_ALL)
_OPEN_SG_PORTS = {"ssh": (22, SG_SSH), "rdp": (3389, SG_RDP), "mysql": (3306, SG_DB)}

ADMIN_POLICY = "cs-demo-full-admin"
CONSOLE_USER = "cs-demo-console-user"
KEYS_USER = "cs-demo-two-keys-user"
_PREFIX = "cs-demo"

_BASE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3},
                                 max_pool_connections=16)


@dataclass
class Expectation:
    """One finding a correct scan of the estate must produce: `check_id` on `resource_id` is `status`."""

    check_id: str
    account_id: str
    region: str
    resource_id: str
    status: str


@dataclass
class Manifest:
    """The ground truth of a seeded estate."""

    accounts: list[str]
    regions: tuple[str, ...]
    role_name: str
    external_id: str
    expectations: list[Expectation] = field(default_factory=list)
    unassumable_accounts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (lists and strings only)."""
        d = asdict(self)
        d["regions"] = list(self.regions)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        """The inverse of `to_dict`."""
        return cls(accounts=list(d["accounts"]), regions=tuple(d["regions"]), role_name=d["role_name"],
                   external_id=d["external_id"],
                   expectations=[Expectation(**e) for e in d.get("expectations", [])],
                   unassumable_accounts=list(d.get("unassumable_accounts", [])))

    def expectations_for(self, account_id: str) -> list[Expectation]:
        """The expectations about one account."""
        return [e for e in self.expectations if e.account_id == account_id]


def member_account_id(n: int) -> str:
    """The n-th (1-based) demo account id: 111111111111 … 999999999999, then 100000000010, …"""
    if n < 1:
        raise ValueError(f"account number {n} must be at least 1")
    return str(n) * 12 if n <= 9 else str(100_000_000_000 + n)


def trust_policy(external_id: str) -> dict[str, Any]:
    """The audit role's trust policy: the management account, with the external id."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }],
    }


def seed_demo_estate(server: EmulatorServer, accounts: int = 3,
                     regions: tuple[str, ...] = ("us-east-1", "eu-west-1"), unassumable: int = 0,
                     role_name: str = "CloudScreenAudit", external_id: str = "cloudscreen-demo") -> Manifest:
    """Seed `accounts` member accounts (plus `unassumable` ones without the audit role) in the running
    emulator `server` and return the manifest of what a scan must find.

    Assume-role enforcement is switched off while seeding (the seeder must enter accounts before their
    role exists) and is on when this returns."""
    if server.middleware is None:
        raise RuntimeError("the emulator is not running: call server.start() before seeding it")
    if accounts < 1 or unassumable < 0:
        raise ValueError(f"need at least one member account and no negative count "
                         f"(accounts={accounts}, unassumable={unassumable})")
    if not regions:
        raise ValueError("need at least one region to seed")
    members = [member_account_id(i) for i in range(1, accounts + 1)]
    denied = [member_account_id(i) for i in range(accounts + 1, accounts + unassumable + 1)]
    base = boto3.Session(region_name="us-east-1", **_BASE_CREDENTIALS)
    sts = base.client("sts", endpoint_url=server.endpoint, config=_CONFIG)
    server.middleware.enforce_assume_role = False
    try:
        lock = threading.Lock()
        seeders = [_AccountSeeder(a, tuple(regions), role_name, external_id, server.endpoint, base, lock, sts)
                   for a in members]
        # Threads overlap the accounts' round trips; beyond a few the in-process emulator's GIL is the limit.
        with ThreadPoolExecutor(max_workers=min(len(seeders), 8), thread_name_prefix="seed") as pool:
            per_account = list(pool.map(_AccountSeeder.seed, seeders))
    finally:
        server.middleware.enforce_assume_role = True
    return Manifest(accounts=members, regions=tuple(regions), role_name=role_name, external_id=external_id,
                    expectations=[e for exps in per_account for e in exps], unassumable_accounts=denied)


class _AccountSeeder:
    """Creates one account's resources through its own assumed-role clients."""

    def __init__(self, account_id: str, regions: tuple[str, ...], role_name: str, external_id: str,
                 endpoint: str, base: boto3.Session, base_lock: threading.Lock, sts: Any) -> None:
        self.account_id = account_id
        self.regions = regions
        self.role_name = role_name
        self.external_id = external_id
        self.endpoint = endpoint
        self.base = base
        self.base_lock = base_lock
        self.sts = sts
        self.expectations: list[Expectation] = []
        self._credentials: dict[str, str] = {}
        self._clients: dict[tuple[str, str], Any] = {}

    def seed(self) -> list[Expectation]:
        creds = self.sts.assume_role(RoleArn=f"arn:aws:iam::{self.account_id}:role/{self.role_name}",
                                     RoleSessionName="cloudscreen-seed",
                                     ExternalId=self.external_id)["Credentials"]
        self._credentials = {"aws_access_key_id": creds["AccessKeyId"],
                             "aws_secret_access_key": creds["SecretAccessKey"],
                             "aws_session_token": creds["SessionToken"]}
        self._seed_iam()
        for region in self.regions:
            self._seed_s3(region)
            self._seed_ec2(region)
        return self.expectations

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            # Clients of one shared session reuse its parsed service models (the EC2 model alone
            # takes ~100 ms to load); building clients on a shared session must be serialised.
            with self.base_lock:
                self._clients[key] = self.base.client(service, region_name=region, endpoint_url=self.endpoint,
                                                      config=_CONFIG, **self._credentials)
        return self._clients[key]

    def _expect(self, check_id: str, region: str, resource_id: str, status: str) -> None:
        self.expectations.append(Expectation(check_id, self.account_id, region, resource_id, status))

    # -- IAM (global) and the account-level S3 setting --
    def _seed_iam(self) -> None:
        iam = self._client("iam", "us-east-1")
        g = GLOBAL_REGION
        iam.create_role(RoleName=self.role_name,
                        AssumeRolePolicyDocument=json.dumps(trust_policy(self.external_id)),
                        Description="CloudScreen read-only audit role (demo estate)")
        self._expect("iam_role_trust_no_public_principal", g, self.role_name, PASS)

        # A console user without MFA whose one access key was never used.
        iam.create_user(UserName=CONSOLE_USER)
        iam.create_login_profile(UserName=CONSOLE_USER, Password="Demo-Password-123!")
        iam.create_access_key(UserName=CONSOLE_USER)
        self._expect("iam_user_console_mfa_enabled", g, CONSOLE_USER, FAIL)
        self._expect("iam_user_console_no_unused_access_key", g, CONSOLE_USER, FAIL)
        self._expect("iam_user_single_active_access_key", g, CONSOLE_USER, PASS)
        self._expect("iam_user_no_direct_policies", g, CONSOLE_USER, PASS)

        # A programmatic user with two active keys and a directly attached admin policy.
        iam.create_user(UserName=KEYS_USER)
        iam.create_access_key(UserName=KEYS_USER)
        iam.create_access_key(UserName=KEYS_USER)
        admin = {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}
        arn = iam.create_policy(PolicyName=ADMIN_POLICY, PolicyDocument=json.dumps(admin))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=KEYS_USER, PolicyArn=arn)
        self._expect("iam_user_single_active_access_key", g, KEYS_USER, FAIL)
        self._expect("iam_user_no_direct_policies", g, KEYS_USER, FAIL)
        self._expect("iam_policy_no_full_admin_attached", g, ADMIN_POLICY, FAIL)

        # A weak password policy: short, no symbols, reuse allowed.
        iam.update_account_password_policy(MinimumPasswordLength=6, RequireSymbols=False, RequireNumbers=True,
                                           RequireUppercaseCharacters=True, RequireLowercaseCharacters=True)
        for check_id in ("iam_password_policy_min_length_14", "iam_password_policy_reuse_24",
                         "iam_password_policy_strong"):
            self._expect(check_id, g, self.account_id, FAIL)

        # Nothing to create: the account-level S3 public access block is absent by default.
        self._expect("s3_account_public_access_blocked", g, self.account_id, FAIL)

    # -- S3 buckets of one region --
    def _seed_s3(self, region: str) -> None:
        s3 = self._client("s3", region)
        stem = f"{_PREFIX}-{self.account_id}-{region}"
        where = {} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}

        public = f"{stem}-public"
        s3.create_bucket(Bucket=public, ACL="public-read", **where)
        plain = f"{stem}-plain"
        s3.create_bucket(Bucket=plain, **where)
        # Neither bad bucket has any setting configured: every bucket check fails on both, except the
        # public-write and public-policy ones (no write grant, no policy), and public-read on `plain`.
        for name in (public, plain):
            for check_id in BUCKET_CHECKS:
                ok = check_id in ("s3_bucket_acl_public_write_prohibited",
                                  "s3_bucket_policy_public_access_prohibited")
                if check_id == "s3_bucket_acl_public_read_prohibited":
                    ok = name == plain
                self._expect(check_id, region, name, PASS if ok else FAIL)

        good = f"{stem}-good"
        s3.create_bucket(Bucket=good, ObjectOwnership="BucketOwnerEnforced", **where)
        s3.put_bucket_encryption(Bucket=good, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        s3.put_bucket_versioning(Bucket=good, VersioningConfiguration={"Status": "Enabled"})
        # The policy goes in before the public access block and the logging set-up: it both requires
        # TLS and grants the logging service the write that server access logging needs.
        s3.put_bucket_policy(Bucket=good, Policy=json.dumps(_good_bucket_policy(good)))
        s3.put_public_access_block(Bucket=good, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        s3.put_bucket_logging(Bucket=good, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": good, "TargetPrefix": "access-logs/"}})
        s3.put_bucket_lifecycle_configuration(Bucket=good, LifecycleConfiguration={"Rules": [{
            "ID": "expire-old-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}]})
        for check_id in BUCKET_CHECKS:
            self._expect(check_id, region, good, PASS)

    # -- EC2 in one region --
    def _seed_ec2(self, region: str) -> None:
        ec2 = self._client("ec2", region)
        for label, (port, check_id) in _OPEN_SG_PORTS.items():
            sg = ec2.create_security_group(GroupName=f"{_PREFIX}-{label}-open-to-world",
                                           Description=f"demo: TCP {port} open to the internet")["GroupId"]
            world = [{"CidrIp": "0.0.0.0/0"}]
            ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": world}])
            for other in SG_OPEN_CHECKS:
                self._expect(other, region, sg, FAIL if other == check_id else PASS)

        internal = ec2.create_security_group(
            GroupName=f"{_PREFIX}-admin-ports-internal",
            Description="demo: admin ports open to 10.0.0.0/8 only")["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=internal, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
            for port, _ in _OPEN_SG_PORTS.values()])
        for check_id in SG_OPEN_CHECKS:
            self._expect(check_id, region, internal, PASS)

        zone = f"{region}a"
        plain = ec2.create_volume(AvailabilityZone=zone, Size=8, VolumeType="gp3")["VolumeId"]
        self._expect("ec2_volume_encrypted", region, plain, FAIL)
        sealed = ec2.create_volume(AvailabilityZone=zone, Size=8, VolumeType="gp3",
                                   Encrypted=True)["VolumeId"]
        self._expect("ec2_volume_encrypted", region, sealed, PASS)

        # Nothing to create: EBS encryption by default is off in a new account.
        self._expect("ec2_ebs_default_encryption_enabled", region, self.account_id, FAIL)


def _good_bucket_policy(bucket: str) -> dict[str, Any]:
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            # {"AWS": "*"} rather than "*": moto's logging permission check expects a dict principal.
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
             "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "AllowServerAccessLogs", "Effect": "Allow",
             "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": f"{arn}/access-logs/*"},
        ],
    }

