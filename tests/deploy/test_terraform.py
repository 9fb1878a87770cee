"""deploy/terraform: every .tf file parses (python-hcl2) and the parsed HCL keeps the security promises.

No terraform binary exists here, so these tests read the configuration itself: a parse error fails the build,
and the assertions below are the specification of the infrastructure (private nodes, one self-only security
group, IMDSv2, encrypted disks, least-privilege scanner, only the front's port behind the tunnel).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "deploy" / "terraform"
MODULES = TERRAFORM / "modules"
ENVIRONMENTS = TERRAFORM / "environments"
COMPOSITION = MODULES / "cloudscreen"  # the whole deployment, wired once; dev and prod are thin roots around it
TF_FILES = sorted(TERRAFORM.rglob("*.tf"))
EXPECTED_MODULES = {"network", "ray_cluster", "tunnel", "storage", "secrets", "iam", "member_role", "monitoring"}
RAY_PORTS = (6379, 8265, 10001, 52365)
CLOUDWATCH_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                             2922, 3288, 3653}
_OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)


def parse_hcl(text: str) -> dict[str, Any]:
    """Parse HCL2 text into plain Python data; raises on any syntax error (never returns partial data)."""
    return hcl2.loads(text, serialization_options=_OPTIONS)


@functools.cache
def parsed(path: Path) -> dict[str, Any]:
    return parse_hcl(path.read_text())


def module_docs(directory: Path) -> list[dict[str, Any]]:
    return [parsed(p) for p in sorted(directory.glob("*.tf"))]


def blocks(docs: list[dict[str, Any]], kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, body) of every top-level `kind` block (variable, output, module, locals...)."""
    found = []
    for doc in docs:
        for entry in doc.get(kind, []):
            found.extend(entry.items())
    return found


