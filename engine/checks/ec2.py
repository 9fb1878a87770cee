"""EC2 and VPC checks: EBS encryption, public snapshots and AMIs, instance hardening and hygiene,
Elastic IPs, security groups, network ACLs and VPC flow logs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.checks import CheckContext, Result, check
from engine.collectors.ec2 import (
    Address,
    Ec2Data,
    Image,
    Instance,
    NetworkAcl,
    SecurityGroup,
    Snapshot,
    Volume,
    Vpc,
)

WORLD_IPV4 = "0.0.0.0/0"
WORLD_IPV6 = "::/0"
DB_PORTS = {3306: "MySQL", 5432: "PostgreSQL", 1433: "SQL Server", 1521: "Oracle", 27017: "MongoDB",
            6379: "Redis"}
ADMIN_PORTS = (22, 3389)
PREVIOUS_GENERATION_FAMILIES = frozenset({"t1", "m1", "m2", "m3", "c1", "c3", "cc2", "cg1", "cr1", "g2",
                                          "hi1", "hs1", "i2", "r3"})
_TRANSITION_DATE_RE = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")


def _from_world(permission: dict[str, Any]) -> bool:
    """The entry admits 0.0.0.0/0 or ::/0 (group and prefix-list references never count)."""
    return (any(r.get("CidrIp") == WORLD_IPV4 for r in permission.get("IpRanges", []))
            or any(r.get("CidrIpv6") == WORLD_IPV6 for r in permission.get("Ipv6Ranges", [])))


def open_to_world_on_tcp(permission: dict[str, Any], port: int) -> bool:
    """Shared definition "open to the world on TCP port P" for one IpPermissions entry."""
    if not _from_world(permission):
        return False
    protocol = str(permission.get("IpProtocol"))
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6"):
        return False
    from_port, to_port = permission.get("FromPort"), permission.get("ToPort")
    return from_port is not None and to_port is not None and from_port <= port <= to_port


def _open_ports(group: SecurityGroup, ports: list[int]) -> list[int]:
    return [p for p in ports if any(open_to_world_on_tcp(perm, p) for perm in group.ip_permissions)]


def _sg_port_result(group: SecurityGroup, port: int, label: str) -> Result:
    if _open_ports(group, [port]):
        return Result.failed(f"Security group {group.id} ({group.name}) allows {label} (TCP {port}) "
                             "from the internet.")
    return Result.passed(f"Security group {group.id} ({group.name}) does not allow {label} (TCP {port}) "
                         "from the internet.")


def _stopped_since(reason: str) -> datetime | None:
    match = _TRANSITION_DATE_RE.search(reason)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


@check(id="ec2_ebs_default_encryption_enabled", service="ec2", resource_type="AWS::::Account",
       scope="regional", severity="medium", pillar="security",
       frameworks={"cis-aws-3.0": ["2.2.1"], "aws-fsbp": ["EC2.7"]},
       title="EBS encryption by default is enabled in the region",
       risk="Without encryption by default, new EBS volumes and snapshots in the region can be created "
            "unencrypted.",
       remediation="In the EC2 console choose 'EBS encryption' under Account attributes (Settings), choose "
                   "Manage, tick 'Always encrypt new EBS volumes' and save; repeat in every region. CLI: "
                   "aws ec2 enable-ebs-encryption-by-default --region <region>",
       needs=("ebs_encryption_by_default",))
def ec2_ebs_default_encryption_enabled(data: Ec2Data, ctx: CheckContext) -> Result:
    if not data.ebs_encryption_by_default:
        return Result.failed(f"EBS encryption by default is disabled in {data.region}.")
    return Result.passed(f"EBS encryption by default is enabled in {data.region}.")


@check(id="ec2_volume_encrypted", service="ec2", resource_type="AWS::EC2::Volume",
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["EC2.3"]},
       title="EBS volume is encrypted",
       risk="Data on an unencrypted volume, and on every snapshot taken from it, is stored in clear text.",
       remediation="An existing volume cannot be encrypted in place: in the EC2 console create a snapshot of "
                   "the volume, copy it with 'Encrypt this snapshot' ticked, create a volume from the copy "
                   "and swap it in. CLI: aws ec2 create-snapshot --volume-id <vol>; aws ec2 copy-snapshot "
                   "--source-snapshot-id <snap> --source-region <region> --encrypted; aws ec2 create-volume "
                   "--snapshot-id <encrypted-snap> --availability-zone <az>",
       over="volumes")
def ec2_volume_encrypted(volume: Volume, ctx: CheckContext) -> Result:
    if not volume.encrypted:
        return Result.failed(f"EBS volume {volume.id} is not encrypted.")
    return Result.passed(f"EBS volume {volume.id} is encrypted.")


@check(id="ec2_snapshot_not_public", service="ec2", resource_type="AWS::EC2::Snapshot",
       scope="regional", severity="critical", pillar="security", frameworks={"aws-fsbp": ["EC2.1"]},
       title="EBS snapshot is not publicly restorable",
       risk="Anyone can create a volume from a public snapshot and read all the data it holds.",
       remediation="In the EC2 console open Snapshots, select the snapshot, Actions, 'Modify permissions', "
                   "and choose Private. CLI: aws ec2 modify-snapshot-attribute --snapshot-id <snap> "
                   "--attribute createVolumePermission --operation-type remove --group-names all",
       over="snapshots", needs=("create_volume_permissions",))
def ec2_snapshot_not_public(snapshot: Snapshot, ctx: CheckContext) -> Result:
    if any(p.get("Group") == "all" for p in snapshot.create_volume_permissions or []):
        return Result.failed(f"EBS snapshot {snapshot.id} can be restored by anyone (group all).")
    return Result.passed(f"EBS snapshot {snapshot.id} is not public.")


@check(id="ec2_ami_not_public", service="ec2", resource_type="AWS::EC2::Image",
       scope="regional", severity="high", pillar="security",
       title="AMI owned by the account is not public",
       risk="Anyone can launch a public AMI and read the software, configuration and any secrets baked "
            "into it.",
       remediation="In the EC2 console open AMIs, select the image, Actions, 'Edit AMI permissions', and "
                   "choose Private. CLI: aws ec2 modify-image-attribute --image-id <ami> "
                   "--launch-permission \"Remove=[{Group=all}]\"",
       over="images")
def ec2_ami_not_public(image: Image, ctx: CheckContext) -> Result:
    if image.public:
        return Result.failed(f"AMI {image.id} ({image.name}) is public.")
    return Result.passed(f"AMI {image.id} ({image.name}) is private.")


@check(id="ec2_instance_imdsv2_required", service="ec2", resource_type="AWS::EC2::Instance",
       scope="regional", severity="high", pillar="security",
       frameworks={"cis-aws-3.0": ["5.6"], "aws-fsbp": ["EC2.8"]},
       title="EC2 instance requires IMDSv2",
       risk="IMDSv1 answers unauthenticated requests, so an SSRF flaw in the instance's software can leak "
            "its role credentials.",
       remediation="In the EC2 console select the instance, Actions, Instance settings, 'Modify instance "
                   "metadata options', and set IMDSv2 to Required. CLI: aws ec2 modify-instance-metadata-"
                   "options --instance-id <id> --http-tokens required --http-endpoint enabled",
       over="instances")
def ec2_instance_imdsv2_required(instance: Instance, ctx: CheckContext) -> Result:
    options = instance.metadata_options
    # AWS's default endpoint state is enabled, so an absent value counts as enabled.
    if options.get("HttpEndpoint", "enabled") != "enabled":
        return Result.passed(f"Instance {instance.id} has the metadata endpoint disabled.")
    if options.get("HttpTokens") != "required":
        return Result.failed(f"Instance {instance.id} allows IMDSv1 (HttpTokens "
                             f"{options.get('HttpTokens') or 'unset'}).")
    return Result.passed(f"Instance {instance.id} requires IMDSv2.")


@check(id="ec2_instance_no_public_ip", service="ec2", resource_type="AWS::EC2::Instance",
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["EC2.9"]},
       title="EC2 instance has no public IPv4 address",
       risk="An instance with a public IP is directly addressable from the internet, one security-group "
            "mistake away from exposure.",
       remediation="Launch instances in private subnets behind a load balancer or NAT, and turn off "
                   "auto-assign public IP on the subnet (VPC console, subnet, Actions, 'Edit subnet "
                   "settings'). CLI: aws ec2 modify-subnet-attribute --subnet-id <subnet> "
                   "--no-map-public-ip-on-launch (then relaunch or move the instance)",
       over="instances")
def ec2_instance_no_public_ip(instance: Instance, ctx: CheckContext) -> Result:
    if instance.public_ip:
        return Result.failed(f"Instance {instance.id} has public IP {instance.public_ip}.")
    return Result.passed(f"Instance {instance.id} has no public IP address.")


@check(id="ec2_instance_profile_attached", service="ec2", resource_type="AWS::EC2::Instance",
       scope="regional", severity="low", pillar="security", frameworks={"cis-aws-3.0": ["1.18"]},
       title="EC2 instance has an IAM instance profile",
       risk="Without an instance role, applications tend to use long-lived access keys stored on the "
            "instance.",
       remediation="In the EC2 console select the instance, Actions, Security, 'Modify IAM role', and "
                   "attach a role with least-privilege permissions. CLI: aws ec2 associate-iam-instance-"
                   "profile --instance-id <id> --iam-instance-profile Name=<profile>",
       over="instances")
def ec2_instance_profile_attached(instance: Instance, ctx: CheckContext) -> Result:
    if not instance.iam_instance_profile:
        return Result.failed(f"Instance {instance.id} has no IAM instance profile.")
    profile = instance.iam_instance_profile.get("Arn", "").rsplit("/", 1)[-1] or "attached"
    return Result.passed(f"Instance {instance.id} has IAM instance profile {profile}.")


@check(id="ec2_instance_not_stopped_over_30_days", service="ec2", resource_type="AWS::EC2::Instance",
       scope="regional", severity="low", pillar="cost_optimization", frameworks={"aws-fsbp": ["EC2.4"]},
       title="EC2 instance has not been stopped for more than 30 days",
       risk="Long-stopped instances keep paying for their volumes and Elastic IPs and drift out of patch "
            "compliance.",
       remediation="Terminate instances that are no longer needed (after snapshotting what must be kept): "
                   "in the EC2 console select the instance, 'Instance state', Terminate. CLI: aws ec2 "
                   "terminate-instances --instance-ids <id>",
       over="instances")
def ec2_instance_not_stopped_over_30_days(instance: Instance, ctx: CheckContext) -> Result | None:
    days = ctx.param("ec2_instance_not_stopped_over_30_days", "days", 30)
    if instance.state != "stopped":
        return Result.passed(f"Instance {instance.id} is {instance.state or 'not stopped'}.")
    since = _stopped_since(instance.state_transition_reason)
    if since is None:  # no date to measure from: not evaluated rather than guessed
        return None
    age = ctx.scan_time - since
    if age > timedelta(days=days):
        return Result.failed(f"Instance {instance.id} has been stopped since {since:%Y-%m-%d} "
                             f"({age.days} days, more than {days}).")
    return Result.passed(f"Instance {instance.id} has been stopped for {age.days} days (at most {days}).")


@check(id="ec2_instance_current_generation", service="ec2", resource_type="AWS::EC2::Instance",
       scope="regional", severity="low", pillar="performance_efficiency",
       title="EC2 instance uses a current-generation instance type",
       risk="Previous-generation instance types cost more per unit of performance and lack current "
            "security features such as Nitro.",
       remediation="Stop the instance, change its type to a current-generation equivalent (console: "
                   "Actions, Instance settings, 'Change instance type') and start it. CLI: aws ec2 "
                   "modify-instance-attribute --instance-id <id> --instance-type \"{\\\"Value\\\": "
                   "\\\"m7i.large\\\"}\"",
       over="instances")
def ec2_instance_current_generation(instance: Instance, ctx: CheckContext) -> Result:
    family = instance.instance_type.split(".", 1)[0]
    if family in PREVIOUS_GENERATION_FAMILIES:
        return Result.failed(f"Instance {instance.id} uses previous-generation type "
                             f"{instance.instance_type}.")
    return Result.passed(f"Instance {instance.id} uses type {instance.instance_type}.")


@check(id="ec2_eip_associated", service="ec2", resource_type="AWS::EC2::EIP",
       scope="regional", severity="low", pillar="cost_optimization",
       frameworks={"aws-securityhub": ["EC2.12"]},
       title="Elastic IP address is associated",
       risk="An unassociated Elastic IP is billed while doing nothing.",
       remediation="In the EC2 console open Elastic IPs, select the address, Actions, 'Release Elastic IP "
                   "addresses' (or associate it with a resource). CLI: aws ec2 release-address "
                   "--allocation-id <eipalloc>",
       over="addresses")
def ec2_eip_associated(address: Address, ctx: CheckContext) -> Result:
    if not address.association_id:
        return Result.failed(f"Elastic IP {address.public_ip} ({address.id}) is not associated.")
    return Result.passed(f"Elastic IP {address.public_ip} ({address.id}) is associated.")


_SG_REMEDIATION = ("In the EC2 console open Security Groups, select the group, 'Edit inbound rules', and "
                   "delete the rule from 0.0.0.0/0 or ::/0 (or narrow it to known addresses; use Session "
                   "Manager or a VPN for administration). CLI: aws ec2 revoke-security-group-ingress "
                   "--group-id <sg> --ip-permissions "
                   "IpProtocol=tcp,FromPort=<port>,ToPort=<port>,IpRanges=[{CidrIp=0.0.0.0/0}]")


@check(id="ec2_securitygroup_ingress_ssh_not_open_to_world", service="ec2",
       resource_type="AWS::EC2::SecurityGroup", scope="regional", severity="high", pillar="security",
       frameworks={"cis-aws-3.0": ["5.2", "5.3"], "aws-securityhub": ["EC2.13"]},
       title="Security group does not allow SSH from the internet",
       risk="SSH open to the internet invites brute-force attacks and exploitation of SSH vulnerabilities.",
       remediation=_SG_REMEDIATION.replace("<port>", "22"), over="security_groups")
def ec2_securitygroup_ingress_ssh_not_open_to_world(group: SecurityGroup, ctx: CheckContext) -> Result:
    return _sg_port_result(group, 22, "SSH")


@check(id="ec2_securitygroup_ingress_rdp_not_open_to_world", service="ec2",
       resource_type="AWS::EC2::SecurityGroup", scope="regional", severity="high", pillar="security",
       frameworks={"cis-aws-3.0": ["5.2", "5.3"], "aws-securityhub": ["EC2.14"]},
       title="Security group does not allow RDP from the internet",
       risk="RDP open to the internet invites brute-force attacks and exploitation of RDP vulnerabilities.",
       remediation=_SG_REMEDIATION.replace("<port>", "3389"), over="security_groups")
def ec2_securitygroup_ingress_rdp_not_open_to_world(group: SecurityGroup, ctx: CheckContext) -> Result:
    return _sg_port_result(group, 3389, "RDP")


@check(id="ec2_securitygroup_ingress_db_ports_not_open_to_world", service="ec2",
       resource_type="AWS::EC2::SecurityGroup", scope="regional", severity="high", pillar="security",
       title="Security group does not allow database ports from the internet",
       risk="Database ports open to the internet expose data stores to credential stuffing and to "
            "exploitation of database vulnerabilities.",
       remediation=_SG_REMEDIATION, over="security_groups")
def ec2_securitygroup_ingress_db_ports_not_open_to_world(group: SecurityGroup, ctx: CheckContext) -> Result:
    open_ports = _open_ports(group, sorted(DB_PORTS))
    if open_ports:
        named = ", ".join(f"{p} ({DB_PORTS[p]})" for p in open_ports)
        return Result.failed(f"Security group {group.id} ({group.name}) allows database ports {named} "
                             "from the internet.")
    return Result.passed(f"Security group {group.id} ({group.name}) allows no database port "
                         "from the internet.")


@check(id="ec2_securitygroup_ingress_all_ports_not_open_to_world", service="ec2",
       resource_type="AWS::EC2::SecurityGroup", scope="regional", severity="critical", pillar="security",
       frameworks={"cis-aws-3.0": ["5.2", "5.3"]},
       title="Security group does not allow all ports from the internet",
       risk="A rule admitting every port from the internet exposes every service the attached resources run.",
       remediation="In the EC2 console open Security Groups, select the group, 'Edit inbound rules', and "
                   "delete the all-traffic or 0-65535 rule from 0.0.0.0/0 or ::/0, allowing only the ports "
                   "needed from known sources. CLI: aws ec2 revoke-security-group-ingress --group-id <sg> "
                   "--ip-permissions IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]",
       over="security_groups")
def ec2_securitygroup_ingress_all_ports_not_open_to_world(group: SecurityGroup, ctx: CheckContext) -> Result:
    for perm in group.ip_permissions:
        if not _from_world(perm):
            continue
        protocol = str(perm.get("IpProtocol"))
        if protocol == "-1" or (protocol in ("tcp", "udp", "6", "17")
                                and perm.get("FromPort") == 0 and perm.get("ToPort") == 65535):
            what = "all traffic" if protocol == "-1" else f"all {protocol} ports"
            return Result.failed(f"Security group {group.id} ({group.name}) allows {what} from the internet.")
    return Result.passed(f"Security group {group.id} ({group.name}) does not allow all ports "
                         "from the internet.")


@check(id="ec2_securitygroup_default_restricts_all_traffic", service="ec2",
       resource_type="AWS::EC2::SecurityGroup", scope="regional", severity="medium", pillar="security",
       frameworks={"cis-aws-3.0": ["5.4"], "aws-fsbp": ["EC2.2"]},
       title="Default security group restricts all traffic",
       risk="Resources launched without an explicit group land in the default group; rules there grant "
            "them unintended access.",
       remediation="In the VPC console open Security Groups, select the group named default, and delete all "
                   "inbound and outbound rules (assign resources purpose-built groups instead). CLI: aws ec2 "
                   "revoke-security-group-ingress --group-id <sg> --ip-permissions <rules>; aws ec2 "
                   "revoke-security-group-egress --group-id <sg> --ip-permissions <rules>",
       over="security_groups")
def ec2_securitygroup_default_restricts_all_traffic(group: SecurityGroup, ctx: CheckContext) -> Result | None:
    if group.name != "default":
        return None
    inbound, outbound = len(group.ip_permissions), len(group.ip_permissions_egress)
    if inbound or outbound:
        return Result.failed(f"Default security group {group.id} of {group.vpc_id} has {inbound} inbound and "
                             f"{outbound} outbound rule(s).")
    return Result.passed(f"Default security group {group.id} of {group.vpc_id} has no rules.")


def _first_matching_entry(acl: NetworkAcl, port: int, ipv6: bool) -> dict[str, Any] | None:
    """The lowest-numbered ingress entry from the world (of one address family) covering TCP `port`."""
    candidates = []
    for e in acl.entries:
        if e.get("Egress"):
            continue
        from_world = e.get("Ipv6CidrBlock") == WORLD_IPV6 if ipv6 else e.get("CidrBlock") == WORLD_IPV4
        if not from_world:
            continue
        if str(e.get("Protocol")) not in ("-1", "6"):
            continue
        ports = e.get("PortRange")
        if ports and not (ports.get("From", 0) <= port <= ports.get("To", 65535)):
            continue
        candidates.append(e)
    return min(candidates, key=lambda e: e.get("RuleNumber", 32767), default=None)


@check(id="ec2_networkacl_admin_ports_not_open_to_world", service="ec2",
       resource_type="AWS::EC2::NetworkAcl", scope="regional", severity="medium", pillar="security",
       frameworks={"cis-aws-3.0": ["5.1"], "aws-fsbp": ["EC2.21"]},
       title="Network ACL does not allow SSH or RDP from the internet",
       risk="A network ACL that admits administration ports from anywhere leaves security groups as the "
            "only barrier in front of SSH and RDP.",
       remediation="In the VPC console open Network ACLs, select the ACL, 'Edit inbound rules', and add deny "
                   "rules for TCP 22 and 3389 from 0.0.0.0/0 and ::/0 numbered below the allow rules. CLI: "
                   "aws ec2 create-network-acl-entry --network-acl-id <acl> --ingress --rule-number 50 "
                   "--protocol 6 --port-range From=22,To=22 --cidr-block 0.0.0.0/0 --rule-action deny",
       over="network_acls")
def ec2_networkacl_admin_ports_not_open_to_world(acl: NetworkAcl, ctx: CheckContext) -> Result:
    # Rules are evaluated per address family: an IPv4 deny does not stop IPv6 traffic.
    open_ports = sorted({port for port in ADMIN_PORTS for ipv6 in (False, True)
                         if (e := _first_matching_entry(acl, port, ipv6)) and e.get("RuleAction") == "allow"})
    if open_ports:
        return Result.failed(f"Network ACL {acl.id} of {acl.vpc_id} allows TCP "
                             f"{', '.join(map(str, open_ports))} from the internet.")
    return Result.passed(f"Network ACL {acl.id} of {acl.vpc_id} does not allow TCP 22 or 3389 "
                         "from the internet.")


@check(id="ec2_vpc_flow_logs_enabled", service="ec2", resource_type="AWS::EC2::VPC",
       scope="regional", severity="medium", pillar="security",
       frameworks={"cis-aws-3.0": ["3.7"], "aws-fsbp": ["EC2.6"]},
       title="VPC has flow logging enabled",
       risk="Without flow logs, rejected and suspicious network traffic in the VPC cannot be investigated.",
       remediation="In the VPC console select the VPC, 'Flow logs' tab, 'Create flow log', filter Reject or "
                   "All, and choose a CloudWatch Logs group or S3 bucket. CLI: aws ec2 create-flow-logs "
                   "--resource-type VPC --resource-ids <vpc> --traffic-type REJECT "
                   "--log-destination-type s3 --log-destination arn:aws:s3:::<bucket>",
       over="vpcs")
def ec2_vpc_flow_logs_enabled(vpc: Vpc, ctx: CheckContext) -> Result:
    active = [f for f in vpc.flow_logs
              if f.get("FlowLogStatus") == "ACTIVE" and f.get("TrafficType") in ("ALL", "REJECT")]
    if not active:
        return Result.failed(f"VPC {vpc.id} has no active flow log capturing ALL or REJECT traffic.")
    flow_log = active[0]
    return Result.passed(f"VPC {vpc.id} has flow log {flow_log.get('FlowLogId', '')} "
                         f"({flow_log['TrafficType']}).")
