"""What calmirror's blocks need of the Graph emulator: body, responseRequested, transactionId, a peak."""

from __future__ import annotations

import asyncio

from tests.emulator.graph.conftest import GraphClient
from tests.emulator.graph.test_events import ALICE, event


async def test_body_and_response_requested_round_trip(alice: GraphClient) -> None:
    """Both are stored and answered; a PATCH changes them."""
    body = event(responseRequested=False, body={"contentType": "text", "content": "made by calmirror"})
    made = (await alice.call("POST", f"{ALICE}/events", json=body)).body
    assert (made["responseRequested"], made["body"]["content"]) == (False, "made by calmirror")
    patch = {"responseRequested": True, "body": {"contentType": "text", "content": "edited"}}
    changed = (await alice.call("PATCH", f"{ALICE}/events/{made['id']}", json=patch)).body
    assert (changed["responseRequested"], changed["body"]["content"]) == (True, "edited")


async def test_a_deleted_events_transaction_id_makes_a_new_event(alice: GraphClient) -> None:
    """A repeated transactionId answers the first event while it lives, a new one once it is deleted."""
    first = (await alice.call("POST", f"{ALICE}/events", json=event(transactionId="t-1"))).body
    again = await alice.call("POST", f"{ALICE}/events", json=event(transactionId="t-1"))
    assert again.body["id"] == first["id"]
    await alice.call("DELETE", f"{ALICE}/events/{first['id']}")
    renewed = await alice.call("POST", f"{ALICE}/events", json=event(transactionId="t-1"))
    assert (renewed.status, renewed.body["id"] != first["id"]) == (201, True)


async def test_the_peak_of_requests_in_flight_is_kept(alice: GraphClient) -> None:
    """With latency, concurrent requests overlap in the emulator and its peak shows how many at once."""
    alice.emulator.latency_ms = 200  # long enough for concurrent requests to overlap on a busy machine
    await asyncio.gather(*(alice.call("GET", f"{ALICE}/calendars") for _ in range(3)))
    assert (alice.emulator.peak_in_flight, alice.emulator.in_flight) == (3, 0)


async def test_a_deleted_events_transaction_id_can_stay_taken(alice: GraphClient) -> None:
    """With transactions_outlive_delete, a POST reusing a deleted event's transactionId answers that event."""
    alice.emulator.store.transactions_outlive_delete = True
    first = (await alice.call("POST", f"{ALICE}/events", json=event(transactionId="t-2"))).body
    await alice.call("DELETE", f"{ALICE}/events/{first['id']}")
    again = await alice.call("POST", f"{ALICE}/events", json=event(transactionId="t-2"))
    assert (again.status, again.body["id"]) == (200, first["id"])
    assert alice.emulator.store.events == {}