def resources(docs: list[dict[str, Any]], *types: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of every resource block, optionally of the given types only."""
    found = []
    for doc in docs:
        for entry in doc.get("resource", []):
            for rtype, named in entry.items():
                if not types or rtype in types:
                    found.extend((rtype, name, body) for name, body in named.items())
    return found


def all_docs() -> list[dict[str, Any]]:
    return [parsed(p) for p in TF_FILES]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def environment_dirs() -> list[Path]:
    return sorted(d for d in ENVIRONMENTS.iterdir() if d.is_dir())


def module_call(directory: Path, name: str) -> dict[str, Any]:
    return dict(blocks(module_docs(directory), "module"))[name]


def composition_call(env: str) -> dict[str, Any]:
    """The one module block of a deployment root (dev, prod): its call of modules/cloudscreen."""
    (call,) = blocks(module_docs(ENVIRONMENTS / env), "module")
    return call[1]


# --- parsing -----------------------------------------------------------------------------------------------------


def test_terraform_tree_has_every_module_and_both_environments() -> None:
    assert EXPECTED_MODULES | {COMPOSITION.name} <= {d.name for d in MODULES.iterdir() if any(d.glob("*.tf"))}
    assert {"dev", "prod"} <= {d.name for d in environment_dirs()}


@pytest.mark.parametrize("path", TF_FILES, ids=[str(p.relative_to(TERRAFORM)) for p in TF_FILES])
def test_tf_file_parses(path: Path) -> None:
    try:
        doc = parse_hcl(path.read_text())
    except Exception as exc:  # a parse error must fail the build, with the file named
        pytest.fail(f"{path.relative_to(ROOT)} does not parse as HCL2: {exc}")
    assert doc, f"{path.relative_to(ROOT)} parsed to nothing"


def test_parse_helper_raises_on_broken_hcl() -> None:
    with pytest.raises(Exception):  # noqa: B017 - python-hcl2 raises lark's exceptions, whatever the kind
        parse_hcl('resource "aws_s3_bucket" "broken" {\n  bucket = "x"\n')
    with pytest.raises(Exception):  # noqa: B017
        parse_hcl('variable "x" { type = }\n')


# --- wiring ------------------------------------------------------------------------------------------------------


_CALLERS = [*environment_dirs(), COMPOSITION]


@pytest.mark.parametrize("caller", _CALLERS, ids=[str(d.relative_to(TERRAFORM)) for d in _CALLERS])
def test_every_called_module_exists(caller: Path) -> None:
    calls = blocks(module_docs(caller), "module")
    assert calls, f"{caller.name} calls no module"
    for name, body in calls:
        target = (caller / body["source"]).resolve()
        assert target.is_dir() and any(target.glob("*.tf")), f"{caller.name}: {name} -> {body['source']} is missing"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_environment_calls_only_the_composition_module(env: str) -> None:
    calls = blocks(module_docs(ENVIRONMENTS / env), "module")
    assert [name for name, _ in calls] == ["cloudscreen"], f"{env} must be a thin root: one call of modules/cloudscreen"
    assert (ENVIRONMENTS / env / calls[0][1]["source"]).resolve() == COMPOSITION
    assert not resources(module_docs(ENVIRONMENTS / env)), f"{env}: resources belong in the modules"


def test_dev_and_prod_call_the_same_composition_module() -> None:
    dev, prod = composition_call("dev"), composition_call("prod")
    assert dev["source"] == prod["source"] and (ENVIRONMENTS / "dev" / dev["source"]).resolve() == COMPOSITION
    assert set(dev) == set(prod), f"dev and prod set different inputs: {set(dev) ^ set(prod)}"


def test_composition_wires_every_module() -> None:
    sources = {Path(body["source"]).name for _, body in blocks(module_docs(COMPOSITION), "module")}
    assert EXPECTED_MODULES <= sources


def test_modules_never_configure_providers() -> None:
    """Providers are configured in the roots only and inherited by the modules (which only pin them)."""
    for directory in sorted(d for d in MODULES.iterdir() if d.is_dir()):
        for doc in module_docs(directory):
            assert "provider" not in doc, f"modules/{directory.name} configures a provider"
    pins = {k: v for doc in module_docs(COMPOSITION) for t in doc.get("terraform", []) for e in t["required_providers"]
            for k, v in e.items()}
    assert pins["aws"]["source"] == "hashicorp/aws" and pins["cloudflare"]["source"] == "cloudflare/cloudflare"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_environment_passes_every_input_to_the_composition_module_by_name(env: str) -> None:
    """Each root variable reaches the module input of the same name, so the module's validation applies to it."""
    call = composition_call(env)
    declared = dict(blocks(module_docs(ENVIRONMENTS / env), "variable"))
    for name in declared:
        expected = "${local.tags}" if name == "tags" else f"${{var.{name}}}"
        assert call.get(name) == expected, f"{env}: variable {name} is not passed as {name} = var.{name}"
    assert "var.tags" in dict(blocks(module_docs(ENVIRONMENTS / env), "locals"))["tags"]
    inputs = dict(blocks(module_docs(COMPOSITION), "variable"))
    assert set(call) - {"source"} <= set(inputs), f"{env}: unknown inputs {set(call) - {'source'} - set(inputs)}"
    required = {name for name, body in inputs.items() if "default" not in body}
    assert required <= set(call), f"{env}: modules/cloudscreen needs {required - set(call)}"
    for name, body in declared.items():
        if body.get("default", "unset") is None:  # null = "not set": the module's default must then apply
            assert inputs[name].get("nullable") is False and "default" in inputs[name], f"{env}: {name} null"


# What differs between the environments; everything else is modules/cloudscreen's, the same for both.
ENVIRONMENT_SIZING = {
    "dev": {"single_nat_gateway": True, "head_instance_type": "m7i.large", "worker_instance_type": "c7i.large",
            "worker_min_size": 0, "worker_max_size": 2, "worker_desired_capacity": 1, "root_volume_size_gb": 30,
            "log_retention_days": 30, "enable_prometheus": False},
    "prod": {"single_nat_gateway": False, "head_instance_type": "m7i.xlarge", "worker_instance_type": "c7i.large",
             "worker_min_size": 1, "worker_max_size": 10, "worker_desired_capacity": 2, "root_volume_size_gb": 50,
             "log_retention_days": 365, "enable_prometheus": True},
}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_environment_keeps_its_own_sizing_and_safety_defaults(env: str) -> None:
    call = composition_call(env)
    assert {k: call.get(k) for k in ENVIRONMENT_SIZING[env]} == ENVIRONMENT_SIZING[env]
    declared = dict(blocks(module_docs(ENVIRONMENTS / env), "variable"))
    assert declared["force_destroy_bucket"]["default"] is (env == "dev"), "only dev may destroy a non-empty bucket"
    inputs = dict(blocks(module_docs(COMPOSITION), "variable"))
    assert declared["head_termination_protection"]["default"] is None
    assert inputs["head_termination_protection"]["default"] is True, "the head is protected unless told otherwise"
    assert inputs["force_destroy_bucket"]["default"] is False
    locals_ = dict(blocks(module_docs(ENVIRONMENTS / env), "locals"))
    assert f'Environment = "{env}"' in locals_["tags"]


@pytest.mark.parametrize("env", [d.name for d in environment_dirs()])
def test_environment_pins_terraform_providers_and_s3_backend(env: str) -> None:
    terraform = [t for doc in module_docs(ENVIRONMENTS / env) for t in doc.get("terraform", [])]
    assert len(terraform) == 1, f"{env}: one terraform block expected"
    block = terraform[0]
    assert block["required_version"].startswith(">= 1.11")
    providers = {k: v for entry in block["required_providers"] for k, v in entry.items()}
    assert providers["aws"] == {"source": "hashicorp/aws", "version": "~> 6.0"}
    if env in ("dev", "prod"):
        assert providers["cloudflare"] == {"source": "cloudflare/cloudflare", "version": "~> 5.8"}
    assert [list(b) for b in block["backend"]] == [["s3"]], "partial S3 backend config expected"
    assert (ENVIRONMENTS / env / "terraform.tfvars.example").is_file()


def test_every_variable_has_description_and_type() -> None:
    for path in TF_FILES:
        for name, body in blocks([parsed(path)], "variable"):
            where = f"{path.relative_to(TERRAFORM)}: variable {name}"
            assert body.get("description"), f"{where} has no description"
            assert body.get("type"), f"{where} has no type"


def test_every_output_has_description() -> None:
    for path in TF_FILES:
        for name, body in blocks([parsed(path)], "output"):
            assert body.get("description"), f"{path.relative_to(TERRAFORM)}: output {name} has no description"


def test_deployment_variables_are_validated() -> None:
    """The roots pass their values to modules/cloudscreen under the same names; the module validates them once."""
    variables = dict(blocks(module_docs(COMPOSITION), "variable"))

    def conditions(name: str) -> str:
        return " ".join(v["condition"] for v in as_list(variables[name].get("validation")))

    assert "cidrhost(var.vpc_cidr" in conditions("vpc_cidr")
    for name in ("private_subnet_cidrs", "public_subnet_cidrs"):
        assert "cidrhost(cidr" in conditions(name)
    for name in ("head_instance_type", "worker_instance_type"):
        assert "regex(" in conditions(name)
    assert "var.worker_min_size" in conditions("worker_max_size")
    assert "var.worker_max_size" in conditions("worker_desired_capacity")
    assert "length(var.external_id) >= 16" in conditions("external_id")
    assert "[0-9]{12}" in conditions("aws_account_id")
    allowed = {int(n) for n in re.findall(r"\d+", conditions("log_retention_days").split("]")[0])}
    assert allowed == CLOUDWATCH_RETENTION_DAYS
    # member_role_name reaches modules/member_role as role_name on every call, and is validated there.
    assert module_call(COMPOSITION, "member_roles")["role_name"] == "${var.member_role_name}"
    role_name = dict(blocks(module_docs(MODULES / "member_role"), "variable"))["role_name"]
    assert "regex(" in " ".join(v["condition"] for v in as_list(role_name.get("validation")))


@pytest.mark.parametrize("env", [d.name for d in environment_dirs()])
def test_tfvars_example_sets_only_declared_variables_and_no_secret(env: str) -> None:
    example = parse_hcl((ENVIRONMENTS / env / "terraform.tfvars.example").read_text())
    declared = dict(blocks(module_docs(ENVIRONMENTS / env), "variable"))
    assert set(example) <= set(declared), f"{env}: unknown variables {set(example) - set(declared)}"
    assert not [k for k in example if re.search(r"token|secret|password", k)], "secrets never go in tfvars"
    required = {name for name, body in declared.items() if "default" not in body}
    assert required <= set(example), f"{env}: the example misses {required - set(example)}"


# --- compute -----------------------------------------------------------------------------------------------------


def _nodes() -> list[tuple[str, str, dict[str, Any]]]:
    return resources(all_docs(), "aws_instance", "aws_launch_template")


def test_there_are_nodes_to_check() -> None:
    kinds = {rtype for rtype, _, _ in _nodes()}
    assert kinds == {"aws_instance", "aws_launch_template"}


def test_every_node_requires_imdsv2_and_encrypts_its_disks() -> None:
    for rtype, name, body in _nodes():
        options = as_list(body.get("metadata_options"))
        assert options and options[0].get("http_tokens") == "required", f"{rtype}.{name}: IMDSv2 not required"
        if rtype == "aws_instance":
            disks = as_list(body.get("root_block_device")) + as_list(body.get("ebs_block_device"))
        else:
            disks = [m["ebs"][0] if isinstance(m["ebs"], list) else m["ebs"]
                     for m in as_list(body.get("block_device_mappings"))]
        assert disks, f"{rtype}.{name}: declares no block device"
        assert all(d.get("encrypted") is True for d in disks), f"{rtype}.{name}: unencrypted block device"


def test_no_node_has_a_public_ip_or_a_key_pair() -> None:
    for rtype, name, body in _nodes():
        assert "key_name" not in body, f"{rtype}.{name}: SSH key pairs are replaced by Session Manager"
        assert body.get("associate_public_ip_address") is not True, f"{rtype}.{name} asks for a public IP"
        for interface in as_list(body.get("network_interfaces")):
            assert interface.get("associate_public_ip_address") is not True, f"{rtype}.{name} asks for a public IP"


def test_public_subnets_never_map_public_ips() -> None:
    for _, name, body in resources(all_docs(), "aws_subnet"):
        assert body.get("map_public_ip_on_launch") is False, f"aws_subnet.{name} maps public IPs"


def test_ray_cluster_runs_in_the_network_modules_private_subnets() -> None:
    call = module_call(COMPOSITION, "ray_cluster")
    assert call["private_subnet_ids"] == "${module.network.private_subnet_ids}"
    assert call["cluster_security_group_id"] == "${module.network.cluster_security_group_id}"
    docs = module_docs(MODULES / "ray_cluster")
    (head,) = [b for t, _, b in resources(docs, "aws_instance")]
    assert head["subnet_id"] == "${var.private_subnet_ids[0]}"
    assert head["vpc_security_group_ids"] == ["${var.cluster_security_group_id}"]
    (asg,) = [b for t, _, b in resources(docs, "aws_autoscaling_group")]
    assert asg["vpc_zone_identifier"] == "${var.private_subnet_ids}"
    (template,) = [b for t, _, b in resources(docs, "aws_launch_template")]
    assert as_list(template["network_interfaces"])[0]["security_groups"] == ["${var.cluster_security_group_id}"]
    assert not resources(docs, "aws_security_group"), "ray_cluster attaches the one cluster group, never its own"
    outputs = dict(blocks(module_docs(MODULES / "network"), "output"))
    assert outputs["private_subnet_ids"]["value"] == "${aws_subnet.private[*].id}"


# --- network -----------------------------------------------------------------------------------------------------


def _ingress_rules() -> list[tuple[str, dict[str, Any]]]:
    rules = []
    for rtype, name, body in resources(all_docs(), "aws_security_group"):
        rules.extend((f"{rtype}.{name}", rule) for rule in as_list(body.get("ingress")))
    for rtype, name, body in resources(all_docs(), "aws_security_group_rule"):
        if body.get("type") == "ingress":
            rules.append((f"{rtype}.{name}", body))
    rules.extend((f"{t}.{n}", b) for t, n, b in resources(all_docs(), "aws_vpc_security_group_ingress_rule"))
    return rules


def test_the_deployment_has_one_security_group_whose_only_ingress_is_itself() -> None:
    groups = resources(all_docs(), "aws_security_group")
    assert len(groups) == 1, f"one security group expected, found {[n for _, n, _ in groups]}"
    rules = _ingress_rules()
    assert rules, "the cluster group must admit its own members"
    for where, rule in rules:
        assert rule.get("self") is True, f"{where}: ingress source must be the group itself"
        for key in ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "security_groups", "cidr_ipv4",
                    "cidr_ipv6", "prefix_list_id", "referenced_security_group_id", "source_security_group_id"):
            assert not rule.get(key), f"{where}: ingress from {key}"


