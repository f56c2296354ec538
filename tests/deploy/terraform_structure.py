"""Structural assertions on deploy/terraform, parsed with python-hcl2 (run by .ci/deploy-checks)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import hcl2  # type: ignore[import-not-found]  # python-hcl2, in the deploy-checks venv only
from hcl2 import SerializationOptions

OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
OPEN_CIDRS = ("0.0.0.0/0", "::/0")
SECRET_NAME = re.compile(r"secret|token|password|passwd|api_key|private_key|credential", re.IGNORECASE)
# Shapes of real secrets: Google access and refresh tokens, AWS keys, PEM blocks, long random strings.
SECRET_VALUE = re.compile(r"ya29\.|^1//|AKIA[0-9A-Z]{16}|-----BEGIN|^[A-Za-z0-9+/_-]{40,}={0,2}$")


def load(directory: Path) -> dict[str, list[Any]]:
    """Merge the top-level blocks of every .tf file in the directory."""
    merged: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            for key, blocks in hcl2.load(handle, serialization_options=OPTIONS).items():
                merged.setdefault(key, []).extend(blocks)
    return merged


def resources(config: dict[str, list[Any]], kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Return (name, body) of every resource of this kind."""
    return [
        (name, body) for block in config.get("resource", []) for name, body in block.get(kind, {}).items()
    ]


def single(body: dict[str, Any], key: str) -> dict[str, Any]:
    """Return a nested block that python-hcl2 gives as a one-element list."""
    value = body.get(key) or [{}]
    return value[0] if isinstance(value, list) else value


def check_variables(config: dict[str, list[Any]]) -> list[str]:
    """Every variable is typed and described; none is named or defaulted like a secret."""
    problems = []
    for block in config.get("variable", []):
        for name, body in block.items():
            if not body.get("description") or not body.get("type"):
                problems.append(f"variable {name}: needs a description and a type")
            if SECRET_NAME.search(name):
                problems.append(f"variable {name}: a secret must not be a Terraform variable (use SSM)")
            default = body.get("default")
            if isinstance(default, str) and SECRET_VALUE.search(default):
                problems.append(f"variable {name}: its default looks like a secret")
    return problems


def check_open_ports(config: dict[str, list[Any]]) -> list[str]:
    """Only 443 is open to the whole internet, in either direction."""
    problems = []
    for kind in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        for name, body in resources(config, kind):
            cidrs = {body.get("cidr_ipv4"), body.get("cidr_ipv6")}
            ports = (body.get("from_port"), body.get("to_port"))
            if cidrs & set(OPEN_CIDRS) and ports != (443, 443):
                problems.append(f"{kind}.{name}: open to the internet on {ports}, only 443 may be")
    for name, body in resources(config, "aws_security_group"):
        if "ingress" in body or "egress" in body:
            problems.append(f"aws_security_group.{name}: use separate rule resources, not inline rules")
    if resources(config, "aws_security_group_rule"):
        problems.append("aws_security_group_rule: use aws_vpc_security_group_*_rule resources")
    return problems


def check_instance(config: dict[str, list[Any]]) -> list[str]:
    """The VM requires IMDSv2, encrypts its root volume and has the scoped instance profile."""
    instances = resources(config, "aws_instance")
    problems = [] if len(instances) == 1 else [f"expected one aws_instance, found {len(instances)}"]
    for name, body in instances:
        if single(body, "metadata_options").get("http_tokens") != "required":
            problems.append(f"aws_instance.{name}: metadata_options.http_tokens must be required (IMDSv2)")
        if single(body, "root_block_device").get("encrypted") is not True:
            problems.append(f"aws_instance.{name}: root_block_device.encrypted must be true")
        if "aws_iam_instance_profile" not in str(body.get("iam_instance_profile")):
            problems.append(f"aws_instance.{name}: needs the module's instance profile")
        if "templatefile(" not in str(body.get("user_data")):
            problems.append(f"aws_instance.{name}: user_data must come from templatefile()")
    return problems


def check_parameters(config: dict[str, list[Any]]) -> list[str]:
    """Secrets stay out of state; the role reads SSM parameters under its prefix and nothing else."""
    problems = []
    if resources(config, "aws_ssm_parameter"):
        problems.append("aws_ssm_parameter: its value would be stored in the Terraform state")
    if resources(config, "aws_iam_role_policy_attachment"):
        problems.append("aws_iam_role_policy_attachment: a managed policy would widen the role")
    documents = [
        body for block in config.get("data", []) for body in block.get("aws_iam_policy_document", {}).values()
    ]
    statements = [s for body in documents for s in body.get("statement", [])]
    for body in documents:
        for dynamic in body.get("dynamic", []):
            statements += [single(d, "content") for d in dynamic.values()]
    for statement in statements:
        actions = statement.get("actions", [])
        if "sts:AssumeRole" in actions:
            continue
        if any(not re.fullmatch(r"ssm:GetParameters?(ByPath)?|kms:Decrypt", action) for action in actions):
            problems.append(f"policy statement {statement.get('sid')}: actions {actions} go beyond reading")
        resources_ = statement.get("resources", [])
        if not resources_ or any("*" in r and "parameter_arn" not in r for r in resources_):
            problems.append(f"policy statement {statement.get('sid')}: resources {resources_} are not scoped")
        if statement.get("sid") == "ReadOwnParameters" and not all("parameter_arn" in r for r in resources_):
            problems.append("ReadOwnParameters must name only the module's parameter prefix")
    if not any(s.get("sid") == "ReadOwnParameters" for s in statements):
        problems.append("no ReadOwnParameters statement: the VM could not read its secrets")
    return problems


def check_outputs(config: dict[str, list[Any]]) -> list[str]:
    """The operator gets the webhook URL and the address for DNS."""
    names = {name for block in config.get("output", []) for name in block}
    return [f"output {name} is missing" for name in ("webhook_url", "public_ip") if name not in names]


def check_example(path: Path) -> list[str]:
    """The tfvars example sets no secret-named variable and no secret-looking value."""
    with path.open() as handle:
        values = hcl2.load(handle, serialization_options=OPTIONS)
    problems = []
    flat: dict[str, Any] = dict(values)
    flat.update({f"calmirror_env.{k}": v for k, v in (values.get("calmirror_env") or {}).items()})
    for key, value in flat.items():
        if SECRET_NAME.search(key):
            problems.append(f"{path.name}: {key} looks like a secret, which never goes in tfvars")
        if isinstance(value, str) and SECRET_VALUE.search(value):
            problems.append(f"{path.name}: the value of {key} looks like a secret")
    return problems


def main(directory: str) -> int:
    """Print every problem; exit 1 when there is one."""
    root = Path(directory)
    config = load(root)
    checks = (check_variables, check_open_ports, check_instance, check_parameters, check_outputs)
    problems = [problem for check in checks for problem in check(config)]
    problems += check_example(root / "terraform.tfvars.example")
    for problem in problems:
        print(problem)
    print(f"{directory}: {len(problems)} structural problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "deploy/terraform"))
