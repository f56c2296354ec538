"""Expansion of RRULE/RDATE/EXDATE recurrences into instances, DST-correct in start.timeZone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dateutil.rrule import rrulestr

from calmirror.emulator.calendar.errors import ApiError, bad_request
from calmirror.emulator.calendar.ev_times import Moment, moment_of, zone
from calmirror.emulator.calendar.store import Store

MAX_INSTANCES = 2500  # per series and query; keeps every store call fast
KINDS = ("RRULE", "EXRULE", "RDATE", "EXDATE")  # EXRULE is accepted and not expanded (docs/emulator.md)
_DATE_VALUE = re.compile(r"^\d{8}(T\d{6}Z?)?$")  # RFC 5545 DATE or DATE-TIME
_UNTIL = re.compile(r"UNTIL=([0-9TZ]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Occurrence:
    """One generated instance: Google's instance id and its original start/end."""

    instance_id: str
    start: Moment  # aware datetime in the series' zone, or a date for all-day series
    end: Moment


def instance_id(parent_id: str, start: Moment) -> str:
    """Return `<parent>_<YYYYMMDDTHHMMSSZ>` (timed, UTC) or `<parent>_<YYYYMMDD>` (all-day)."""
    if isinstance(start, datetime):
        return f"{parent_id}_{start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return f"{parent_id}_{start:%Y%m%d}"


def series_zone(parent: dict[str, Any], calendar_tz: str) -> str:
    """Return the zone a series expands in: its start.timeZone, else the calendar's (discovery doc)."""
    tz: str = parent["start"].get("timeZone") or calendar_tz
    return tz


def is_open_ended(parent: dict[str, Any]) -> bool:
    """Whether a series has an RRULE without COUNT or UNTIL, so it never ends (RFC 5545)."""
    rules = [line.upper() for line in parent.get("recurrence") or () if line.upper().startswith("RRULE")]
    return any("COUNT=" not in rule and "UNTIL=" not in rule for rule in rules)


def _between(rule: Any, lo: datetime, hi: datetime) -> list[datetime]:
    """Return the rule's first MAX_INSTANCES starts with lo <= start <= hi, without walking past hi."""
    found: list[datetime] = []
    for start in rule.xafter(lo, inc=True):
        if start > hi or len(found) >= MAX_INSTANCES:
            break
        found.append(start)
    return found


def _fix_until(line: str, all_day: bool, tz_name: str) -> str:
    """Rewrite UNTIL so dateutil accepts it: UTC for timed series, floating for all-day ones (RFC 5545)."""

    def repl(match: re.Match[str]) -> str:
        value = match.group(1).upper()
        if all_day:
            return f"UNTIL={value.rstrip('Z')}"
        if value.endswith("Z"):
            return f"UNTIL={value}"
        local = datetime.strptime(value[:8] + "+0000", "%Y%m%d%z").replace(tzinfo=None) + timedelta(
            days=1, seconds=-1
        )
        if len(value) > 8:
            local = datetime.strptime(value + "+0000", "%Y%m%dT%H%M%S%z").replace(tzinfo=None)
        aware = local.replace(tzinfo=zone(tz_name)).astimezone(UTC)
        return f"UNTIL={aware:%Y%m%dT%H%M%SZ}"

    return _UNTIL.sub(repl, line)


def _dates(line: str, dtstart: datetime, all_day: bool, tz_name: str) -> list[datetime]:
    """Parse the values of an RDATE/EXDATE line into datetimes comparable with the series' starts."""
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    tz = zone(params.get("TZID", tz_name))
    found = []
    for raw in filter(None, (v.strip().upper() for v in values.split(","))):
        if not _DATE_VALUE.match(raw):
            raise ValueError(line)
        if len(raw) == 8:
            day = datetime.strptime(raw + "+0000", "%Y%m%d%z").replace(tzinfo=None)
            moment = day if all_day else datetime.combine(day.date(), dtstart.timetz())
        elif raw.endswith("Z"):
            moment = datetime.strptime(raw[:-1] + "+0000", "%Y%m%dT%H%M%S%z")
            moment = moment.replace(tzinfo=None) if all_day else moment.astimezone(tz)
        else:
            moment = datetime.strptime(raw + "+0000", "%Y%m%dT%H%M%S%z").replace(tzinfo=None)
            moment = moment if all_day else moment.replace(tzinfo=tz)
        found.append(moment)
    return found


