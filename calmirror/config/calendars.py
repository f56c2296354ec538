"""How each provider spells a calendar id, so that one calendar has one spelling.

Two spellings of one calendar would let two planners fight over the same blocks: Google's `primary` is
spelt as its account's address, a CalDAV collection as its absolute URL with a trailing slash, an
ICS feed's only calendar as FEED_CALENDAR_ID, and a Microsoft mailbox's own calendar (`primary` or the
account's address) as `primary` (Graph's other calendar ids are case-sensitive and kept as written).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, quote, unquote, urljoin, urlsplit, urlunsplit

PRIMARY = "primary"  # Google's (and calmirror's Microsoft) name for an account's own calendar
FEED_CALENDAR_ID = "feed"  # an ICS feed is one calendar; a flow from it names it so (or leaves it out)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_calendar_url(account_url: str, value: str) -> str:
    """Return a CalDAV calendar's absolute collection URL from a path on the account's server, or a URL.

    Scheme and host are lowercased, a default port dropped, the path quoted one way and ended with "/".
    Raises ValueError naming what to fix (credentials inside a URL are refused: they belong in the
    password setting).
    """
    value = value.strip()
    if not value:
        raise ValueError("a CalDAV calendar id must be a collection path or URL, got an empty value")
    base = urlsplit(account_url)
    if base.scheme not in _DEFAULT_PORTS or not base.hostname:
        raise ValueError("a CalDAV account URL must start with https:// (or http://) and name a host")
    parts = urlsplit(urljoin(account_url, value))
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"a CalDAV calendar URL must start with https:// (or http://): {value[:80]!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "a CalDAV URL must not carry a user name or password: set them as their own settings"
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS[parts.scheme]:
        host += f":{parts.port}"
    path = quote(unquote(parts.path or "/"), safe="/@:+,;=!$&'()*~")
    if not path.endswith("/"):
        path += "/"
    return urlunsplit((parts.scheme.lower(), host, path, "", ""))


# Servers that answer at one host but keep each person's calendars on partition hosts: the account's
# host, and the pattern of the hosts that are still the same service (and get its password).
PARTITION_HOSTS = {"caldav.icloud.com": re.compile(r"p\d+-caldav\.icloud\.com")}


def on_account_server(account_url: str, calendar_url: str) -> bool:
    """Say whether a calendar URL is on the account's server, where calmirror may send its password.

    Only the account's own host counts, and the partition hosts of a service known to use them (iCloud
    answers at caldav.icloud.com and keeps calendars on pNN-caldav.icloud.com); a host that merely
    shares a domain (another customer of a shared host) never does, and an https:// account's password
    never goes to an http:// address.
    """
    account, calendar = urlsplit(account_url), urlsplit(calendar_url)
    host, other = (account.hostname or "").lower(), (calendar.hostname or "").lower()
    partition = PARTITION_HOSTS.get(host)
    same = other == host or (partition is not None and partition.fullmatch(other) is not None)
    same_port = _port(account) == _port(calendar)
    return same and same_port and not (account.scheme == "https" and calendar.scheme != "https")


def _port(parts: SplitResult) -> int | None:
    """Return the port a URL reaches: its own, else its scheme's default."""
    return parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())


def spelt(provider: str, account: Mapping[str, Any], calendar_id: Any) -> Any:
    """Return a raw calendar id in its one spelling for an account of `provider` (raw, unvalidated input)."""
    if provider == "ics" and calendar_id is None:
        return FEED_CALENDAR_ID
    if not isinstance(calendar_id, str):
        return calendar_id
    email, url = account.get("email"), account.get("url")
    if provider == "google" and calendar_id == PRIMARY and isinstance(email, str):
        return email.lower()
    if provider == "microsoft" and calendar_id.casefold() in (PRIMARY, str(email).casefold()):
        return PRIMARY
    if provider == "caldav" and calendar_id != PRIMARY and isinstance(url, str):
        try:
            return normalise_calendar_url(url, calendar_id)
        except ValueError:
            return calendar_id  # the account's URL is reported as not a URL
    return calendar_id


def shown_address(value: str) -> str:
    """Return an address as it may be shown when it may carry a token: its scheme and host, then "…"."""
    parts = urlsplit(value.strip())
    if not parts.scheme or not parts.netloc:
        return "…"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"
