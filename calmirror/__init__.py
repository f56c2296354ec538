"""calmirror mirrors meetings between Google calendars as private Busy blocks."""

__version__ = "0.1.0"
