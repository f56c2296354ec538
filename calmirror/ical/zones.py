"""The IANA zone a calendar's zone name means: IANA names as they are, Windows names (Outlook) mapped."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON


def iana_zone(tzid: str) -> str | None:
    """Return the IANA name for a TZID (IANA itself, or a Windows name), None when no zone is known."""
    for name in (tzid.strip(), WINDOWS_TO_OLSON.get(tzid.strip(), "")):
        if not name:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name
    return None
