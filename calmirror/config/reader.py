"""Collecting problems and warnings, each naming its variable and showing its value unless it is a secret."""

from __future__ import annotations

from collections.abc import Mapping

from calmirror.config.calendars import shown_address
from calmirror.config.names import is_secret

_SHOWN_LENGTH = 80


class Reader:
    """Looks up raw variables in one merged mapping and collects every problem, each naming its variable."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.named: set[str] = set()  # the variables a problem names already, so none is named twice

    def label(self, name: str) -> str:
        """Return `NAME=value` for a set, non-secret variable, else just `NAME`."""
        value = self.values.get(name)
        if value is None or is_secret(name):
            return name
        shown = value if len(value) <= _SHOWN_LENGTH else value[:_SHOWN_LENGTH] + "..."
        return f"{name}={shown}"

    def problem(self, name: str, message: str, *, masked: bool = False) -> None:
        """Record that variable `name` is wrong; `masked` shows a URL as its scheme and host."""
        self.named.add(name)
        label = self.label(name)
        value = self.values.get(name)
        if masked and value is not None and label != name and "://" in value:
            label = f"{name}={shown_address(value)}"
        self.problems.append(f"{label}: {message}")

    def warn(self, name: str, message: str) -> None:
        """Record that variable `name` is suspicious but usable."""
        self.warnings.append(f"{self.label(name)}: {message}")

    def text(self, name: str) -> str | None:
        """Return the raw value, or None when unset."""
        return self.values.get(name)
