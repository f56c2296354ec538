"""The daemon at scale, as a real process: a ring of flows, its memory, its request costs, its webhook.

Account i's primary calendar mirrors into account i+1's (the last into the first), so every calendar
is a source (watched by a channel) and a target. The emulator runs with 50 ms latency in its own
process; the webhook flood comes from a third process on loopback.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import aiohttp

from bench import common, processes
from bench.daemon import block, visible
from calmirror.daemon.lifecycle import DEFAULT_CHANNEL_TTL
from calmirror.daemon.webhook import PATH
from calmirror.google.discovery import calendar_api
from harness.processes import DaemonProcess, EmulatorProcess

BENCH = "daemon_scale"
SEEDERS = 8  # accounts seeded at once
CONCURRENCY = 32  # webhook requests in flight at once from the flood process
CHANGERS = 10  # source calendars that get real changes during the flood
DEFAULT_POLL_MINUTES = 60  # SYNC_INTERVAL_MINUTES' default, for the derived idle hour
TOKEN_TTL_HOURS = 1  # Google's access tokens last an hour; each account refreshes about once an hour


def email(i: int) -> str:
    """Return the address of ring account i."""
    return f"user{i:03d}@example.com"


async def seed_all(emulator: EmulatorProcess, accounts: list[str], meetings: int) -> None:
    """Give every account's primary calendar `meetings` meetings, every half hour from two hours on."""
    plan = common.schedule()
    slots = asyncio.Semaphore(SEEDERS)
    # Built once for every owner, as the daemon does: a thousand parses of the discovery document
    # would make seeding a ring of a thousand mostly CPU.
    api = await asyncio.to_thread(calendar_api, emulator.api_root)

    async def one(n: int, owner: str) -> None:
        async with slots:
            client = processes.writer(emulator, owner, n, api)
            try:
                bodies = [
                    common.meeting(common.meeting_id(i), start(plan, i), 20, owner) for i in range(meetings)
                ]
                await common.seed(client, owner, bodies)
            finally:
                await client.aclose()

    await asyncio.gather(*(one(n, owner) for n, owner in enumerate(accounts, start=1)))


def start(plan: common.Schedule, i: int) -> Any:
    """Return the start of meeting i: every half hour, so 500 fit the daemon's 14-day window."""
    return plan.first + i * plan.spacing / 2


def cost_rows(case: str, log: dict[str, Any], seconds: float) -> list[dict[str, Any]]:
    """Rows for what the emulator logged during one step."""
    calls = log["calls"]
    writes = sum(1 for c in calls if processes.is_write(c))
    tokens = sum(1 for c in calls if processes.is_token(c))
    units = sum(n for per in log["stats"]["quota_units"].values() for n in per.values())
    return [
        common.row(BENCH, case, "http_requests", len(log["http"]), "requests"),
        common.row(BENCH, case, "token_requests", tokens, "requests"),
        common.row(BENCH, case, "reads", len(calls) - writes - tokens, "calls"),
        common.row(BENCH, case, "writes", writes, "calls"),
        common.row(BENCH, case, "quota_units", units, "units"),
        common.row(BENCH, case, "wall_clock", round(seconds, 1), "s"),
    ]


async def wait_for_poll(
    emulator: EmulatorProcess, calendars: int, every: float, within: float
) -> dict[str, Any]:
    """Wait for the scheduler's first poll (one delta read per calendar) and return its log once quiet."""
    deadline = time.monotonic() + within
    while len((await processes.request_log(emulator))["calls"]) < calendars:
        if time.monotonic() > deadline:
            raise AssertionError("the daemon's interval poll did not come")
        await asyncio.sleep(0.5)
    return await processes.settle(emulator, quiet=2.0, give_up=300, every=every)


def idle_hour_rows(poll: dict[str, Any], flows: int) -> list[dict[str, Any]]:
    """Derive one idle hour at the default poll interval: polls, channel renewals, token refreshes."""
    case = f"idle hour (derived), {flows} flows, poll every {DEFAULT_POLL_MINUTES} min"
    poll_calls = len(poll["calls"]) - sum(1 for c in poll["calls"] if processes.is_token(c))
    renew_every_h = (DEFAULT_CHANNEL_TTL * 3 / 4) / 3600  # renewed a quarter of its life before expiry
    renewals = flows * 2 / renew_every_h  # each renewal: one events.watch and one channels.stop
    polls = poll_calls * 60 / DEFAULT_POLL_MINUTES
    return [
        common.row(BENCH, case, "poll_api_calls", polls, "calls/h"),
        common.row(BENCH, case, "renewal_api_calls", round(renewals, 2), "calls/h"),
        common.row(BENCH, case, "api_calls", round(polls + renewals, 2), "calls/h"),
        common.row(BENCH, case, "token_requests", flows / TOKEN_TTL_HOURS, "requests/h"),
    ]


