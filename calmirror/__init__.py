"""calmirror mirrors meetings between Google, Microsoft 365, CalDAV and ICS calendars as Busy blocks."""

__version__ = "0.1.0"
