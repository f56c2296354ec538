"""The provider under the emulator's faults: lost answers, 503s with Retry-After, a portal's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calmirror.emulator.graph.server import GraphEmulator
from calmirror.engine import BlockSpec, Create, Interval
from calmirror.errors import NoAnswerError
from calmirror.microsoft import MicrosoftCalendars
from tests.microsoft.conftest import WINDOW, http_count, meeting, seed

START = datetime(2026, 12, 8, 9, tzinfo=UTC)
BLOCK = BlockSpec(Interval(START, START + timedelta(hours=1)), "blk1", "Busy")


async def test_a_create_whose_answer_was_lost_is_not_duplicated(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """The batch carrying a create loses its answer after the event was made; the resend finds that event."""
    graph.faults.add({"kind": "lost_response", "methods": ["graph.create_event"], "times": 1})
    [outcome] = await alice.write_blocks("primary", [Create(BLOCK)])
    assert outcome.error is None
    assert http_count(graph, "POST", "/$batch") == 2
    assert len(graph.store.events) == 1


async def test_a_503_on_the_delta_is_retried(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """A 503 with Retry-After on a delta read is retried; the change still arrives."""
    listing = await alice.list_window("primary", WINDOW)
    new = seed(graph, meeting("2026-12-09T10:00", "2026-12-09T11:00"))
    graph.faults.add(
        {"kind": "status", "status": 503, "retry_after": 1, "methods": ["graph.delta"], "times": 1}
    )
    delta = await alice.read_changes("primary", str(listing.cursor), WINDOW)
    assert [e.id for e in delta.events] == [new]


async def test_a_portal_page_is_a_failed_read_not_an_empty_calendar(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """HTML answered with 200 in place of a delta page fails the read (it would otherwise delete blocks)."""
    seed(graph, meeting("2026-12-09T10:00", "2026-12-09T11:00"))
    graph.faults.add({"kind": "garbled", "methods": ["graph.delta"]})
    with pytest.raises(NoAnswerError):
        await alice.list_window("primary", WINDOW)
