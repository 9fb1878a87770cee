"""EC2/VPC checks against the emulator: one PASS and one FAIL test per check, plus the ERROR paths."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

from tests.conftest import ACCOUNT, findings_for, status_of

AMI = "ami-12345678"


def _throttle(aws, action: str, n: int) -> None:
    req = urllib.request.Request(aws.endpoint + "/_sandbox/faults", method="POST",
                                 data=json.dumps({"throttle": {action: n}}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def _instance(aws, **kwargs) -> str:
    reservation = aws.client("ec2").run_instances(ImageId=AMI, MinCount=1, MaxCount=1, **kwargs)
    return reservation["Instances"][0]["InstanceId"]


def _group(aws, name: str, *permissions: dict) -> str:
    ec2 = aws.client("ec2")
    gid = ec2.create_security_group(GroupName=name, Description=name)["GroupId"]
    if permissions:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=list(permissions))
    return gid


def _tcp(port: int, cidr: str = "0.0.0.0/0", to_port: int | None = None) -> dict:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": to_port or port, "IpRanges": [{"CidrIp": cidr}]}


def _default_vpc(aws) -> str:
    vpcs = aws.client("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    return vpcs[0]["VpcId"]


# -- EBS encryption by default --

def test_region_with_ebs_encryption_by_default_passes(aws):
    aws.client("ec2").enable_ebs_encryption_by_default()
    findings = aws.scan("ec2")
    assert status_of(findings, "ec2_ebs_default_encryption_enabled", ACCOUNT) == "PASS"
    assert findings_for(findings, "ec2_ebs_default_encryption_enabled")[0].region == "us-east-1"


def test_region_without_ebs_encryption_by_default_fails(aws):
    assert status_of(aws.scan("ec2"), "ec2_ebs_default_encryption_enabled", ACCOUNT) == "FAIL"


# -- volumes --

def test_encrypted_volume_passes(aws):
    vid = aws.client("ec2").create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=True)["VolumeId"]
    assert status_of(aws.scan("ec2"), "ec2_volume_encrypted", vid) == "PASS"


def test_unencrypted_volume_fails(aws):
    vid = aws.client("ec2").create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    assert status_of(aws.scan("ec2"), "ec2_volume_encrypted", vid) == "FAIL"


# -- snapshots --

def _snapshot(aws) -> str:
    ec2 = aws.client("ec2")
    vid = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    return ec2.create_snapshot(VolumeId=vid)["SnapshotId"]


def test_private_snapshot_passes(aws):
    sid = _snapshot(aws)
    findings = aws.scan("ec2")
    assert status_of(findings, "ec2_snapshot_not_public", sid) == "PASS"
    assert findings_for(findings, "ec2_snapshot_not_public", sid)[0].resource_arn == \
        f"arn:aws:ec2:us-east-1::snapshot/{sid}"


def test_snapshot_restorable_by_all_fails(aws):
    sid = _snapshot(aws)
    aws.client("ec2").modify_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission",
                                                OperationType="add", GroupNames=["all"])
    assert status_of(aws.scan("ec2"), "ec2_snapshot_not_public", sid) == "FAIL"


# -- AMIs --

def test_private_ami_passes(aws):
    image = aws.client("ec2").create_image(InstanceId=_instance(aws), Name="private-image")["ImageId"]
    assert status_of(aws.scan("ec2"), "ec2_ami_not_public", image) == "PASS"


def test_public_ami_fails(aws):
    ec2 = aws.client("ec2")
    image = ec2.create_image(InstanceId=_instance(aws), Name="public-image")["ImageId"]
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"Group": "all"}]})
    assert status_of(aws.scan("ec2"), "ec2_ami_not_public", image) == "FAIL"


# -- instances --

def test_instance_requiring_imdsv2_passes(aws):
    iid = _instance(aws, MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"})
    assert status_of(aws.scan("ec2"), "ec2_instance_imdsv2_required", iid) == "PASS"


def test_instance_allowing_imdsv1_fails(aws):
    iid = _instance(aws, MetadataOptions={"HttpTokens": "optional"})
    assert status_of(aws.scan("ec2"), "ec2_instance_imdsv2_required", iid) == "FAIL"


def test_instance_without_public_ip_passes(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    iid = _instance(aws, SubnetId=subnet)
    assert status_of(aws.scan("ec2"), "ec2_instance_no_public_ip", iid) == "PASS"


def test_instance_in_default_subnet_with_public_ip_fails(aws):
    iid = _instance(aws)
    assert status_of(aws.scan("ec2"), "ec2_instance_no_public_ip", iid) == "FAIL"


def test_instance_with_instance_profile_passes(aws):
    aws.client("iam").create_instance_profile(InstanceProfileName="app")
    iid = _instance(aws, IamInstanceProfile={"Name": "app"})
    assert status_of(aws.scan("ec2"), "ec2_instance_profile_attached", iid) == "PASS"


def test_instance_without_instance_profile_fails(aws):
    iid = _instance(aws)
    assert status_of(aws.scan("ec2"), "ec2_instance_profile_attached", iid) == "FAIL"


def test_instance_stopped_recently_passes_stopped_check(aws):
    iid = _instance(aws)
    aws.client("ec2").stop_instances(InstanceIds=[iid])
    assert status_of(aws.scan("ec2"), "ec2_instance_not_stopped_over_30_days", iid) == "PASS"


def test_instance_stopped_over_30_days_fails_stopped_check(aws):
    iid = _instance(aws)
    aws.client("ec2").stop_instances(InstanceIds=[iid])
    later = datetime.now(UTC) + timedelta(days=31)
    assert status_of(aws.scan("ec2", scan_time=later), "ec2_instance_not_stopped_over_30_days", iid) == "FAIL"


def test_stopped_threshold_is_a_parameter(aws):
    iid = _instance(aws)
    aws.client("ec2").stop_instances(InstanceIds=[iid])
    later = datetime.now(UTC) + timedelta(days=31)
    params = {"ec2_instance_not_stopped_over_30_days": {"days": 60}}
    findings = aws.scan("ec2", scan_time=later, params=params)
    assert status_of(findings, "ec2_instance_not_stopped_over_30_days", iid) == "PASS"


def test_terminated_instance_is_not_evaluated(aws):
    iid = _instance(aws)
    aws.client("ec2").terminate_instances(InstanceIds=[iid])
    assert findings_for(aws.scan("ec2"), "ec2_instance_imdsv2_required", iid) == []


def test_current_generation_instance_passes(aws):
    iid = _instance(aws, InstanceType="t3.micro")
    assert status_of(aws.scan("ec2"), "ec2_instance_current_generation", iid) == "PASS"


def test_previous_generation_instance_fails(aws):
    iid = _instance(aws, InstanceType="m1.small")
    assert status_of(aws.scan("ec2"), "ec2_instance_current_generation", iid) == "FAIL"


# -- Elastic IPs --

def test_associated_eip_passes(aws):
    ec2 = aws.client("ec2")
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=alloc, InstanceId=_instance(aws))
    assert status_of(aws.scan("ec2"), "ec2_eip_associated", alloc) == "PASS"


def test_unassociated_eip_fails(aws):
    alloc = aws.client("ec2").allocate_address(Domain="vpc")["AllocationId"]
    assert status_of(aws.scan("ec2"), "ec2_eip_associated", alloc) == "FAIL"


# -- security groups --

def test_group_with_ssh_from_private_range_passes_ssh_check(aws):
    gid = _group(aws, "ssh-private", _tcp(22, "10.0.0.0/8"))
    assert status_of(aws.scan("ec2"), "ec2_securitygroup_ingress_ssh_not_open_to_world", gid) == "PASS"


def test_group_with_ssh_from_world_fails_ssh_check(aws):
    gid = _group(aws, "ssh-world", _tcp(20, to_port=25))
    assert status_of(aws.scan("ec2"), "ec2_securitygroup_ingress_ssh_not_open_to_world", gid) == "FAIL"


def test_group_with_https_from_world_passes_rdp_check(aws):
    gid = _group(aws, "https-world", _tcp(443))
    assert status_of(aws.scan("ec2"), "ec2_securitygroup_ingress_rdp_not_open_to_world", gid) == "PASS"


def test_group_with_rdp_from_ipv6_world_fails_rdp_check(aws):
    gid = _group(aws, "rdp-world", {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389,
                                    "Ipv6Ranges": [{"CidrIpv6": "::/0"}]})
    assert status_of(aws.scan("ec2"), "ec2_securitygroup_ingress_rdp_not_open_to_world", gid) == "FAIL"


def test_group_referencing_another_group_passes_db_ports_check(aws):
    source = _group(aws, "app")
    gid = _group(aws, "db-from-app", {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                      "UserIdGroupPairs": [{"GroupId": source}]})
    assert status_of(aws.scan("ec2"), "ec2_securitygroup_ingress_db_ports_not_open_to_world", gid) == "PASS"


def test_group_with_database_ports_from_world_fails_and_names_them(aws):
    gid = _group(aws, "db-world", _tcp(3306), _tcp(6379))
    findings = aws.scan("ec2")
    assert status_of(findings, "ec2_securitygroup_ingress_db_ports_not_open_to_world", gid) == "FAIL"
    message = findings_for(findings, "ec2_securitygroup_ingress_db_ports_not_open_to_world", gid)[0].message
    assert "3306 (MySQL)" in message and "6379 (Redis)" in message and "5432" not in message


def test_group_with_single_port_from_world_passes_all_ports_check(aws):
    gid = _group(aws, "web", _tcp(443))
    assert status_of(aws.scan("ec2"), "ec2_securitygroup_ingress_all_ports_not_open_to_world", gid) == "PASS"


def test_group_with_all_traffic_from_world_fails_every_port_check(aws):
    gid = _group(aws, "wide-open", {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    findings = aws.scan("ec2")
    for chk in ("ec2_securitygroup_ingress_all_ports_not_open_to_world",
                "ec2_securitygroup_ingress_ssh_not_open_to_world",
                "ec2_securitygroup_ingress_rdp_not_open_to_world",
                "ec2_securitygroup_ingress_db_ports_not_open_to_world"):
        assert status_of(findings, chk, gid) == "FAIL", chk


def test_group_with_full_udp_range_from_world_fails_all_ports_check(aws):
    gid = _group(aws, "udp-open", {"IpProtocol": "udp", "FromPort": 0, "ToPort": 65535,
                                   "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    findings = aws.scan("ec2")
    assert status_of(findings, "ec2_securitygroup_ingress_all_ports_not_open_to_world", gid) == "FAIL"
    assert status_of(findings, "ec2_securitygroup_ingress_ssh_not_open_to_world", gid) == "PASS"


def _default_group(aws) -> dict:
    return aws.client("ec2").describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["default"]}, {"Name": "vpc-id", "Values": [_default_vpc(aws)]}])[
        "SecurityGroups"][0]


def test_default_group_without_rules_passes(aws):
    group = _default_group(aws)
    ec2 = aws.client("ec2")
    if group["IpPermissions"]:
        ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])
    ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"])
    findings = aws.scan("ec2")
    assert status_of(findings, "ec2_securitygroup_default_restricts_all_traffic", group["GroupId"]) == "PASS"


def test_default_group_with_open_egress_fails_and_other_groups_are_not_evaluated(aws):
    gid = _group(aws, "custom", _tcp(443))
    findings = aws.scan("ec2")
    assert status_of(findings, "ec2_securitygroup_default_restricts_all_traffic",
                     _default_group(aws)["GroupId"]) == "FAIL"
    assert findings_for(findings, "ec2_securitygroup_default_restricts_all_traffic", gid) == []


# -- network ACLs --

def _default_acl(aws) -> str:
    return aws.client("ec2").describe_network_acls(Filters=[
        {"Name": "vpc-id", "Values": [_default_vpc(aws)]}, {"Name": "default", "Values": ["true"]}])[
        "NetworkAcls"][0]["NetworkAclId"]


def test_acl_denying_admin_ports_before_allow_all_passes(aws):
    acl = _default_acl(aws)
    ec2 = aws.client("ec2")
    for number, port in ((50, 22), (60, 3389)):
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Protocol="6", RuleAction="deny",
                                     Egress=False, CidrBlock="0.0.0.0/0",
                                     PortRange={"From": port, "To": port})
    assert status_of(aws.scan("ec2"), "ec2_networkacl_admin_ports_not_open_to_world", acl) == "PASS"


def test_default_acl_allowing_all_traffic_fails(aws):
    acl = _default_acl(aws)
    aws.client("ec2").create_network_acl_entry(NetworkAclId=acl, RuleNumber=50, Protocol="6",
                                               RuleAction="deny", Egress=False, CidrBlock="0.0.0.0/0",
                                               PortRange={"From": 22, "To": 22})
    findings = aws.scan("ec2")
    assert status_of(findings, "ec2_networkacl_admin_ports_not_open_to_world", acl) == "FAIL"
    message = findings_for(findings, "ec2_networkacl_admin_ports_not_open_to_world", acl)[0].message
    assert "3389" in message and "22," not in message


# -- VPC flow logs --

def test_vpc_with_reject_flow_log_passes(aws):
    aws.client("s3").create_bucket(Bucket="cs-flow-logs")
    vpc = _default_vpc(aws)
    aws.client("ec2").create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="REJECT",
                                       LogDestinationType="s3", LogDestination="arn:aws:s3:::cs-flow-logs")
    assert status_of(aws.scan("ec2"), "ec2_vpc_flow_logs_enabled", vpc) == "PASS"


def test_vpc_with_accept_only_flow_log_fails(aws):
    aws.client("s3").create_bucket(Bucket="cs-flow-logs")
    vpc = _default_vpc(aws)
    aws.client("ec2").create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ACCEPT",
                                       LogDestinationType="s3", LogDestination="arn:aws:s3:::cs-flow-logs")
    assert status_of(aws.scan("ec2"), "ec2_vpc_flow_logs_enabled", vpc) == "FAIL"


def test_vpc_without_flow_logs_fails(aws):
    assert status_of(aws.scan("ec2"), "ec2_vpc_flow_logs_enabled", _default_vpc(aws)) == "FAIL"


# -- errors --

def test_snapshot_whose_permissions_cannot_be_read_reports_error(aws):
    sid = _snapshot(aws)
    _throttle(aws, "DescribeSnapshotAttribute", 1000)
    findings = aws.scan("ec2")
    assert status_of(findings, "ec2_snapshot_not_public", sid) == "ERROR"
    assert "Throttling" in findings_for(findings, "ec2_snapshot_not_public", sid)[0].message
    assert status_of(findings, "ec2_ebs_default_encryption_enabled", ACCOUNT) == "FAIL"


def test_unreadable_ebs_default_encryption_reports_error(aws):
    _throttle(aws, "GetEbsEncryptionByDefault", 1000)
    assert status_of(aws.scan("ec2"), "ec2_ebs_default_encryption_enabled", ACCOUNT) == "ERROR"


def test_failing_address_listing_reports_error_for_every_check(aws):
    _throttle(aws, "DescribeAddresses", 1000)
    findings = aws.scan("ec2")
    assert findings and all(f.status.value == "ERROR" for f in findings)


def test_failing_volume_listing_reports_error_not_an_empty_region(aws):
    aws.client("ec2").create_volume(AvailabilityZone="us-east-1a", Size=1)
    _throttle(aws, "DescribeVolumes", 1000)
    findings = aws.scan("ec2")
    assert findings and all(f.status.value == "ERROR" for f in findings)
