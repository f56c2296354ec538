"""The URLs of a CalDAV calendar's members, from its id (an absolute collection URL)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit


def collection_url(calendar_id: str) -> str:
    """Return a calendar id (an absolute collection URL) ending with "/", so members join under it."""
    return calendar_id if calendar_id.endswith("/") else calendar_id + "/"


def absolute(base_url: str, path: str) -> str:
    """Return the URL of an unquoted resource path on the server of `base_url`."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, quote(path, safe="/@:+,;=!$&'()*~"), "", ""))


def block_url(calendar_id: str, block_id: str) -> str:
    """Return the address of a block's resource: `{collection}/{block id}.ics`."""
    return collection_url(calendar_id) + quote(f"{block_id}.ics", safe="")