def flood(
    url: str, notifications: list[dict[str, str]], concurrency: int
) -> tuple[list[int], list[float], float]:
    """Child-process entry: POST every notification with bounded concurrency; statuses, latencies, seconds."""
    return asyncio.run(_flood(url, notifications, concurrency))


async def _flood(
    url: str, notifications: list[dict[str, str]], concurrency: int
) -> tuple[list[int], list[float], float]:
    """Send the notifications from `concurrency` loops over one keep-alive connection pool."""
    statuses: list[int] = []
    latencies: list[float] = []
    queue = iter(notifications)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def worker() -> None:
            for headers in queue:
                sent = time.perf_counter()
                async with http.post(url, data=b"", headers=headers) as answer:
                    await answer.read()
                latencies.append(time.perf_counter() - sent)
                statuses.append(answer.status)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return statuses, latencies, time.perf_counter() - started


def notifications(channels: list[dict[str, Any]], total: int) -> list[dict[str, str]]:
    """Return `total` authentic `exists` notifications, round-robin over the live channels."""
    out = []
    for k in range(total):
        c = channels[k % len(channels)]
        out.append(
            {
                "X-Goog-Channel-ID": c["id"],
                "X-Goog-Resource-ID": c["resource_id"],
                "X-Goog-Resource-URI": c["resource_uri"],
                "X-Goog-Resource-State": "exists",
                "X-Goog-Message-Number": str(1000 + k),
                "X-Goog-Channel-Token": c["token"],
            }
        )
    return out


async def flood_rows(
    emulator: EmulatorProcess, daemon: DaemonProcess, accounts: list[str], meetings: int, total: int
) -> list[dict[str, Any]]:
    """Flood the webhook from another process while real changes are made and reconciled."""
    case = f"webhook flood, {total} notifications over {len(accounts)} channels"
    channels = await emulator.channels()
    before = await processes.metrics(daemon)
    batch = notifications(channels, total)
    changed: Counter[int] = Counter()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        job = asyncio.get_running_loop().run_in_executor(
            pool, flood, daemon.base_url + PATH, batch, CONCURRENCY
        )
        plan = common.schedule()
        writers = {
            n: processes.writer(emulator, accounts[n], n + 1) for n in range(min(CHANGERS, len(accounts)))
        }
        try:
            while not job.done():
                n = sum(changed.values()) % len(writers)
                i = meetings + changed[n]
                body = common.meeting(common.meeting_id(i), start(plan, i), 20, accounts[n])
                await writers[n].insert_event(accounts[n], body)
                changed[n] += 1
            statuses, latencies, seconds = await job
        finally:
            for w in writers.values():
                await w.aclose()
    await processes.settle(emulator)
    for n, count in changed.items():  # every change made during the flood was mirrored
        target = accounts[(n + 1) % len(accounts)]
        found = len(await processes.live_blocks(emulator, target))
        if found != meetings + count:
            raise AssertionError(f"{target}: {found} blocks after the flood, expected {meetings + count}")
    after = await processes.metrics(daemon)
    key = ("calmirror_reconciles_total", (("outcome", "ok"), ("trigger", "webhook")))
    answered = Counter(statuses)
    ms = [x * 1000 for x in latencies]
    return [
        common.row(BENCH, case, "accepted", answered[200], "notifications"),
        common.row(BENCH, case, "rate_limited", answered[429], "notifications"),
        common.row(BENCH, case, "other_status", total - answered[200] - answered[429], "notifications"),
        common.row(BENCH, case, "throughput", round(total / seconds, 1), "notifications/s"),
        common.row(BENCH, case, "accepted_throughput", round(answered[200] / seconds, 1), "notifications/s"),
        common.row(BENCH, case, "latency_p50", round(common.percentile(ms, 50), 2), "ms"),
        common.row(BENCH, case, "latency_p99", round(common.percentile(ms, 99), 2), "ms"),
        common.row(BENCH, case, "changes_during", sum(changed.values()), "meetings"),
        common.row(BENCH, case, "webhook_reconciles", after[key] - before.get(key, 0.0), "reconciles"),
        common.row(BENCH, case, "wall_clock", round(seconds, 2), "s"),
    ]


