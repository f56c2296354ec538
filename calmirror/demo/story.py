"""The demo's story in plain words: who is who, the day they start with, each change, calmirror's answer."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import aiohttp

from calmirror.demo.blocks import TARGETS, Block, target_blocks
from calmirror.demo.cast import FLOWS, MICROSOFT, OFFSET_MINUTES, PEOPLE, SEED, WORK
from calmirror.demo.meter import REACT_WITHIN_SECONDS, Costs, Meter
from calmirror.demo.people import People
from calmirror.demo.steps import Change, changes
from calmirror.emulator import Emulator
from calmirror.engine import Interval
from calmirror.errors import CalmirrorError

APPS = {WORK: "Outlook"}  # every other target is a Google calendar


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
        """Say who is who, which calendars calmirror connects, and where the emulators run."""
        graph_root = self.emulator.graph.graph_root if self.emulator.graph is not None else "-"
        self.say(
            "calmirror demo: the real daemon (`calmirror run`) against an embedded Google Calendar and"
            " Microsoft Graph emulator"
        )
        self.say(f"Google Calendar emulator: {self.emulator.api_root} (it accepts http webhooks)")
        self.say(f"Microsoft Graph emulator: {graph_root} (same server; it accepts http webhooks too)")
        self.say()
        self.say("The people, each with a calendar of their own:")
        for email, who in PEOPLE.items():
            self.say(f"  {email:<20} {who}")
        self.say("calmirror's flows (each meeting of the source becomes a private Busy block in the target):")
        for name, source, target in FLOWS:
            self.say(f"  {name}: {source} -> {target}, {OFFSET_MINUTES} min before and after")

    async def seed(self) -> None:
        """Create the day's meetings through each organizer's own calendar app, and say what they are."""
        self.say()
        self.say(
            "The day they start with (each meeting created by its organizer through Graph or Google's API):"
        )
        await self.people.sign_in()
        for meeting in SEED:
            await self.people.organise(meeting, self.today)
            self.say(f"  {meeting.summary}: {meeting.who()}, {meeting.when(self.today)}")
            self.say(f"      expected: {meeting.note}")

    async def start(self, ready: Callable[[], Awaitable[None]]) -> None:
        """Let calmirror start (`ready` waits for it), then show its verdict on every meeting and the cost."""
        self.say()
        self.say(
            "calmirror starts: it subscribes to your Outlook calendar through Graph and watches your Google"
        )
        self.say("calendar by a channel, then reconciles every target once.")
        mark = await self.meter.mark()
        started = time.monotonic()
        await ready()
        seconds = time.monotonic() - started
        await self.meter.settle(mark)
        costs = await self.meter.cost(mark)
        self.say(f"  ready in {seconds:.1f} s")
        self.tell_costs(costs)
        self.say("  calmirror's verdict on each meeting (from its /api/v1/calendar/stats):")
        verdicts = await self.verdicts()
        for meeting in SEED:
            self.say(f"    {meeting.summary}: {'; '.join(verdicts.get(meeting.key, ['not seen']))}")
        for calendar, blocks in target_blocks(self.emulator).items():
            self.say(f"  {calendar} holds {len(blocks)} block(s) in {APPS.get(calendar, 'Google Calendar')}:")
            for block in blocks:
                self.say(f"    {_when(block.interval)}  {block.describe()}")

    async def verdicts(self) -> dict[str, list[str]]:
        """Return, per seeded meeting, what each flow's startup reconcile did with it, in words."""
        async with self.http.get(self.daemon_url + "/api/v1/calendar/stats?limit=1000") as response:
            results: list[dict[str, Any]] = (await response.json())["recent_results"]
        keys = self.event_keys()
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for result in results:
            key = _key_of(result["event_id"], keys)
            if key is not None and result["sync_type"] == "startup":
                found.setdefault((key, result["flow_name"]), []).append(result)
        verdicts: dict[str, list[str]] = {}
        for (key, flow), rows in found.items():
            mirrored = sum(1 for row in rows if row["action"] in ("created", "restored", "existed"))
            text = f"{flow} mirrored it ({mirrored} block(s))" if mirrored else f"{flow}: {rows[0]['reason']}"
            verdicts.setdefault(key, []).append(text)
        return verdicts

    def event_keys(self) -> dict[str, str]:
        """Return the meeting key of each event id: the organizer's event, and its invitations in Outlook."""
        keys = {event_id: key for key, event_id in self.people.ids.items()}
        graph = self.emulator.graph
        if graph is not None:
            meetings = {uid: key for key, uid in self.people.uids.items()}
            for email in MICROSOFT:
                calendar = graph.store.mailbox(email).default_calendar_id
                for event in graph.store.events_in(calendar):
                    if event.ical_uid in meetings:
                        keys[event.id] = meetings[event.ical_uid]
        return keys

    async def tell_changes(self) -> None:
        """Make each change, wait for calmirror's push-driven answer, and describe it."""
        self.say()
        self.say("Now the people change things; Graph and Google notify calmirror by webhook.")
        self.say("(calmirror's own writes are notified too: it reads them and writes nothing: no ping-pong.)")
        steps = changes(self.people, self.today)
        for number, change in enumerate(steps, start=1):
            self.say()
            self.say(f"Step {number} of {len(steps)}: {change.title}")
            before = target_blocks(self.emulator)
            mark = await self.meter.mark()
            await change.act()
            await self.happened(number, change, before)
            await self.meter.settle(mark)
            after = target_blocks(self.emulator)
            if not change.expect.met(before, after):  # calmirror went on writing after the change held
                raise CalmirrorError(f"step {number} did not hold: {change.expect.words()}")
            costs = await self.meter.cost(mark)
            self.say(f"  Graph notified calmirror about: {_counted(costs.graph.notified) or 'nothing'}")
            self.say(f"  Google notified calmirror about: {_counted(costs.google.notified) or 'nothing'}")
            for line in _differences(before, after):
                self.say(f"  calmirror: {line}")
            self.tell_costs(costs)
            counts = ", ".join(f"{calendar} {len(found)}" for calendar, found in after.items())
            self.say(f"  blocks now: {counts}")

    async def happened(self, number: int, change: Change, before: dict[str, list[Block]]) -> None:
        """Wait until the change's blocks are written; raise a clear error when they are not in time."""
        deadline = time.monotonic() + REACT_WITHIN_SECONDS
        while not change.expect.met(before, target_blocks(self.emulator)):
            if time.monotonic() > deadline:
                late = f"{change.expect.words()} within {REACT_WITHIN_SECONDS:.0f} s"
                raise CalmirrorError(f"step {number} did not happen in time: {late}")
            await asyncio.sleep(0.02)

    def tell_costs(self, costs: Costs) -> None:
        """Print what calmirror spent at each provider, and its webhook-to-block time."""
        self.say(f"  {costs.graph.describe()}")
        self.say(f"  {costs.google.describe()}")
        if costs.latency is not None:
            self.say(f"  webhook to block: {costs.latency:.3f} s")

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


def _key_of(event_id: str, keys: dict[str, str]) -> str | None:
    """Return the meeting an event id names: itself, a Graph occurrence (id.YYYYMMDD) or Google's (id_...)."""
    for candidate in (event_id, event_id.rpartition(".")[0], event_id.split("_", maxsplit=1)[0]):
        if candidate in keys:
            return keys[candidate]
    return None


def _differences(before: dict[str, list[Block]], after: dict[str, list[Block]]) -> list[str]:
    """Describe how the blocks of each target changed: created, removed, or one moved."""
    lines = []
    for calendar in TARGETS:
        gone = [b for b in before[calendar] if b.interval not in {a.interval for a in after[calendar]}]
        new = [b for b in after[calendar] if b.interval not in {a.interval for a in before[calendar]}]
        if len(gone) == len(new) == 1:
            lines.append(f"block moved in {calendar}: {_when(gone[0].interval)} -> {_when(new[0].interval)}")
            continue
        lines += [f"block created in {calendar}: {_when(b.interval)}, {b.describe()}" for b in new]
        lines += [f"block removed from {calendar}: {_when(b.interval)}" for b in gone]
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
