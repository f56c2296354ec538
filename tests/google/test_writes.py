"""Writes against the emulator: single calls, their conflict answers, and batched apply_writes."""

from __future__ import annotations

import pytest

from calmirror.emulator import Emulator
from calmirror.errors import DuplicateError, GoneError, NotFoundError, TransientError
from calmirror.google.client import CalendarClient
from calmirror.google.writes import Delete, Insert, Update, Write
from tests.google.helpers import ALICE, block, event_ids

INSERT = "calendar.events.insert"
UPDATE = "calendar.events.update"
DELETE = "calendar.events.delete"


def batch_requests(emulator: Emulator) -> int:
    """Return how many batch HTTP requests the emulator received."""
    return sum(r.path == "/batch/calendar/v3" for r in emulator.requests.http)


async def test_insert_update_delete(emulator: Emulator, alice: CalendarClient) -> None:
    """An event inserted with its own id is updated and deleted (notifying nobody), leaving a tombstone."""
    created = await alice.insert_event(ALICE, block("life0001"))
    updated = await alice.update_event(ALICE, "life0001", block("life0001") | {"summary": "Busy (moved)"})
    await alice.delete_event(ALICE, "life0001")

    assert created["id"] == "life0001"
    assert updated["summary"] == "Busy (moved)"
    assert (await alice.get_event(ALICE, "life0001"))["status"] == "cancelled"
    writes = [c for c in emulator.requests.calls if c.method_id in (INSERT, UPDATE, DELETE)]
    assert [c.param("sendUpdates") for c in writes] == ["none"] * 3


async def test_insert_of_existing_id_is_duplicate(emulator: Emulator, alice: CalendarClient) -> None:
    """A second insert with the same id raises DuplicateError after one attempt."""
    await alice.insert_event(ALICE, block("pair0001"))

    with pytest.raises(DuplicateError) as caught:
        await alice.insert_event(ALICE, block("pair0001"))

    assert caught.value.status == 409
    assert len(emulator.requests.calls_of(INSERT)) == 2


async def test_second_delete_is_gone(alice: CalendarClient) -> None:
    """Deleting an already deleted event raises GoneError."""
    await alice.insert_event(ALICE, block("once0001"))
    await alice.delete_event(ALICE, "once0001")

    with pytest.raises(GoneError) as caught:
        await alice.delete_event(ALICE, "once0001")

    assert caught.value.status == 410


async def test_120_writes_go_in_three_batches(emulator: Emulator, alice: CalendarClient) -> None:
    """120 writes travel in 3 batch requests and come back as 120 outcomes in order, failures per part."""
    await alice.insert_event(ALICE, block("old00001"))
    writes: list[Write] = [Insert(ALICE, block(i, minute=n)) for n, i in enumerate(event_ids(117))]
    writes[10] = Delete(ALICE, "missing01")  # fails alone: 404
    writes[60] = Insert(ALICE, block("old00001"))  # fails alone: 409
    writes += [Update(ALICE, "old00001", block("old00001") | {"summary": "Moved"}), Delete(ALICE, "blk00000")]
    writes.append(Delete(ALICE, "old00001"))
    emulator.reset_requests()

    outcomes = await alice.apply_writes(writes)

    assert batch_requests(emulator) == 3
    assert emulator.requests.stats()["http_requests"] == 3
    assert [o.write for o in outcomes] == writes
    assert isinstance(outcomes[10].error, NotFoundError)
    assert isinstance(outcomes[60].error, DuplicateError)
    assert [i for i, o in enumerate(outcomes) if not o.ok] == [10, 60]
    assert [o.event["id"] for o in outcomes[:3] if o.event] == ["blk00000", "blk00001", "blk00002"]
    assert [o.event["summary"] if o.event else None for o in outcomes[117:]] == ["Moved", None, None]
    listing = await alice.list_events(ALICE)
    assert len(listing.events) == 117 - 2 - 1  # two slots held failures, blk00000 was deleted


async def test_transient_part_failures_are_resent(emulator: Emulator, alice: CalendarClient) -> None:
    """Parts answered 503 are re-sent in a second batch and succeed; the others are not sent again."""
    emulator.faults.add({"kind": "status", "methods": [INSERT], "status": 503, "times": 2})
    writes: list[Write] = [Insert(ALICE, block(i, minute=n)) for n, i in enumerate(event_ids(10))]

    outcomes = await alice.apply_writes(writes)

    assert all(o.ok for o in outcomes)
    assert batch_requests(emulator) == 2
    assert len(emulator.requests.calls_of(INSERT)) == 12
    assert len((await alice.list_events(ALICE)).events) == 10


async def test_persistent_part_failure_is_reported_after_three_attempts(
    emulator: Emulator, alice: CalendarClient
) -> None:
    """A part that keeps failing is sent three times and reported with its error; its batch-mates succeed."""
    emulator.faults.add({"kind": "status", "methods": [DELETE], "status": 500})
    await alice.insert_event(ALICE, block("kept0001"))
    writes: list[Write] = [Insert(ALICE, block("good0001")), Delete(ALICE, "kept0001")]

    outcomes = await alice.apply_writes(writes)

    assert outcomes[0].ok
    assert isinstance(outcomes[1].error, TransientError)
    assert batch_requests(emulator) == 3
    assert len(emulator.requests.calls_of(INSERT)) == 2  # the single insert, then the batched one


async def test_failed_batch_envelope_is_resent(emulator: Emulator, alice: CalendarClient) -> None:
    """A 503 on the batch request itself re-sends the whole batch."""
    emulator.faults.add({"kind": "status", "methods": ["batch"], "status": 503, "times": 1})

    outcomes = await alice.apply_writes([Insert(ALICE, block("env00001"))])

    assert outcomes[0].ok
    assert batch_requests(emulator) == 2


async def test_lost_batch_answer_is_resent_and_reports_what_google_says(
    emulator: Emulator, alice: CalendarClient
) -> None:
    """A batch applied but never answered is re-sent; its inserts then answer 409, stored exactly once."""
    emulator.faults.add({"kind": "lost_response", "methods": [INSERT], "times": 1})

    outcomes = await alice.apply_writes([Insert(ALICE, block("lost0001"))])

    assert isinstance(outcomes[0].error, DuplicateError)
    assert batch_requests(emulator) == 2
    assert [e["id"] for e in (await alice.list_events(ALICE)).events] == ["lost0001"]
