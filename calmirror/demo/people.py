"""The people's own calendar apps: Google's API for the client side, Graph for Microsoft 365.

Each person signs in on their own (a Microsoft mailbox gets a refresh token of its own, as Outlook on
their laptop would), and every request they make is counted, so calmirror's requests stand apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

from pydantic import SecretStr

from calmirror.config import GoogleAccount
from calmirror.demo.cast import GOOGLE, MICROSOFT, Meeting
from calmirror.emulator import Emulator
from calmirror.errors import CalmirrorError, ProviderError
from calmirror.google.client import CalendarClient
from calmirror.microsoft import GraphAccess, GraphClient

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
GRAPH_SIGN_IN = "graph.token"  # the emulator's name for a Graph sign-in; the client calls it "token"


def google_body(meeting: Meeting, today: date) -> dict[str, Any]:
    """Return the Google event body the organizer sends (a series carries its time zone, as Google asks)."""
    attendees = [{"email": meeting.organizer, "organizer": True, "responseStatus": "accepted"}]
    body: dict[str, Any] = {
        "summary": meeting.summary,
        "attendees": attendees + [{"email": guest} for guest in meeting.guests],
        **google_times(meeting, today),
    }
    if meeting.free:
        body["transparency"] = "transparent"
    if meeting.weekly:
        body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={meeting.weekly}"]
    return body


def google_times(meeting: Meeting, today: date) -> dict[str, Any]:
    """Return Google's start and end fields."""
    begin, end = meeting.begin(today), meeting.finish(today)
    if not isinstance(begin, datetime) or not isinstance(end, datetime):
        return {"start": {"date": str(begin)}, "end": {"date": str(end)}}
    return {
        "start": {"dateTime": begin.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
    }


def graph_body(meeting: Meeting, today: date) -> dict[str, Any]:
    """Return the Graph event body the organizer sends (guests that are mailboxes get an invitation)."""
    guests = [{"emailAddress": {"address": guest}, "type": "required"} for guest in meeting.guests]
    body: dict[str, Any] = {"subject": meeting.summary, "attendees": guests, **graph_times(meeting, today)}
    if meeting.free:
        body["showAs"] = "free"
    if meeting.weekly:
        day = meeting.begin(today)
        body["recurrence"] = {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [DAYS[day.weekday()]]},
            "range": {
                "type": "numbered",
                "startDate": f"{day:%Y-%m-%d}",
                "numberOfOccurrences": meeting.weekly,
            },
        }
    return body


def graph_times(meeting: Meeting, today: date) -> dict[str, Any]:
    """Return Graph's start and end (dateTimeTimeZone in UTC; an all-day meeting's midnights)."""
    begin, end = meeting.begin(today), meeting.finish(today)
    times = {
        key: {"dateTime": f"{value:%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"}
        for key, value in (("start", begin), ("end", end))
    }
    return {**times, "isAllDay": True} if meeting.start is None else times


