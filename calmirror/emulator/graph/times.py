"""Graph's dateTimeTimeZone values: parsing them to UTC, rendering them in a zone, and `Prefer` time zones."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calmirror.emulator.graph.errors import invalid_request

# The Windows zone names Outlook uses most, to IANA (CLDR windowsZones.xml); IANA names work as they are.
WINDOWS_ZONES = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "Tokyo Standard Time": "Asia/Tokyo",
    "India Standard Time": "Asia/Kolkata",
    "AUS Eastern Standard Time": "Australia/Sydney",
}
PREFER_ZONE = re.compile(r'outlook\.timezone="([^"]+)"')


def zone(name: str) -> tzinfo:
    """The time zone a Graph `timeZone` names (a Windows or an IANA name)."""
    try:
        return ZoneInfo(WINDOWS_ZONES.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid_request(f"'{name}' is not a time zone the emulator knows") from None


def parse_local(text: str) -> datetime:
    """A naive `dateTime` such as `2026-12-07T10:00:00` or `...10:00:00.0000000` (7 fraction digits)."""
    head, _, fraction = text.partition(".")
    try:
        value = datetime.fromisoformat(head)
    except ValueError:
        raise invalid_request(f"'{text}' is not a dateTime") from None
    if value.tzinfo is not None or (fraction and not fraction.isdigit()):
        raise invalid_request(f"'{text}' is not a dateTime: it must not carry an offset")
    return value


def to_utc(value: object) -> datetime:
    """The UTC instant of a dateTimeTimeZone object from a request body."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise invalid_request("start and end must be dateTimeTimeZone objects with a dateTime")
    name = value.get("timeZone") or "UTC"
    if not isinstance(name, str):
        raise invalid_request("timeZone must be a string")
    return parse_local(value["dateTime"]).replace(tzinfo=zone(name)).astimezone(UTC)


def render(instant: datetime, zone_name: str) -> dict[str, str]:
    """The dateTimeTimeZone Graph answers for an instant in the requested zone (7 fraction digits)."""
    local = instant.astimezone(zone(zone_name)).replace(tzinfo=None)
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S") + ".0000000", "timeZone": zone_name}


def preferred_zone(prefer: str | None) -> str:
    """The zone of `Prefer: outlook.timezone="..."`; Graph answers in UTC without one."""
    match = PREFER_ZONE.search(prefer or "")
    if match is None:
        return "UTC"
    zone(match.group(1))  # refuse an unknown zone before answering
    return match.group(1)


def parse_query_instant(text: str, name: str) -> datetime:
    """A calendarView bound (`2026-12-07T00:00:00Z`, with an offset, or naive meaning UTC)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_request(f"{name} '{text}' is not an ISO 8601 date and time") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stamp(instant: datetime) -> str:
    """An Edm.DateTimeOffset as Graph writes it (`2026-12-07T10:00:00.1234567Z`)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