def _covers(rule: dict[str, Any], port: int) -> bool:
    if str(rule.get("protocol", rule.get("ip_protocol"))) in ("-1", "all"):
        return True
    return int(rule.get("from_port", -1)) <= port <= int(rule.get("to_port", -1))


def test_ray_ports_are_never_open_to_a_cidr() -> None:
    for where, rule in _ingress_rules():
        cidrs = [c for key in ("cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6", "prefix_list_ids",
                               "prefix_list_id") for c in as_list(rule.get(key))]
        if cidrs:
            assert not [p for p in RAY_PORTS if _covers(rule, p)], f"{where} opens a Ray port to {cidrs}"


def test_network_has_endpoints_for_private_aws_access() -> None:
    docs = module_docs(MODULES / "network")
    variables = dict(blocks(docs, "variable"))
    assert {"sts", "secretsmanager", "ssm", "ssmmessages", "ec2messages", "logs"} <= set(
        variables["interface_endpoints"]["default"])
    (s3,) = [b for _, n, b in resources(docs, "aws_vpc_endpoint") if n == "s3"]
    assert s3["vpc_endpoint_type"] == "Gateway"
    nats = [b for _, _, b in resources(docs, "aws_nat_gateway")]
    assert nats and all(n["subnet_id"].startswith("${aws_subnet.public[") for n in nats)