class People:
    """Every person's own client, counting their requests by the emulator's method names."""

    def __init__(self, emulator: Emulator) -> None:
        self.calls: Counter[str] = Counter()
        self.google: dict[str, CalendarClient] = {}
        self.graph: dict[str, GraphClient] = {}
        for number, email in enumerate(GOOGLE, start=100):
            creds = emulator.accounts[email]
            account = GoogleAccount(
                id=number,
                email=email,
                client_id=creds.client_id,
                client_secret=SecretStr(creds.client_secret),
                refresh_token=SecretStr(creds.refresh_token),
            )
            client = CalendarClient(account, api_root=emulator.api_root, token_uri=emulator.token_uri)
            client.observe(self._count)
            self.google[email] = client
        graph = emulator.graph
        if graph is None:
            raise CalmirrorError("the demo's emulator serves no Microsoft mailbox")
        for number, email in enumerate(MICROSOFT, start=200):
            access = GraphAccess(
                account_id=number,
                email=email,
                client_id=graph.client.client_id,
                client_secret=graph.client.client_secret,
                refresh_token=graph.identity.issue_refresh_token(graph.client, email),
                graph_root=graph.graph_root,
                login_url=graph.login_root,
            )
            outlook = GraphClient(access)
            outlook.observe(self._count_graph)
            self.graph[email] = outlook
        self.ids: dict[str, str] = {}  # meeting key -> the organizer's event id
        self.uids: dict[str, str] = {}  # meeting key -> a Graph meeting's iCalUId (its invitations share it)

    def secrets(self) -> tuple[str, ...]:
        """Return the refresh tokens the people signed in with, for the log redaction."""
        return tuple(c.access.refresh_token for c in self.graph.values() if c.access.refresh_token)

    def _count(self, method: str, error: ProviderError | None, seconds: float | None) -> None:
        """Count one Google request a person made (a RequestObserver)."""
        self.calls[method] += 1

    def _count_graph(self, method: str, error: ProviderError | None, seconds: float | None) -> None:
        """Count one Graph request a person made, under the emulator's name for it."""
        self.calls[GRAPH_SIGN_IN if method == "token" else method] += 1

    async def sign_in(self) -> None:
        """Have everyone open their calendar once, so no sign-in of theirs is counted in a later step."""
        for client in self.google.values():
            await client.list_calendars()
        for outlook in self.graph.values():
            await outlook.request("GET", "/me/calendars", name="graph.list_calendars")

    async def organise(self, meeting: Meeting, today: date) -> None:
        """Have the organizer create the meeting in their own calendar (the guests are invited)."""
        if meeting.organizer in self.graph:
            body = graph_body(meeting, today)
            event = await self.graph[meeting.organizer].request(
                "POST", "/me/events", json=body, name="graph.create_event"
            )
            self.uids[meeting.key] = event["iCalUId"]
        else:
            event = await self.google[meeting.organizer].insert_event(
                meeting.organizer, google_body(meeting, today)
            )
        self.ids[meeting.key] = event["id"]

    async def decline(self, email: str, key: str) -> None:
        """Answer "no" to an invitation in the invitee's own calendar (Graph: the decline action)."""
        if email in self.graph:
            outlook = self.graph[email]
            listed = await outlook.pages("/me/events", name="graph.list_events")
            copy = next(e for e in listed.items if e.get("iCalUId") == self.uids[key])
            path = f"/me/events/{copy['id']}/decline"
            await outlook.request("POST", path, json={"sendResponse": True}, name="graph.decline_event")
            return
        event = await self.google[email].get_event(email, self.ids[key])
        for attendee in event["attendees"]:
            if attendee.get("self"):
                attendee["responseStatus"] = "declined"
        await self.google[email].update_event(email, event["id"], event)

    async def move(self, meeting: Meeting, today: date, start: time) -> None:
        """Have the organizer move a meeting to another start time on the same day."""
        moved, organizer = replace(meeting, start=start), meeting.organizer
        if organizer in self.graph:
            path = f"/me/events/{self.ids[meeting.key]}"
            body = graph_times(moved, today)
            await self.graph[organizer].request("PATCH", path, json=body, name="graph.patch_event")
            return
        client = self.google[organizer]
        event = await client.get_event(organizer, self.ids[meeting.key])
        await client.update_event(organizer, event["id"], {**event, **google_times(moved, today)})

    async def cancel(self, meeting: Meeting) -> None:
        """Have the organizer delete a meeting (a series: every occurrence)."""
        organizer, event_id = meeting.organizer, self.ids[meeting.key]
        if organizer in self.graph:
            path = f"/me/events/{event_id}"
            await self.graph[organizer].request("DELETE", path, name="graph.delete_event")
            return
        await self.google[organizer].delete_event(organizer, event_id)

    async def aclose(self) -> None:
        """Stop every person's client (threads and connections)."""
        for client in self.google.values():
            await client.aclose()
        for outlook in self.graph.values():
            await outlook.aclose()
