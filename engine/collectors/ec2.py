"""EC2 and VPC collector: instances, EBS volumes and snapshots, AMIs, Elastic IPs, security groups,
network ACLs, VPCs with their flow logs, and the region's EBS encryption-by-default setting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch, fill
from engine.model import Scope
from engine.throttle import aws_call, paginate

# Instances in these states are on their way out and are not evaluated.
GONE_STATES = frozenset({"shutting-down", "terminated"})


@dataclass
class Instance(Resource):
    state: str = ""
    instance_type: str = ""
    state_transition_reason: str = ""
    public_ip: str | None = None
    iam_instance_profile: dict[str, Any] | None = None
    metadata_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Volume(Resource):
    encrypted: bool = False
    state: str = ""


@dataclass
class Snapshot(Resource):
    volume_id: str | None = None
    # DescribeSnapshotAttribute(createVolumePermission).CreateVolumePermissions
    create_volume_permissions: list[dict[str, Any]] | None = None


@dataclass
class Image(Resource):
    name: str = ""
    public: bool = False


@dataclass
class Address(Resource):
    public_ip: str = ""
    association_id: str | None = None


@dataclass
class SecurityGroup(Resource):
    name: str = ""
    vpc_id: str | None = None
    ip_permissions: list[dict[str, Any]] = field(default_factory=list)
    ip_permissions_egress: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class NetworkAcl(Resource):
    vpc_id: str | None = None
    is_default: bool = False
    entries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Vpc(Resource):
    is_default: bool = False
    # DescribeFlowLogs entries whose ResourceId is this VPC.
    flow_logs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Ec2Data(ServiceData):
    instances: list[Instance] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    security_groups: list[SecurityGroup] = field(default_factory=list)
    network_acls: list[NetworkAcl] = field(default_factory=list)
    vpcs: list[Vpc] = field(default_factory=list)
    ebs_encryption_by_default: bool | None = None


@collector("ec2", scope=Scope.REGIONAL, cost=3.0, title="EC2 and VPC")
def collect_ec2(ctx: CollectContext) -> Ec2Data:
    """Fetch the region's EC2/VPC resources once; snapshot permissions are the only per-resource call."""
    ec2 = ctx.client("ec2")
    region, account = ctx.region, ctx.account_id

    def arn(kind: str, rid: str, owner: str = account) -> str:
        return f"arn:aws:ec2:{region}:{owner}:{kind}/{rid}"

    data = Ec2Data(account_id=account, region=region)
    data.instances = [
        Instance(id=i["InstanceId"], arn=arn("instance", i["InstanceId"]), region=region,
                 state=i.get("State", {}).get("Name", ""), instance_type=i.get("InstanceType", ""),
                 state_transition_reason=i.get("StateTransitionReason") or "",
                 public_ip=i.get("PublicIpAddress") or None, iam_instance_profile=i.get("IamInstanceProfile"),
                 metadata_options=i.get("MetadataOptions") or {})
        for reservation in paginate(ec2, "describe_instances", "Reservations")
        for i in reservation.get("Instances", [])
        if i.get("State", {}).get("Name") not in GONE_STATES
    ]
    data.volumes = [
        Volume(id=v["VolumeId"], arn=arn("volume", v["VolumeId"]), region=region,
               encrypted=bool(v.get("Encrypted")), state=v.get("State", ""))
        for v in paginate(ec2, "describe_volumes", "Volumes")
    ]
    # Snapshot and image ARNs carry no account. The emulator can answer OwnerIds=self with other
    # owners' snapshots too, so keep only the account's own.
    data.snapshots = [
        Snapshot(id=s["SnapshotId"], arn=arn("snapshot", s["SnapshotId"], owner=""),
                 region=region, volume_id=s.get("VolumeId"))
        for s in paginate(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"])
        if s.get("OwnerId") == account
    ]
    ctx.map(lambda s: fill(s, "create_volume_permissions", ec2.describe_snapshot_attribute,
                           SnapshotId=s.id, Attribute="createVolumePermission",
                           transform=lambda r: r.get("CreateVolumePermissions", [])), data.snapshots)
    data.images = [
        Image(id=i["ImageId"], arn=arn("image", i["ImageId"], owner=""), region=region,
              name=i.get("Name", ""), public=bool(i.get("Public")))
        for i in paginate(ec2, "describe_images", "Images", Owners=["self"])
    ]
    data.addresses = [
        Address(id=a.get("AllocationId") or a["PublicIp"],
                arn=arn("elastic-ip", a.get("AllocationId") or a["PublicIp"]), region=region,
                public_ip=a.get("PublicIp", ""), association_id=a.get("AssociationId") or None)
        for a in aws_call(ec2.describe_addresses).get("Addresses", [])
    ]
    data.security_groups = [
        SecurityGroup(id=g["GroupId"], arn=arn("security-group", g["GroupId"]), region=region,
                      name=g.get("GroupName", ""), vpc_id=g.get("VpcId"),
                      ip_permissions=g.get("IpPermissions", []),
                      ip_permissions_egress=g.get("IpPermissionsEgress", []))
        for g in paginate(ec2, "describe_security_groups", "SecurityGroups")
    ]
    data.network_acls = [
        NetworkAcl(id=n["NetworkAclId"], arn=arn("network-acl", n["NetworkAclId"]), region=region,
                   vpc_id=n.get("VpcId"), is_default=bool(n.get("IsDefault")), entries=n.get("Entries", []))
        for n in paginate(ec2, "describe_network_acls", "NetworkAcls")
    ]
    flow_logs = list(paginate(ec2, "describe_flow_logs", "FlowLogs"))
    data.vpcs = [
        Vpc(id=v["VpcId"], arn=arn("vpc", v["VpcId"]), region=region, is_default=bool(v.get("IsDefault")),
            flow_logs=[f for f in flow_logs if f.get("ResourceId") == v["VpcId"]])
        for v in paginate(ec2, "describe_vpcs", "Vpcs")
    ]
    resp, err = fetch(ec2.get_ebs_encryption_by_default)
    if err is not None:
        data.errors["ebs_encryption_by_default"] = err
    else:
        data.ebs_encryption_by_default = bool(resp.get("EbsEncryptionByDefault"))
    return data
