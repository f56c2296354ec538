"""Find an account's calendars: principal -> calendar-home-set -> its calendar collections (RFC 4791 s6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calmirror.caldav import bodies
from calmirror.caldav.multistatus import CALDAV, DAV, Entry, entries, normal_path
from calmirror.caldav.urls import absolute, collection_url
from calmirror.caldav.wire import DavWire

_READ = frozenset({"read", "all"})
_WRITE = frozenset({"write", "write-content", "all"})


@dataclass(frozen=True)
class DavCalendar:
    """One calendar collection of an account: its URL (the calendar id), name and the account's rights."""

    url: str
    name: str
    can_read: bool
    can_write: bool


async def list_calendars(wire: DavWire, account_url: str) -> list[DavCalendar]:
    """Return the account's calendar collections.

    Only Depth 0 PROPFINDs go to the principal (iCloud refuses Depth 1 there); Depth 1 lists the home.
    """
    principal = await _href_property(wire, account_url, "D:current-user-principal") or account_url
    homes = await _href_property(wire, principal, "C:calendar-home-set")
    home = collection_url(homes or principal)
    body = bodies.propfind("D:resourcetype", "D:displayname", "D:current-user-privilege-set")
    answer = await wire.send("discover", "PROPFIND", home, body, {"Depth": "1"})
    return [_calendar(home, entry) for entry in entries(answer.response.tree) if _is_calendar(entry)]


async def _href_property(wire: DavWire, url: str, prop: str) -> str | None:
    """Return the absolute URL an href-valued property of `url` names, None when it has none."""
    answer = await wire.send("discover", "PROPFIND", url, bodies.propfind(prop), {"Depth": "0"})
    name = (DAV if prop.startswith("D:") else CALDAV) + prop.split(":", 1)[1]
    for entry in entries(answer.response.tree):
        element = entry.props.get(name)
        href = element.findtext(DAV + "href") if element is not None else None
        if href and href.strip():
            return absolute(url, normal_path(href.strip()))
    return None


def _is_calendar(entry: Entry) -> bool:
    """Tell whether a listed resource is a calendar collection."""
    kind = entry.props.get(DAV + "resourcetype")
    return kind is not None and kind.find(CALDAV + "calendar") is not None


def _calendar(home: str, entry: Entry) -> DavCalendar:
    """Return one listed calendar collection with the account's privileges on it."""
    privileges = _privileges(entry.props.get(DAV + "current-user-privilege-set"))
    url = collection_url(absolute(home, entry.path))
    name = entry.text(DAV + "displayname") or entry.path.rstrip("/").rsplit("/", 1)[-1]
    # Without the property (some servers omit it) access is only known by trying: assume it.
    if privileges is None:
        return DavCalendar(url, name, can_read=True, can_write=True)
    return DavCalendar(url, name, bool(privileges & _READ), bool(privileges & _WRITE))


def _privileges(element: Any) -> set[str] | None:
    """Return the DAV privilege names granted in a current-user-privilege-set, None when absent."""
    if element is None:
        return None
    names = set()
    for privilege in element.iter(DAV + "privilege"):
        for child in privilege:
            if isinstance(child.tag, str) and child.tag.startswith(DAV):
                names.add(child.tag[len(DAV) :])
    return names
