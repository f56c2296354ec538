"""The systemd notify protocol against a real AF_UNIX datagram socket, in-process and from the daemon."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from calmirror.daemon.systemd import Notifier, watchdog, watchdog_interval
from tests.daemon.processes import (
    ALICE,
    BOB,
    DaemonProcess,
    EmulatorProcess,
    daemon_env,
    eventually,
    free_port,
    meeting_body,
    next_hour,
    start_daemon,
    start_emulator_process,
)


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    """A bound, non-blocking datagram socket like systemd's notify socket."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


def received(sock: socket.socket) -> list[str]:
    """Return every datagram waiting on the socket."""
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except BlockingIOError:
            return messages


def test_notify_sends_one_datagram_per_call(notify_socket: socket.socket) -> None:
    """Assignments are joined by newlines into one datagram."""
    notifier = Notifier(notify_socket.getsockname())
    assert notifier.notify("READY=1", "STATUS=serving")
    assert received(notify_socket) == ["READY=1\nSTATUS=serving"]


def test_abstract_socket_address() -> None:
    """A leading @ is Linux's abstract namespace."""
    name = f"@calmirror-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name[1:])
        sock.settimeout(2)
        assert Notifier(name).notify("STOPPING=1")
        assert sock.recv(100) == b"STOPPING=1"


def test_without_notify_socket_nothing_is_sent() -> None:
    """No NOTIFY_SOCKET: a no-op; an unreachable socket is not an error either."""
    assert not Notifier.from_environ({}).notify("READY=1")
    assert not Notifier("/nonexistent/notify").notify("READY=1")


def test_watchdog_interval_is_half_of_watchdog_usec() -> None:
    """WATCHDOG_USEC/2, only for this process."""
    assert watchdog_interval({"WATCHDOG_USEC": "4000000"}) == 2.0
    assert watchdog_interval({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}) == 2.0
    assert watchdog_interval({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None


async def test_watchdog_pings_only_while_alive(notify_socket: socket.socket) -> None:
    """A stale heartbeat stops the pings, so systemd restarts a wedged daemon."""
    alive = True
    task = asyncio.create_task(watchdog(Notifier(notify_socket.getsockname()), 0.02, lambda: alive))
    await asyncio.sleep(0.1)
    assert received(notify_socket).count("WATCHDOG=1") >= 3
    alive = False
    await asyncio.sleep(0.1)
    assert received(notify_socket) in ([], ["WATCHDOG=1"])  # at most one already in flight
    task.cancel()


@pytest.mark.slow
async def test_daemon_reports_ready_pings_and_stopping(notify_socket: socket.socket) -> None:
    """The daemon process: READY=1 after its first reconcile, WATCHDOG=1 pings, STOPPING=1, exit 0."""
    emulator = await start_emulator_process(["alice@example.com", "bob@example.com"])
    try:
        env = daemon_env(
            emulator,
            ["alice@example.com", "bob@example.com"],
            [("work", "alice@example.com", "bob@example.com")],
            port=free_port(),
            webhooks=False,
            extra={"NOTIFY_SOCKET": notify_socket.getsockname(), "WATCHDOG_USEC": "200000"},
        )
        daemon = await start_daemon(env)
        try:
            await daemon.wait_ready()
            await asyncio.sleep(0.5)
            messages = received(notify_socket)
            ready = next(m for m in messages if m.startswith("READY=1"))
            assert "STATUS=serving 1 flow(s)" in ready
            assert messages.count("WATCHDOG=1") >= 3
            status, _ = await daemon.terminate()
        finally:
            await daemon.kill()
        assert status == 0
        deadline = time.monotonic() + 2
        while "STOPPING=1\nSTATUS=stopping" not in messages and time.monotonic() < deadline:
            messages += received(notify_socket)
            await asyncio.sleep(0.05)
        assert "STOPPING=1\nSTATUS=stopping" in messages
    finally:
        await emulator.stop()


async def start_notifying_daemon(
    emulator: EmulatorProcess, sock: socket.socket, stall_seconds: float
) -> DaemonProcess:
    """Start `calmirror run` (alice into bob, no webhooks) notifying `sock`, with `--start-stall`."""
    env = daemon_env(
        emulator,
        [ALICE, BOB],
        [("work", ALICE, BOB)],
        port=free_port(),
        webhooks=False,
        extra={"NOTIFY_SOCKET": sock.getsockname()},
    )
    return await start_daemon(env, "--start-stall", str(stall_seconds))


def answered(message: str) -> int:
    """Return the provider calls answered that a first-reconcile STATUS= line reports."""
    found = re.search(r"STATUS=first reconcile: \d+ of 1 target\(s\), (\d+) provider call", message)
    assert found, message
    return int(found[1])


@pytest.mark.slow
async def test_a_slow_first_reconcile_extends_the_start_timeout_and_reports_progress(
    emulator_process: EmulatorProcess, notify_socket: socket.socket
) -> None:
    """Before READY=1 every datagram asks for more time (three intervals) and STATUS= counts up."""
    alice = emulator_process.client(ALICE)
    try:
        await alice.insert_event(ALICE, meeting_body(next_hour()))
    finally:
        await alice.aclose()
    # The two listings are answered a while before the block's batch: a STATUS= in between shows them.
    slow = [
        {"kind": "latency", "seconds": 1.0, "methods": ["calendar.events.list"]},
        {"kind": "latency", "seconds": 1.5, "methods": ["batch"]},
    ]
    await emulator_process.control("POST", "faults", {"rules": slow})
    daemon = await start_notifying_daemon(emulator_process, notify_socket, stall_seconds=3)
    messages: list[str] = []
    try:

        async def ready() -> bool:
            messages.extend(received(notify_socket))
            return any(m.startswith("READY=1") for m in messages)

        await eventually(ready, 30, "READY=1")
    finally:
        await daemon.kill()
    starting = messages[: next(i for i, m in enumerate(messages) if m.startswith("READY=1"))]
    assert starting, messages
    assert all(m.startswith("EXTEND_TIMEOUT_USEC=900000\nSTATUS=") for m in starting), starting
    counts = [answered(m) for m in starting]
    assert counts == sorted(counts), counts
    assert counts[0] == 0, counts
    assert 2 in counts, counts  # alice's and bob's listings, before the batch was answered


@pytest.mark.slow
async def test_a_start_without_progress_is_no_longer_extended(
    emulator_process: EmulatorProcess, notify_socket: socket.socket
) -> None:
    """Every listing is held: after the stall bound STATUS= says so and no extension follows."""
    hold = {"kind": "timeout", "seconds": 60, "methods": ["calendar.events.list"]}
    await emulator_process.control("POST", "faults", {"rules": [hold]})
    daemon = await start_notifying_daemon(emulator_process, notify_socket, stall_seconds=1)
    messages: list[str] = []
    try:

        async def stalled_three_times() -> bool:
            messages.extend(received(notify_socket))
            return sum("no progress for" in m for m in messages) >= 3

        await eventually(stalled_three_times, 30, "three STATUS= lines without progress")
    finally:
        await daemon.kill()
    first_stall = next(i for i, m in enumerate(messages) if "no progress for" in m)
    assert messages[0].startswith("EXTEND_TIMEOUT_USEC=300000\nSTATUS=first reconcile: 0 of 1 target(s)")
    assert not any("EXTEND_TIMEOUT_USEC" in m or "READY=1" in m for m in messages[first_stall:]), messages
    assert "no progress for 1 s, no longer extending the start timeout" in daemon.output
