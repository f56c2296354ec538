"""`calmirror run` refuses an unusable configuration with exit 2 and one line per problem."""

from __future__ import annotations

import os
import subprocess
import sys


def run_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `calmirror run` in a directory without .env, with only `env` (plus PATH) set."""
    return subprocess.run(
        [sys.executable, "-m", "calmirror", "run"],
        env={"PATH": os.environ.get("PATH", ""), **env},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_missing_configuration_exits_2_naming_the_variables() -> None:
    """No accounts or flows: exit 2, problems on stderr, no traceback."""
    result = run_with({})
    assert result.returncode == 2
    assert "configuration problem" in result.stderr
    assert "SYNC_FLOW_<N>_*" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_log_format_exits_2() -> None:
    """LOG_FORMAT must be text or json."""
    result = run_with({"LOG_FORMAT": "xml"})
    assert result.returncode == 2
    assert "LOG_FORMAT=xml: not one of text, json" in result.stderr
