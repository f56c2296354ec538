"""Configuration from the environment: typed accounts and flows, validated all at once."""

from calmirror.config.loader import FROM_ENVIRON, load_settings
from calmirror.config.models import Account, CalendarRef, Flow, Settings

__all__ = ["FROM_ENVIRON", "Account", "CalendarRef", "Flow", "Settings", "load_settings"]
