"""load_settings(): read every source, validate everything, and list every problem at once."""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr

from calmirror.config.groups import build_accounts, build_flows, group_numbers
from calmirror.config.models import (
    DAYS_BACK_RANGE,
    DAYS_FORWARD_RANGE,
    DEFAULT_API_ROOT,
    DEFAULT_DAYS_BACK,
    DEFAULT_DAYS_FORWARD,
    DEFAULT_GUARD_MIN_BLOCKS,
    DEFAULT_GUARD_PERCENT,
    DEFAULT_TOKEN_URI,
    GUARD_PERCENT_RANGE,
    Settings,
)
from calmirror.config.names import is_secret
from calmirror.config.reader import Reader
from calmirror.config.sources import RawEnvironment, collect
from calmirror.config.typos import unknown_name
from calmirror.errors import ConfigError
from calmirror.logs import MIN_MASKED_LENGTH, redact

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
_MIN_WEBHOOK_KEY_LENGTH = 16
# .env.example's secrets all start with this; a key everyone can read would let anyone forge notifications.
_PLACEHOLDER_PREFIX = "FAKE-"


class _From(enum.Enum):
    """Marks a parameter whose default is read from the environment mapping."""

    ENVIRON = enum.auto()


FROM_ENVIRON: Final = _From.ENVIRON


def _log_level(reader: Reader) -> str | None:
    """Return LOG_LEVEL in upper case (WARN accepted as WARNING), or None when unknown."""
    level = (reader.text("LOG_LEVEL") or "INFO").upper()
    level = "WARNING" if level == "WARN" else level
    if level not in LOG_LEVELS:
        reader.problem("LOG_LEVEL", f"not one of {', '.join(LOG_LEVELS)}")
        return None
    return level


def _log_format(reader: Reader) -> str | None:
    """Return LOG_FORMAT in lower case, or None when it is neither text nor json."""
    log_format = (reader.text("LOG_FORMAT") or "text").lower()
    if log_format not in LOG_FORMATS:
        reader.problem("LOG_FORMAT", f"not one of {', '.join(LOG_FORMATS)}")
        return None
    return log_format


def _webhook(reader: Reader) -> dict[str, Any]:
    """Return the webhook fields; a missing or FAKE- key is a problem, a weak or unused one a warning."""
    url = reader.url("WEBHOOK_BASE_URL", None, base=True)
    key = reader.text("WEBHOOK_API_KEY")
    if key is not None and key.startswith(_PLACEHOLDER_PREFIX):
        placeholder = f"a {_PLACEHOLDER_PREFIX} placeholder from .env.example, known to everyone"
        reader.problem("WEBHOOK_API_KEY", f"{placeholder}; use a random key")
    if "WEBHOOK_BASE_URL" in reader.values and key is None:
        reader.problems.append("WEBHOOK_API_KEY: missing; WEBHOOK_BASE_URL is set and webhooks need a key")
    if key is not None and "WEBHOOK_BASE_URL" not in reader.values:
        reader.warn("WEBHOOK_API_KEY", "set but unused: WEBHOOK_BASE_URL is not set, so calmirror only polls")
    if key is not None and len(key) < _MIN_WEBHOOK_KEY_LENGTH:
        reader.warn("WEBHOOK_API_KEY", f"shorter than {_MIN_WEBHOOK_KEY_LENGTH} characters; use a random key")
    if url is not None and url.startswith("http://"):
        reader.warn(
            "WEBHOOK_BASE_URL",
            "Google only delivers to https:// addresses "
            "(the emulator accepts http only with --allow-http-webhooks)",
        )
    return {
        "webhook_base_url": url.rstrip("/") if url else None,
        "webhook_api_key": SecretStr(key) if key else None,
    }


def _globals(reader: Reader) -> dict[str, Any]:
    """Return the scalar settings; a bad value becomes None and a problem naming its variable."""
    api_root = reader.url("GOOGLE_API_ROOT_URL", DEFAULT_API_ROOT)
    return {
        "sync_interval_minutes": reader.integer("SYNC_INTERVAL_MINUTES", 60, 1, 24 * 60),
        "daily_reconcile_time": reader.time_of_day("DAILY_RECONCILE_TIME", time(6, 0)),
        "daily_reconcile_days_back": reader.integer(
            "DAILY_RECONCILE_DAYS_BACK", DEFAULT_DAYS_BACK, *DAYS_BACK_RANGE
        ),
        "daily_reconcile_days_forward": reader.integer(
            "DAILY_RECONCILE_DAYS_FORWARD", DEFAULT_DAYS_FORWARD, *DAYS_FORWARD_RANGE
        ),
        "deletion_guard_min_blocks": reader.integer("DELETION_GUARD_MIN_BLOCKS", DEFAULT_GUARD_MIN_BLOCKS, 0),
        "deletion_guard_percent": reader.integer(
            "DELETION_GUARD_PERCENT", DEFAULT_GUARD_PERCENT, *GUARD_PERCENT_RANGE
        ),
        "log_level": _log_level(reader),
        "log_format": _log_format(reader),
        "listen_host": reader.text("LISTEN_HOST") or "127.0.0.1",
        "listen_port": reader.integer("LISTEN_PORT", 8000, 0, 65535),
        # The discovery document's rootUrl must end in "/" or every request path is glued to the host.
        "google_api_root_url": api_root if api_root is None or api_root.endswith("/") else api_root + "/",
        "google_token_uri": reader.url("GOOGLE_TOKEN_URI", DEFAULT_TOKEN_URI),
        **_webhook(reader),
    }


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
    account_numbers, flow_numbers = group_numbers(reader)
    accounts = build_accounts(reader, account_numbers)
    flows = build_flows(reader, flow_numbers, accounts, account_numbers)
    fields = _globals(reader)
    unknown = [found for name in sorted(raw.values) if (found := unknown_name(name))]
    reader.problems += [str(found) for found in unknown if found.fatal]
    typos = [str(found) for found in unknown if not found.fatal]
    # Mask any secret value that slipped into a message, e.g. a token pasted into the wrong variable.
    secrets = [v for name, v in raw.values.items() if is_secret(name) and len(v) >= MIN_MASKED_LENGTH]
    warnings = tuple(redact(warning, secrets) for warning in raw.warnings + typos + reader.warnings)
    if reader.problems:
        raise ConfigError([redact(problem, secrets) for problem in reader.problems], warnings)
    return Settings(accounts=accounts, flows=tuple(flows), warnings=warnings, **fields)
