"""The emulator and `calmirror run` as subprocesses for the daemon benchmarks, and what they report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bench import common
from calmirror.google.blocks import is_marked
from calmirror.google.client import CalendarClient
from calmirror.google.discovery import CalendarApi
from harness.processes import (
    DaemonProcess,
    EmulatorProcess,
    FlowSpec,
    daemon_env,
    free_port,
    start_daemon,
    start_emulator_process,
)

LATENCY_MS = 50
WRITES = {"insert", "update", "patch", "delete"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@asynccontextmanager
async def emulator_running(
    accounts: Sequence[str], latency_ms: int = LATENCY_MS
) -> AsyncIterator[EmulatorProcess]:
    """Run `calmirror emulator --latency-ms N` as its own process for the duration of the block."""
    emulator = await start_emulator_process(accounts, "--latency-ms", str(latency_ms))
    try:
        yield emulator
    finally:
        await emulator.stop()


@asynccontextmanager
async def daemon_running(
    emulator: EmulatorProcess,
    accounts: Sequence[str],
    flows: Sequence[FlowSpec],
    *,
    interval_minutes: int = 1440,
    ready_seconds: float = 60.0,
) -> AsyncIterator[DaemonProcess]:
    """Run `calmirror run` (webhooks on) against the emulator until the block ends; yields once ready."""
    env = daemon_env(emulator, accounts, flows, port=free_port(), interval_minutes=interval_minutes)
    env["LOG_LEVEL"] = "WARNING"  # one line per reconcile would cost the daemon time it is measured on
    daemon = await start_daemon(env)
    try:
        await daemon.wait_ready(ready_seconds)
        yield daemon
    finally:
        await daemon.kill()


def writer(
    emulator: EmulatorProcess, email: str, account_id: int = 1, api: CalendarApi | None = None
) -> CalendarClient:
    """Return a real client acting as a calendar's owner, its quota limiter off (see common.client)."""
    return common.client(emulator, emulator.account(email, account_id), api=api)


async def request_log(emulator: EmulatorProcess) -> dict[str, Any]:
    """Return the emulator's whole request log (http, calls, stats)."""
    log: dict[str, Any] = await emulator.control("GET", "requests")
    return log


async def reset_requests(emulator: EmulatorProcess) -> None:
    """Clear the emulator's request log."""
    await emulator.control("DELETE", "requests")


async def settle(
    emulator: EmulatorProcess, quiet: float = 1.0, give_up: float = 120.0, every: float = 0.1
) -> dict[str, Any]:
    """Wait until the emulator got no request for `quiet` s (looking every `every` s); return the log then."""
    deadline = time.monotonic() + give_up
    log = await request_log(emulator)
    seen, since = len(log["http"]), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError(f"the emulator kept receiving requests for {give_up} s")
        await asyncio.sleep(every)
        log = await request_log(emulator)
        if len(log["http"]) != seen:
            seen, since = len(log["http"]), time.monotonic()
    return log


def is_write(call: dict[str, Any]) -> bool:
    """Tell whether a logged call is an event write."""
    return str(call["method_id"]).rsplit(".", 1)[-1] in WRITES


def is_token(call: dict[str, Any]) -> bool:
    """Tell whether a logged call is a token request."""
    return bool(call["method_id"] == common.TOKEN_METHOD)


async def live_blocks(emulator: EmulatorProcess, calendar_id: str) -> set[tuple[datetime, datetime]]:
    """Return (start, end) of every live calmirror block in a calendar, read through the control API."""
    events = await emulator.events(calendar_id)
    live = [e for e in events if is_marked(e) and e.get("status") != "cancelled"]
    return {(common.instant(e["start"]["dateTime"]), common.instant(e["end"]["dateTime"])) for e in live}


async def metrics(daemon: DaemonProcess) -> Samples:
    """Return every sample of the daemon's /metrics, keyed by name and sorted labels."""
    status, text, _ = await daemon.get("/metrics")
    if status != 200:
        raise AssertionError(f"/metrics answered {status}")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def bucket_quantile(samples: Samples, name: str, q: float) -> float:
    """Return the upper bound of the histogram bucket that holds quantile q (what Prometheus can say)."""
    buckets = sorted(
        (float(dict(labels)["le"]), count) for (n, labels), count in samples.items() if n == f"{name}_bucket"
    )
    total = buckets[-1][1]
    return next(bound for bound, count in buckets if count >= q * total)


def rss_bytes(pid: int) -> tuple[int, int]:
    """Return a process's resident set size now and at its peak (VmRSS, VmHWM), in bytes."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return int(fields["VmRSS"][0]) * 1024, int(fields["VmHWM"][0]) * 1024
