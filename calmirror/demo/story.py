"""The demo's story in plain words: who is who, the day they start with, each change, calmirror's answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, TextIO

import aiohttp

from calmirror.demo.cast import (
    CLIENT,
    CONTRACT_CALL,
    DECLINED,
    FLOWS,
    OFFSET_MINUTES,
    PEOPLE,
    SEED,
    WORK,
    People,
)
from calmirror.demo.meter import Meter
from calmirror.emulator import Emulator
from calmirror.engine import Interval
from calmirror.google.blocks import is_marked
from calmirror.google.events import parse_event

TARGETS = (WORK, CLIENT)
MEETINGS = {meeting.key: meeting for meeting in SEED}


@dataclass(frozen=True)
class Change:
    """One thing a person does through the Google API, told in words."""

    title: str
    act: Callable[[], Awaitable[None]]


class Story:
    """Tells what happens, measures what calmirror does about it, and prints both."""

    def __init__(
        self, emulator: Emulator, people: People, daemon_url: str, http: aiohttp.ClientSession, out: TextIO
    ) -> None:
        self.emulator = emulator
        self.people = people
        self.daemon_url = daemon_url
        self.http = http
        self.meter = Meter(emulator, people, daemon_url, http)
        self.out = out
        self.today = datetime.now(UTC).date()

    def say(self, text: str = "") -> None:
        """Print one line of the story, at once (the reader may be a pipe)."""
        print(text, file=self.out, flush=True)

    def introduce(self) -> None:
        """Say who is who, which calendars calmirror connects, and where the emulator runs."""
        self.say(
            "calmirror demo: the real daemon (`calmirror run`) against an embedded Google Calendar emulator"
        )
        self.say(f"Google Calendar emulator: {self.emulator.api_root} (it accepts http webhooks)")
        self.say()
        self.say("The people, each with a Google calendar of their own:")
        for email, who in PEOPLE.items():
            self.say(f"  {email:<20} {who}")
        self.say("calmirror's flows (each meeting of the source becomes a private Busy block in the target):")
        for name, source, target in FLOWS:
            self.say(f"  {name}: {source} -> {target}, {OFFSET_MINUTES} min before and after")

    async def seed(self) -> None:
        """Create the day's meetings through each organizer's own Google client, and say what they are."""
        self.say()
        self.say("The day they start with (each meeting created by its organizer through the Google API):")
        await self.people.sign_in()
        for meeting in SEED:
            await self.people.organise(meeting, self.today)
            if meeting.key in DECLINED:
                await self.people.decline(DECLINED[meeting.key], meeting.key)
            self.say(f"  {meeting.summary}: {meeting.who()}, {meeting.when(self.today)}")
            self.say(f"      expected: {meeting.note}")

    async def start(self, ready: Callable[[], Awaitable[None]]) -> None:
        """Let calmirror start (`ready` waits for it), then show its verdict on every meeting and the cost."""
        self.say()
        self.say("calmirror starts: it watches both calendars by webhook, then reconciles every target once.")
        mark = await self.meter.mark()
        started = datetime.now(UTC)
        await ready()
        seconds = (datetime.now(UTC) - started).total_seconds()
        await self.meter.settle(mark)
        cost = await self.meter.cost(mark)
        self.say(f"  ready in {seconds:.1f} s; {cost.describe()}")
        self.say("  calmirror's verdict on each meeting (from its /api/v1/calendar/stats):")
        verdicts = await self.verdicts()
        for meeting in SEED:
            self.say(f"    {meeting.summary}: {'; '.join(verdicts.get(meeting.key, ['not seen']))}")
        self.show_blocks()

    async def verdicts(self) -> dict[str, list[str]]:
        """Return, per seeded meeting, what each flow's startup reconcile did with it, in words."""
        async with self.http.get(self.daemon_url + "/api/v1/calendar/stats?limit=1000") as response:
            results: list[dict[str, Any]] = (await response.json())["recent_results"]
        keys = {event_id: key for key, event_id in self.people.ids.items()}
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for result in results:
            key = keys.get(result["event_id"].split("_")[0])
            if key is not None and result["sync_type"] == "startup":
                found.setdefault((key, result["flow_name"]), []).append(result)
        verdicts: dict[str, list[str]] = {}
        for (key, flow), rows in found.items():
            mirrored = sum(1 for row in rows if row["action"] in ("created", "restored", "existed"))
            text = f"{flow} mirrored it ({mirrored} block(s))" if mirrored else f"{flow}: {rows[0]['reason']}"
            verdicts.setdefault(key, []).append(text)
        return verdicts

    def changes(self) -> list[Change]:
        """Return the changes the people make, in order."""
        review, one_on_one = MEETINGS["review"], MEETINGS["one-on-one"]
        return [
            Change(
                f'Ben invites {CLIENT} to "{CONTRACT_CALL.summary}", {CONTRACT_CALL.when(self.today)}',
                lambda: self.people.organise(CONTRACT_CALL, self.today),
            ),
            Change(
                "Ana moves the design review from 10:00 to 11:00 UTC",
                lambda: self.people.move(review, self.today, time(11)),
            ),
            Change(f"You decline the client sync in {CLIENT}", lambda: self.people.decline(CLIENT, "sync")),
            Change("Ana cancels the weekly 1:1 (both occurrences)", lambda: self.people.cancel(one_on_one)),
        ]

    async def tell_changes(self) -> None:
        """Make each change, wait for calmirror's webhook-driven answer, and describe it."""
        self.say()
        self.say("Now the people change things through the Google API; Google notifies calmirror by webhook.")
        self.say("(calmirror's own writes are notified too: it reads them and writes nothing: no ping-pong.)")
        changes = self.changes()
        for number, change in enumerate(changes, start=1):
            self.say()
            self.say(f"Step {number} of {len(changes)}: {change.title}")
            before = self.blocks()
            mark = await self.meter.mark()
            await change.act()
            await self.meter.settle(mark)
            cost = await self.meter.cost(mark)
            self.say(f"  Google notified calmirror about: {_counted(cost.notified) or 'nothing'}")
            for line in _differences(before, self.blocks()):
                self.say(f"  calmirror: {line}")
            self.say(f"  {cost.describe()}")
            self.show_counts()

    def blocks(self) -> dict[str, list[Interval]]:
        """Return the live calmirror blocks of each target, read from the emulator's store (no request)."""
        found: dict[str, list[Interval]] = {}
        for calendar in TARGETS:
            events = self.emulator.store.raw_events(calendar)
            parsed = [parse_event(e) for e in events if is_marked(e) and e.get("status") != "cancelled"]
            found[calendar] = sorted(e.interval for e in parsed if e.interval is not None)
        return found

    def show_blocks(self) -> None:
        """Print every block calmirror keeps in each target."""
        for calendar, intervals in self.blocks().items():
            self.say(f"  {calendar} holds {len(intervals)} block(s):")
            for interval in intervals:
                self.say(f"    {_when(interval)}  Busy (private, no reminders)")

    def show_counts(self) -> None:
        """Print how many blocks each target holds now."""
        counts = ", ".join(f"{calendar} {len(found)}" for calendar, found in self.blocks().items())
        self.say(f"  blocks now: {counts}")

    def serving(self, duration: float | None) -> None:
        """Say where calmirror answers and how it stops."""
        url = self.daemon_url
        self.say()
        self.say("calmirror keeps running, exactly as `calmirror run` would:")
        self.say(f"  health:  {url}/health")
        self.say(f"  stats:   {url}/api/v1/calendar/stats")
        self.say(f"  metrics: {url}/metrics")
        self.say(f"  try:     curl -s {url}/api/v1/calendar/stats")
        if duration is None:
            self.say("Press Ctrl-C to stop.")
        else:
            self.say(f"Stopping by itself in {duration:g} s (--duration).")


def _differences(before: dict[str, list[Interval]], after: dict[str, list[Interval]]) -> list[str]:
    """Describe how the blocks of each target changed: created, removed, or one moved."""
    lines = []
    for calendar in TARGETS:
        gone = [i for i in before[calendar] if i not in after[calendar]]
        new = [i for i in after[calendar] if i not in before[calendar]]
        if len(gone) == len(new) == 1:
            lines.append(f"block moved in {calendar}: {_when(gone[0])} -> {_when(new[0])}")
            continue
        lines += [f"block created in {calendar}: {_when(i)}" for i in new]
        lines += [f"block removed from {calendar}: {_when(i)}" for i in gone]
    return lines or ["no block to write"]


def _when(interval: Interval) -> str:
    """Return a block's time in words."""
    if interval.all_day:
        return f"{interval.start_date:%a %d %b}, all day"
    return f"{interval.start:%a %d %b %H:%M}-{interval.end:%H:%M} UTC"


def _counted(names: Sequence[str]) -> str:
    """Return names once each, in order of first appearance, with how often each came when more than once."""
    counts = Counter(names)
    return ", ".join(name if counts[name] == 1 else f"{name} ({counts[name]} times)" for name in counts)
