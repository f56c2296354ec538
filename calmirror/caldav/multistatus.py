"""Read a WebDAV multistatus answer: one entry per resource, with its status and its found properties."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"


@dataclass(frozen=True)
class Entry:
    """One DAV:response: the resource's path (unquoted), its status and its properties answered 200."""

    path: str
    status: int = 200
    props: dict[str, Any] = field(default_factory=dict)  # Clark name -> lxml element

    def text(self, name: str) -> str | None:
        """Return a property's text, None when it is missing or empty."""
        element = self.props.get(name)
        text = element.text if element is not None else None
        return text.strip() if isinstance(text, str) and text.strip() else None

    @property
    def etag(self) -> str | None:
        """Return the resource's ETag."""
        return self.text(DAV + "getetag")

    @property
    def calendar_data(self) -> str | None:
        """Return the resource's iCalendar data."""
        element = self.props.get(CALDAV + "calendar-data")
        text = element.text if element is not None else None
        return text if isinstance(text, str) and text.strip() else None


def normal_path(href: str) -> str:
    """Return an href (path or absolute URL) as an unquoted path: one spelling per resource."""
    return unquote(urlsplit(href).path)


def status_code(text: str | None) -> int:
    """Return the code of an "HTTP/1.1 200 OK" status line (200 when absent or unreadable)."""
    parts = (text or "").split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 200


def entries(tree: Any) -> list[Entry]:
    """Return every DAV:response of a multistatus tree (caldav's parsed lxml root)."""
    if tree is None:
        return []
    found = []
    for response in tree.iter(DAV + "response"):
        href = response.findtext(DAV + "href")
        if not href:
            continue
        props: dict[str, Any] = {}
        for propstat in response.findall(DAV + "propstat"):
            if status_code(propstat.findtext(DAV + "status")) != 200:
                continue
            for prop in propstat.findall(DAV + "prop"):
                props.update((child.tag, child) for child in prop if isinstance(child.tag, str))
        found.append(Entry(normal_path(href.strip()), status_code(response.findtext(DAV + "status")), props))
    return found


def sync_token(tree: Any) -> str | None:
    """Return the multistatus's top-level DAV:sync-token (a sync-collection answer)."""
    if tree is None:
        return None
    text = tree.findtext(DAV + "sync-token")
    return text.strip() if isinstance(text, str) and text.strip() else None