# --- tunnel ------------------------------------------------------------------------------------------------------


def test_tunnel_publishes_only_the_fronts_port_8080() -> None:
    docs = module_docs(MODULES / "tunnel")
    local_values = {k: v for doc in docs for body in doc.get("locals", []) for k, v in body.items()}
    (config,) = [b for _, _, b in resources(docs, "cloudflare_zero_trust_tunnel_cloudflared_config")]
    ingress = config["config"]["ingress"]
    services = [r["service"] for r in ingress]
    resolved = [re.sub(r"\$\{local\.(\w+)\}", lambda m: local_values[m.group(1)], s) for s in services]
    assert resolved[-1].startswith("http_status:"), "the last rule must refuse everything else"
    origins = [s for s in resolved if not s.startswith("http_status:")]
    assert origins == ["http://localhost:8080"]
    text = "".join(p.read_text() for p in (MODULES / "tunnel").glob("*.tf"))
    assert "8265" not in text.replace("(8265)", ""), "the Ray dashboard is never published"
    assert resources(docs, "cloudflare_dns_record") and resources(docs, "aws_secretsmanager_secret")


# --- IAM ---------------------------------------------------------------------------------------------------------


def _policy_statements(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for doc in docs:
        for entry in doc.get("data", []):
            for name, body in entry.get("aws_iam_policy_document", {}).items():
                found.extend((name, s) for s in as_list(body.get("statement")))
    return found


def test_scanner_may_only_assume_the_member_role() -> None:
    statements = _policy_statements(module_docs(MODULES / "iam"))
    assume = [s for _, s in statements if "sts:AssumeRole" in s["actions"] and "principals" not in s]
    assert len(assume) == 1
    assert assume[0]["actions"] == ["sts:AssumeRole"]
    assert assume[0]["resources"] == ["arn:${local.partition}:iam::*:role/${var.member_role_name}"]
    for name, statement in statements:
        assert not [a for a in statement["actions"] if a == "*" or a.endswith(":*")], f"{name}: wildcard action"
        if "*" in as_list(statement.get("resources")):
            assert statement["actions"] == ["cloudwatch:PutMetricData"] and statement.get("condition"), \
                f"{name}: resource * is only for PutMetricData under a namespace condition"


def test_head_reads_only_its_own_secrets_and_writes_only_its_prefix() -> None:
    statements = dict((s.get("sid"), s) for _, s in _policy_statements(module_docs(MODULES / "iam")))
    assert statements["ReadOwnSecrets"]["resources"] in ("${var.head_secret_arns}", "${var.worker_secret_arns}")
    assert statements["ReadWriteReportsPrefix"]["resources"] == ["${var.bucket_arn}/${var.reports_prefix}/*"]
    assert statements["WriteOwnLogGroups"]["resources"][0] == "${local.log_groups_arn}"
    assert module_call(COMPOSITION, "iam")["worker_secret_arns"] == ["${module.secrets.ray_auth_token_arn}"]


def test_member_role_is_read_only_and_needs_the_external_id() -> None:
    docs = module_docs(MODULES / "member_role")
    (trust,) = [s for n, s in _policy_statements(docs) if n == "trust"]
    assert trust["condition"][0]["variable"] == "sts:ExternalId"
    assert trust["principals"][0]["identifiers"] == "${var.scanner_role_arns}"
    (policies,) = [v for doc in docs for b in doc.get("locals", []) for k, v in b.items() if k == "managed_policy_arns"]
    assert sorted(p.rsplit("/", 1)[1] for p in policies) == ["SecurityAudit", "ViewOnlyAccess"]
    (stack_set,) = [b for _, _, b in resources(docs, "aws_cloudformation_stack_set")]
    assert stack_set["permission_model"] == "SERVICE_MANAGED"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML: short-form intrinsics (!Ref, !Sub...) become plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node)
                                 if isinstance(node, yaml.ScalarNode) else loader.construct_sequence(node))


