"""An answer that is not Google's (a proxy's HTML page with status 200) is a failed read, never "empty"."""

from __future__ import annotations

import pytest

from calmirror.emulator import Emulator
from calmirror.errors import TransientError
from calmirror.google.answers import checked_answer
from calmirror.google.client import CalendarClient

LIST = "calendar.events.list"


async def test_garbled_listing_is_retried_then_raised(emulator: Emulator, alice: CalendarClient) -> None:
    """Every attempt answered with HTML: three attempts, then a TransientError instead of no events."""
    emulator.faults.add({"kind": "garbled", "methods": [LIST]})

    with pytest.raises(TransientError, match="not a Google API response"):
        await alice.list_events("alice@example.com")

    assert len(emulator.requests.calls_of(LIST)) == 3


async def test_garbled_answer_once_is_retried(emulator: Emulator, alice: CalendarClient) -> None:
    """One HTML answer, then Google's: the second attempt's listing is returned."""
    emulator.faults.add({"kind": "garbled", "methods": [LIST], "times": 1})

    listing = await alice.list_events("alice@example.com")

    assert listing.events == ()
    assert listing.next_sync_token
    assert len(emulator.requests.calls_of(LIST)) == 2


@pytest.mark.parametrize(
    ("method", "answer"),
    [
        pytest.param(LIST, {"kind": "calendar#events"}, id="list-without-items"),
        pytest.param(LIST, "<html></html>", id="list-html"),
        pytest.param("calendar.events.get", "", id="get-empty"),
        pytest.param("calendar.events.insert", None, id="insert-none"),
    ],
)
def test_answers_that_are_not_google_responses_are_refused(method: str, answer: object) -> None:
    """A listing must carry its items list and other calls a JSON object."""
    with pytest.raises(TransientError):
        checked_answer(method, answer)


def test_empty_answers_of_bodiless_methods_are_accepted() -> None:
    """A delete or a channel stop answers 204 with no body."""
    assert checked_answer("calendar.events.delete", "") == {}
    assert checked_answer("calendar.channels.stop", None) == {}
