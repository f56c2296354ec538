"""calmirror mirrors meetings between Google, CalDAV and ICS calendars as private Busy blocks."""

__version__ = "0.1.0"