def test_cloudformation_member_role_matches_the_terraform_one() -> None:
    template = yaml.load((MODULES / "member_role" / "templates" / "member-role.cfn.yaml").read_text(),
                         Loader=_CfnLoader)
    role = template["Resources"]["AuditRole"]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"]["StringEquals"] == {"sts:ExternalId": "ExternalId"}
    assert sorted(a.rsplit("/", 1)[1] for a in role["ManagedPolicyArns"]) == ["SecurityAudit", "ViewOnlyAccess"]
    assert template["Parameters"]["ExternalId"]["NoEcho"] is True


# --- storage and monitoring --------------------------------------------------------------------------------------


def test_reports_bucket_is_private_encrypted_versioned_and_tls_only() -> None:
    docs = module_docs(MODULES / "storage")
    by_type = {t: b for t, _, b in resources(docs)}
    pab = by_type["aws_s3_bucket_public_access_block"]
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                        "restrict_public_buckets"))
    sse = by_type["aws_s3_bucket_server_side_encryption_configuration"]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    assert by_type["aws_kms_key"]["enable_key_rotation"] is True
    assert by_type["aws_s3_bucket_versioning"]["versioning_configuration"][0]["status"] == "Enabled"
    assert by_type["aws_s3_bucket_ownership_controls"]["rule"][0]["object_ownership"] == "BucketOwnerEnforced"
    assert "aws_s3_bucket_lifecycle_configuration" in by_type
    statements = dict((s["sid"], s) for _, s in _policy_statements(docs) if "sid" in s)
    deny = statements["DenyInsecureTransport"]
    assert deny["effect"] == "Deny" and deny["condition"][0]["variable"] == "aws:SecureTransport"


