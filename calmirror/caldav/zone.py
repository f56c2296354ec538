"""The zone a CalDAV calendar states for its floating times (RFC 4791 section 5.2.2, RFC 7809 section 5.2)."""

from __future__ import annotations

from icalendar import Calendar

from calmirror.caldav.multistatus import CALDAV, Entry

# Asked for in the PROPFIND a listing sends anyway, so knowing the zone costs no request.
ZONE_PROPERTIES = ("C:calendar-timezone", "C:calendar-timezone-id")
_TIMEZONE = CALDAV + "calendar-timezone"
_TIMEZONE_ID = CALDAV + "calendar-timezone-id"


def stated_tzid(collection: Entry | None) -> str | None:
    """Return the TZID a collection states: calendar-timezone-id, else its calendar-timezone's VTIMEZONE."""
    if collection is None:
        return None
    tzid = collection.text(_TIMEZONE_ID)
    text = collection.text(_TIMEZONE)
    if tzid is not None or text is None:
        return tzid
    try:
        timezones = Calendar.from_ical(text).walk("VTIMEZONE")
    except ValueError:
        return text[:64]  # not iCalendar: reported as an unknown zone
    found = next((str(tz["TZID"]).strip() for tz in timezones if tz.get("TZID")), "")
    return found or None
