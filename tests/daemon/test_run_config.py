"""`calmirror run` refuses an unusable configuration with exit 2 and one line per problem."""

from __future__ import annotations

import os
import subprocess
import sys


def run_with(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `calmirror run` in a directory without .env, with only `env` (plus PATH) set."""
    return subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-m", "calmirror", "run", *args],
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


def test_duration_flags_below_one_second_exit_2_naming_the_flag() -> None:
    """--channel-ttl, --channel-retry and --start-stall are seconds, at least one."""
    result = run_with({}, "--channel-ttl", "0", "--channel-retry", "0.5", "--start-stall", "0.5")
    assert result.returncode == 2
    assert "--channel-ttl: must be at least 1 second" in result.stderr
    assert "--channel-retry: must be at least 1 second" in result.stderr
    assert "--start-stall: must be at least 1 second" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
