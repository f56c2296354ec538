"""Serve the daemon until SIGTERM or SIGINT, then shut down within the bound systemd expects."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
import time

from aiohttp import web

from calmirror.config import Settings
from calmirror.daemon.app import begin, create_app
from calmirror.daemon.keys import LIFECYCLE, METRICS
from calmirror.daemon.lifecycle import DaemonOptions
from calmirror.daemon.quiet import quiet_logs
from calmirror.daemon.routes import BODY_SECONDS, PathOnlyAccessLogger

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 1.0  # for open HTTP connections; the reconcile and channel bounds come after it
# aiohttp starts this timer when a connection opens and again after each answer, and closes the
# connection if no complete request head has arrived when it fires: it bounds idle keep-alives and
# half-sent heads (slowloris) alike. Prometheus and Caddy open a new connection when theirs was closed.
IDLE_SECONDS = 5.0
# A request head is a line and a few short headers (Google sends about ten, Caddy adds its own);
# these bound the memory a connection can hold while its head arrives (aiohttp allows 128 of 8190).
MAX_HEAD_LINE = 4096  # bytes of the request line and of each header
MAX_HEADERS = 32


async def serve(
    settings: Settings, options: DaemonOptions | None = None, *, stop: asyncio.Event | None = None
) -> int:
    """Run the daemon; 0 after a signal (or `stop` set), 1 when the port cannot be bound or startup fails."""
    app = create_app(settings, options)
    stop = stop or asyncio.Event()  # the demo passes its own, to stop the daemon after --duration
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with quiet_logs(app[METRICS]):
        return await _serve_app(app, settings, stop)


async def _serve_app(app: web.Application, settings: Settings, stop: asyncio.Event) -> int:
    """Bind the port, start the daemon and serve until `stop` or a failed startup; then clean up."""
    lifecycle = app[LIFECYCLE]
    runner = web.AppRunner(
        app,
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        access_log_class=PathOnlyAccessLogger,
        keepalive_timeout=IDLE_SECONDS,
        lingering_time=BODY_SECONDS,  # for the unread body of a request answered without reading it
        max_line_size=MAX_HEAD_LINE,
        max_field_size=MAX_HEAD_LINE,
        max_headers=MAX_HEADERS,
    )
    await runner.setup()
    status = 0
    try:
        site = web.TCPSite(runner, settings.listen_host, settings.listen_port)
        try:
            await site.start()
        except OSError as exc:
            log.error(
                "cannot listen on %s:%d (LISTEN_HOST, LISTEN_PORT): %s",
                settings.listen_host,
                settings.listen_port,
                exc.strerror,
            )
            return 1
        log.info("listening on http://%s:%d", settings.listen_host, settings.listen_port)
        begin(app)
        failed = asyncio.ensure_future(lifecycle.failed.wait())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait((failed, stopping), return_when=asyncio.FIRST_COMPLETED)
        for waiter in (failed, stopping):
            waiter.cancel()
        await asyncio.wait((failed, stopping))  # nothing cancelled is left pending
        status = 1 if lifecycle.failed.is_set() else 0
    finally:
        log.info("stopping")
        lifecycle.notifier.notify("STOPPING=1", "STATUS=stopping")
        await runner.cleanup()
        log.info("stopped")
    return status


EXECUTOR_SECONDS = 0.5  # for idle helper threads to finish after the bounded shutdown


def run_daemon(settings: Settings, options: DaemonOptions | None = None) -> int:
    """Run serve() on a loop of its own and return its status, even while a Google request hangs.

    A blocking request on a client thread cannot be interrupted, and Python joins such threads at exit
    (asyncio.run first waits for its executor too), so after the bounded shutdown a process whose
    threads are still busy leaves with os._exit instead of outliving the 10 s systemd allows.
    """
    loop = asyncio.new_event_loop()
    try:
        status = loop.run_until_complete(serve(settings, options))
    finally:
        loop.close()  # shuts the default executor down without waiting, unlike asyncio.run
    # Idle pool threads leave as soon as their pool is shut down; one stuck in a hung request does not.
    deadline = time.monotonic() + EXECUTOR_SECONDS
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in others:
        thread.join(max(0.0, deadline - time.monotonic()))
    busy = [thread for thread in others if thread.is_alive()]
    if busy:
        log.warning("exiting with %d Google request(s) unanswered", len(busy))
        logging.shutdown()  # writes what the log's writer thread still holds, then stops it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status
