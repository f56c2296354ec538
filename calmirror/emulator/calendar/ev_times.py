"""RFC3339 parameters and EventDateTime values: parsing, validation, rendering."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calmirror.emulator.calendar.errors import ApiError, bad_request, time_range_empty

Moment = date | datetime  # a `date` for all-day values, an aware `datetime` otherwise

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", re.IGNORECASE)


def zone(name: str) -> ZoneInfo:
    """Return the IANA zone, or raise 400 invalid for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "Europe"
        raise bad_request(f"Invalid time zone definition for start time: {name}") from None


def _parse_datetime(text: str) -> datetime | None:
    """Parse RFC3339 (offset optional); return None when malformed."""
    if not isinstance(text, str) or not _RFC3339.match(text):
        return None
    try:
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_param(value: str | None, name: str) -> datetime | None:
    """Parse timeMin/timeMax/updatedMin: RFC3339 with a mandatory offset, else 400 (events.list)."""
    if value is None:
        return None
    parsed = _parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise ApiError(400, "badRequest", "Bad Request")
    return parsed.astimezone(UTC)


def check_range(time_min: datetime | None, time_max: datetime | None) -> None:
    """Raise 400 timeRangeEmpty when timeMin >= timeMax (errors guide)."""
    if time_min is not None and time_max is not None and time_min >= time_max:
        raise time_range_empty()


def normalize_edt(edt: Any, field: str) -> dict[str, Any]:
    """Validate an EventDateTime and return its stored form (`date`, or `dateTime` with an offset)."""
    if not isinstance(edt, dict) or not (edt.get("date") or edt.get("dateTime")):
        raise ApiError(400, "required", "Missing end time." if field == "end" else "Missing start time.")
    if edt.get("date") and edt.get("dateTime"):
        raise bad_request("Invalid start time." if field == "start" else "Invalid end time.")
    tz_name = edt.get("timeZone")
    if tz_name is not None:
        zone(tz_name)
    if edt.get("date"):
        try:
            day = date.fromisoformat(edt["date"])
        except (TypeError, ValueError):
            raise bad_request(f"Invalid {field} time.") from None
        return {"date": day.isoformat()} | ({"timeZone": tz_name} if tz_name else {})
    moment = _parse_datetime(edt["dateTime"])
    if moment is None:
        raise bad_request(f"Invalid {field} time.")
    if moment.tzinfo is None:
        # "A time zone offset is required unless a time zone is explicitly specified in timeZone".
        if tz_name is None:
            raise ApiError(400, "required", "Missing time zone definition for start time.")
        moment = moment.replace(tzinfo=zone(tz_name))
    stored = {"dateTime": moment.replace(microsecond=0).isoformat()}
    return stored | ({"timeZone": tz_name} if tz_name else {})


def moment_of(edt: dict[str, Any]) -> Moment:
    """Return the stored EventDateTime as a date or an aware datetime."""
    if "date" in edt:
        return date.fromisoformat(edt["date"])
    return datetime.fromisoformat(edt["dateTime"])


def instant(moment: Moment, tz_name: str) -> datetime:
    """Return the UTC instant of a moment; all-day dates start at midnight in the calendar's zone."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC)
    return datetime.combine(moment, time(), tzinfo=zone(tz_name)).astimezone(UTC)


def span(event: dict[str, Any], tz_name: str) -> tuple[datetime, datetime]:
    """Return an event's [start, end) as UTC instants."""
    return instant(moment_of(event["start"]), tz_name), instant(moment_of(event["end"]), tz_name)


def render_edt(edt: dict[str, Any], tz_name: str) -> dict[str, Any]:
    """Render a stored EventDateTime in the response zone, whole seconds (events.list)."""
    if "dateTime" not in edt:
        return dict(edt)
    moment = datetime.fromisoformat(edt["dateTime"]).astimezone(zone(tz_name))
    return {**edt, "dateTime": moment.isoformat(timespec="seconds")}


def utc_text(moment: datetime) -> str:
    """Render an instant as `YYYY-MM-DDTHH:MM:SSZ` (freeBusy, originalStart ids)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
