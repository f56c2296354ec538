"""How the sub-commands load their configuration, and report one they cannot use."""

from __future__ import annotations

import sys
from pathlib import Path

from calmirror.config import Settings, load_settings
from calmirror.errors import ConfigError


def load_config(env_file: Path | None) -> Settings:
    """Load the settings with an `--env-file` PATH (which must exist) or the optional ./.env file."""
    if env_file is not None and not env_file.is_file():
        raise ConfigError([f"--env-file {env_file}: no such file"])
    return load_settings(env_file=env_file or Path(".env"))


def report_config_error(error: ConfigError) -> None:
    """Print every problem, then the warnings that may explain them (a typo behind a "missing"), to stderr."""
    print(f"calmirror: {len(error.problems)} configuration problem(s):", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)
    for warning in error.warnings:
        print(f"warning: {warning}", file=sys.stderr)
