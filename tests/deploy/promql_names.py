"""Check the metric names the alert rules and the dashboard use against an exposition (for .ci/deploy-checks).

promql_names.py documented DOCS METRICS    every metric of the table in DOCS is in METRICS
promql_names.py check METRICS RULES DASH   every metric the rules and dashboard name is in METRICS
promql_names.py as-rules DASH OUT          write the dashboard's expressions as recording rules
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

# A row of the metric table: | `name` | type | labels | meaning |
TABLE_ROW = re.compile(r"^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*(counter|gauge|histogram)\s*\|([^|]*)\|")
STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
MATCHERS = re.compile(r"\{[^}]*\}|\[[^\]]*\]")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
NUMBERS = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)?\b|\$\w+")
IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?![a-zA-Z0-9_:])(?!\s*\()")
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless"}
KEYWORDS |= {"offset", "inf", "nan", "atan2"}
SYNTHETIC = {"up"}  # added by Prometheus itself, never in an exposition
DASHBOARD_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$instance": ".*"}


def documented(docs: Path, metrics_file: Path) -> int:
    """Print each metric of the docs table that the exposition lacks; exit 1 when there is one."""
    known = sample_names(metrics_file.read_text())
    rows = [TABLE_ROW.match(row) for row in docs.read_text().splitlines()]
    names = [(match.group(1), match.group(2)) for match in rows if match]
    sample = {name: f"{name}_count" if kind == "histogram" else name for name, kind in names}
    missing = [name for name, sampled in sample.items() if sampled not in known]
    for name in missing:
        print(f"{docs}: {name} is not in {metrics_file}")
    print(f"{len(names)} documented metrics, {len(missing)} missing")
    return 1 if missing or not names else 0


def sample_names(metrics: str) -> set[str]:
    """Return every sample name in a text exposition."""
    names = set()
    for line in metrics.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def metric_names(expression: str) -> set[str]:
    """Return the metric names a PromQL expression selects (functions, labels and keywords removed)."""
    text = STRINGS.sub(" ", expression)
    text = MATCHERS.sub(" ", text)
    text = GROUPING.sub(" ", text)
    text = NUMBERS.sub(" ", text)
    return {name for name in IDENTIFIER.findall(text) if name.lower() not in KEYWORDS}


def rule_expressions(rules_file: Path) -> list[str]:
    """Return the expr of every rule (JSON is valid YAML, and promtool already checked the syntax)."""
    import yaml  # type: ignore[import-untyped]  # pyyaml, in the deploy-checks venv

    groups = yaml.safe_load(rules_file.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def dashboard_expressions(dashboard_file: Path) -> list[str]:
    """Return every target expression of the dashboard, with Grafana's variables filled in."""
    dashboard: dict[str, Any] = json.loads(dashboard_file.read_text())
    expressions = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expression = target["expr"]
            for variable, value in DASHBOARD_VARIABLES.items():
                expression = expression.replace(variable, value)
            expressions.append(expression)
    return expressions


def check(metrics_file: Path, rules_file: Path, dashboard_file: Path) -> int:
    """Print each unknown metric name with where it is used; exit 1 when there is one."""
    known = sample_names(metrics_file.read_text()) | SYNTHETIC
    used = [("rules", e) for e in rule_expressions(rules_file)]
    used += [("dashboard", e) for e in dashboard_expressions(dashboard_file)]
    unknown = sorted({(where, name) for where, e in used for name in metric_names(e) if name not in known})
    for where, name in unknown:
        print(f"{where}: {name} is not in {metrics_file}")
    count = len({name for _, e in used for name in metric_names(e)})
    print(f"{count} metric names in {len(used)} expressions, {len(unknown)} unknown")
    return 1 if unknown or not used else 0


def as_rules(dashboard_file: Path) -> str:
    """Return a rules file with one recording rule per dashboard expression, for promtool to parse."""
    rules = [
        {"record": f"dashboard:expression_{number}", "expr": expression}
        for number, expression in enumerate(dashboard_expressions(dashboard_file), 1)
    ]
    return json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}, indent=2) + "\n"


def main(argv: list[str]) -> int:
    """Run one sub-command (see the module docstring)."""
    match argv:
        case ["documented", docs, metrics]:
            return documented(Path(docs), Path(metrics))
        case ["check", metrics, rules, dashboard]:
            return check(Path(metrics), Path(rules), Path(dashboard))
        case ["as-rules", dashboard, out]:
            Path(out).write_text(as_rules(Path(dashboard)))
            return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