def _check_rule(line: str) -> None:
    """Raise ValueError for what dateutil would accept but RFC 5545 forbids (bad COUNT, COUNT and UNTIL)."""
    parts = [p.partition("=") for p in line.partition(":")[2].upper().split(";")]
    keys = [key for key, _, _ in parts]
    values = {key: value for key, _, value in parts}
    if len(set(keys)) != len(keys) or "FREQ" not in values or ("COUNT" in values and "UNTIL" in values):
        raise ValueError(line)
    for key in ("COUNT", "INTERVAL"):
        if key in values and not (values[key].isdigit() and int(values[key]) > 0):
            raise ValueError(line)


def _parse(line: str, dtstart: datetime, all_day: bool, tz_name: str) -> tuple[str, Any]:
    """Parse one recurrence line into (kind, rule or dates); ValueError when it is not valid."""
    name = line.split(":", 1)[0].split(";", 1)[0].upper()
    if ":" not in line or name not in KINDS:
        raise ValueError(line)
    if name in ("RDATE", "EXDATE"):
        return name, _dates(line, dtstart, all_day, tz_name)
    _check_rule(line)
    rule = "RRULE" + line[len(name) :]  # EXRULE has RRULE's syntax
    try:
        return name, rrulestr(_fix_until(rule, all_day, tz_name), dtstart=dtstart)
    except TypeError as error:
        raise ValueError(line) from error


def _dtstart(parent: dict[str, Any], tz_name: str) -> tuple[datetime, bool]:
    """Return the series' first start (aware, or naive midnight for all-day) and whether it is all-day."""
    first = moment_of(parent["start"])
    if isinstance(first, datetime):
        return first.astimezone(zone(tz_name)), False
    return datetime.combine(first, time()), True


def check_recurrence(event: dict[str, Any]) -> None:
    """Raise 400 invalid "Invalid recurrence rule." unless every line parses as expansion reads it."""
    tz_name = series_zone(event, "UTC")
    try:
        dtstart, all_day = _dtstart(event, tz_name)
        for line in event.get("recurrence") or ():
            _parse(line, dtstart, all_day, tz_name)
    except (ValueError, ApiError):
        raise bad_request("Invalid recurrence rule.", location="recurrence") from None


def _starts(parent: dict[str, Any], tz_name: str, lo: datetime, hi: datetime) -> list[datetime]:
    """Return the series' start datetimes (aware, or naive for all-day) with lo <= start <= hi."""
    dtstart, all_day = _dtstart(parent, tz_name)
    starts: set[datetime] = set()
    excluded: set[datetime] = set()
    for line in parent.get("recurrence") or ():
        try:
            kind, parsed = _parse(line, dtstart, all_day, tz_name)
        except (ValueError, ApiError):
            continue  # refused on write; skipped here so no stored line can ever fail a listing
        if kind == "RRULE":
            starts.update(_between(parsed, lo, hi))
        elif kind == "RDATE":
            starts.update(d for d in parsed if lo <= d <= hi)
        elif kind == "EXDATE":
            excluded.update(parsed)
    # aware datetimes compare by instant, so an EXDATE in UTC removes the local occurrence
    return sorted(s for s in starts if s not in excluded)[:MAX_INSTANCES]


def expand(
    parent: dict[str, Any], calendar_tz: str, lo: datetime, hi: datetime, store: Store
) -> tuple[Occurrence, ...]:
    """Return the occurrences overlapping [lo, hi) (UTC), cached per event version and window."""
    key = ("expand", parent["id"], parent.get("etag"), calendar_tz, lo, hi)
    return store.memo(key, lambda: _expand(parent, calendar_tz, lo, hi))


def _expand(parent: dict[str, Any], calendar_tz: str, lo: datetime, hi: datetime) -> tuple[Occurrence, ...]:
    """Compute the occurrences overlapping [lo, hi)."""
    tz_name = series_zone(parent, calendar_tz)
    first, last = moment_of(parent["start"]), moment_of(parent["end"])
    if isinstance(first, datetime) and isinstance(last, datetime):
        duration = last - first
        found = _starts(parent, tz_name, lo - duration, hi)
        return tuple(
            Occurrence(instance_id(parent["id"], s), s, (s.astimezone(UTC) + duration).astimezone(s.tzinfo))
            for s in found
            if s.astimezone(UTC) + duration > lo and s < hi
        )
    days = last - first
    local = zone(calendar_tz)
    lo_local = lo.astimezone(local).replace(tzinfo=None) - days
    hi_local = hi.astimezone(local).replace(tzinfo=None)
    occurrences = []
    for s in _starts(parent, tz_name, lo_local.replace(hour=0, minute=0, second=0), hi_local):
        day: date = s.date()
        end_local = datetime.combine(day + days, time())
        if end_local > lo_local + days and s < hi_local:
            occurrences.append(Occurrence(instance_id(parent["id"], day), day, day + days))
    return tuple(occurrences)
