"""CalDAV block writes against real servers: preconditions keep every write on the resource it means."""

from __future__ import annotations

import pytest

from calmirror.caldav import CalDavProvider
from calmirror.caldav.errors import NOT_CALMIRRORS
from calmirror.engine.provider import Create, Remove, Restore
from calmirror.errors import DuplicateError, NotFoundError, PreconditionFailedError
from harness.caldav_servers import get_object
from harness.davproxy import DavProxy
from tests.caldav.helpers import (
    DECEMBER,
    at,
    block_spec,
    foreign_at_block,
    half_marked,
    meeting,
    remove,
    store,
)

BLOCK = "b0000000000000000000000001"


async def test_a_second_create_is_a_duplicate_and_get_block_finds_the_marked_block(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    spec = block_spec(5, BLOCK)
    [first] = await provider.write_blocks(calendar, [Create(spec)])
    assert first.error is None
    assert first.event is not None
    assert first.event.marked
    assert first.event.interval == spec.interval

    [second] = await provider.write_blocks(calendar, [Create(spec)])
    found = await provider.get_block(calendar, BLOCK)

    assert isinstance(second.error, DuplicateError)
    assert found is not None
    assert found.marked
    assert found.interval == spec.interval
    assert [b.id for b in await provider.list_blocks(calendar)] == [BLOCK]


async def test_writes_run_concurrently_and_answer_in_order(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    specs = [block_spec(day, f"b{day:025d}") for day in range(1, 11)]
    outcomes = await provider.write_blocks(calendar, [Create(spec) for spec in specs])

    assert [o.write for o in outcomes] == [Create(spec) for spec in specs]
    assert all(o.error is None for o in outcomes)
    listing = await provider.list_window(calendar, DECEMBER)
    assert sorted(e.id for e in listing.events if e.marked) == sorted(spec.id for spec in specs)


@pytest.mark.parametrize("kind", ["foreign", "half_marked"])
async def test_a_foreign_event_at_a_block_address_is_never_overwritten_or_deleted(
    provider: CalDavProvider, proxy: DavProxy, calendar: str, kind: str
) -> None:
    data, summary = (
        (foreign_at_block(BLOCK), b"SUMMARY:Mine")
        if kind == "foreign"
        else (half_marked(BLOCK), b"SUMMARY:Copy")
    )
    await store(proxy, calendar + f"{BLOCK}.ics", data)
    await provider.list_window(calendar, DECEMBER)
    spec = block_spec(5, BLOCK)
    proxy.clear()

    create, restore, removal = await provider.write_blocks(
        calendar, [Create(spec), Restore(spec), Remove(BLOCK)]
    )
    found = await provider.get_block(calendar, BLOCK)
    [after_get] = await provider.write_blocks(calendar, [Restore(spec)])

    assert isinstance(create.error, DuplicateError)
    assert isinstance(restore.error, PreconditionFailedError)
    assert restore.error.reason == NOT_CALMIRRORS
    assert isinstance(removal.error, PreconditionFailedError)
    assert removal.error.reason == NOT_CALMIRRORS
    assert isinstance(after_get.error, PreconditionFailedError)
    assert found is not None
    assert not found.marked
    assert proxy.count("PUT") == 1
    assert proxy.count("DELETE") == 0
    stored = await get_object(calendar + f"{BLOCK}.ics") or b""
    assert summary in stored
    assert b"X-CALMIRROR-BLOCK" not in stored


async def test_restore_replaces_an_edited_block_and_remove_deletes_it(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    [created] = await provider.write_blocks(calendar, [Create(block_spec(5, BLOCK))])
    assert created.error is None
    moved = block_spec(6, BLOCK)

    [restored] = await provider.write_blocks(calendar, [Restore(moved)])
    listing = await provider.list_window(calendar, DECEMBER)
    [removed] = await provider.write_blocks(calendar, [Remove(BLOCK)])

    assert restored.error is None
    assert restored.event is not None
    assert restored.event.interval == moved.interval
    assert [e.interval for e in listing.events if e.id == BLOCK] == [moved.interval]
    assert removed.error is None
    assert await get_object(calendar + f"{BLOCK}.ics") is None
    [again] = await provider.write_blocks(calendar, [Remove(BLOCK)])
    assert isinstance(again.error, PreconditionFailedError)  # no read saw it since: nothing is sent


async def test_remove_with_a_stale_etag_fails_and_the_resource_stays(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    [created] = await provider.write_blocks(calendar, [Create(block_spec(5, BLOCK))])
    assert created.error is None
    await provider.list_window(calendar, DECEMBER)
    edited = (await get_object(calendar + f"{BLOCK}.ics") or b"").replace(
        b"SUMMARY:Busy", b"SUMMARY:Mine now"
    )
    await store(proxy, calendar + f"{BLOCK}.ics", edited)

    [removal] = await provider.write_blocks(calendar, [Remove(BLOCK)])

    assert isinstance(removal.error, PreconditionFailedError)
    assert removal.error.status == 412
    assert b"SUMMARY:Mine now" in (await get_object(calendar + f"{BLOCK}.ics") or b"")


async def test_removing_a_block_someone_deleted_is_not_found(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await store(proxy, calendar + "other.ics", meeting("other", at(3, 9)))
    [created] = await provider.write_blocks(calendar, [Create(block_spec(5, BLOCK))])
    assert created.error is None
    await provider.list_window(calendar, DECEMBER)
    await remove(proxy, calendar + f"{BLOCK}.ics")
    [removal] = await provider.write_blocks(calendar, [Remove(BLOCK)])

    # Xandikos checks the precondition first (412), Radicale the resource (404): both leave it gone.
    assert isinstance(removal.error, NotFoundError | PreconditionFailedError)
    assert await get_object(calendar + "other.ics") is not None


async def test_a_batch_removes_first_so_a_new_block_can_reuse_the_id(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    [created] = await provider.write_blocks(calendar, [Create(block_spec(5, BLOCK))])
    assert created.error is None
    await provider.list_window(calendar, DECEMBER)
    moved = block_spec(6, BLOCK)

    create, removal = await provider.write_blocks(calendar, [Create(moved), Remove(BLOCK)])

    assert create.error is None
    assert removal.error is None
    [block] = await provider.list_blocks(calendar)
    assert block.interval == moved.interval
