"""Graph push over real HTTP, hard cases: what a subscription watches, gaps, odd answers, mixed POSTs."""

from __future__ import annotations

from harness.processes import eventually
from tests.daemon.graphrig import ALICE, SOURCE, Rig, add_event, graph_rig, meeting


async def subscribed(rig: Rig) -> str:
    """Subscribe the source calendar and return the subscription id."""
    await rig.manager.start()
    assert rig.manager.polling_reason(SOURCE) is None, rig.manager.polling_reason(SOURCE)
    return rig.manager.live[SOURCE].id


async def read_finds(rig: Rig, subject: str) -> None:
    """Wait for a delta read that finds a meeting."""

    async def found() -> bool:
        return any(subject in subjects for subjects in rig.reads)

    await eventually(found, 10, f"a delta read that finds {subject!r}")


async def test_a_primary_source_watches_its_own_calendar_not_the_mailbox() -> None:
    """A "primary" source is subscribed by the default calendar's id: other calendars' writes notify none."""
    async with graph_rig() as rig:
        store, hub = rig.emulator.store, rig.emulator.subscriptions
        blocks = store.create_calendar(ALICE, "Blocks")  # e.g. calmirror's own target in the same mailbox
        sub_id = await subscribed(rig)
        assert hub.subscriptions[sub_id].calendar_ids == {store.calendar(ALICE, None).id}
        store.insert(blocks, meeting("Busy"))
        add_event(store, "Planning")
        await read_finds(rig, "Planning")
        await hub.drain()
        sent = [d.kind for d in hub.deliveries if d.subscription_id == sub_id and d.kind != "validation"]
        assert sent == ["created"]  # the meeting's, not the block's
