"""One spelling per calendar: a collection's absolute URL, built from the account's server and a path."""

from __future__ import annotations

from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_calendar_url(account_url: str, value: str) -> str:
    """Return a calendar's absolute collection URL from a path on the account's server, or a full URL.

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


def collection_url(calendar_id: str) -> str:
    """Return a calendar id (an absolute collection URL) ending with "/", so members join under it."""
    return calendar_id if calendar_id.endswith("/") else calendar_id + "/"


def absolute(base_url: str, path: str) -> str:
    """Return the URL of an unquoted resource path on the server of `base_url`."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, quote(path, safe="/@:+,;=!$&'()*~"), "", ""))
