"""How the sub-commands load their configuration, and report one they cannot use."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from calmirror.config import Settings, load_settings
from calmirror.config.groups import NO_FLOWS
from calmirror.config.loader import load_raw
from calmirror.config.names import FLOW_PREFIX
from calmirror.config.sources import RawEnvironment
from calmirror.errors import ConfigError

DEFAULT_ENV_FILE = Path(".env")


def _check_env_file(env_file: Path | None) -> None:
    """Raise ConfigError when an `--env-file` PATH was given but is not a file."""
    if env_file is not None and env_file.is_dir():
        raise ConfigError([f"--env-file {env_file}: is a directory; give the path of a file"])
    if env_file is not None and not env_file.is_file():
        raise ConfigError([f"--env-file {env_file}: no such file"])


def load_raw_config(env_file: Path | None) -> RawEnvironment:
    """Return the unvalidated variables load_config would read; raise ConfigError when a source is bad."""
    _check_env_file(env_file)
    raw = load_raw(env_file=env_file or DEFAULT_ENV_FILE)
    if raw.problems:
        raise ConfigError(raw.problems, tuple(raw.warnings))
    return raw


def load_config(env_file: Path | None) -> Settings:
    """Load the settings with an `--env-file` PATH (which must exist) or the optional ./.env file."""
    _check_env_file(env_file)
    try:
        return load_settings(env_file=env_file or DEFAULT_ENV_FILE)
    except ConfigError as error:
        if (
            env_file is not None
            or DEFAULT_ENV_FILE.is_file()
            or any(n.startswith(FLOW_PREFIX) for n in os.environ)
        ):
            raise
        # Nothing was found at all: most likely calmirror runs from the wrong directory.
        nothing = f"no .env in {Path.cwd()} and no {FLOW_PREFIX}<N>_* in the environment (see .env.example)"
        raise ConfigError([nothing if p == NO_FLOWS else p for p in error.problems], error.warnings) from None


def report_config_error(error: ConfigError) -> None:
    """Print every problem, then the warnings that may explain them (a typo behind a "missing"), to stderr."""
    print(f"calmirror: {len(error.problems)} configuration problem(s):", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)
    for warning in error.warnings:
        print(f"warning: {warning}", file=sys.stderr)
