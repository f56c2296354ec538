"""Hostile connections against the real daemon: slow heads, idle keep-alives, malformed requests."""

from __future__ import annotations

import asyncio
import contextlib
import re
import resource
from collections.abc import Iterator

import aiohttp
import pytest

from tests.daemon.processes import (
    ALICE,
    BOB,
    DaemonProcess,
    EmulatorProcess,
    daemon_env,
    eventually,
    free_port,
    notification_headers,
    running_daemon,
)

pytestmark = pytest.mark.slow

FILES = 256  # the daemon's open-file limit, far below the connections the attack holds
SLOW = 1000  # connections held open: half never finish their request head, half idle after an answer
ANSWER_SECONDS = 40.0  # /health and an authentic notification get through within this during the attack
ATTACK_LOG_BYTES = 8_000  # all the attack may add to the log: a few lines, no per-connection output
HALF_HEAD = b"GET /health HTTP/1.1\r\nHost: calmirror\r\nX-Slow: "
WHOLE = b"GET /health HTTP/1.1\r\nHost: calmirror\r\n\r\n"
EMFILE = "socket.accept() out of system resource"


@pytest.fixture(autouse=True)
def _enough_files_here() -> Iterator[None]:
    """Raise this process's soft file limit to its hard one, so the attacking side never runs out."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    assert hard >= SLOW + 200, f"the hard file limit ({hard}) is too low for {SLOW} connections"
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def log_bytes(daemon: DaemonProcess, since: int = 0) -> int:
    """Return how many bytes the daemon printed in its lines from `since` on."""
    return sum(len(line) + 1 for line in daemon.lines[since:])


async def hold(port: int, n: int, held: list[asyncio.StreamWriter]) -> None:
    """Open one slow connection: half a request head, or a whole request whose connection then idles."""
    with contextlib.suppress(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        held.append(writer)
        writer.write(HALF_HEAD if n % 2 else WHOLE)


async def answered(what: str, request: asyncio.Future[int] | asyncio.Task[int]) -> int:
    """Return a request's status, failing if it takes longer than ANSWER_SECONDS."""
    try:
        return await asyncio.wait_for(request, ANSWER_SECONDS)
    except TimeoutError:
        raise AssertionError(f"{what} not answered within {ANSWER_SECONDS}s during the attack") from None


async def post(daemon: DaemonProcess, headers: dict[str, str]) -> int:
    """POST a notification, retrying a connection the exhausted daemon reset."""
    while True:
        try:
            return await daemon.post_webhook(headers)
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)


async def health(daemon: DaemonProcess) -> int:
    """GET /health, retrying a connection the exhausted daemon reset."""
    while True:
        try:
            status, _ = await daemon.health()
            return status
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)


async def test_a_thousand_slow_connections_neither_lock_out_health_nor_flood_the_log(
    emulator_process: EmulatorProcess,
) -> None:
    """256 files, 1,000 slow connections: /health and a real notification answer, the log stays small."""
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    async with running_daemon(env, files=FILES) as daemon:
        (channel,) = await emulator_process.channels()
        mark = len(daemon.lines)
        held: list[asyncio.StreamWriter] = []
        attack = asyncio.gather(*(hold(daemon.port, n, held) for n in range(SLOW)))
        try:

            async def exhausted() -> bool:
                return EMFILE in daemon.output

            await eventually(exhausted, 20, "the daemon running out of files")
            assert await answered("/health", asyncio.ensure_future(health(daemon))) == 200
            notified = asyncio.ensure_future(post(daemon, notification_headers(channel)))
            assert await answered("an authentic notification", notified) == 200
            attack_log = log_bytes(daemon, mark)
        finally:
            attack.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await attack
            for writer in held:
                writer.close()
        status, _ = await daemon.terminate()

    assert status == 0
    assert attack_log < ATTACK_LOG_BYTES, f"the attack wrote {attack_log} bytes of log"
    first, *count = [line for line in daemon.lines if EMFILE in line]
    assert "Traceback" in first  # the first is logged in full, the others only counted
    assert len(count) <= 1
    assert all(re.search(r"\(and [\d,]+ more like it in the last \d+ s\)$", c) for c in count)


async def test_malformed_requests_are_one_warning_line_each_minute(emulator_process: EmulatorProcess) -> None:
    """200 unparsable requests: one WARNING line without traceback, the rest counted at the exit."""
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    async with running_daemon(env) as daemon:
        mark = len(daemon.lines)
        for n in range(200):
            reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: calmirror\r\nBroken header line %d\r\n\r\n" % n)
            assert (await reader.readline()).split(b" ")[1] == b"400"
            writer.close()
        for _ in range(50):  # probes and scrapes are not logged at INFO
            assert (await daemon.get("/health"))[0] == 200
            assert (await daemon.get("/metrics"))[0] == 200
        status, _ = await daemon.terminate()

    assert status == 0
    output = "\n".join(daemon.lines[mark:])
    assert "Traceback" not in output
    first, summary = [line for line in daemon.lines[mark:] if "malformed HTTP request" in line]
    assert " WARNING " in first
    assert "BadHttpMessage" in first
    assert " WARNING " in summary
    assert "(and 199 more like it in the last" in summary
    assert "GET /health" not in output
    assert "GET /metrics" not in output
    assert log_bytes(daemon, mark) < 2_000, output
