"""The batch endpoint as google-api-python-client speaks it (BATCH, research 7.6)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from googleapiclient.errors import HttpError

from calmirror.emulator import Emulator
from tests.emulator_helpers import calendar_service

ALICE = "alice@example.com"


def _event(n: int) -> dict[str, Any]:
    """A timed event body with a client-chosen base32hex id."""
    return {
        "id": f"batchevent{n:04d}",
        "summary": f"meeting {n}",
        "start": {"dateTime": f"2030-01-0{1 + n % 9}T10:00:00Z"},
        "end": {"dateTime": f"2030-01-0{1 + n % 9}T11:00:00Z"},
    }


def run_batch(svc: Any, requests: list[Any]) -> dict[str, tuple[Any, Exception | None]]:
    """Execute requests in one batch and collect each part's answer by request id."""
    answers: dict[str, tuple[Any, Exception | None]] = {}

    def callback(request_id: str, response: Any, exception: Exception | None) -> None:
        answers[request_id] = (response, exception)

    batch = svc.new_batch_http_request(callback=callback)
    for i, request in enumerate(requests):
        batch.add(request, request_id=str(i))
    batch.execute()
    return answers


async def test_batch_parts_execute_separately(emulator: Emulator) -> None:
    """Each part is its own call with its own answer, mapped back by Content-ID (BATCH)."""
    svc = calendar_service(emulator, ALICE)
    requests = [svc.events().insert(calendarId=ALICE, body=_event(n)) for n in range(3)]
    requests.append(svc.events().get(calendarId=ALICE, eventId="doesnotexist0"))
    answers = await asyncio.to_thread(run_batch, svc, requests)
    assert [answers[str(n)][0]["id"] for n in range(3)] == [f"batchevent{n:04d}" for n in range(3)]
    error = answers["3"][1]
    assert isinstance(error, HttpError)
    assert error.status_code == 404
    stats = emulator.requests.stats()
    assert stats["calls"]["calendar.events.insert"] == 3
    assert stats["quota_units"][ALICE]["calendar.events.insert"] == 9
    assert all(c.in_batch for c in emulator.requests.calls_of("calendar.events.insert"))


async def test_batch_envelope_is_one_http_request(emulator: Emulator) -> None:
    """A batch of n calls counts as n requests toward usage limits yet travels as one (BATCH)."""
    svc = calendar_service(emulator, ALICE)
    await asyncio.to_thread(svc.calendarList().list().execute)  # fetch the access token first
    emulator.reset_requests()
    requests = [svc.calendarList().get(calendarId=ALICE) for _ in range(5)]
    await asyncio.to_thread(run_batch, svc, requests)
    stats = emulator.requests.stats()
    assert stats["http_requests"] == 1
    assert stats["calls"] == {"calendar.calendarList.get": 5}
    assert "batch" not in stats["calls"]


async def test_part_faults_match_the_part_method(emulator: Emulator) -> None:
    """Faults apply to batch parts by their own method id; other parts succeed."""
    emulator.faults.add({"kind": "status", "methods": ["calendar.events.delete"], "status": 503})
    svc = calendar_service(emulator, ALICE)
    requests = [
        svc.events().insert(calendarId=ALICE, body=_event(7)),
        svc.events().delete(calendarId=ALICE, eventId="batchevent0007"),
    ]
    answers = await asyncio.to_thread(run_batch, svc, requests)
    assert answers["0"][1] is None
    error = answers["1"][1]
    assert isinstance(error, HttpError)
    assert error.status_code == 503
    assert error.error_details[0]["reason"] == "backendError"


async def test_envelope_fault_fails_the_whole_batch(emulator: Emulator) -> None:
    """A fault on method id `batch` answers the envelope itself; no part runs."""
    emulator.faults.add({"kind": "status", "methods": ["batch"], "status": 500, "times": 1})
    svc = calendar_service(emulator, ALICE)
    requests = [svc.events().insert(calendarId=ALICE, body=_event(1))]
    with pytest.raises(HttpError) as caught:
        await asyncio.to_thread(run_batch, svc, requests)
    assert caught.value.status_code == 500
    assert emulator.requests.calls_of("calendar.events.insert") == []


async def test_per_part_authorization(emulator: Emulator) -> None:
    """Each part is authenticated on its own: a part with a bad token answers 401 alone (BATCH)."""
    boundary = "b1"
    parts = [
        f"--{boundary}\nContent-Type: application/http\nContent-ID: <x + {n}>\n\n"
        f"GET /calendar/v3/users/me/calendarList?alt=json HTTP/1.1\nAuthorization: Bearer {token}\n\n"
        for n, token in enumerate(["bogus", "bogus2"])
    ]
    body = "".join(parts) + f"--{boundary}--\n"
    headers = {"Content-Type": f'multipart/mixed; boundary="{boundary}"'}
    async with (
        aiohttp.ClientSession() as http,
        http.post(emulator.api_root + "batch/calendar/v3", data=body, headers=headers) as resp,
    ):
        text = await resp.text()
    assert resp.status == 200
    assert text.count("HTTP/1.1 401 Unauthorized") == 2
    assert "Content-ID: <response-x + 1>" in text
    assert "\r\n\r\n{" in text  # CRLFCRLF before each part's body (research 7.6)


async def test_more_than_1000_parts_is_400(emulator: Emulator) -> None:
    """The batch endpoint accepts at most 1000 calls (BATCH, current doc)."""
    part = "--b\nContent-Type: application/http\n\nGET /calendar/v3/users/me/calendarList HTTP/1.1\n\n"
    body = part * 1001 + "--b--\n"
    headers = {"Content-Type": "multipart/mixed; boundary=b"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(emulator.api_root + "batch/calendar/v3", data=body, headers=headers) as resp,
    ):
        assert resp.status == 400
    assert emulator.requests.calls == []


async def test_a_lost_part_answer_loses_the_whole_batch_answer(emulator: Emulator) -> None:
    """A part's `lost_response` cuts the shared connection after every part ran; a resend meets 409s."""
    emulator.faults.add({"kind": "lost_response", "methods": ["calendar.events.insert"], "times": 1})
    svc = calendar_service(emulator, ALICE)
    requests = [svc.events().insert(calendarId=ALICE, body=_event(n)) for n in (1, 2)]
    answers = await asyncio.to_thread(run_batch, svc, requests)  # httplib2 resends the envelope once
    assert emulator.store.get(ALICE, "batchevent0001") is not None
    assert emulator.store.get(ALICE, "batchevent0002") is not None
    statuses = [c.status for c in emulator.requests.calls_of("calendar.events.insert")]
    assert statuses == [200, 200, 409, 409]
    assert all(isinstance(error, HttpError) and error.status_code == 409 for _, error in answers.values())
