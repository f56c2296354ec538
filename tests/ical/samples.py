"""Sample iCalendar feeds as Google, Outlook and hand-written generators publish them, for the tests."""

from __future__ import annotations


def calendar(*events: str, head: str = "") -> str:
    """Wrap VEVENT bodies (and optional VTIMEZONEs) into a VCALENDAR with CRLF lines."""
    body = "".join(f"BEGIN:VEVENT\n{event.strip()}\nEND:VEVENT\n" for event in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//test//EN\n{head}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n")


BERLIN = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
X-LIC-LOCATION:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""

# As Google's "secret address in iCal format" export writes it: a weekly series with one instance
# moved (override) and one deleted (EXDATE), and a meeting with a room and the owner's answer.
GOOGLE_FEED = calendar(
    """
DTSTART;TZID=Europe/Berlin:20261201T100000
DTEND;TZID=Europe/Berlin:20261201T103000
RRULE:FREQ=WEEKLY;BYDAY=TU
EXDATE;TZID=Europe/Berlin:20261215T100000
DTSTAMP:20261206T120000Z
UID:weekly123@google.com
CREATED:20261101T080000Z
LAST-MODIFIED:20261105T080000Z
SUMMARY:Weekly sync
ORGANIZER;CN=Boss:mailto:Boss@Example.com
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=me:mailto:me@example.com
ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION:mailto:boss@example.com
ATTENDEE;CUTYPE=RESOURCE;PARTSTAT=ACCEPTED;CN=Room 1:mailto:room1@resource.calendar.google.com
STATUS:CONFIRMED
TRANSP:OPAQUE
""",
    """
DTSTART;TZID=Europe/Berlin:20261208T150000
DTEND;TZID=Europe/Berlin:20261208T153000
DTSTAMP:20261206T120000Z
UID:weekly123@google.com
RECURRENCE-ID;TZID=Europe/Berlin:20261208T100000
LAST-MODIFIED:20261106T080000Z
SUMMARY:Weekly sync (moved)
STATUS:CONFIRMED
""",
    """
DTSTART:20261203T090000Z
DTEND:20261203T100000Z
DTSTAMP:20261206T120000Z
UID:solo@google.com
SUMMARY:Focus
TRANSP:TRANSPARENT
STATUS:TENTATIVE
""",
    """
DTSTART:20261204T090000Z
DTEND:20261204T100000Z
DTSTAMP:20261206T120000Z
UID:gone@google.com
STATUS:CANCELLED
""",
    head="X-WR-CALNAME:me@example.com\nX-WR-TIMEZONE:Europe/Berlin\n" + BERLIN,
)


# As Outlook publishes a calendar: Windows zone names without a VTIMEZONE, and its own busy status.
OUTLOOK_FEED = calendar(
    """
UID:040000008200E00074C5B7101A82E00800000000
DTSTART;TZID=Eastern Standard Time:20261202T090000
DTEND;TZID=Eastern Standard Time:20261202T100000
SUMMARY:Board review
X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE
ORGANIZER;CN=Chair:mailto:chair@example.org
ATTENDEE;PARTSTAT=ACCEPTED:mailto:ME@example.com
""",
    """
UID:free-one
DTSTART;TZID=W. Europe Standard Time:20261202T090000
DTEND;TZID=W. Europe Standard Time:20261202T100000
X-MICROSOFT-CDO-BUSYSTATUS:FREE
""",
    """
UID:oof-one
DTSTART;TZID=W. Europe Standard Time:20261203T090000
DTEND;TZID=W. Europe Standard Time:20261203T100000
TRANSP:TRANSPARENT
X-MICROSOFT-CDO-BUSYSTATUS:OOF
""",
    """
UID:tentative-alone
DTSTART;TZID=W. Europe Standard Time:20261204T090000
DTEND;TZID=W. Europe Standard Time:20261204T100000
ORGANIZER:mailto:chair@example.org
X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE
""",
)
