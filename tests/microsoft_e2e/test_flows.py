"""Microsoft <-> Google through notifications alone: daemon and emulator as processes, the poll a day away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from harness.processes import DaemonProcess, EmulatorProcess, daemon_env, free_port, running_daemon
from tests.daemon.processes import meeting_body
from tests.microsoft_e2e.rig import (
    ALICE,
    BOB,
    MIA,
    NINA,
    OLGA,
    graph_meeting,
    graph_time,
    hour,
    hour_from,
    mailboxes,
    reach_google,
    reach_outlook,
)

pytestmark = pytest.mark.slow


@pytest.fixture
async def daemon(emulator: EmulatorProcess) -> AsyncIterator[DaemonProcess]:
    """`calmirror run` mirroring mia (Microsoft) into bob (Google), and alice (Google) into nina."""
    flows = [("outlook", MIA, BOB), ("gmail", ALICE, NINA)]
    env = daemon_env(emulator, [ALICE, BOB], flows, port=free_port(), microsoft=[MIA, NINA])
    async with running_daemon(env) as process:
        yield process


async def test_microsoft_meetings_reach_google_by_notification(
    emulator: EmulatorProcess, daemon: DaemonProcess
) -> None:
    """mia's meeting appears, moves and goes in bob's calendar; an invitation she declines goes too."""
    async with mailboxes(emulator, MIA, OLGA) as (mia, olga):
        first = hour(1)
        meeting = await mia.create(graph_meeting(first))
        await reach_google(emulator, BOB, [hour_from(first)], "a created meeting's block")
        moved = hour(2, 3)
        await mia.update(meeting, {"start": graph_time(moved), "end": graph_time(moved + timedelta(hours=1))})
        await reach_google(emulator, BOB, [hour_from(moved)], "the block moved with its meeting")
        await mia.delete(meeting)
        await reach_google(emulator, BOB, [], "the cancelled meeting's block gone")

        invited = hour(3)
        await olga.create(graph_meeting(invited, subject="Review", guest=MIA))
        (copy,) = [e for e in await mia.view() if e.resource.get("subject") == "Review"]
        await mia.respond(copy.id, "accept")
        await reach_google(emulator, BOB, [hour_from(invited)], "the accepted invitation's block")
        await mia.respond(copy.id, "decline")
        await reach_google(emulator, BOB, [], "the declined invitation's block gone")


async def test_google_meetings_reach_microsoft_as_private_busy_blocks(
    emulator: EmulatorProcess, daemon: DaemonProcess
) -> None:
    """alice's meeting appears in nina's calendar as a private, busy, silent, unattended, marked block."""
    alice = emulator.client(ALICE)
    async with mailboxes(emulator, NINA) as (nina,):
        try:
            first = hour(1)
            meeting = await alice.insert_event(ALICE, meeting_body(first))
            await reach_outlook(nina, [hour_from(first)], "a created meeting's block in Outlook")
            (block,) = await nina.blocks()
            shown = {k: block.resource.get(k) for k in ("sensitivity", "showAs", "isReminderOn", "attendees")}
            assert shown == {
                "sensitivity": "private",
                "showAs": "busy",
                "isReminderOn": False,
                "attendees": [],
            }
            moved = hour(2, 5)
            await alice.update_event(ALICE, meeting["id"], meeting_body(moved))
            await reach_outlook(nina, [hour_from(moved)], "the block moved with its meeting")
            await alice.delete_event(ALICE, meeting["id"])
            await reach_outlook(nina, [], "the cancelled meeting's block gone")
        finally:
            await alice.aclose()


async def test_a_series_with_a_moved_and_a_cancelled_occurrence_has_a_block_per_occurrence(
    emulator: EmulatorProcess, daemon: DaemonProcess
) -> None:
    """A daily series of 4: one occurrence moved two hours, one cancelled; bob's blocks match exactly."""
    async with mailboxes(emulator, MIA) as (mia,):
        start = hour(1)
        body = graph_meeting(start, subject="Standup")
        body["recurrence"] = {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": f"{start:%Y-%m-%d}", "numberOfOccurrences": 4},
        }
        await mia.create(body)
        days = [hour_from(start + timedelta(days=n)) for n in range(4)]
        await reach_google(emulator, BOB, days, "a block for each occurrence")

        occurrences = sorted((e for e in await mia.view() if e.mark is None), key=lambda e: e.start)
        assert [(e.start, e.end) for e in occurrences] == days
        moved = occurrences[1].start + timedelta(hours=2)
        await mia.update(
            occurrences[1].id, {"start": graph_time(moved), "end": graph_time(moved + timedelta(hours=1))}
        )
        await mia.delete(occurrences[2].id)
        want = [days[0], hour_from(moved), days[3]]
        await reach_google(
            emulator, BOB, want, "the moved occurrence's block moved, the cancelled one's gone"
        )
        assert sorted((e.start, e.end) for e in await mia.view() if e.mark is None) == want
