"""A flow's policy: which meetings get a block, parsed once from SYNC_FLOW_<N>_* text (docs/design.md §2.5).

Every field reads the text a user writes (`mon-fri`, `09:00-17:00`, `Europe/Berlin`, a regular
expression) and keeps the parsed value, so the engine's filters only compare. A field's name is its
variable's suffix in lower case (`time_zone` is SYNC_FLOW_<N>_TIME_ZONE).
"""

from __future__ import annotations

import difflib
import re
from datetime import time
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, Field, field_validator, model_validator

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # index = date.weekday()
ALL_DAYS = frozenset(range(7))
UTC_ZONE = ZoneInfo("UTC")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_DAYS_HELP = "use mon, tue, wed, thu, fri, sat, sun, lists (mon,wed,fri) and ranges (mon-fri)"
_HOURS_HELP = (
    "use HH:MM-HH:MM with times from 00:00 to 23:59, e.g. 09:00-17:00 (22:00-06:00 runs past midnight)"
)
Weekday = Annotated[int, Field(ge=0, le=6)]  # Monday is 0, as date.weekday() counts


def _day(word: str) -> int:
    """Return the weekday number of `mon` or `monday` (any case); raise ValueError otherwise."""
    word = word.strip().lower()
    for number, full in enumerate(_FULL_NAMES):
        if word in (full, full[:3]):
            return number
    what = repr(word) if word else "an empty entry"
    raise ValueError(f"{what} is not a day; {_DAYS_HELP}")


def parse_days(text: str) -> frozenset[int]:
    """Read `mon-fri`, `mon,wed,fri` or `sat-sun`; a range such as `sun-thu` wraps past Sunday."""
    days: set[int] = set()
    for item in text.split(","):
        first, dash, last = item.partition("-")
        start = _day(first)
        end = _day(last) if dash else start
        days.update((start + step) % 7 for step in range((end - start) % 7 + 1))
    return frozenset(days)


def days_text(days: frozenset[int]) -> str:
    """Return the days as a person writes them: `Mon-Fri`, `Mon, Wed, Fri`, `every day`."""
    if days == ALL_DAYS:
        return "every day"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(DAY_NAMES[run[0]] + (f"-{DAY_NAMES[run[-1]]}" if len(run) > 1 else "") for run in runs)


@cache
def _zone_names() -> tuple[str, ...]:
    """Return the IANA zone names this system knows (read once, only to suggest a spelling)."""
    return tuple(sorted(available_timezones()))


def parse_zone(name: str) -> ZoneInfo:
    """Return the IANA zone `name`; raise ValueError naming a close spelling when there is one."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name.strip(), _zone_names(), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(f"not an IANA time zone such as Europe/Berlin or America/New_York{hint}") from None


class WorkingHours(BaseModel, frozen=True):
    """The hours of a working day; `end` before `start` runs past midnight into the next day."""

    start: time
    end: time

    @model_validator(mode="after")
    def _not_empty(self) -> WorkingHours:
        """Refuse a window that starts where it ends: it would mean no time or all of it."""
        if self.start == self.end:
            raise ValueError(f"starts where it ends; leave it unset for the whole day, or {_HOURS_HELP}")
        return self

    @property
    def overnight(self) -> bool:
        """Tell whether the window runs past midnight (it belongs to the day it starts)."""
        return self.end < self.start

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_hours(text: str) -> dict[str, time]:
    """Read `HH:MM-HH:MM` into the start and end of a WorkingHours; raise ValueError when malformed."""
    match = _HOURS.match(text.strip())
    numbers = [int(part) for part in match.groups()] if match else []
    if not numbers or max(numbers[0], numbers[2]) > 23 or max(numbers[1], numbers[3]) > 59:
        raise ValueError(f"not a time range; {_HOURS_HELP}")
    return {"start": time(numbers[0], numbers[1]), "end": time(numbers[2], numbers[3])}


class FlowPolicy(BaseModel, frozen=True):
    """Which meetings of a flow's source get a block, beyond the fixed rules (defaults: all of them)."""

    unanswered: Literal["busy", "skip"] = Field(default="busy", description="invitations not answered")
    tentative: Literal["busy", "skip"] = Field(default="busy", description="meetings accepted tentatively")
    days: frozenset[Weekday] = Field(default=ALL_DAYS, min_length=1, description="the days meetings count on")
    hours: WorkingHours | None = Field(  # None: the whole of each included day
        default=None, description="the hours of those days meetings count in"
    )
    time_zone: ZoneInfo = Field(default=UTC_ZONE, description="the zone DAYS and HOURS are read in")
    all_day: Literal["block", "skip"] = Field(default="block", description="all-day meetings")
    skip_title_regex: re.Pattern[str] | None = Field(  # searched case-insensitively
        default=None, description="titles that get no block"
    )

    @field_validator("unanswered", "tentative", "all_day", mode="before")
    @classmethod
    def _word(cls, value: Any) -> Any:
        """Accept the choices in any case."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        """Read day text such as `mon-fri`."""
        return parse_days(value) if isinstance(value, str) else value

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        """Read `HH:MM-HH:MM`."""
        return parse_hours(value) if isinstance(value, str) else value

    @field_validator("time_zone", mode="before")
    @classmethod
    def _zone(cls, value: Any) -> Any:
        """Read an IANA zone name."""
        return parse_zone(value) if isinstance(value, str) else value

    @field_validator("skip_title_regex", mode="before")
    @classmethod
    def _pattern(cls, value: Any) -> Any:
        """Compile the pattern once, case-insensitive."""
        if not isinstance(value, str):
            return value
        try:
            return re.compile(value, re.IGNORECASE)
        except re.error as error:
            raise ValueError(f"not a Python regular expression ({error})") from None

    @property
    def limits_time(self) -> bool:
        """Tell whether DAYS or HOURS leave out any time at all."""
        return self.days != ALL_DAYS or self.hours is not None

    def working_time(self) -> str:
        """Return the flow's working time as `Mon-Fri 09:00-17:00 America/New_York`."""
        days = "" if self.hours is not None and self.days == ALL_DAYS else days_text(self.days) + " "
        hours = f"{self.hours} " if self.hours is not None else ""
        return f"{days}{hours}{self.time_zone.key}"

    def describe(self) -> str:
        """Return the policy in one line, for `calmirror check-config`."""
        pattern = self.skip_title_regex
        return ", ".join(
            (
                f"unanswered {self.unanswered}",
                f"tentative {self.tentative}",
                "any time" if not self.limits_time else f"only {self.working_time()}",
                f"all-day {self.all_day}",
                "no title skipped" if pattern is None else f"skip titles matching '{pattern.pattern}'",
            )
        )
