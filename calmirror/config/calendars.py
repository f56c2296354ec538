"""How each provider spells a calendar id, so that one calendar has one spelling.

Two spellings of one calendar would let two planners fight over the same blocks: Google's `primary` is
spelt as its account's address, a CalDAV collection as its absolute URL with a trailing slash, and an
ICS feed's only calendar as FEED_CALENDAR_ID.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

PRIMARY = "primary"  # Google's name for an account's own calendar
FEED_CALENDAR_ID = "feed"  # an ICS feed is one calendar; a flow from it names it so (or leaves it out)


def caldav_calendar_url(account_url: str, calendar_id: str) -> str:
    """Return a CalDAV collection's absolute URL ending in "/"; a path is resolved on the account's server.

    Raises ValueError when either is not a URL (an unbalanced IPv6 bracket).
    """
    parts = urlsplit(urljoin(account_url, calendar_id))
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _site(host: str) -> str:
    """Return the domain whose hosts count as one server: caldav.icloud.com -> icloud.com."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.split(".")
        return ".".join(labels[1:]) if len(labels) > 2 else host  # example.com stays whole
    return host  # an IP address is its own site


def on_account_server(account_url: str, calendar_url: str) -> bool:
    """Say whether a calendar URL is on the account's server, where calmirror may send its password.

    iCloud answers at caldav.icloud.com but keeps each person's calendars on a partition host such as
    p42-caldav.icloud.com, so a host of the same domain counts as the account's server; no other does,
    and an https:// account's password never goes to an http:// address.
    """
    account, calendar = urlsplit(account_url), urlsplit(calendar_url)
    host, other = (account.hostname or "").lower(), (calendar.hostname or "").lower()
    site = _site(host)
    sibling = site != host and (other == site or other.endswith("." + site))
    return (other == host or sibling) and not (account.scheme == "https" and calendar.scheme != "https")


def spelt(provider: str, account: Mapping[str, Any], calendar_id: Any) -> Any:
    """Return a raw calendar id in its one spelling for an account of `provider` (raw, unvalidated input)."""
    if provider == "ics" and calendar_id is None:
        return FEED_CALENDAR_ID
    if not isinstance(calendar_id, str):
        return calendar_id
    email, url = account.get("email"), account.get("url")
    if provider == "google" and calendar_id == PRIMARY and isinstance(email, str):
        return email.lower()
    if provider == "caldav" and calendar_id != PRIMARY and isinstance(url, str):
        try:
            return caldav_calendar_url(url, calendar_id)
        except ValueError:
            return calendar_id  # the account's URL is reported as not a URL
    return calendar_id
