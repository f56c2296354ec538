"""Stand-in for `calmirror run` in the boot test until the daemon exists: its notify protocol and /metrics."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType

from prometheus_client import start_http_server

WEDGE = Path("/run/calmirror-boot-test/wedge")  # while it exists, the watchdog pings stop


def notify(message: str) -> None:
    """Send one sd_notify datagram; a leading @ names an abstract socket."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(message.encode(), address)


def stop(_signum: int, _frame: FrameType | None) -> None:
    """Exit cleanly on SIGTERM, as the daemon does."""
    notify("STOPPING=1")
    print("stand-in: stopping", flush=True)
    sys.exit(0)


def main() -> int:
    """Serve /metrics, report READY=1, then ping the watchdog until the wedge file appears."""
    directory = Path(os.environ["CREDENTIALS_DIRECTORY"])
    credentials = sorted(path.name for path in directory.iterdir())
    readable = [name for name in credentials if (directory / name).read_bytes()]
    print(f"stand-in: credentials {credentials}, readable {readable}", flush=True)
    signal.signal(signal.SIGTERM, stop)
    start_http_server(int(os.environ.get("LISTEN_PORT", "8000")), addr="127.0.0.1")
    notify("READY=1\nSTATUS=stand-in serving")
    interval = int(os.environ.get("WATCHDOG_USEC", "30000000")) / 2e6
    while True:
        if not WEDGE.exists():
            notify("WATCHDOG=1")
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main())
