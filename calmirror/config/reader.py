"""Collecting problems and warnings, each naming its variable and showing its value unless it is a secret."""

from __future__ import annotations

from collections.abc import Mapping

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

    def problem(self, name: str, message: str) -> None:
        """Record that variable `name` is wrong."""
        self.named.add(name)
        self.problems.append(f"{self.label(name)}: {message}")

    def warn(self, name: str, message: str) -> None:
        """Record that variable `name` is suspicious but usable."""
        self.warnings.append(f"{self.label(name)}: {message}")

    def text(self, name: str) -> str | None:
        """Return the raw value, or None when unset."""
        return self.values.get(name)
