"""How the sub-commands report a configuration they cannot use."""

from __future__ import annotations

import sys

from calmirror.errors import ConfigError


def report_config_error(error: ConfigError) -> None:
    """Print every problem, then the warnings that may explain them (a typo behind a "missing"), to stderr."""
    print(f"calmirror: {len(error.problems)} configuration problem(s):", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)
    for warning in error.warnings:
        print(f"warning: {warning}", file=sys.stderr)
