"""A block whose UID another client moved to another address: found by its UID, never created twice."""

from __future__ import annotations

from calmirror.caldav import CalDavProvider
from calmirror.caldav.errors import UID_CONFLICT
from calmirror.engine.provider import Create, Remove, Restore
from calmirror.errors import DuplicateError
from calmirror.ical.blocks import block_calendar
from harness.caldav_servers import get_object
from harness.davproxy import DavProxy, Fault
from tests.caldav.helpers import at, block_spec, store

NO_UID_CONFLICT = (
    b'<?xml version="1.0" encoding="utf-8"?><D:error xmlns:D="DAV:" '
    b'xmlns:C="urn:ietf:params:xml:ns:caldav"><C:no-uid-conflict><D:href>/x.ics</D:href>'
    b"</C:no-uid-conflict></D:error>"
)


async def test_a_create_whose_uid_lives_elsewhere_finds_the_holder(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    spec = block_spec(5)
    await store(proxy, calendar + "moved.ics", block_calendar(spec))  # another client renamed the block

    [taken] = await provider.write_blocks(calendar, [Create(spec)])
    found = await provider.get_block(calendar, spec.id)

    assert isinstance(taken.error, DuplicateError)
    assert found is not None
    assert found.marked
    assert found.interval == spec.interval  # the executor counts it as existing


async def test_a_moved_block_is_restored_and_removed_where_it_lives(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    spec = block_spec(5)
    await store(proxy, calendar + "moved.ics", block_calendar(block_spec(6)))  # renamed and moved a day

    found = await provider.get_block(calendar, spec.id)
    assert found is not None
    assert found.marked
    [restored] = await provider.write_blocks(calendar, [Restore(spec)])
    assert restored.error is None
    assert at(5, 14).strftime("%Y%m%dT%H%M%SZ").encode() in (await get_object(calendar + "moved.ics") or b"")
    [removed] = await provider.write_blocks(calendar, [Remove(spec.id)])

    assert removed.error is None
    assert await get_object(calendar + "moved.ics") is None
    assert await provider.list_blocks(calendar) == ()


async def test_a_uid_conflict_refused_with_403_is_no_read_only_calendar(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    headers = {"Content-Type": "application/xml"}
    proxy.inject(Fault(403, "PUT", body=NO_UID_CONFLICT, headers=headers))

    [taken] = await provider.write_blocks(calendar, [Create(block_spec(5))])

    assert isinstance(taken.error, DuplicateError)
    assert taken.error.reason == UID_CONFLICT
