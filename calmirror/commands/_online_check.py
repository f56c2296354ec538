"""What `check-config --online` found, one way for every provider: problems, the unasked, listings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OnlineCheck:
    """Problems in the configuration, accounts that could not be asked, and lines to show (listings)."""

    problems: tuple[str, ...]
    unreachable: tuple[str, ...]
    lines: tuple[str, ...] = ()

    def __add__(self, other: OnlineCheck) -> OnlineCheck:
        """Return both findings, this one's first."""
        return OnlineCheck(
            self.problems + other.problems, self.unreachable + other.unreachable, self.lines + other.lines
        )
