"""Lambda collector: the region's functions (from ListFunctions) with their resource policy and
function URL configuration.

Environment variable values are summarised at collection and never kept: the collected data holds
each variable's name and what its value looks like (empty, a secret reference, an access key id),
so a secret in plain text goes no further than the API response it arrived in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.collectors import CollectContext, Resource, ServiceData, collector, fetch, fill, set_policy
from engine.model import Scope
from engine.throttle import paginate

# Values that point at a secret instead of holding it: Secrets Manager secrets and SSM parameters.
SECRET_REFERENCE_RE = re.compile(r"^arn:aws[a-z-]*:(secretsmanager:[^:]*:\d*:secret:|ssm:[^:]*:\d*:parameter/)")
# An AWS access key id (long-term AKIA, temporary ASIA) anywhere in a value.
ACCESS_KEY_ID_RE = re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
# "Not configured" answers of GetPolicy and GetFunctionUrlConfig (CHECKS.md, Conventions).
NOT_FOUND = ("ResourceNotFoundException",)


@dataclass(frozen=True)
class EnvVar:
    """An environment variable of a function: its name and the shape of its value (never the value)."""

    name: str
    empty: bool
    secret_reference: bool
    access_key_id: bool

    @classmethod
    def of(cls, name: str, value: Any) -> EnvVar:
        """Summarise one variable."""
        text = "" if value is None else str(value).strip()
        return cls(name=name, empty=not text, secret_reference=bool(SECRET_REFERENCE_RE.match(text)),
                   access_key_id=bool(ACCESS_KEY_ID_RE.search(text)))


@dataclass
class Function(Resource):
    """A Lambda function ($LATEST). `runtime` is None for container-image functions."""

    runtime: str | None = None
    architectures: list[str] = field(default_factory=list)
    environment: list[EnvVar] = field(default_factory=list)
    # GetPolicy, parsed; None when the function has no resource policy.
    policy: dict[str, Any] | None = None
    # GetFunctionUrlConfig.AuthType; None when the function has no URL.
    url_auth_type: str | None = None


@dataclass
class LambdaData(ServiceData):
    functions: list[Function] = field(default_factory=list)


@collector("lambda", scope=Scope.REGIONAL, cost=2.0, title="Lambda")
def collect_lambda(ctx: CollectContext) -> LambdaData:
    """List functions once, then read each function's resource policy and URL configuration."""
    data = LambdaData(account_id=ctx.account_id, region=ctx.region)
    lam = ctx.client("lambda")
    data.functions = [_function(f, ctx.region) for f in paginate(lam, "list_functions", "Functions", MaxItems=50)]
    ctx.map(lambda fn: _fill_function(lam, fn), data.functions)
    return data


def _function(listed: dict[str, Any], region: str) -> Function:
    variables = (listed.get("Environment") or {}).get("Variables") or {}
    return Function(
        id=listed["FunctionName"], arn=listed.get("FunctionArn"), region=region,
        runtime=listed.get("Runtime") or None,
        # Functions created before Graviton support list no architectures: they run on x86_64.
        architectures=list(listed.get("Architectures") or ["x86_64"]),
        environment=[EnvVar.of(name, value) for name, value in sorted(variables.items())],
    )


def _fill_function(lam: Any, fn: Function) -> None:
    resp, err = fetch(lam.get_policy, FunctionName=fn.id, absent=NOT_FOUND)
    if err is not None:
        fn.errors["policy"] = err
    elif resp is not None:
        set_policy(fn, resp.get("Policy"), "GetPolicy")
    fill(fn, "url_auth_type", lam.get_function_url_config, FunctionName=fn.id, absent=NOT_FOUND,
         transform=lambda r: r.get("AuthType"))
