"""Calls that time out with their threads still hung never eat a later call's deadline."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from calmirror.emulator import Emulator
from calmirror.errors import NoAnswerError
from calmirror.google.client import CalendarClient
from calmirror.google.quota import QuotaLimiter
from calmirror.retry import RetryPolicy
from tests.emulator_helpers import ROOMY, account_of
from tests.google.helpers import ALICE

TIMEOUT = 1.0  # the client's socket timeout; a call's deadline is twice that
DEADLINE = 2 * TIMEOUT


class SlowLink:
    """A loopback TCP relay to the emulator that, while held, passes answers on one byte every 0.1 s.

    The emulator's own holds send nothing, so the socket timeout frees the thread before the call's
    deadline; a trickle keeps every read alive and holds the thread past it, as a sick link does.
    """

    def __init__(self, upstream: str) -> None:
        """Relay to the emulator at the `upstream` URL once started."""
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.held = False
        self.root = ""
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        """Listen on a free loopback port and fill in `root`."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.root = f"http://127.0.0.1:{port}/"

    async def close(self) -> None:
        """Stop listening and cut every relayed connection."""
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Relay one client connection: requests at once, answers trickled while held."""
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        self._writers += [writer, up_writer]
        with contextlib.suppress(ConnectionError):
            await asyncio.gather(
                self._pipe(reader, up_writer, slow=False), self._pipe(up_reader, writer, slow=True)
            )

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, slow: bool) -> None:
        """Copy bytes until end of stream, one at a time while the link is held (for answers)."""
        while data := await source.read(65536):
            while data:
                if slow and self.held:
                    sink.write(data[:1])
                    data = data[1:]
                    await asyncio.sleep(0.1)
                else:
                    sink.write(data)
                    data = b""
                await sink.drain()
        sink.close()


@pytest.fixture
async def link(emulator: Emulator) -> AsyncIterator[SlowLink]:
    """A slow link to the emulator, released and closed after the test."""
    relay = SlowLink(emulator.api_root)
    await relay.start()
    try:
        yield relay
    finally:
        relay.held = False
        await relay.close()


async def test_hung_reads_never_eat_a_later_reads_deadline(
    emulator: Emulator, link: SlowLink, caplog: pytest.LogCaptureFixture
) -> None:
    """Four reads time out with their threads hung; a fifth waits for a thread, then gets all its deadline."""
    client = CalendarClient(
        account_of(emulator, ALICE),
        api_root=link.root,
        token_uri=emulator.token_uri,
        retry=RetryPolicy(attempts=1, wait=False),
        limiter=QuotaLimiter(ROOMY),
        timeout=TIMEOUT,
        max_threads=4,
    )
    try:
        assert await client.list_calendars()
        link.held = True
        hung = await asyncio.gather(*(client.list_calendars() for _ in range(4)), return_exceptions=True)
        assert all(isinstance(result, NoAnswerError) for result in hung), hung

        caplog.set_level(logging.WARNING, logger="calmirror.google.client")
        later = asyncio.create_task(client.list_calendars())
        await asyncio.sleep(1.5 * DEADLINE)  # the link stays sick past the later read's whole deadline
        assert not later.done(), later  # it waits for a free thread, its deadline not yet running
        assert "waiting for a worker thread, 4 timed-out calls still hold theirs" in caplog.text

        link.held = False  # the hung threads finish; the later read now runs within its own deadline
        assert await asyncio.wait_for(later, timeout=30)
        assert await client.list_calendars()
    finally:
        link.held = False
        await client.aclose()
