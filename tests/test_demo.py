"""`calmirror demo` as a real process: it tells each step, and what it prints is what really happened."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from calmirror.config import CalendarRef
from calmirror.daemon.graphhook import make_client_state
from calmirror.google.blocks import is_marked
from calmirror.microsoft.blocks import MARK_ID
from tests.daemon.processes import DaemonProcess, EmulatorProcess

pytestmark = pytest.mark.slow

WORK, CLIENT = "you@work.example", "you@client.example"
WEBHOOK_KEY = "demo-test-webhook-key-0123456789abcdef"
STORY_TOLD = "  try:     curl"
STEPS = 7
# Credential shapes the emulator issues, unmasked: Google's client secrets, refresh and access tokens,
# then Microsoft's refresh and access tokens.
SECRET_SHAPES = re.compile(
    r"GOCSPX-[\w-]{8}|1//0[\w-]{8}|ya29\.[\w-]{8}|0\.A[\w-]{8}|eyJ0eXAiOiJKV1QifQ\.[\w-]{8}"
)
OWN_ENV = ("GOOGLE_", "MICROSOFT_", "SYNC_", "WEBHOOK_", "LOG_")
GRAPH_READS = (".list", ".get", ".delta")


async def start_demo(*args: str, **env: str) -> DaemonProcess:
    """Start `calmirror demo` (stdout and stderr collected together) outside any .env file."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(OWN_ENV)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "calmirror",
        "demo",
        *args,
        env=environ | env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd="/",
    )
    demo = DaemonProcess(proc, base_url="")
    demo._reader = asyncio.get_running_loop().create_task(demo._read())
    return demo


async def wait_for_line(demo: DaemonProcess, start: str, seconds: float = 30.0) -> str:
    """Wait until the demo printed a line starting with `start`; set its base URL once the story says it."""
    deadline = time.monotonic() + seconds
    while not any(line.startswith(start) for line in demo.lines):
        assert demo.proc.returncode is None, f"demo exited early:\n{demo.output}"
        assert time.monotonic() < deadline, f"no {start!r} after {seconds}s:\n{demo.output}"
        await asyncio.sleep(0.05)
    if "  health: " in demo.output:  # the story is told: the daemon's address is known
        demo.base_url = printed(demo.output, r"health:\s+(\S+)/health")
    return next(line for line in demo.lines if line.startswith(start))


def printed(text: str, pattern: str) -> str:
    """Return the first group of the first match of `pattern` in the demo's output."""
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not in:\n{text}"
    return found.group(1)


def emulator_of(demo: DaemonProcess) -> EmulatorProcess:
    """Return a handle on the demo's embedded emulator (only its control API is used)."""
    return EmulatorProcess(demo.proc, printed(demo.output, r"Google Calendar emulator: (\S+)"), "", {})