def test_every_log_group_has_retention_and_kms() -> None:
    groups = resources(all_docs(), "aws_cloudwatch_log_group")
    assert groups
    for _, name, body in groups:
        assert body.get("retention_in_days") and body.get("kms_key_id"), f"log group {name}"


def test_monitoring_alarms_cover_head_workers_and_front() -> None:
    docs = module_docs(MODULES / "monitoring")
    alarms = {n for _, n, _ in resources(docs, "aws_cloudwatch_metric_alarm")}
    assert {"head_status_check", "workers_below_desired", "front_down", "front_5xx"} <= alarms
    assert resources(docs, "aws_sns_topic")[0][2]["kms_master_key_id"] == "${var.kms_key_arn}"
    (workspace,) = [b for _, _, b in resources(docs, "aws_prometheus_workspace")]
    assert workspace["count"] == "${var.enable_prometheus ? 1 : 0}"


# --- user data ---------------------------------------------------------------------------------------------------

TEMPLATES = MODULES / "ray_cluster" / "templates"


def _unit(template: str, unit: str) -> str:
    text = (TEMPLATES / template).read_text()
    match = re.search(rf"path: /etc/systemd/system/{re.escape(unit)}\n.*?content: \|\n(.*?)(?=\n  - path:|\nruncmd:)",
                      text, re.S)
    assert match, f"{template} has no unit {unit}"
    return match.group(1)


