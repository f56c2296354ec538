"""Configuration from the environment: typed accounts and flows, validated all at once."""

from calmirror.config.loader import FROM_ENVIRON, load_settings
from calmirror.config.models import Account, CalendarRef, Flow, ProviderName, Settings
from calmirror.config.policy import FlowPolicy

__all__ = [
    "FROM_ENVIRON",
    "Account",
    "CalendarRef",
    "Flow",
    "FlowPolicy",
    "ProviderName",
    "Settings",
    "load_settings",
]
