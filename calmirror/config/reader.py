"""Typed reads of raw variables that record a problem naming the variable instead of raising."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from urllib.parse import urlsplit

from calmirror.config.names import is_secret

_TIME_OF_DAY = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_SHOWN_LENGTH = 80


class Reader:
    """Reads variables from one merged mapping and collects every problem, each naming its variable."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def label(self, name: str) -> str:
        """Return `NAME=value` for a set, non-secret variable, else just `NAME`."""
        value = self.values.get(name)
        if value is None or is_secret(name):
            return name
        shown = value if len(value) <= _SHOWN_LENGTH else value[:_SHOWN_LENGTH] + "..."
        return f"{name}={shown}"

    def problem(self, name: str, message: str) -> None:
        """Record that variable `name` is wrong."""
        self.problems.append(f"{self.label(name)}: {message}")

    def warn(self, name: str, message: str) -> None:
        """Record that variable `name` is suspicious but usable."""
        self.warnings.append(f"{self.label(name)}: {message}")

    def text(self, name: str, *, required: bool = False, what: str = "") -> str | None:
        """Return the value, or None (recording a problem when it is required)."""
        value = self.values.get(name)
        if value is None and required:
            self.problems.append(f"{name}: missing{f' ({what})' if what else ''}")
        return value

    def integer(self, name: str, default: int | None, minimum: int, maximum: int | None = None) -> int | None:
        """Return a whole number within [minimum, maximum], the default when unset, or None when bad."""
        raw = self.values.get(name)
        if raw is None:
            if default is None:
                self.problem(name, "missing")
            return default
        if not _INTEGER.match(raw):
            self.problem(name, "not a whole number")
            return None
        number = int(raw)
        if number < minimum or (maximum is not None and number > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            self.problem(name, f"must be at least {minimum}{upper}")
            return None
        return number

    def time_of_day(self, name: str, default: time) -> time | None:
        """Return an HH:MM (24-hour, UTC) time, the default when unset, or None when bad."""
        raw = self.values.get(name)
        if raw is None:
            return default
        match = _TIME_OF_DAY.match(raw)
        if match is None:
            self.problem(name, "not a time of day as HH:MM (24-hour, UTC)")
            return None
        return time(int(match[1]), int(match[2]))

    def url(self, name: str, default: str | None, *, base: bool = False) -> str | None:
        """Return an http(s) URL with a host, the default when unset, or None when bad."""
        raw = self.values.get(name)
        if raw is None:
            return default
        try:
            parts = urlsplit(raw)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a bad port or an unbalanced IPv6 bracket
            valid = False
        if not valid:
            self.problem(name, "not an http:// or https:// URL with a host")
            return None
        if base and (parts.query or parts.fragment):
            self.problem(name, "must not have a query or fragment (calmirror appends its own path)")
            return None
        return raw
