"""The changes the people make after calmirror has started, each with the block change it must cause."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, time

from calmirror.demo.blocks import TARGETS, Block
from calmirror.demo.cast import BUDGET, CLIENT, CONTRACT_CALL, MEETINGS, WORK
from calmirror.demo.people import People


@dataclass(frozen=True)
class Expect:
    """The blocks a change must create and remove in one target (a move is one of each), none elsewhere."""

    target: str
    created: int = 0
    removed: int = 0

    def met(self, before: dict[str, list[Block]], after: dict[str, list[Block]]) -> bool:
        """Tell whether the blocks changed exactly so."""
        for calendar in TARGETS:
            old = [b.interval for b in before[calendar]]
            new = [b.interval for b in after[calendar]]
            made, gone = [i for i in new if i not in old], [i for i in old if i not in new]
            wanted = (self.created, self.removed) if calendar == self.target else (0, 0)
            if (len(made), len(gone)) != wanted:
                return False
        return True

    def words(self) -> str:
        """Return what should happen, in words."""
        if self.created and self.removed:
            return f"the block in {self.target} did not move"
        if self.created:
            return f"no block was created in {self.target}"
        return f"{self.removed} block(s) were not removed from {self.target}"


@dataclass(frozen=True)
class Change:
    """One thing a person does in their own calendar app, told in words, and what calmirror must do."""

    title: str
    act: Callable[[], Awaitable[None]]
    expect: Expect


def changes(people: People, today: date) -> list[Change]:
    """Return the changes the people make, in order: new, moved, declined and cancelled meetings."""
    review, one_on_one, sync = MEETINGS["review"], MEETINGS["one-on-one"], MEETINGS["sync"]
    return [
        Change(
            f'Ana books "{BUDGET.summary}" with {WORK} in Outlook, {BUDGET.when(today)}',
            lambda: people.organise(BUDGET, today),
            Expect(CLIENT, created=1),
        ),
        Change(
            f'Ben invites {CLIENT} to "{CONTRACT_CALL.summary}", {CONTRACT_CALL.when(today)}',
            lambda: people.organise(CONTRACT_CALL, today),
            Expect(WORK, created=1),
        ),
        Change(
            "Ana moves the design review from 10:00 to 11:00 UTC in Outlook",
            lambda: people.move(review, today, time(11)),
            Expect(CLIENT, created=1, removed=1),
        ),
        Change(
            "Ben moves the contract call from 16:00 to 17:00 UTC",
            lambda: people.move(CONTRACT_CALL, today, time(17)),
            Expect(WORK, created=1, removed=1),
        ),
        Change(
            f'You decline Ana\'s "{BUDGET.summary}" invitation in Outlook ({WORK})',
            lambda: people.decline(WORK, BUDGET.key),
            Expect(CLIENT, removed=1),
        ),
        Change(
            "Ana cancels the weekly 1:1 in Outlook (both occurrences)",
            lambda: people.cancel(one_on_one),
            Expect(CLIENT, removed=2),
        ),
        Change("Ben cancels the client sync", lambda: people.cancel(sync), Expect(WORK, removed=1)),
    ]
