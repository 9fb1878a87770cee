"""Demo estate: Elastic Load Balancing v2 (per region)."""

from __future__ import annotations

from typing import Any

from engine.sandbox.estate import FAIL, PASS, SeedContext, seeder

LB_CHECKS = ("elbv2_alb_drop_invalid_headers_enabled", "elbv2_alb_access_logging_enabled",
             "elbv2_lb_deletion_protection_enabled", "elbv2_lb_multi_az")
LISTENER_CHECK = "elbv2_listener_http_redirects_to_https"


@seeder("elbv2")
def seed_elbv2(ctx: SeedContext, region: str) -> None:
    """A single-zone ALB with default attributes and a plain HTTP listener, and a two-zone ALB with every
    attribute on and an HTTP listener that redirects to HTTPS."""
    elb = ctx.client("elbv2", region)
    first, second = _subnets_in_two_zones(ctx.client("ec2", region), region)

    bad = elb.create_load_balancer(Name=ctx.name("alb-bad"), Subnets=[first], Type="application",
                                   Scheme="internet-facing")["LoadBalancers"][0]
    plain = elb.create_listener(LoadBalancerArn=bad["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "ContentType": "text/plain",
                                                           "MessageBody": "demo"}}])["Listeners"][0]
    for check_id in LB_CHECKS:
        ctx.expect(check_id, region, bad["LoadBalancerName"], FAIL)
    ctx.expect(LISTENER_CHECK, region, plain["ListenerArn"], FAIL)

    good = elb.create_load_balancer(Name=ctx.name("alb-good"), Subnets=[first, second], Type="application",
                                    Scheme="internet-facing")["LoadBalancers"][0]
    elb.modify_load_balancer_attributes(LoadBalancerArn=good["LoadBalancerArn"], Attributes=[
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
        {"Key": "access_logs.s3.enabled", "Value": "true"},
        {"Key": "access_logs.s3.bucket", "Value": f"{ctx.prefix}-{ctx.account_id}-{region}-alb-logs"},
        {"Key": "deletion_protection.enabled", "Value": "true"},
    ])
    redirect = elb.create_listener(LoadBalancerArn=good["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "redirect", "RedirectConfig": {
                                       "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    for check_id in LB_CHECKS:
        ctx.expect(check_id, region, good["LoadBalancerName"], PASS)
    ctx.expect(LISTENER_CHECK, region, redirect["Listeners"][0]["ListenerArn"], PASS)


def _subnets_in_two_zones(ec2: Any, region: str) -> tuple[str, str]:
    """Two subnets in distinct zones: the default VPC's, or a new VPC's when the region has none."""
    by_zone: dict[str, str] = {}
    for subnet in ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]:
        by_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    if len(by_zone) >= 2:
        zones = sorted(by_zone)
        return by_zone[zones[0]], by_zone[zones[1]]
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24",
                                 AvailabilityZone=f"{region}{zone}")["Subnet"]["SubnetId"]
               for i, zone in enumerate("ab")]
    return subnets[0], subnets[1]
