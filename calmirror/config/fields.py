"""The constrained types settings are declared with: each reads the text a user writes, or says why not."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
MICROSOFT_AUTHS = ("delegated", "app")
# .env.example's secrets all start with this; a key everyone can read would let anyone forge notifications.
PLACEHOLDER_PREFIX = "FAKE-"
_TIME_OF_DAY = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Marks a field that no variable sets (an account's N, whether it uses the shared client): see names.py.
NOT_A_VARIABLE: dict[str, Any] = {"variable": False}
# Marks a nested model whose fields are variables of their own, without the field's name as a prefix.
INLINE: dict[str, Any] = {"inline": True}


def _one_of(choices: tuple[str, ...], aliases: dict[str, str] | None = None) -> BeforeValidator:
    """Accept one of `choices` in any case (and the given aliases), or raise naming every choice."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        word = (aliases or {}).get(value.upper(), value)
        chosen = [choice for choice in choices if choice.casefold() == word.casefold()]
        if not chosen:
            raise ValueError(f"not one of {', '.join(choices)}")
        return chosen[0]

    return BeforeValidator(check)


def _time_of_day(value: Any) -> Any:
    """Read HH:MM (24-hour) into a time."""
    if not isinstance(value, str):
        return value
    match = _TIME_OF_DAY.match(value)
    if match is None:
        raise ValueError("not a time of day as HH:MM (24-hour, UTC)")
    return time(int(match[1]), int(match[2]))


def _url(value: str) -> str:
    """Check an http(s) URL with a host."""
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or an unbalanced IPv6 bracket
        valid = False
    if not valid:
        raise ValueError("not an http:// or https:// URL with a host")
    return value


def _server_url(value: str) -> str:
    """Check a server's http(s) URL that must not carry a password (it would show wherever the URL does)."""
    _url(value)
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL with a user name or password in it; set those as their own settings")
    return value


def _feed_url(value: SecretStr) -> SecretStr:
    """Check a feed's http(s) URL, a secret: no message repeats it."""
    if value.get_secret_value().lower().startswith(("webcal://", "webcals://")):
        raise ValueError("a webcal:// address; write it with https:// instead")
    _url(value.get_secret_value())
    return value


def _base_url(value: str) -> str:
    """Check a URL calmirror appends its own path to, and drop its trailing slash."""
    parts = urlsplit(_url(value))
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment (calmirror appends its own path)")
    return value.rstrip("/")


def _secure_url(value: str) -> str:
    """Check a URL calmirror sends credentials to: https://, or http:// to this machine only (an emulator)."""
    parts = urlsplit(_base_url(value))
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError("an http:// address of another machine; credentials go over https:// only")
    return value.rstrip("/")


def _api_root(value: str) -> str:
    """Check an API root; the discovery document's rootUrl must end in "/" or paths are glued to the host."""
    return value if _url(value).endswith("/") else value + "/"


def _email(value: str) -> str:
    """Check an address and lower its case: Google answers with lower-case calendar ids."""
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value.lower()


def _not_placeholder(value: Any) -> Any:
    """Refuse a secret copied unchanged from .env.example."""
    if isinstance(value, str) and value.startswith(PLACEHOLDER_PREFIX):
        placeholder = f"a {PLACEHOLDER_PREFIX} placeholder from .env.example, known to everyone"
        raise ValueError(f"{placeholder}; use a random key")
    return value


LogLevel = Annotated[str, _one_of(LOG_LEVELS, {"WARN": "WARNING"})]
LogFormat = Annotated[Literal["text", "json"], _one_of(LOG_FORMATS)]
MicrosoftAuth = Annotated[Literal["delegated", "app"], _one_of(MICROSOFT_AUTHS)]
TimeOfDay = Annotated[time, BeforeValidator(_time_of_day)]
Url = Annotated[str, AfterValidator(_url)]
ServerUrl = Annotated[str, AfterValidator(_server_url)]
BaseUrl = Annotated[str, AfterValidator(_base_url)]
SecureUrl = Annotated[str, AfterValidator(_secure_url)]
FeedUrl = Annotated[SecretStr, AfterValidator(_feed_url)]
ApiRoot = Annotated[str, AfterValidator(_api_root)]
Email = Annotated[str, AfterValidator(_email)]
NotPlaceholder = BeforeValidator(_not_placeholder)
Port = Annotated[int, Field(ge=0, le=65535)]
