"""CloudScreen checkov policies for EC2 nodes (CKV_CS_3 no public IP, CKV_CS_5 IMDSv2).

CKV_CS_3 is resource-level: a public IP requested by the instance, launch template or launch configuration.
Placement in a subnet that maps public IPs on launch needs the graph: see CKV_CS_4.yaml.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def unwrap(value: Any) -> Any:
    """checkov wraps scalars in one-element lists; return the bare value."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def blocks(conf: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = conf.get(name) or []
    value = value if isinstance(value, list) else [value]
    return [unwrap(item) for item in value if isinstance(unwrap(item), dict)]


def is_true(value: Any) -> bool:
    return unwrap(value) in (True, "true", "True")


class NoPublicIp(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="CloudScreen: nodes never get a public IP",
            id="CKV_CS_3",
            categories=[CheckCategories.NETWORKING],
            supported_resources=("aws_instance", "aws_launch_template", "aws_launch_configuration"),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if is_true(conf.get("associate_public_ip_address")):
            return CheckResult.FAILED
        for interface in blocks(conf, "network_interfaces"):
            if is_true(interface.get("associate_public_ip_address")):
                return CheckResult.FAILED
        return CheckResult.PASSED


class ImdsV2Required(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name='CloudScreen: IMDSv2 required (metadata_options.http_tokens = "required")',
            id="CKV_CS_5",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=("aws_instance", "aws_launch_template"),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        options = blocks(conf, "metadata_options")
        if options and unwrap(options[0].get("http_tokens")) == "required":
            return CheckResult.PASSED
        return CheckResult.FAILED


check_no_public_ip = NoPublicIp()
check_imds_v2 = ImdsV2Required()
