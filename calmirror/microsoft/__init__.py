"""Microsoft 365 / Outlook.com calendars through Microsoft Graph v1.0 (plain aiohttp, no SDK)."""

from calmirror.microsoft.access import GraphAccess
from calmirror.microsoft.client import GraphCalendar, GraphClient
from calmirror.microsoft.provider import MicrosoftCalendars

__all__ = ["GraphAccess", "GraphCalendar", "GraphClient", "MicrosoftCalendars"]
