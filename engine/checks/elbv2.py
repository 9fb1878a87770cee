"""Elastic Load Balancing v2 checks: HTTP-to-HTTPS redirects, header hygiene, access logs,
deletion protection and zone spread."""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks import CheckContext, Result, check
from engine.collectors.elbv2 import Listener, LoadBalancer

LB_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"


def _attribute_on(lb: LoadBalancer, key: str) -> bool:
    """An attribute is on only when it reads "true"; unset attributes are absent (false)."""
    return (lb.attributes or {}).get(key, "").lower() == "true"


def _redirects_to_https(listener: Listener) -> bool:
    return any(kind == "redirect" and (protocol or "").upper() == "HTTPS"
               for kind, protocol in listener.default_actions)


@check(id="elbv2_listener_http_redirects_to_https", service="elbv2",
       resource_type="AWS::ElasticLoadBalancingV2::Listener", scope="regional", severity="medium",
       pillar="security", frameworks={"aws-fsbp": ["ELB.1"]},
       title="Application Load Balancer listener uses HTTPS or redirects HTTP to HTTPS",
       risk="An HTTP listener that serves requests instead of redirecting them to HTTPS lets clients send "
            "and receive data in clear text, open to eavesdropping and tampering.",
       remediation="In the EC2 console open Load Balancers, select the load balancer, open the HTTP listener "
                   "on the Listeners tab, edit its default action to 'Redirect to URL' with protocol HTTPS "
                   "and port 443 (status HTTP_301) and save. CLI: aws elbv2 modify-listener --listener-arn "
                   "<listener-arn> --default-actions "
                   "'Type=redirect,RedirectConfig={Protocol=HTTPS,Port=443,StatusCode=HTTP_301}'",
       over="load_balancers")
def elbv2_listener_http_redirects_to_https(lb: LoadBalancer, ctx: CheckContext) -> Iterator[Result]:
    if lb.type != "application":
        return
    # Listeners are collected per load balancer: when that failed, the load balancer is what reports ERROR.
    if "listeners" in lb.errors:
        yield Result.error(f"Listeners of load balancer {lb.id} could not be collected: {lb.errors['listeners']}",
                           resource_type=LB_TYPE)
        return
    for listener in lb.listeners or []:
        where = f"Listener {listener.protocol}:{listener.port} of load balancer {lb.id}"
        if listener.protocol.upper() != "HTTP":
            yield Result.passed(f"{where} serves {listener.protocol}, not plain HTTP.", resource=listener)
        elif _redirects_to_https(listener):
            yield Result.passed(f"{where} redirects HTTP requests to HTTPS.", resource=listener)
        else:
            yield Result.failed(f"{where} serves plain HTTP without redirecting to HTTPS.", resource=listener)


@check(id="elbv2_alb_drop_invalid_headers_enabled", service="elbv2", resource_type=LB_TYPE,
       scope="regional", severity="medium", pillar="security", frameworks={"aws-fsbp": ["ELB.4"]},
       title="Application Load Balancer drops invalid HTTP header fields",
       risk="Forwarding HTTP headers with invalid names lets attackers attempt request smuggling and "
            "header-injection attacks against the targets.",
       remediation="In the EC2 console open Load Balancers, select the Application Load Balancer, choose "
                   "Attributes, Edit, turn on 'Drop invalid header fields' and save. CLI: aws elbv2 "
                   "modify-load-balancer-attributes --load-balancer-arn <lb-arn> --attributes "
                   "Key=routing.http.drop_invalid_header_fields.enabled,Value=true",
       over="load_balancers", needs=("attributes",))
def elbv2_alb_drop_invalid_headers_enabled(lb: LoadBalancer, ctx: CheckContext) -> Result | None:
    if lb.type != "application":
        return None
    if _attribute_on(lb, "routing.http.drop_invalid_header_fields.enabled"):
        return Result.passed(f"Application Load Balancer {lb.id} drops invalid HTTP header fields.")
    return Result.failed(f"Application Load Balancer {lb.id} forwards invalid HTTP header fields.")


@check(id="elbv2_alb_access_logging_enabled", service="elbv2", resource_type=LB_TYPE,
       scope="regional", severity="medium", pillar="operational_excellence", frameworks={"aws-fsbp": ["ELB.5"]},
       title="Application Load Balancer has access logging enabled",
       risk="Without access logs there is no record of the requests the load balancer served, which hampers "
            "incident investigation and troubleshooting.",
       remediation="In the EC2 console open Load Balancers, select the Application Load Balancer, choose "
                   "Attributes, Edit, turn on 'Access logs', choose an S3 bucket that allows ELB log delivery "
                   "and save. CLI: aws elbv2 modify-load-balancer-attributes --load-balancer-arn <lb-arn> "
                   "--attributes Key=access_logs.s3.enabled,Value=true Key=access_logs.s3.bucket,Value=<bucket>",
       over="load_balancers", needs=("attributes",))
def elbv2_alb_access_logging_enabled(lb: LoadBalancer, ctx: CheckContext) -> Result | None:
    if lb.type != "application":
        return None
    if _attribute_on(lb, "access_logs.s3.enabled"):
        return Result.passed(f"Application Load Balancer {lb.id} delivers access logs to S3.")
    return Result.failed(f"Application Load Balancer {lb.id} has access logging disabled.")


@check(id="elbv2_lb_deletion_protection_enabled", service="elbv2", resource_type=LB_TYPE,
       scope="regional", severity="low", pillar="reliability", frameworks={"aws-fsbp": ["ELB.6"]},
       title="Load balancer has deletion protection enabled",
       risk="Without deletion protection a load balancer can be deleted by mistake or by automation, taking "
            "the application it fronts offline.",
       remediation="In the EC2 console open Load Balancers, select the load balancer, choose Attributes, Edit, "
                   "turn on 'Deletion protection' and save. CLI: aws elbv2 modify-load-balancer-attributes "
                   "--load-balancer-arn <lb-arn> --attributes Key=deletion_protection.enabled,Value=true",
       over="load_balancers", needs=("attributes",))
def elbv2_lb_deletion_protection_enabled(lb: LoadBalancer, ctx: CheckContext) -> Result:
    if _attribute_on(lb, "deletion_protection.enabled"):
        return Result.passed(f"Load balancer {lb.id} has deletion protection enabled.")
    return Result.failed(f"Load balancer {lb.id} has deletion protection disabled.")


@check(id="elbv2_lb_multi_az", service="elbv2", resource_type=LB_TYPE,
       scope="regional", severity="medium", pillar="reliability", frameworks={"aws-fsbp": ["ELB.13"]},
       title="Load balancer spans at least two Availability Zones",
       risk="A load balancer in a single Availability Zone becomes unavailable when that zone fails.",
       remediation="In the EC2 console open Load Balancers, select the load balancer, choose Network mapping, "
                   "Edit subnets, select subnets in at least two Availability Zones and save. CLI: aws elbv2 "
                   "set-subnets --load-balancer-arn <lb-arn> --subnets <subnet-az1> <subnet-az2>",
       over="load_balancers")
def elbv2_lb_multi_az(lb: LoadBalancer, ctx: CheckContext) -> Result:
    minimum = int(ctx.param("elbv2_lb_multi_az", "min_zones", 2))
    if len(lb.zones) >= minimum:
        return Result.passed(f"Load balancer {lb.id} spans {len(lb.zones)} Availability Zones "
                             f"({', '.join(lb.zones)}).")
    zones = ", ".join(lb.zones) or "none"
    return Result.failed(f"Load balancer {lb.id} spans fewer than {minimum} Availability Zones ({zones}).")
