"""CloudScreen checkov policies for security groups (CKV_CS_1, CKV_CS_2).

Ingress is read from inline `ingress` blocks of aws_security_group, from aws_security_group_rule (type ingress)
and from aws_vpc_security_group_ingress_rule. checkov hands every attribute over wrapped in a list.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

RAY_PORTS = (6379, 8265, 10001, 52365)
WORLD = {"0.0.0.0/0", "::/0"}
INGRESS_TYPES = ("aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule")
# Attributes that admit traffic from outside any security group: addresses or prefix lists.
EXTERNAL_SOURCES = ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "cidr_ipv4", "cidr_ipv6", "prefix_list_id")


def unwrap(value: Any) -> Any:
    """checkov wraps scalars in one-element lists; return the bare value."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def as_list(value: Any) -> list[Any]:
    value = unwrap(value)
    if value is None:
        return []
    if isinstance(value, list):
        flat: list[Any] = []
        for item in value:
            flat.extend(as_list(item))
        return flat
    return [value]


def ingress_rules(resource_type: str, conf: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ingress rule the resource declares, as a dict of attributes."""
    if resource_type == "aws_security_group":
        return [block for block in as_list(conf.get("ingress")) if isinstance(block, dict)]
    if resource_type == "aws_security_group_rule":
        return [conf] if unwrap(conf.get("type")) == "ingress" else []
    return [conf]


def external_sources(rule: dict[str, Any]) -> list[str]:
    """Sources of a rule that are not a security group (CIDRs, prefix lists), unresolved references included."""
    return [str(source) for key in EXTERNAL_SOURCES for source in as_list(rule.get(key)) if source not in ("", None)]


def _port(value: Any) -> int | None:
    value = unwrap(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def covered_ray_ports(rule: dict[str, Any]) -> list[int]:
    """Ray ports the rule's protocol and port range admit; unknown ranges count as all of them."""
    protocol = str(unwrap(rule.get("protocol", rule.get("ip_protocol", "-1")))).lower()
    if protocol in ("-1", "all"):
        return list(RAY_PORTS)
    if protocol not in ("tcp", "6"):
        return []
    low, high = _port(rule.get("from_port")), _port(rule.get("to_port"))
    if low is None or high is None:
        return list(RAY_PORTS)
    return [port for port in RAY_PORTS if low <= port <= high]


class NoWorldIngress(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="CloudScreen: no security group ingress from 0.0.0.0/0 or ::/0",
            id="CKV_CS_1",
            categories=[CheckCategories.NETWORKING],
            supported_resources=INGRESS_TYPES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        for rule in ingress_rules(self.entity_type, conf):
            if WORLD.intersection(external_sources(rule)):
                return CheckResult.FAILED
        return CheckResult.PASSED


class RayPortsOnlyFromCluster(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="CloudScreen: Ray ports 6379/8265/10001/52365 only from the cluster security group, never a CIDR",
            id="CKV_CS_2",
            categories=[CheckCategories.NETWORKING],
            supported_resources=INGRESS_TYPES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        for rule in ingress_rules(self.entity_type, conf):
            if covered_ray_ports(rule) and external_sources(rule):
                return CheckResult.FAILED
        return CheckResult.PASSED


check_no_world_ingress = NoWorldIngress()
check_ray_ports = RayPortsOnlyFromCluster()
