"""Collect raw variables from the environment, a .env file and $CREDENTIALS_DIRECTORY, in that precedence."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from calmirror.config.envfile import read_env_file
from calmirror.config.names import is_known

_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_CREDENTIAL_BYTES = 64 * 1024  # a secret is a short string; refuse to slurp anything larger


@dataclass(frozen=True)
class RawEnvironment:
    """The merged raw variables, and the problems and warnings met while reading them."""

    values: dict[str, str]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _clean(values: Mapping[str, str | None]) -> dict[str, str]:
    """Strip surrounding whitespace and drop empty values: an empty variable counts as unset."""
    cleaned = {name: (value or "").strip() for name, value in values.items()}
    return {name: value for name, value in cleaned.items() if value}


def _read_env_file(path: Path, problems: list[str], warnings: list[str]) -> dict[str, str]:
    """Read a .env file, recording its bad lines, and a problem naming it when it is not UTF-8 text."""
    try:
        env_file = read_env_file(path)
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{path}: cannot read this .env file ({type(error).__name__}; it must be UTF-8 text)")
        return {}
    problems += env_file.problems
    warnings += env_file.warnings
    return _clean(env_file.values)


def read_credentials(directory: Path, problems: list[str]) -> dict[str, str]:
    """Read one value per file named like the variable, e.g. GOOGLE_ACCOUNT_1_REFRESH_TOKEN."""
    if not directory.is_dir():
        problems.append(f"CREDENTIALS_DIRECTORY={directory}: not a readable directory")
        return {}
    values: dict[str, str | None] = {}
    for path in sorted(directory.iterdir()):
        if not _VARIABLE_NAME.match(path.name) or not path.is_file():
            continue  # systemd may hold other credentials there; only variable-named files are ours
        try:
            if path.stat().st_size > _MAX_CREDENTIAL_BYTES:
                problems.append(f"{path.name}: credential file {path} is larger than 64 KiB")
                continue
            values[path.name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"{path.name}: cannot read credential file {path} ({type(error).__name__})")
    return _clean(values)


def collect(
    environ: Mapping[str, str], env_file: Path | None, credentials_directory: Path | None
) -> RawEnvironment:
    """Merge the sources: process environment > .env file > credential files.

    The .env file ranks next to the environment because under systemd it is the environment
    (EnvironmentFile=), which outranks LoadCredential= files: `check-config --env-file` sees what
    the unit sees.
    """
    problems: list[str] = []
    warnings: list[str] = []
    credentials = read_credentials(credentials_directory, problems) if credentials_directory else {}
    layers = [
        ("the environment", _clean(environ)),
        (str(env_file), _read_env_file(env_file, problems, warnings) if env_file is not None else {}),
        ("$CREDENTIALS_DIRECTORY", credentials),
    ]
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for origin, layer in layers:
        for name, value in layer.items():
            if name not in values:
                values[name], origins[name] = value, origin
            elif values[name] != value and is_known(name):
                warnings.append(
                    f"{name}: set differently in {origins[name]} and {origin}; {origins[name]} wins"
                )
    return RawEnvironment(values, problems, warnings)
