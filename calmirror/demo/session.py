"""One demo run: the emulator, the daemon through `serve()` as `calmirror run` starts it, the story."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
import time
from collections.abc import Mapping
from typing import TextIO

import aiohttp

from calmirror.config import Settings, load_settings
from calmirror.daemon.serve import serve
from calmirror.demo.cast import GOOGLE, MICROSOFT, demo_environment, emulator_secrets
from calmirror.demo.people import People
from calmirror.demo.story import Story
from calmirror.emulator import Emulator, start_emulator
from calmirror.errors import CalmirrorError
from calmirror.logs import setup_logging

log = logging.getLogger(__name__)

READY_WITHIN_SECONDS = 30.0
DEFAULT_LOG_LEVEL = "WARNING"  # the story is the demo's output; LOG_LEVEL=INFO adds the daemon's own log


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def demo_settings(emulator: Emulator, port: int, environ: Mapping[str, str]) -> Settings:
    """Return the daemon's settings; LOG_LEVEL, LOG_FORMAT and WEBHOOK_API_KEY may come from `environ`."""
    env = demo_environment(
        emulator, port=port, webhook_key=environ.get("WEBHOOK_API_KEY") or secrets.token_urlsafe(32)
    )
    env["LOG_LEVEL"] = environ.get("LOG_LEVEL") or DEFAULT_LOG_LEVEL
    env["LOG_FORMAT"] = environ.get("LOG_FORMAT") or "text"
    return load_settings(env, env_file=None, credentials_directory=None)


async def run_demo(
    out: TextIO, *, port: int | None = None, duration: float | None = None, environ: Mapping[str, str]
) -> int:
    """Tell the story against the real daemon, serve until a signal or `duration`, return the exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)  # serve() installs the same once it runs
    emulator = await start_emulator(accounts=GOOGLE, microsoft_accounts=MICROSOFT, allow_http_webhooks=True)
    people = People(emulator)
    try:
        settings = demo_settings(emulator, port or free_port(), environ)
        hidden = (*settings.secrets(), *emulator_secrets(emulator), *people.secrets())
        setup_logging(settings.log_level, hidden, fmt=settings.log_format)
        async with aiohttp.ClientSession() as http:
            return await _run(settings, Story(emulator, people, _url(settings), http, out), stop, duration)
    finally:
        await people.aclose()
        await emulator.stop()


async def _run(settings: Settings, story: Story, stop: asyncio.Event, duration: float | None) -> int:
    """Run the daemon and the story side by side; the daemon's exit ends the story."""
    story.introduce()
    await story.seed()
    daemon = asyncio.create_task(serve(settings, stop=stop))
    telling = asyncio.create_task(_tell(story, daemon, stop, duration))
    status = await daemon
    telling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        if not await telling:
            return 1
    return status


async def _tell(story: Story, daemon: asyncio.Task[int], stop: asyncio.Event, duration: float | None) -> bool:
    """Tell the story, then stop the daemon after `duration`; False (and the daemon stopped) on a failure."""
    try:
        await story.start(lambda: _ready(story, daemon))
        await story.tell_changes()
    except CalmirrorError as error:
        log.error("demo failed: %s", error)
        print(f"calmirror demo: {error}", file=story.out, flush=True)
        stop.set()
        return False
    story.serving(duration)
    if duration is not None:
        await asyncio.sleep(duration)
        stop.set()
    return True


async def _ready(story: Story, daemon: asyncio.Task[int]) -> None:
    """Wait until the daemon's /health answers 200 and says it is ready."""
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if daemon.done():
            raise CalmirrorError("the daemon stopped during startup (see the log above)")
        with contextlib.suppress(aiohttp.ClientError):
            async with story.http.get(story.daemon_url + "/health") as response:
                if response.status == 200 and (await response.json()).get("ready"):
                    return
        await asyncio.sleep(0.05)
    raise CalmirrorError(f"the daemon was not healthy within {READY_WITHIN_SECONDS:.0f} s")


def _url(settings: Settings) -> str:
    """Return the address the daemon listens on."""
    return f"http://{settings.listen_host}:{settings.listen_port}"
