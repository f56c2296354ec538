"""5,000 forged notifications against the real daemon: all refused, Google untouched, real ones still fast."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.daemon.processes import (
    ALICE,
    BOB,
    DaemonProcess,
    EmulatorProcess,
    block_starts,
    daemon_env,
    eventually,
    free_port,
    meeting_body,
    next_hour,
    notification_headers,
    running_daemon,
)

pytestmark = pytest.mark.slow

FLOOD = 5000
CONCURRENCY = 50
FLOOD_SECONDS = 60.0  # the whole flood is bounded in time as well as in count
LOG_BYTES = 4_000  # the log during the flood: the real change's few lines, none per forgery
PROMPT_SECONDS = 3.0  # a valid notification during the flood still becomes a block within this
# kind of forgery -> (the rejection reason it is counted under, the status it must get)
EXPECTED = {
    "bad_token": ("bad_token", 403),
    "unknown_channel": ("bad_token", 403),  # the token's HMAC covers the channel id
    "wrong_resource": ("wrong_resource", 403),
    "missing_headers": ("missing_headers", 400),
    "oversized": ("body_too_large", 413),
}
Call = tuple[str, str | None, bool, int]


def forgery(kind: str, channel: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
    """Return the headers and body of one forged notification of a kind, built on a real channel."""
    real = notification_headers(channel)
    if kind == "bad_token":
        return {**real, "X-Goog-Channel-Token": channel["token"][:-4] + "AAAA"}, b""
    if kind == "unknown_channel":
        return {**real, "X-Goog-Channel-ID": "f0rged-channel-id"}, b""
    if kind == "wrong_resource":
        return {**real, "X-Goog-Resource-ID": "another-resource"}, b""
    if kind == "missing_headers":
        return {k: v for k, v in real.items() if k != "X-Goog-Resource-State"}, b""
    return real, b"x" * 8192


async def flood(
    daemon: DaemonProcess, channel: Mapping[str, Any], kinds: list[str]
) -> Counter[tuple[str, int]]:
    """Send one forged request per kind, CONCURRENCY at a time; count (kind, status) answers."""
    answers: Counter[tuple[str, int]] = Counter()
    queue = iter(kinds)
    url = daemon.base_url + "/api/v1/webhooks/google-calendar"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:

        async def worker() -> None:
            for kind in queue:
                headers, body = forgery(kind, channel)
                async with http.post(url, data=body, headers=headers) as resp:
                    answers[kind, resp.status] += 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return answers


async def calls(emulator: EmulatorProcess) -> Counter[Call]:
    """Return the emulator's calls so far as a multiset of (method, account, in batch, status)."""
    log = await emulator.control("GET", "requests")
    return Counter((c["method_id"], c["account"], c["in_batch"], c["status"]) for c in log["calls"])


async def mirror_one(emulator: EmulatorProcess, days: int) -> tuple[float, Counter[Call]]:
    """Create a meeting as alice; return how long until its block and the calls that cost (the insert too)."""
    before = await calls(emulator)
    start = next_hour(days=days)
    alice = emulator.client(ALICE)
    try:
        began = time.monotonic()
        await alice.insert_event(ALICE, meeting_body(start))

        async def mirrored() -> bool:
            return start in await block_starts(emulator)

        await eventually(mirrored, what=f"the block of the meeting {days} day(s) ahead")
        took = time.monotonic() - began
    finally:
        await alice.aclose()
    await asyncio.sleep(0.5)  # let the reconcile's last calls land in the log
    return took, await calls(emulator) - before


async def test_a_flood_of_forgeries_is_refused_without_google_and_a_real_notification_still_wins(
    emulator_process: EmulatorProcess,
) -> None:
    """Every forgery gets its status, causes no Google call; /health stays 200; a real change mirrors fast."""
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    async with running_daemon(env) as daemon:
        (channel,) = await emulator_process.channels()
        await asyncio.sleep(0.5)  # let the sync message and startup work settle
        _, quiet_cost = await mirror_one(emulator_process, days=1)  # what one real change costs

        kinds = [kind for kind in EXPECTED for _ in range(FLOOD // len(EXPECTED))]
        random.Random(8).shuffle(kinds)
        before = await calls(emulator_process)
        mark = len(daemon.lines)
        flooding = asyncio.create_task(asyncio.wait_for(flood(daemon, channel, kinds), FLOOD_SECONDS))
        await asyncio.sleep(0.3)  # well into the flood
        assert not flooding.done(), "the flood ended before the real change was made"
        took, cost = await mirror_one(emulator_process, days=2)
        healths = [(await daemon.health())[0] for _ in range(3)]
        answers = await flooding
        await asyncio.sleep(0.5)  # a reconcile a forgery had caused would have started by now
        assert await calls(emulator_process) - before == quiet_cost, "the forgeries caused Google calls"
        assert cost == quiet_cost
        assert took < PROMPT_SECONDS, f"the real notification took {took:.2f}s during the flood"
        assert healths == [200, 200, 200]
        assert (await daemon.health())[0] == 200
        _, exposition, _ = await daemon.get("/metrics")
        flood_log = sum(len(line) + 1 for line in daemon.lines[mark:])
        assert (await daemon.terminate())[0] == 0

    each = FLOOD // len(EXPECTED)
    assert answers == Counter({(kind, status): each for kind, (_, status) in EXPECTED.items()})
    reasons = Counter(reason for reason, _ in EXPECTED.values())
    assert rejections(exposition) == Counter({reason: each * n for reason, n in reasons.items()})
    # The refusals reach the log only as counts (calmirror/daemon/quiet.py), written at the latest on exit.
    assert flood_log < LOG_BYTES, f"{flood_log} bytes of log during the flood"
    assert summarised(daemon.output) == rejections(exposition)


def summarised(output: str) -> Counter[str]:
    """Add up the daemon's "rejected N webhook requests in the last S s: n reason, ..." lines."""
    counts: Counter[str] = Counter()
    for listing in re.findall(r"rejected [\d,]+ webhook requests in the last \d+ s: (.*)", output):
        for count, reason in re.findall(r"(\d[\d,]*) (\w+)", listing):
            counts[reason] += int(count.replace(",", ""))
    return counts


def rejections(exposition: str) -> Counter[str]:
    """Return calmirror_webhook_rejections_total by reason from a /metrics exposition."""
    return +Counter(  # unary plus drops the reasons never counted
        {
            s.labels["reason"]: int(s.value)
            for family in text_string_to_metric_families(exposition)
            if family.name == "calmirror_webhook_rejections"
            for s in family.samples
            if s.name.endswith("_total")
        }
    )
