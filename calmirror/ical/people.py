"""What one VEVENT says about its people and the owner's time: status, free/busy, attendees, organizer.

Outlook's X-MICROSOFT-CDO-BUSYSTATUS is the owner's own free/busy: FREE reads transparent, BUSY and OOF
opaque, TENTATIVE makes the owner's answer tentative (their attendee entry, added when missing and an
owner address is known: they are a participant) so a flow's tentative policy applies.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from icalendar import Component

from calmirror.engine import Attendee

_PARTSTAT = MappingProxyType({"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative"})
_STATUS_PROPERTY = "STATUS"
_STATUS = MappingProxyType({"CANCELLED": "cancelled", "TENTATIVE": "tentative"})


def status(component: Component) -> str:
    """Map STATUS to the engine's words (confirmed when missing)."""
    status = component.get(_STATUS_PROPERTY) or ""
    return _STATUS.get(str(status).upper(), "confirmed")


def _busy_status(component: Component) -> str:
    """Return Outlook's X-MICROSOFT-CDO-BUSYSTATUS, upper-cased ("" when missing)."""
    return str(component.get("X-MICROSOFT-CDO-BUSYSTATUS") or "").strip().upper()


def transparency(component: Component) -> str:
    """Map TRANSP and Outlook's busy status (which wins, being the owner's own) to the engine's words."""
    busy = _busy_status(component)
    if busy == "FREE":
        return "transparent"
    if busy in {"BUSY", "OOF", "TENTATIVE"}:
        return "opaque"
    return "transparent" if str(component.get("TRANSP") or "").upper() == "TRANSPARENT" else "opaque"


def _addresses(component: Component, name: str) -> list[Any]:
    """Return a property that may occur many times as a list."""
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _email(address: Any) -> str:
    """Return the lowercased email of a calendar address (mailto:, else its EMAIL parameter, else as is)."""
    text = str(address).strip()
    if text.lower().startswith("mailto:"):
        return text[7:].strip().lower()
    params = getattr(address, "params", {})
    return str(params.get("EMAIL") or text).strip().lower()


def _listed(component: Component, owner: frozenset[str]) -> tuple[Attendee, ...] | None:
    """Read the ATTENDEE lines; None when the event has none."""
    entries = _addresses(component, "ATTENDEE")
    if not entries:
        return None
    attendees = []
    for entry in entries:
        params = getattr(entry, "params", {})
        email = _email(entry)
        attendees.append(
            Attendee(
                email=email,
                is_self=email in owner,
                resource=str(params.get("CUTYPE") or "").upper() in {"RESOURCE", "ROOM"},
                response_status=_PARTSTAT.get(str(params.get("PARTSTAT") or "").upper(), "needsAction"),
            )
        )
    return tuple(attendees)


def _busy_status_answer(
    component: Component, attendees: tuple[Attendee, ...] | None, owner: frozenset[str]
) -> tuple[Attendee, ...] | None:
    """Make the owner's answer tentative when Outlook says their time is tentative (a refusal stays)."""
    if _busy_status(component) != "TENTATIVE":
        return attendees
    entries = list(attendees or ())
    if not any(entry.is_self for entry in entries):
        if not owner:
            return attendees
        entries.append(Attendee(email=min(owner), is_self=True, response_status="tentative"))
    return tuple(
        Attendee(entry.email, True, entry.resource, "tentative", entry.organizer)
        if entry.is_self and not entry.declined
        else entry
        for entry in entries
    )


def organizer(component: Component, owner: frozenset[str]) -> Attendee | None:
    """Read the ORGANIZER line, when there is one."""
    entry = component.get("ORGANIZER")
    if entry is None or not str(entry).strip():
        return None
    email = _email(entry)
    return Attendee(email=email, is_self=email in owner, response_status="accepted", organizer=True)


def attendees(component: Component, owner: frozenset[str]) -> tuple[Attendee, ...] | None:
    """Return the attendees, the owner's answer made tentative when Outlook says their time is."""
    return _busy_status_answer(component, _listed(component, owner), owner)
