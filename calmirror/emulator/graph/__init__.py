"""A Microsoft Graph v1.0 emulator: calendars, events, calendarView, delta, $batch and v2.0 tokens."""