async def latency_rows(
    emulator: EmulatorProcess, daemon: DaemonProcess, accounts: list[str], meetings: int, changes: int
) -> list[dict[str, Any]]:
    """New meetings on accounts spread over the ring, one at a time: write answer to block seen, p50/p95."""
    case = f"webhook to block, {changes} changes over {len(accounts)} flows"
    plan = common.schedule()
    samples: list[float] = []
    for k in range(changes):
        n = k * len(accounts) // changes
        owner, target = accounts[n], accounts[(n + 1) % len(accounts)]
        body = common.meeting(common.meeting_id(meetings + k), start(plan, meetings + k), 20, owner)
        expected = await processes.live_blocks(emulator, target) | {block(body)}
        client = processes.writer(emulator, owner, n + 1)
        try:
            await client.insert_event(owner, body)
            written = time.perf_counter()
            samples.append(await visible(emulator, target, expected) - written)
        finally:
            await client.aclose()
    internal = await processes.metrics(daemon)
    name = "calmirror_webhook_to_block_seconds"
    histogram = "daemon histogram"
    return [
        common.row(BENCH, case, "changes", changes, "changes"),
        common.row(BENCH, case, "external_p50", round(common.percentile(samples, 50), 3), "s"),
        common.row(BENCH, case, "external_p95", round(common.percentile(samples, 95), 3), "s"),
        common.row(
            BENCH, case, "histogram_p50_at_most", processes.bucket_quantile(internal, name, 0.5), "s",
            system=histogram,
        ),
    ]  # fmt: skip


async def scenario(
    flows: int, meetings: int, *, poll: bool, notified: int = 0, changes: int = 0
) -> list[dict[str, Any]]:
    """Seed the ring, start the daemon, measure its initial reconcile, RSS, poll, webhook flood or latency.

    The request log grows with the ring, so at a thousand flows it is fetched once a second, not ten times.
    """
    accounts = [email(i) for i in range(flows)]
    ring = [(f"flow{i:03d}", accounts[i], accounts[(i + 1) % flows]) for i in range(flows)]
    size = f"{flows} flows x {meetings} meetings"
    big = flows > 200
    every = 1.0 if big else 0.1
    # At a thousand flows the echoes of the first reconcile's writes take most of a minute: the first
    # poll must come after them to be measured on its own.
    interval = 2 if big else 1
    async with processes.emulator_running(accounts) as emulator:
        await seed_all(emulator, accounts, meetings)
        await processes.reset_requests(emulator)
        started = time.perf_counter()
        async with processes.daemon_running(
            emulator, accounts, ring, interval_minutes=interval, ready_seconds=900
        ) as daemon:
            ready = time.perf_counter() - started
            # The channels are open during the first reconcile, so its own writes come back as
            # notifications: their delta reads belong to its cost, not to the poll measured next.
            log = await processes.settle(emulator, quiet=10.0 if big else 2.0, give_up=300, every=every)
            rows = cost_rows(f"initial reconcile, {size}", log, ready)
            if sum(1 for c in log["calls"] if processes.is_write(c)) != flows * meetings:
                raise AssertionError("the initial reconcile did not write one block per meeting")
            rss, peak = processes.rss_bytes(daemon.proc.pid)
            case = f"daemon memory after the initial reconcile, {size}"
            rows += [
                common.row(BENCH, case, "rss", round(rss / 2**20, 1), "MiB"),
                common.row(BENCH, case, "rss_peak", round(peak / 2**20, 1), "MiB"),
            ]
            if poll:
                await processes.reset_requests(emulator)
                cycle = await wait_for_poll(emulator, flows, every, 60 * interval + 60)
                rows += cost_rows(f"one interval poll, {size}, nothing changed", cycle, 0.0)[:-1]
                rows += idle_hour_rows(cycle, flows)
            if notified:
                rows += await flood_rows(emulator, daemon, accounts, meetings, notified)
            if changes:
                rows += await latency_rows(emulator, daemon, accounts, meetings, changes)
            rss, _ = processes.rss_bytes(daemon.proc.pid)
            after = "the flood" if notified else "the changes"
            rows.append(
                common.row(BENCH, f"daemon memory after {after}, {size}", "rss", round(rss / 2**20, 1), "MiB")
            )
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure 100 flows of 100 meetings with a 3,000-notification flood, and 1,000 flows of 10 meetings
    with 20 timed changes (quick: 4 flows of 20, a 200-notification flood, no poll, no 1,000).

    100 flows of 500 meetings took over five minutes to seed and reconcile on two cores (docs/benchmarks.md).
    """
    if quick:
        return asyncio.run(scenario(4, 20, poll=False, notified=200))
    rows = asyncio.run(scenario(100, 100, poll=True, notified=3_000))
    return rows + asyncio.run(scenario(1_000, 10, poll=True, changes=20))
