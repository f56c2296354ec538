"""load_settings(): read every source, validate everything, and list every problem at once."""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from calmirror.config import groups
from calmirror.config.fields import LOG_LEVELS
from calmirror.config.models import Settings
from calmirror.config.names import is_secret
from calmirror.config.problems import report_invalid
from calmirror.config.reader import Reader
from calmirror.config.source import VariablesSource
from calmirror.config.sources import RawEnvironment, collect
from calmirror.config.typos import unknown_name
from calmirror.errors import ConfigError
from calmirror.logs import MIN_MASKED_LENGTH, redact

__all__ = ["FROM_ENVIRON", "LOG_LEVELS", "load_raw", "load_settings"]
_MIN_WEBHOOK_KEY_LENGTH = 16


class _From(enum.Enum):
    """Marks a parameter whose default is read from the environment mapping."""

    ENVIRON = enum.auto()


FROM_ENVIRON: Final = _From.ENVIRON


def _check_webhook(reader: Reader) -> None:
    """Record a webhook URL without a key; warn about an unused or weak key and an http:// URL."""
    url, key = reader.text("WEBHOOK_BASE_URL"), reader.text("WEBHOOK_API_KEY")
    if url is not None and key is None:
        reader.problem("WEBHOOK_API_KEY", "missing; WEBHOOK_BASE_URL is set and webhooks need a key")
    if key is not None and url is None:
        reader.warn("WEBHOOK_API_KEY", "set but unused: WEBHOOK_BASE_URL is not set, so calmirror only polls")
    if key is not None and len(key) < _MIN_WEBHOOK_KEY_LENGTH:
        reader.warn("WEBHOOK_API_KEY", f"shorter than {_MIN_WEBHOOK_KEY_LENGTH} characters; use a random key")
    if url is not None and url.startswith("http://"):
        reader.warn(
            "WEBHOOK_BASE_URL",
            "Google and Microsoft Graph only deliver to https:// addresses "
            "(the emulator accepts http only with --allow-http-webhooks)",
        )


def _check_before(reader: Reader) -> None:
    """Record the problems no single field shows: bad or shared N, clients, references, providers, ..."""
    numbers = groups.group_numbers(reader)
    groups.check_account_numbers(reader, numbers)
    groups.check_clients(reader, numbers["google_accounts"])
    groups.check_microsoft_clients(reader, numbers["microsoft_accounts"])
    groups.check_references(reader, numbers)
    groups.check_providers(reader, numbers)
    if not numbers["flows"]:
        reader.problems.append(groups.NO_FLOWS)
    _check_webhook(reader)


def _validate(reader: Reader) -> Settings | None:
    """Return Settings built through the variable source, or None after recording each field's problem."""
    source = VariablesSource(Settings, reader.values)
    try:
        # Settings reads only its arguments (see its settings_customise_sources): hand it the source's.
        return Settings(**source())
    except ValidationError as invalid:
        report_invalid(reader, invalid, source)
        return None


def load_raw(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: Path | None = Path(".env"),
    credentials_directory: Path | _From | None = FROM_ENVIRON,
) -> RawEnvironment:
    """Return the merged, unvalidated variables of every source, as load_settings reads them."""
    environ = os.environ if environ is None else environ
    if credentials_directory is FROM_ENVIRON:
        directory = environ.get("CREDENTIALS_DIRECTORY")
        credentials_directory = Path(directory) if directory else None
    return collect(environ, env_file, credentials_directory)


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: Path | None = Path(".env"),
    credentials_directory: Path | _From | None = FROM_ENVIRON,
) -> Settings:
    """Return the validated settings; raise ConfigError listing every problem, each naming its variable."""
    raw = load_raw(environ, env_file=env_file, credentials_directory=credentials_directory)
    reader = Reader(raw.values)
    reader.problems += raw.problems
    _check_before(reader)
    settings = _validate(reader)
    if settings is not None:
        groups.check_across(reader, settings)
    unknown = [found for name in sorted(raw.values) if (found := unknown_name(name))]
    reader.problems += [str(found) for found in unknown if found.fatal]
    if settings is not None and not reader.problems:
        groups.warn_unused_accounts(reader, settings)
    typos = [str(found) for found in unknown if not found.fatal]
    # Mask any secret value that slipped into a message, e.g. a token pasted into the wrong variable.
    secrets = [v for name, v in raw.values.items() if is_secret(name) and len(v) >= MIN_MASKED_LENGTH]
    warnings = tuple(redact(warning, secrets) for warning in raw.warnings + typos + reader.warnings)
    if reader.problems or settings is None:
        raise ConfigError([redact(problem, secrets) for problem in reader.problems], warnings)
    return settings.model_copy(update={"warnings": warnings})