@pytest.mark.parametrize(("template", "unit"), [
    ("head.yaml.tftpl", "ray-head.service"),
    ("head.yaml.tftpl", "cloudscreen-front.service"),
    ("head.yaml.tftpl", "cloudflared.service"),
    ("worker.yaml.tftpl", "ray-worker.service"),
])
def test_every_service_is_limited_unprivileged_and_restarted(template: str, unit: str) -> None:
    body = _unit(template, unit)
    for directive in ("MemoryMax=", "TasksMax=", "LimitNOFILE=", "NoNewPrivileges=yes", "Restart=on-failure"):
        assert directive in body, f"{unit}: {directive} missing"
    assert "CPUQuota=" in body or "CPUWeight=" in body
    user = re.search(r"^\s*User=(\S+)", body, re.M)
    assert user and user.group(1) != "root"


def test_head_starts_ray_with_pinned_ports_and_a_local_dashboard() -> None:
    start = " ".join(_unit("head.yaml.tftpl", "ray-head.service").replace("\\\n", " ").split())
    for flag in ("--head", "--port=6379", "--dashboard-host=127.0.0.1", "--metrics-export-port=8090",
                 "--ray-client-server-port=10001", "--dashboard-agent-listen-port=52365", "--min-worker-port=10002",
                 "--max-worker-port=19999", "--block", "RAY_AUTH_TOKEN=${ray_token_arn}"):
        assert flag in start
    worker = " ".join(_unit("worker.yaml.tftpl", "ray-worker.service").replace("\\\n", " ").split())
    assert "--address=${head_address}:6379" in worker and "--metrics-export-port=8090" in worker


def test_front_and_tunnel_read_secrets_at_start_never_from_user_data() -> None:
    head = (TEMPLATES / "head.yaml.tftpl").read_text()
    front = " ".join(_unit("head.yaml.tftpl", "cloudscreen-front.service").replace("\\\n", " ").split())
    assert "cloudscreen serve --host 0.0.0.0 --port 8080" in front
    assert "CLOUDSCREEN_SESSION_SECRET=${session_secret_arn}" in front
    for setting in ("CLOUDSCREEN_RAY_ADDRESS=auto", "CLOUDSCREEN_STORE=${store_url}", "CLOUDSCREEN_LOG_FORMAT=json",
                    "CLOUDSCREEN_ROLE_NAME=", "CLOUDSCREEN_EXTERNAL_ID=", "CLOUDSCREEN_ZENDESK_SUBDOMAIN=",
                    "RAY_AUTH_MODE=token"):
        assert setting in head
    assert "TUNNEL_TOKEN=${tunnel_token_arn}" in _unit("head.yaml.tftpl", "cloudflared.service")
    assert "aws secretsmanager get-secret-value" in head
    # Only ARNs of secrets reach the template, never their values.
    head_call = [b for _, _, b in resources(module_docs(MODULES / "ray_cluster"), "aws_instance")][0]["user_data"]
    assert not re.search(r"secret_string|random_password|\.token\b", head_call)


@pytest.mark.parametrize("template", ["head.yaml.tftpl", "worker.yaml.tftpl"])
def test_template_variables_are_all_passed_by_templatefile(template: str) -> None:
    text = (TEMPLATES / template).read_text()
    used = set(re.findall(r"(?<!\$)\$\{(\w+)\}", text))
    source = "".join(p.read_text() for p in (MODULES / "ray_cluster").glob("*.tf"))
    common = re.search(r"common_template_vars = \{(.*?)\n  \}", source, re.S)
    call = re.search(rf'templates/{re.escape(template)}", merge\(local\.common_template_vars, \{{(.*?)\}}\)', source,
                     re.S)
    assert common and call
    passed = set(re.findall(r"^\s*(\w+)\s*=", common.group(1) + "\n" + call.group(1), re.M))
    assert used <= passed, f"{template} uses variables templatefile does not pass: {used - passed}"
