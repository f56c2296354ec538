"""The HTTP control API under /_emulator/ (docs/architecture.md, fault and control table)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from calmirror.emulator import Emulator
from tests.emulator_helpers import calendar_service

ALICE = "alice@example.com"


async def _call(emulator: Emulator, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Send one control request and return (status, JSON answer or None)."""
    url = emulator.api_root + "_emulator/" + path
    async with aiohttp.ClientSession() as http, http.request(method, url, json=body) as resp:
        data = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, data


async def test_faults_over_http(emulator: Emulator) -> None:
    """POST /_emulator/faults adds rules that the API then applies; DELETE removes them."""
    rule = {"methods": ["calendar.calendarList.list"], "kind": "status", "status": 429}
    status, _ = await _call(emulator, "POST", "faults", {"rules": [rule]})
    assert status == 200
    svc = calendar_service(emulator, ALICE)
    with pytest.raises(HttpError) as caught:
        await asyncio.to_thread(svc.calendarList().list().execute)
    assert caught.value.status_code == 429
    assert (await _call(emulator, "DELETE", "faults"))[0] == 204
    await asyncio.to_thread(svc.calendarList().list().execute)


async def test_bad_fault_rule_is_400(emulator: Emulator) -> None:
    """A rule of an unknown kind, or with an unknown key, is refused and not added (docs/emulator.md)."""
    for rule in ({"kind": "explode"}, {"kind": "status", "statuss": 503}, "drop"):
        status, _ = await _call(emulator, "POST", "faults", {"rules": [{"kind": "drop"}, rule]})
        assert status == 400, rule
    assert emulator.faults.rules == []  # a refused request adds none of its rules


async def test_requests_and_reset(emulator: Emulator) -> None:
    """GET /_emulator/requests returns the log and stats(); DELETE clears log and quota counters."""
    svc = calendar_service(emulator, ALICE)
    await asyncio.to_thread(svc.calendarList().list().execute)
    status, data = await _call(emulator, "GET", "requests")
    assert status == 200
    assert data["stats"]["calls"]["calendar.calendarList.list"] == 1
    assert data["stats"]["quota_units"] == {ALICE: {"calendar.calendarList.list": 1}}
    assert data["stats"]["http_requests"] == 2  # token + list
    assert (await _call(emulator, "DELETE", "requests"))[0] == 204
    assert emulator.requests.stats() == {"http_requests": 0, "calls": {}, "quota_units": {}}


async def test_create_calendar_and_dump_events(emulator: Emulator) -> None:
    """POST /_emulator/calendars creates an extra calendar the owner lists; its events can be dumped."""
    status, data = await _call(
        emulator, "POST", "calendars", {"owner": ALICE, "summary": "Work", "id": "work@x"}
    )
    assert (status, data) == (200, {"id": "work@x"})
    svc = calendar_service(emulator, ALICE)
    listed = await asyncio.to_thread(svc.calendarList().list().execute)
    assert {e["id"] for e in listed["items"]} == {ALICE, "work@x"}
    body = {"id": "dumpedevent1", "start": {"date": "2030-01-01"}, "end": {"date": "2030-01-02"}}
    await asyncio.to_thread(svc.events().insert(calendarId="work@x", body=body).execute)
    await asyncio.to_thread(svc.events().delete(calendarId="work@x", eventId="dumpedevent1").execute)
    status, dump = await _call(emulator, "GET", "calendars/work@x/events")
    assert status == 200
    assert [(e["id"], e["status"]) for e in dump["items"]] == [("dumpedevent1", "cancelled")]


async def test_create_calendar_in_a_time_zone(emulator: Emulator) -> None:
    """POST /_emulator/calendars takes an IANA timeZone (default UTC); an unknown one answers 400."""
    body = {"owner": ALICE, "summary": "Berlin", "id": "berlin@x", "timeZone": "Europe/Berlin"}
    assert (await _call(emulator, "POST", "calendars", body))[0] == 200
    assert (await _call(emulator, "POST", "calendars", {"owner": ALICE, "summary": "U", "id": "utc@x"}))[
        0
    ] == 200
    for zone in ("Mars/Olympus", "Europe", ""):
        status, _ = await _call(emulator, "POST", "calendars", body | {"id": "bad@x", "timeZone": zone})
        assert status == 400, zone
    svc = calendar_service(emulator, ALICE)
    listed = await asyncio.to_thread(svc.calendarList().list().execute)
    assert {e["id"]: e["timeZone"] for e in listed["items"]} == {
        ALICE: "UTC",
        "berlin@x": "Europe/Berlin",
        "utc@x": "UTC",
    }


async def test_invalidate_sync_tokens(emulator: Emulator) -> None:
    """After POST /_emulator/sync-tokens/invalidate the next use of a sync token answers 410 (sync guide)."""
    svc = calendar_service(emulator, ALICE)
    listing = await asyncio.to_thread(svc.events().list(calendarId=ALICE).execute)
    assert (await _call(emulator, "POST", "sync-tokens/invalidate", {"calendar_id": ALICE}))[0] == 204
    with pytest.raises(HttpError) as caught:
        await asyncio.to_thread(
            svc.events().list(calendarId=ALICE, syncToken=listing["nextSyncToken"]).execute
        )
    assert caught.value.status_code == 410


async def test_revoke_over_http(emulator: Emulator) -> None:
    """POST /_emulator/accounts/{email}/revoke makes the refresh token answer invalid_grant."""
    assert (await _call(emulator, "POST", f"accounts/{ALICE}/revoke"))[0] == 204
    svc = calendar_service(emulator, ALICE)
    with pytest.raises(RefreshError, match="invalid_grant"):
        await asyncio.to_thread(svc.calendarList().list().execute)
    assert (await _call(emulator, "POST", "accounts/nobody@example.com/revoke"))[0] == 404


async def test_control_requests_are_not_logged(emulator: Emulator) -> None:
    """Control calls are instrumentation, not Google traffic: they do not count as HTTP requests."""
    await _call(emulator, "GET", "requests")
    assert emulator.requests.stats()["http_requests"] == 0
