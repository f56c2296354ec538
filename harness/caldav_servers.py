"""Real CalDAV servers (Radicale, Xandikos) as loopback subprocesses with temporary stores (tests, bench)."""

from __future__ import annotations

import base64
import http.client
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from harness.processes import free_port

SERVERS = ("radicale", "xandikos")
USERNAME = "alice"
PASSWORD = "alice-app-password-0123"  # noqa: S105 - a test server's account; Radicale checks it (htpasswd); Xandikos accepts anything


@dataclass(frozen=True)
class DavServer:
    """One running CalDAV server: where it listens, whose account it serves and where calendars live."""

    name: str
    base_url: str  # http://127.0.0.1:PORT
    home_path: str  # the account's calendar-home-set, e.g. /alice/
    principal_path: str
    username: str = USERNAME
    password: str = PASSWORD

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this server."""
        return self.base_url + path


def _radicale_command(store: Path, port: int) -> list[str]:
    """Write Radicale's config (htpasswd auth, plain passwords, short refusal delay); return its command."""
    users = store / "users"
    users.write_text(f"{USERNAME}:{PASSWORD}\n")
    config = store / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\ndelay = 0.01\n"
        f"[storage]\nfilesystem_folder = {store / 'collections'}\n"
        "[logging]\nlevel = warning\n"
    )
    return [sys.executable, "-m", "radicale", "--config", str(config)]


def _xandikos_command(store: Path, port: int) -> list[str]:
    """Return Xandikos's command: its default principal /user/ and calendar home, autocreated."""
    return [
        sys.executable,
        "-m",
        "xandikos.web",
        "-d",
        str(store / "data"),
        "-l",
        "127.0.0.1",
        "-p",
        str(port),
        "--defaults",
        "--state-dir",
        str(store / "state"),
        "--no-detect-systemd",
    ]


def _answers(port: int, auth: str) -> bool:
    """Tell whether the server answers an authenticated PROPFIND on / (any HTTP status counts)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        conn.request("PROPFIND", "/", headers={"Depth": "0", "Authorization": auth})
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


def _wait_ready(proc: subprocess.Popen[bytes], port: int, seconds: float) -> None:
    """Poll until the server answers; fail if it exits or the deadline passes."""
    auth = basic_auth(USERNAME, PASSWORD)
    deadline = time.monotonic() + seconds
    while not _answers(port, auth):
        if proc.poll() is not None:
            raise RuntimeError(f"CalDAV server exited with status {proc.returncode} before answering")
        if time.monotonic() > deadline:
            raise RuntimeError(f"CalDAV server on port {port} did not answer within {seconds}s")
        time.sleep(0.05)


def basic_auth(username: str, password: str) -> str:
    """Return an HTTP Basic Authorization header value."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@contextmanager
def running_server(name: str, seconds: float = 60.0) -> Iterator[DavServer]:
    """Run one server ("radicale" or "xandikos") with a fresh temporary store; stop it afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"calmirror-{name}-") as tmp:
        store, port = Path(tmp), free_port()
        command = _radicale_command(store, port) if name == "radicale" else _xandikos_command(store, port)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        try:
            _wait_ready(proc, port, seconds)
            if name == "radicale":
                yield DavServer(name, f"http://127.0.0.1:{port}", f"/{USERNAME}/", f"/{USERNAME}/")
            else:
                yield DavServer(name, f"http://127.0.0.1:{port}", "/user/calendars/", "/user/")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def make_calendar(server: DavServer, name: str | None = None) -> str:
    """Create a fresh calendar collection under the account's home and return its absolute URL."""
    path = f"{server.home_path}{name or 'cal-' + uuid.uuid4().hex[:10]}/"
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        "<D:set><D:prop><D:displayname>test</D:displayname></D:prop></D:set></C:mkcalendar>"
    )
    headers = {
        "Authorization": basic_auth(server.username, server.password),
        "Content-Type": "application/xml",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.request("MKCALENDAR", server.url(path), data=body, headers=headers) as resp,
    ):
        assert resp.status in (200, 201), f"MKCALENDAR {path}: {resp.status} {await resp.text()}"
    return server.url(path)


def _auth(username: str, password: str) -> dict[str, str]:
    """Return the Authorization header of the test account (or another)."""
    return {"Authorization": basic_auth(username, password)}


async def put_object(url: str, data: bytes, *, username: str = USERNAME, password: str = PASSWORD) -> str:
    """Store one iCalendar object at `url` directly (as another client would) and return its ETag."""
    headers = {**_auth(username, password), "Content-Type": "text/calendar"}
    async with aiohttp.ClientSession() as http, http.put(url, data=data, headers=headers) as resp:
        assert resp.status in (201, 204), f"PUT {url}: {resp.status} {await resp.text()}"
        return resp.headers.get("ETag", "")


async def delete_object(url: str, *, username: str = USERNAME, password: str = PASSWORD) -> None:
    """Delete one object directly, as another client would."""
    async with aiohttp.ClientSession() as http, http.delete(url, headers=_auth(username, password)) as resp:
        assert resp.status in (200, 204), f"DELETE {url}: {resp.status}"


async def get_object(url: str, *, username: str = USERNAME, password: str = PASSWORD) -> bytes | None:
    """Return one object's stored data, None when there is none."""
    async with aiohttp.ClientSession() as http, http.get(url, headers=_auth(username, password)) as resp:
        if resp.status == 404:
            return None
        assert resp.status == 200, f"GET {url}: {resp.status}"
        return await resp.read()