async def outlook_blocks(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    """Return the live calmirror blocks in your Outlook calendar, as Graph renders them."""
    stored = await emulator.control("GET", f"graph/users/{WORK}/events")
    return [
        event
        for event in stored["value"]
        if any(p["id"] == MARK_ID for p in event["singleValueExtendedProperties"])
        and not event["isCancelled"]
    ]


async def live_blocks(emulator: EmulatorProcess) -> dict[str, int]:
    """Return how many live calmirror blocks each target holds."""
    events = await emulator.events(CLIENT)
    google = sum(1 for e in events if is_marked(e) and e.get("status") != "cancelled")
    return {WORK: len(await outlook_blocks(emulator)), CLIENT: google}


@pytest.fixture
async def told() -> AsyncIterator[DaemonProcess]:
    """`calmirror demo --duration 3`, once its story is told."""
    demo = await start_demo("--duration", "3")
    started = time.monotonic()
    try:
        await wait_for_line(demo, STORY_TOLD)
        assert time.monotonic() - started < 20, "the story took too long"
        yield demo
    finally:
        if demo.proc.returncode is None:
            await demo.kill()


def steps(text: str) -> list[str]:
    """Return the text of each step of the story."""
    parts = re.split(r"\nStep \d of \d: ", text.split("\ncalmirror keeps running", maxsplit=1)[0])
    return parts[1:]


def block_counts(text: str) -> dict[str, int]:
    """Return the per-calendar counts of the startup's "holds N block(s)" lines."""
    return {m[0]: int(m[1]) for m in re.findall(r"(\S+@\S+) holds (\d+) block\(s\)", text)}


def follow(counts: dict[str, int], step: str) -> tuple[dict[str, int], int, int]:
    """Apply a step's printed creates, removals and moves; return the counts, creates and deletes."""
    created = Counter(re.findall(r"block created in (\S+):", step))
    removed = Counter(re.findall(r"block removed from (\S+):", step))
    moved = len(re.findall(r"block moved in ", step))
    after = {c: n + created[c] - removed[c] for c, n in counts.items()}
    return after, created.total() + moved, removed.total() + moved


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse a Prometheus exposition with prometheus_client's parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


def total(text: str, pattern: str) -> int:
    """Return the sum of every number the pattern's group finds in the text."""
    return sum(int(n) for n in re.findall(pattern, text))


def provider_reads(metric: dict[tuple[str, tuple[tuple[str, str], ...]], float], provider: str) -> float:
    """Return calmirror's own count of its list, get and delta requests to one provider."""
    return sum(
        value
        for (name, labels), value in metric.items()
        if name == "calmirror_provider_requests_total"
        and dict(labels)["provider"] == provider
        and dict(labels)["method"].endswith(GRAPH_READS)
        and not dict(labels)["method"].startswith("subscriptions.")
    )


async def test_demo_tells_each_change_and_what_calmirror_did(told: DaemonProcess) -> None:
    """Each change is told with calmirror's answer, the notification that caused it and its cost."""
    text = told.output
    booked, invited, moved_ms, moved_google, declined, cancelled_ms, cancelled_google = steps(text)
    assert "Focus time: work-to-client: 1 participant (rooms do not count), the flow needs 2" in text
    assert "Lunch with Ana: work-to-client: marked free" in text
    assert "Design review: work-to-client mirrored it (1 block(s))" in text
    assert "1:1 with Ana: work-to-client mirrored it (2 block(s))" in text
    assert "Client sync: client-to-work mirrored it (1 block(s))" in text
    assert "Offsite: client-to-work mirrored it (1 block(s))" in text
    assert (
        "Kickoff: client-to-work: the target calendar is invited, so the meeting already occupies it" in text
    )
    # Through a Graph notification, a meeting in Outlook becomes a block in the Google calendar ...
    assert "Graph notified calmirror about: you@work.example" in booked
    assert re.search(rf"block created in {CLIENT}: .*07:55-08:35 UTC", booked)
    # ... and through a Google channel, a Google meeting a private, silent block in Outlook.
    assert re.search(r"Google notified calmirror about: .*you@client\.example", invited)
    created = rf"block created in {WORK}: .*15:55-16:50 UTC, Busy \(private, no reminder, no attendees\)"
    assert re.search(created, invited)
    assert re.search(rf"block moved in {CLIENT}: .*10:55-12:05 UTC", moved_ms)
    assert re.search(rf"block moved in {WORK}: .*16:55-17:50 UTC", moved_google)
    assert re.search(rf"block removed from {CLIENT}: .*07:55-08:35 UTC", declined)
    assert cancelled_ms.count(f"block removed from {CLIENT}: ") == 2
    assert f"block removed from {WORK}: " in cancelled_google
    for step in (booked, moved_ms, declined, cancelled_ms):
        assert re.search(r"cost: \d+ HTTP request\(s\) to Graph: [1-9]\d* read\(s\)", step)
        assert re.search(r"cost: \d+ HTTP request\(s\) to Google: \d+ read\(s\), [1-9] write", step)
    for step in (invited, moved_google, cancelled_google):
        assert re.search(r"cost: \d+ HTTP request\(s\) to Google: [1-9]\d* read\(s\)", step)
        assert re.search(r"cost: \d+ HTTP request\(s\) to Graph: \d+ read\(s\), [1-9] write", step)
    for step in steps(text):
        assert float(printed(step, r"webhook to block: (\S+) s")) < 5.0


async def test_demo_counts_match_the_calendars_stats_and_request_log(told: DaemonProcess) -> None:
    """Block counts, creates, deletes, reads and writes the demo prints are what the calendars hold."""
    text, emulator = told.output, emulator_of(told)
    counts = block_counts(text)
    created, deleted = sum(counts.values()), 0
    for step in steps(text):
        counts, creates, deletes = follow(counts, step)
        created, deleted = created + creates, deleted + deletes
        shown = dict(re.findall(r"(\S+@\S+) (\d+)", printed(step, r"blocks now: (.*)")))
        assert {c: int(n) for c, n in shown.items()} == counts
    assert counts == await live_blocks(emulator)
    for block in await outlook_blocks(emulator):  # what Outlook shows of each block
        assert (block["sensitivity"], block["showAs"], block["isReminderOn"]) == ("private", "busy", False)
        assert block["attendees"] == []

    status, body, _ = await told.get("/api/v1/calendar/stats?limit=1000")  # the whole ledger
    stats = json.loads(body)
    assert status == 200
    assert (stats["busy_blocks_created"], stats["busy_blocks_deleted"], stats["errors"]) == (
        created,
        deleted,
        0,
    )
    assert any(r["sync_type"] == "webhook" and r["action"] == "created" for r in stats["recent_results"])

    google_writes = total(text, r"to Google: \d+ read\(s\), (\d+) write\(s\)")
    graph_writes = total(text, r"to Graph: \d+ read\(s\), (\d+) write\(s\)")
    log: dict[str, Any] = await emulator.control("GET", "requests")
    batched = [c["method_id"] for c in log["calls"] if c["in_batch"]]  # only calmirror batches
    graph_batched = [method for method in batched if method.startswith("graph.")]
    assert (google_writes, graph_writes) == (len(batched) - len(graph_batched), len(graph_batched))
    assert google_writes + graph_writes == created + deleted
    status, exposition, _ = await told.get("/metrics")
    metric = samples(exposition)
    assert status == 200
    assert provider_reads(metric, "google") == total(text, r"to Google: (\d+) read\(s\)")
    assert provider_reads(metric, "microsoft") == total(text, r"to Graph: (\d+) read\(s\)")
    assert metric[("calmirror_reconciles_total", (("outcome", "ok"), ("trigger", "webhook")))] >= STEPS
    assert metric[("calmirror_webhook_notifications_total", (("state", "created"),))] >= 1


async def test_demo_serves_health_and_metrics_then_exits_zero_after_duration(told: DaemonProcess) -> None:
    """While serving, /health answers 200 and /metrics parses; --duration ends it with status 0."""
    status, body = await told.health()
    assert (status, body["ready"]) == (200, True)
    status, exposition, _ = await told.get("/metrics")
    assert status == 200
    assert samples(exposition)[("calmirror_ready", ())] == 1.0
    assert "Stopping by itself in 3 s (--duration)." in told.output
    assert await asyncio.wait_for(told.proc.wait(), 15) == 0


async def test_ctrl_c_while_serving_exits_zero() -> None:
    """Without --duration the demo serves until SIGINT, then exits 0."""
    demo = await start_demo()
    try:
        await wait_for_line(demo, "Press Ctrl-C to stop.")
        assert (await demo.health())[0] == 200
        demo.proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(demo.proc.wait(), 15) == 0
    finally:
        await demo.kill()
    assert "Traceback" not in demo.output


async def test_demo_at_debug_prints_no_secret() -> None:
    """At LOG_LEVEL=DEBUG no output or served page shows a credential, the key, a token or clientState."""
    demo = await start_demo("--duration", "1", LOG_LEVEL="DEBUG", WEBHOOK_API_KEY=WEBHOOK_KEY)
    try:
        await wait_for_line(demo, STORY_TOLD)
        channels = await emulator_of(demo).channels()
        pages = [(await demo.get(path))[1] for path in ("/health", "/api/v1/calendar/stats", "/metrics")]
        assert await asyncio.wait_for(demo.proc.wait(), 15) == 0
    finally:
        await demo.kill()
    seen = "\n".join([demo.output, *pages])
    tokens = [c["token"] for c in channels]
    assert len(tokens) == 1  # your Google calendar's channel; the Outlook one is a Graph subscription
    tokens.append(make_client_state(WEBHOOK_KEY, CalendarRef(account_id=1, calendar_id="primary")))
    assert " DEBUG " in demo.output  # the debug log really ran
    assert SECRET_SHAPES.findall(seen) == []
    assert WEBHOOK_KEY not in seen
    assert [token for token in tokens if token in seen] == []


async def test_bad_flags_get_one_line_errors() -> None:
    """A negative --duration exits 2 with a line naming the flag, without starting anything."""
    demo = await start_demo("--duration", "-1")
    assert await asyncio.wait_for(demo.proc.wait(), 30) == 2
    assert demo._reader is not None
    await demo._reader
    assert demo.lines == ["calmirror demo: --duration: must be 0 seconds or more"]


async def test_a_step_that_does_not_happen_in_time_ends_the_demo_with_one_line_and_status_1() -> None:
    """Google refuses calmirror's blocks in your client calendar: one line names the step that failed."""
    demo = await start_demo("--duration", "0")
    try:
        await wait_for_line(demo, "Google Calendar emulator: ")
        refuse = {
            "kind": "status",
            "status": 403,
            "methods": ["calendar.events.insert"],
            "accounts": [CLIENT],
        }
        await emulator_of(demo).control("POST", "faults", {"rules": [refuse]})
        assert await asyncio.wait_for(demo.proc.wait(), 60) == 1
    finally:
        await demo.kill()
    late = f"calmirror demo: step 1 did not happen in time: no block was created in {CLIENT} within 15 s"
    assert demo.lines[-1] == late
    assert "Traceback" not in demo.output
