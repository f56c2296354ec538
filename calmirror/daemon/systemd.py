"""The systemd notify protocol (sd_notify(3)): readiness, status, stopping and watchdog pings."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify datagrams to $NOTIFY_SOCKET; does nothing when there is none."""

    def __init__(self, address: str | None) -> None:
        # A leading "@" names a socket in Linux's abstract namespace, spelt with a NUL byte.
        self.address = "\0" + address[1:] if address and address.startswith("@") else address or None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """Return the notifier for NOTIFY_SOCKET (a no-op one without it)."""
        return cls((os.environ if environ is None else environ).get("NOTIFY_SOCKET"))

    def notify(self, *assignments: str) -> bool:
        """Send one datagram of newline-separated assignments (e.g. "READY=1"); True when sent."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(assignments).encode(), self.address)
        except OSError as exc:  # systemd gone or the socket unreadable: never fatal for the daemon
            log.debug("sd_notify failed: %s", exc)
            return False
        return True


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Return the seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None when not asked for."""
    environ = os.environ if environ is None else environ
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = environ.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):  # the watchdog is meant for another process
        return None
    return usec / 1_000_000 / 2


async def watchdog(notifier: Notifier, interval: float, alive: Callable[[], bool]) -> None:
    """Ping WATCHDOG=1 every `interval` while `alive()`; a blocked loop or a stuck sync stops the pings."""
    while True:
        if alive():
            notifier.notify("WATCHDOG=1")
        else:
            log.warning("sync heartbeat is stale: not pinging the systemd watchdog")
        await asyncio.sleep(interval)
