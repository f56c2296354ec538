"""Configuration from the environment: typed accounts and flows, validated all at once."""

from calmirror.config.calendars import FEED_CALENDAR_ID
from calmirror.config.loader import FROM_ENVIRON, load_settings
from calmirror.config.models import (
    Account,
    CalDavAccount,
    CalendarRef,
    Flow,
    GoogleAccount,
    IcsAccount,
    MicrosoftAccount,
    ProviderName,
    Settings,
)
from calmirror.config.policy import FlowPolicy

__all__ = [
    "FEED_CALENDAR_ID",
    "FROM_ENVIRON",
    "Account",
    "CalDavAccount",
    "CalendarRef",
    "Flow",
    "FlowPolicy",
    "GoogleAccount",
    "IcsAccount",
    "MicrosoftAccount",
    "ProviderName",
    "Settings",
    "load_settings",
]
