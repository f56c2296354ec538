"""The emulator's HTTP front: routing of Google's paths, standard parameters, Bearer auth."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from googleapiclient.errors import HttpError
from yarl import URL

from calmirror.emulator import Emulator
from tests.emulator_helpers import access_token, calendar_service

ALICE = "alice@example.com"


async def test_calendar_list_through_the_real_client(emulator: Emulator) -> None:
    """The python client's `calendarList.list` (GET users/me/calendarList?alt=json) reaches the emulator."""
    svc = calendar_service(emulator, ALICE)
    answer = await asyncio.to_thread(svc.calendarList().list().execute)
    assert [entry["id"] for entry in answer["items"]] == [ALICE]
    assert emulator.requests.stats()["calls"]["calendar.calendarList.list"] == 1


async def test_missing_authorization_is_login_required(emulator: Emulator) -> None:
    """Without an Authorization header Google answers 401 reason `required`, "Login Required."."""
    url = emulator.api_root + "calendar/v3/users/me/calendarList"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        body = await resp.json()
    assert resp.status == 401
    assert body["error"]["errors"][0]["reason"] == "required"
    assert body["error"]["errors"][0]["message"] == "Login Required."
    assert body["error"]["status"] == "UNAUTHENTICATED"


async def test_invalid_token_is_auth_error(emulator: Emulator) -> None:
    """An unknown Bearer token answers 401 authError "Invalid Credentials" at header Authorization."""
    headers = {"Authorization": "Bearer ya29.not-a-token"}
    url = emulator.api_root + "calendar/v3/users/me/calendarList"
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        body = await resp.json()
    assert resp.status == 401
    item = body["error"]["errors"][0]
    assert (item["reason"], item["message"], item["location"]) == (
        "authError",
        "Invalid Credentials",
        "Authorization",
    )


async def test_unknown_query_parameter_is_400(emulator: Emulator) -> None:
    """A query parameter the method does not declare is rejected with 400 INVALID_ARGUMENT (discovery doc)."""
    headers = {"Authorization": f"Bearer {await access_token(emulator, ALICE)}"}
    url = emulator.api_root + "calendar/v3/users/me/calendarList?alt=json&colour=red"
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        body = await resp.json()
    assert resp.status == 400
    assert "colour" in body["error"]["message"]


async def test_standard_parameters_are_accepted(emulator: Emulator) -> None:
    """`alt=json`, `prettyPrint`, `quotaUser` and `fields` are standard parameters of every method."""
    headers = {"Authorization": f"Bearer {await access_token(emulator, ALICE)}"}
    url = (
        emulator.api_root
        + "calendar/v3/users/me/calendarList?alt=json&prettyPrint=false&quotaUser=q&fields=items"
    )
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        assert resp.status == 200


async def test_percent_encoded_calendar_id_is_decoded(emulator: Emulator) -> None:
    """Path parameters arrive percent-encoded (`alice%40example.com`) and are decoded (python client)."""
    svc = calendar_service(emulator, ALICE)
    entry = await asyncio.to_thread(svc.calendarList().get(calendarId=ALICE).execute)
    assert entry["id"] == ALICE
    headers = {"Authorization": f"Bearer {await access_token(emulator, ALICE)}"}
    url = URL(emulator.api_root + "calendar/v3/users/me/calendarList/alice%40example.com", encoded=True)
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        assert resp.status == 200
        assert (await resp.json())["id"] == ALICE


async def test_long_get_becomes_post_with_method_override(emulator: Emulator) -> None:
    """GET URIs over 2048 chars become POST + X-HTTP-Method-Override: GET, form body (python client)."""
    svc = calendar_service(emulator, ALICE)
    answer = await asyncio.to_thread(svc.calendarList().list(quotaUser="q" * 2100).execute)
    assert answer["kind"] == "calendar#calendarList"
    assert emulator.requests.http[-1].http_method == "POST"
    assert emulator.requests.calls_of("calendar.calendarList.list")[-1].status == 200


async def test_unknown_path_is_404(emulator: Emulator) -> None:
    """A path no Calendar method serves answers 404 through the real client."""
    svc = calendar_service(emulator, ALICE)
    request = svc.calendarList().list()
    request.uri = request.uri.replace("users/me/calendarList", "users/me/nothing")
    with pytest.raises(HttpError) as caught:
        await asyncio.to_thread(request.execute)
    assert caught.value.status_code == 404


async def test_fields_cuts_the_response(emulator: Emulator) -> None:
    """`fields` returns a partial response: only the selected fields, also inside lists."""
    svc = calendar_service(emulator, ALICE)
    listed = await asyncio.to_thread(svc.calendarList().list(fields="kind,items(id,primary)").execute)
    assert listed == {"kind": "calendar#calendarList", "items": [{"id": ALICE, "primary": True}]}
    entry = await asyncio.to_thread(svc.calendarList().get(calendarId=ALICE, fields="id").execute)
    assert entry == {"id": ALICE}


async def test_malformed_fields_is_400(emulator: Emulator) -> None:
    """A `fields` expression that does not parse answers 400 before anything runs."""
    svc = calendar_service(emulator, ALICE)
    with pytest.raises(HttpError) as caught:
        await asyncio.to_thread(svc.calendarList().list(fields="items(id").execute)
    assert caught.value.status_code == 400


async def test_discovery_methods_not_served_answer_501(emulator: Emulator) -> None:
    """quickAdd, import, move, calendars.get, acl, settings... answer 501 notImplemented naming the method."""
    svc = calendar_service(emulator, ALICE)
    calls = {
        "calendar.events.quickAdd": svc.events().quickAdd(calendarId=ALICE, text="lunch"),
        "calendar.events.import": svc.events().import_(calendarId=ALICE, body={}),
        "calendar.events.move": svc.events().move(calendarId=ALICE, eventId="abcde", destination="x"),
        "calendar.calendars.get": svc.calendars().get(calendarId=ALICE),
        "calendar.acl.list": svc.acl().list(calendarId=ALICE),
        "calendar.settings.list": svc.settings().list(),
        "calendar.colors.get": svc.colors().get(),
        "calendar.calendarList.watch": svc.calendarList().watch(body={"id": "c1", "type": "web_hook"}),
    }
    for method_id, request in calls.items():
        with pytest.raises(HttpError) as caught:
            await asyncio.to_thread(request.execute)
        error = caught.value.error_details[0]
        assert (caught.value.status_code, error["reason"]) == (501, "notImplemented"), method_id
        assert error["message"] == f"{method_id} is not implemented by the emulator."
        assert emulator.requests.calls_of(method_id)[-1].status == 501
