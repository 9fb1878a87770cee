"""Which AWS Well-Architected best practice each check evidences.

Every check belongs to one pillar (its metadata says which); within that pillar it maps to one
best practice of the AWS Well-Architected Framework (ids and titles as published in the framework
since its 2023 revisions). The mapping is an explicit, ordered table of rules on the check id's
keywords (and optionally the service): the first rule of the check's pillar that matches wins,
and a pillar fallback covers checks no rule names, so a new check always lands somewhere sensible.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.model import Pillar


@dataclass(frozen=True)
class BestPractice:
    """One Well-Architected best practice, with the question it answers."""

    id: str
    title: str
    question: str

    @property
    def question_id(self) -> str:
        """The question id, e.g. `SEC03` for `SEC03-BP07`."""
        return self.id.split("-", 1)[0]


_QUESTIONS = {
    "SEC01": "How do you securely operate your workload?",
    "SEC02": "How do you manage authentication for people and machines?",
    "SEC03": "How do you manage permissions for people and machines?",
    "SEC04": "How do you detect and investigate security events?",
    "SEC05": "How do you protect your network resources?",
    "SEC06": "How do you protect your compute resources?",
    "SEC08": "How do you protect your data at rest?",
    "SEC09": "How do you protect your data in transit?",
    "SEC10": "How do you anticipate, respond to, and recover from incidents?",
    "REL09": "How do you back up data?",
    "REL10": "How do you use fault isolation to protect your workload?",
    "REL11": "How do you design your workload to withstand component failures?",
    "OPS01": "How do you determine what your priorities are?",
    "OPS08": "How do you utilize workload observability in your organization?",
    "PERF02": "How do you select and use compute resources in your workload?",
    "PERF03": "How do you store, manage, and access data in your workload?",
    "COST04": "How do you decommission resources?",
    "SUS04": "How do you take advantage of data management policies and patterns to support your "
             "sustainability goals?",
    "SUS05": "How do you select and use cloud hardware and services in your architecture to support "
             "your sustainability goals?",
}

_TITLES = {
    "SEC01-BP02": "Secure account root user and properties",
    "SEC01-BP03": "Identify and validate control objectives",
    "SEC02-BP01": "Use strong sign-in mechanisms",
    "SEC02-BP02": "Use temporary credentials",
    "SEC02-BP03": "Store and use secrets securely",
    "SEC02-BP05": "Audit and rotate credentials periodically",
    "SEC02-BP06": "Employ user groups and attributes",
    "SEC03-BP02": "Grant least privilege access",
    "SEC03-BP07": "Analyze public and cross-account access",
    "SEC04-BP01": "Configure service and application logging",
    "SEC04-BP02": "Capture logs, findings, and metrics in standardized locations",
    "SEC04-BP03": "Correlate and enrich security alerts",
    "SEC05-BP01": "Create network layers",
    "SEC05-BP02": "Control traffic flow within your network layers",
    "SEC05-BP03": "Implement inspection-based protection",
    "SEC06-BP01": "Perform vulnerability management",
    "SEC06-BP02": "Provision compute from hardened images",
    "SEC06-BP04": "Validate software integrity",
    "SEC08-BP01": "Implement secure key management",
    "SEC08-BP02": "Enforce encryption at rest",
    "SEC08-BP04": "Enforce access control",
    "SEC09-BP01": "Implement secure key and certificate management",
    "SEC09-BP02": "Enforce encryption in transit",
    "SEC10-BP01": "Identify key personnel and external resources",
    "REL09-BP01": "Identify and back up all data that needs to be backed up, or reproduce the data from sources",
    "REL09-BP03": "Perform data backup automatically",
    "REL10-BP01": "Deploy the workload to multiple locations",
    "REL11-BP01": "Monitor all components of the workload to detect failures",
    "REL11-BP02": "Fail over to healthy resources",
    "OPS01-BP03": "Evaluate governance requirements",
    "OPS08-BP01": "Analyze workload metrics",
    "OPS08-BP02": "Analyze workload logs",
    "OPS08-BP03": "Analyze workload traces",
    "OPS08-BP04": "Create actionable alerts",
    "PERF02-BP01": "Select the best compute options for your workload",
    "PERF02-BP04": "Configure and right-size compute resources",
    "PERF03-BP02": "Evaluate available configuration options for data store",
    "COST04-BP01": "Track resources over their lifetime",
    "COST04-BP03": "Decommission resources",
    "COST04-BP05": "Enforce data retention policies",
    "SUS04-BP03": "Use policies to manage the lifecycle of your datasets",
    "SUS05-BP01": "Use the minimum amount of hardware to meet your needs",
    "SUS05-BP02": "Use instance types with the least impact",
}


def _bp(bp_id: str) -> BestPractice:
    return BestPractice(bp_id, _TITLES[bp_id], _QUESTIONS[bp_id.split("-", 1)[0]])


@dataclass(frozen=True)
class _Rule:
    """Matches when the check id contains any keyword (and the service matches, when given)."""

    keywords: tuple[str, ...]
    best_practice: str
    service: str | None = None

    def matches(self, check_id: str, service: str) -> bool:
        if self.service is not None and self.service != service:
            return False
        return any(k in check_id for k in self.keywords)


# Order matters: the first matching rule of the check's pillar wins, so the specific rules (public
# access, encryption) come before the broad ones (logging) that would also match their ids.
_RULES: dict[Pillar, tuple[_Rule, ...]] = {
    Pillar.SECURITY: (
        _Rule(("iam_root_",), "SEC01-BP02"),
        _Rule(("support_role",), "SEC10-BP01"),
        _Rule(("cloudwatch_alarm",), "SEC04-BP03"),
        _Rule(("no_public_ip", "in_vpc"), "SEC05-BP01"),
        _Rule(("public", "publicly_accessible", "url_auth_required"), "SEC03-BP07"),
        _Rule(("full_admin",), "SEC03-BP02"),
        _Rule(("direct_policies",), "SEC02-BP06"),
        _Rule(("key_rotation",), "SEC08-BP01"),
        _Rule(("mfa", "password_policy"), "SEC02-BP01"),
        _Rule(("access_key", "unused_credentials", "rotat"), "SEC02-BP05"),
        _Rule(("secrets",), "SEC02-BP03"),
        _Rule(("instance_profile",), "SEC02-BP02"),
        _Rule(("certificate",), "SEC09-BP01"),
        _Rule(("secure_transport", "https", "tls", "in_transit", "node_to_node"), "SEC09-BP02"),
        _Rule(("encrypt",), "SEC08-BP02"),
        _Rule(("acls_disabled", "root_directory"), "SEC08-BP04"),
        _Rule(("securityhub",), "SEC04-BP02"),
        _Rule(("logging", "logs", "logged", "cloudtrail", "config_recorder", "guardduty", "log_file"),
              "SEC04-BP01"),
        _Rule(("waf", "drop_invalid_headers"), "SEC05-BP03"),
        _Rule(("securitygroup", "networkacl"), "SEC05-BP02"),
        _Rule(("runtime_supported", "auto_minor_version", "scan_on_push"), "SEC06-BP01"),
        _Rule(("tag_immutability",), "SEC06-BP04"),
        _Rule(("imdsv2", "privileged", "host_pid"), "SEC06-BP02"),
    ),
    Pillar.RELIABILITY: (
        _Rule(("multi_az",), "REL10-BP01"),
        _Rule(("failover",), "REL11-BP02"),
        _Rule(("backup", "snapshot", "pitr"), "REL09-BP03"),
        # Deletion protection, versioning, stream retention and a key kept from deletion all keep
        # the only copy of data (or the key that decrypts it) from being lost.
        _Rule(("versioning", "retention", "deletion_protection", "pending_deletion"), "REL09-BP01"),
    ),
    Pillar.OPERATIONAL_EXCELLENCE: (
        _Rule(("organization",), "OPS01-BP03"),
        _Rule(("xray", "tracing"), "OPS08-BP03"),
        _Rule(("alarm",), "OPS08-BP04"),
        _Rule(("logging", "logs"), "OPS08-BP02"),
    ),
    Pillar.PERFORMANCE_EFFICIENCY: (
        _Rule(("autoscaling",), "PERF03-BP02", service="dynamodb"),
        _Rule(("current_generation",), "PERF02-BP01"),
    ),
    Pillar.COST_OPTIMIZATION: (
        _Rule(("lifecycle", "retention"), "COST04-BP05"),
        _Rule(("stopped", "eip_associated", "unused", "unattached"), "COST04-BP03"),
    ),
    Pillar.SUSTAINABILITY: (
        _Rule(("arm64", "graviton", "current_generation"), "SUS05-BP02"),
        _Rule(("lifecycle",), "SUS04-BP03"),
    ),
}

_FALLBACK: dict[Pillar, str] = {
    Pillar.SECURITY: "SEC01-BP03",
    Pillar.RELIABILITY: "REL11-BP01",
    Pillar.OPERATIONAL_EXCELLENCE: "OPS08-BP01",
    Pillar.PERFORMANCE_EFFICIENCY: "PERF02-BP04",
    Pillar.COST_OPTIMIZATION: "COST04-BP01",
    Pillar.SUSTAINABILITY: "SUS05-BP01",
}

PILLAR_LABELS: dict[str, str] = {
    Pillar.SECURITY.value: "Security",
    Pillar.RELIABILITY.value: "Reliability",
    Pillar.OPERATIONAL_EXCELLENCE.value: "Operational excellence",
    Pillar.PERFORMANCE_EFFICIENCY.value: "Performance efficiency",
    Pillar.COST_OPTIMIZATION.value: "Cost optimization",
    Pillar.SUSTAINABILITY.value: "Sustainability",
}


def best_practice_for(check_id: str, pillar: Pillar | str, service: str = "") -> BestPractice:
    """The Well-Architected best practice of `pillar` that check `check_id` evidences."""
    return _best_practice_for(check_id, Pillar(pillar).value, service)


@lru_cache(maxsize=4096)
def _best_practice_for(check_id: str, pillar: str, service: str) -> BestPractice:
    p = Pillar(pillar)
    service = service or check_id.split("_", 1)[0]
    for rule in _RULES[p]:
        if rule.matches(check_id, service):
            return _bp(rule.best_practice)
    return _bp(_FALLBACK[p])
