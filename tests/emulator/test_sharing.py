"""Calendars shared with other accounts at an ACL role: calendarList entries and enforced access."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from googleapiclient.errors import HttpError

from calmirror.emulator import Emulator
from calmirror.emulator.calendar.errors import ApiError
from tests.emulator.store_api import ALICE, BOB, CAROL, Api, reason
from tests.emulator.test_batch import run_batch
from tests.emulator_helpers import calendar_service

WRITER_NEEDED = "You need to have writer access to this calendar."
BODY = {"start": {"date": "2027-01-01"}, "end": {"date": "2027-01-02"}}


def _entry(api: Api, account: str, calendar_id: str) -> Any:
    """Return the account's calendarList entry for a calendar."""
    return api.ok("calendarList.get", account=account, calendarId=calendar_id)


def test_shared_calendar_is_listed_with_its_role() -> None:
    """The sharee's calendarList shows the calendar with the granted accessRole, never as primary."""
    api = Api()
    work = api.store.create_calendar(ALICE, "Work")
    api.store.share(work, BOB, "reader")
    api.store.share(ALICE, BOB, "writer")
    listed = api.ok("calendarList.list", account=BOB)["items"]
    assert [(e["id"], e["accessRole"], e.get("primary")) for e in listed] == [
        (BOB, "owner", True),
        (ALICE, "writer", None),
        (work, "reader", None),
    ]
    assert _entry(api, ALICE, work)["accessRole"] == "owner"
    assert api.call("calendarList.get", account=CAROL, calendarId=work)[0] == 404


def test_min_access_role_filters_the_list() -> None:
    """calendarList.list?minAccessRole keeps calendars with at least that role (discovery doc)."""
    api = Api()
    work = api.store.create_calendar(ALICE, "Work")
    api.store.share(work, BOB, "reader")
    api.store.share(ALICE, BOB, "freeBusyReader")
    ids = [
        e["id"] for e in api.ok("calendarList.list", account=BOB, query={"minAccessRole": "reader"})["items"]
    ]
    assert ids == [BOB, work]
    ids = [
        e["id"] for e in api.ok("calendarList.list", account=BOB, query={"minAccessRole": "writer"})["items"]
    ]
    assert ids == [BOB]
    assert api.call("calendarList.list", account=BOB, query={"minAccessRole": "boss"})[0] == 400


def test_reader_reads_but_cannot_write() -> None:
    """A reader lists and gets; insert, update, patch and delete answer 403 requiredAccessLevel."""
    api = Api()
    event = api.insert("2027-01-01", "2027-01-02")
    api.store.share(ALICE, BOB, "reader")
    listing = api.ok("events.list", account=BOB, calendarId=ALICE)
    assert ([e["id"] for e in listing["items"]], listing["accessRole"]) == ([event["id"]], "reader")
    assert api.ok("events.get", account=BOB, calendarId=ALICE, eventId=event["id"])["id"] == event["id"]
    writes = [
        ("events.insert", {"body": BODY}),
        ("events.update", {"eventId": event["id"], "body": BODY}),
        ("events.patch", {"eventId": event["id"], "body": {"summary": "x"}}),
        ("events.delete", {"eventId": event["id"]}),
    ]
    for method, kwargs in writes:
        status, body = api.call(method, account=BOB, calendarId=ALICE, **kwargs)
        assert (status, reason(body), body["error"]["message"]) == (403, "requiredAccessLevel", WRITER_NEEDED)
    stored = api.store.get(ALICE, event["id"])
    assert stored is not None
    assert (stored["etag"], stored["status"], len(api.store.raw_events(ALICE))) == (
        event["etag"],
        "confirmed",
        1,
    )


def test_writer_writes_and_unsharing_hides_the_calendar() -> None:
    """A writer's insert lands in the shared calendar as its creator; role none takes access away."""
    api = Api()
    api.store.share(ALICE, BOB, "writer")
    event = api.ok("events.insert", account=BOB, calendarId=ALICE, body=BODY)
    assert (event["creator"], event["organizer"]["email"]) == ({"email": BOB}, ALICE)
    assert [e["id"] for e in api.items()] == [event["id"]]
    api.store.share(ALICE, BOB, "none")
    assert api.call("events.list", account=BOB, calendarId=ALICE)[0] == 404
    assert [e["id"] for e in api.ok("calendarList.list", account=BOB)["items"]] == [BOB]


def test_free_busy_reader_sees_busy_times_only() -> None:
    """freeBusyReader: freeBusy answers busy periods, events.list answers 403 needing reader access."""
    api = Api()
    api.insert("2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z")
    api.store.share(ALICE, BOB, "freeBusyReader")
    window = {"timeMin": "2030-01-01T00:00:00Z", "timeMax": "2030-01-02T00:00:00Z", "items": [{"id": ALICE}]}
    busy = api.ok("freebusy.query", account=BOB, body=window)["calendars"][ALICE]["busy"]
    assert busy == [{"start": "2030-01-01T10:00:00Z", "end": "2030-01-01T11:00:00Z"}]
    status, body = api.call("events.list", account=BOB, calendarId=ALICE)
    assert (status, body["error"]["message"]) == (403, "You need to have reader access to this calendar.")


@pytest.mark.parametrize(
    ("calendar", "account", "role"),
    [
        ("nobody@x", BOB, "reader"),
        (ALICE, "stranger@x", "reader"),
        (ALICE, BOB, "boss"),
        (ALICE, ALICE, "reader"),
    ],
)
def test_bad_shares_are_refused(calendar: str, account: str, role: str) -> None:
    """Sharing an unknown calendar, with an unknown account, at an unknown role, or with its owner fails."""
    api = Api()
    with pytest.raises((ValueError, ApiError)):
        api.store.share(calendar, account, role)
    assert api.ok("calendarList.list", account=BOB)["items"][1:] == []


async def _share(emulator: Emulator, calendar_id: str, body: Any) -> tuple[int, str]:
    """POST /_emulator/calendars/{id}/acl and return (status, text)."""
    url = f"{emulator.api_root}_emulator/calendars/{calendar_id}/acl"
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as resp:
        return resp.status, await resp.text()


async def test_share_over_http_is_enforced_in_batches(emulator: Emulator) -> None:
    """Control API sharing: the sharee lists the calendar as reader, and its batched writes answer 403."""
    work = emulator.create_calendar(ALICE, "Work")
    assert (await _share(emulator, work, {"account": BOB, "role": "reader"}))[0] == 200
    bob = calendar_service(emulator, BOB)
    listed = await asyncio.to_thread(bob.calendarList().list().execute)
    assert {e["id"]: e["accessRole"] for e in listed["items"]} == {BOB: "owner", work: "reader"}
    inserts = [bob.events().insert(calendarId=work, body=BODY) for _ in range(2)]
    answers = await asyncio.to_thread(run_batch, bob, inserts)
    for _, error in answers.values():
        assert isinstance(error, HttpError)
        assert (error.status_code, error.reason) == (403, WRITER_NEEDED)
    assert emulator.store.raw_events(work) == []


async def test_share_over_http_refuses_bad_input(emulator: Emulator) -> None:
    """An unknown calendar answers 404; a missing field, an unknown role or account answers 400."""
    assert (await _share(emulator, "nobody@x", {"account": BOB, "role": "reader"}))[0] == 404
    for body in ({"account": BOB}, {"account": BOB, "role": "boss"}, {"account": "x@y", "role": "reader"}):
        assert (await _share(emulator, ALICE, body))[0] == 400, body
    assert emulator.store.calendars_of(BOB)[1:] == []
