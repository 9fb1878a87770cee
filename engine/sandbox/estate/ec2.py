"""Demo estate: EC2 and VPC (per region)."""

from __future__ import annotations

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

# The security-group checks for ingress open to the world, and the port each single-port bad
# group opens (the all-ports check passes on every group seeded here).
SG_SSH = "ec2_securitygroup_ingress_ssh_not_open_to_world"
SG_RDP = "ec2_securitygroup_ingress_rdp_not_open_to_world"
SG_DB = "ec2_securitygroup_ingress_db_ports_not_open_to_world"
SG_ALL = "ec2_securitygroup_ingress_all_ports_not_open_to_world"
SG_OPEN_CHECKS = (SG_SSH, SG_RDP, SG_DB, SG_ALL)
_OPEN_SG_PORTS = {"ssh": (22, SG_SSH), "rdp": (3389, SG_RDP), "mysql": (3306, SG_DB)}



@seeder("ec2", order=30)
def seed_ec2(ctx: SeedContext, region: str) -> None:
    """Security groups open to the world on 22/3389/3306 and one internal-only; volumes; EBS default off."""
    ec2 = ctx.client("ec2", region)
    for label, (port, check_id) in _OPEN_SG_PORTS.items():
        sg = ec2.create_security_group(GroupName=f"{ctx.prefix}-{label}-open-to-world",
                                       Description=f"demo: TCP {port} open to the internet")["GroupId"]
        world = [{"CidrIp": "0.0.0.0/0"}]
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": world}])
        for other in SG_OPEN_CHECKS:
            ctx.expect(other, region, sg, FAIL if other == check_id else PASS)

    internal = ec2.create_security_group(
        GroupName=f"{ctx.prefix}-admin-ports-internal",
        Description="demo: admin ports open to 10.0.0.0/8 only")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=internal, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
        for port, _ in _OPEN_SG_PORTS.values()])
    for check_id in SG_OPEN_CHECKS:
        ctx.expect(check_id, region, internal, PASS)

    zone = f"{region}a"
    plain = ec2.create_volume(AvailabilityZone=zone, Size=8, VolumeType="gp3")["VolumeId"]
    ctx.expect("ec2_volume_encrypted", region, plain, FAIL)
    sealed = ec2.create_volume(AvailabilityZone=zone, Size=8, VolumeType="gp3",
                               Encrypted=True)["VolumeId"]
    ctx.expect("ec2_volume_encrypted", region, sealed, PASS)

    # Nothing to create: EBS encryption by default is off in a new account.
    ctx.expect("ec2_ebs_default_encryption_enabled", region, ctx.account_id, FAIL)


