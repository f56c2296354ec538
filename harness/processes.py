"""`calmirror emulator` and `calmirror run` as real subprocesses, for the daemon tests and the benchmarks."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from pydantic import SecretStr

from calmirror.config import GoogleAccount
from calmirror.google.client import CalendarClient
from calmirror.retry import RetryPolicy

WEBHOOK_KEY = "daemon-test-webhook-key-0123456789"
FlowSpec = tuple[str, str, str]  # flow name, source email, target email (primary calendars)


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class EmulatorProcess:
    """`calmirror emulator` running in a subprocess, and what its one JSON line said."""

    proc: asyncio.subprocess.Process
    api_root: str
    token_uri: str
    accounts: dict[str, dict[str, str]]
    microsoft: dict[str, Any] = field(default_factory=dict)  # the line's "microsoft" part, if any

    def account(self, email: str, account_id: int) -> GoogleAccount:
        """Return the config GoogleAccount of one emulator account."""
        creds = self.accounts[email]
        return GoogleAccount(
            id=account_id,
            email=email,
            client_id=creds["client_id"],
            client_secret=SecretStr(creds["client_secret"]),
            refresh_token=SecretStr(creds["refresh_token"]),
        )

    def client(self, email: str, account_id: int = 1) -> CalendarClient:
        """Return a real CalendarClient acting as the account's owner (no retry waits)."""
        return CalendarClient(
            self.account(email, account_id),
            api_root=self.api_root,
            token_uri=self.token_uri,
            retry=RetryPolicy(wait=False),
            timeout=5.0,
        )

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the emulator's control API under /_emulator/ and return its JSON (None when empty)."""
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, f"{self.api_root}_emulator/{path}", json=body) as resp,
        ):
            assert resp.status < 300, f"{method} {path}: {resp.status} {await resp.text()}"
            return await resp.json() if resp.content_type == "application/json" else None

    async def stats(self) -> dict[str, Any]:
        """Return the request log's statistics (http_requests, calls per method)."""
        log = await self.control("GET", "requests")
        stats: dict[str, Any] = log["stats"]
        return stats

    async def channels(self) -> list[dict[str, Any]]:
        """Return the emulator's live channels."""
        answer = await self.control("GET", "channels")
        channels: list[dict[str, Any]] = answer["channels"]
        return channels

    async def events(self, calendar_id: str) -> list[dict[str, Any]]:
        """Return every stored event of a calendar, tombstones included."""
        answer = await self.control("GET", f"calendars/{calendar_id}/events")
        items: list[dict[str, Any]] = answer["items"]
        return items

    async def stop(self) -> int:
        """Stop the emulator with SIGTERM and return its exit status."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 10)


async def start_emulator_process(accounts: Sequence[str], *options: str) -> EmulatorProcess:
    """Start `calmirror emulator --allow-http-webhooks` with the accounts and wait for its JSON line.

    The line names every account's credentials, so it grows with the accounts (200 KiB for 1,000);
    an emulator that never gives it is stopped, never left running.
    """
    args = [sys.executable, "-m", "calmirror", "emulator", "--port", "0", "--allow-http-webhooks", *options]
    for email in accounts:
        args += ["--account", email]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = json.loads(await asyncio.wait_for(read_line(proc.stdout), 60))
        return EmulatorProcess(
            proc, line["api_root"], line["token_uri"], line["accounts"], line.get("microsoft", {})
        )
    except BaseException:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        raise


async def read_line(stream: asyncio.StreamReader) -> bytes:
    """Read one line of any length (StreamReader.readline stops at its 64 KiB buffer limit)."""
    chunks: list[bytes] = []
    while True:
        try:
            chunks.append(await stream.readuntil(b"\n"))
            return b"".join(chunks)
        except asyncio.LimitOverrunError as exc:
            chunks.append(await stream.readexactly(exc.consumed))


def daemon_env(
    emulator: EmulatorProcess,
    accounts: Sequence[str],
    flows: Sequence[FlowSpec],
    *,
    port: int,
    webhooks: bool = True,
    interval_minutes: int = 1440,
    extra: Mapping[str, str] | None = None,
    microsoft: Sequence[str] = (),
) -> dict[str, str]:
    """Return the environment of a daemon mirroring between the emulator's primary calendars.

    `microsoft` names the emulator's Microsoft mailboxes to configure, numbered after the Google accounts.
    """
    prefixes = ("GOOGLE_", "MICROSOFT_", "SYNC_", "WEBHOOK_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env |= {
        "GOOGLE_API_ROOT_URL": emulator.api_root,
        "GOOGLE_TOKEN_URI": emulator.token_uri,
        "LISTEN_HOST": "127.0.0.1",
        "LISTEN_PORT": str(port),
        "SYNC_INTERVAL_MINUTES": str(interval_minutes),
        "LOG_LEVEL": "INFO",
    }
    ids = {email: n for n, email in enumerate([*accounts, *microsoft], start=1)}
    for email in accounts:
        creds = emulator.accounts[email]
        env |= {
            f"GOOGLE_ACCOUNT_{ids[email]}_EMAIL": email,
            f"GOOGLE_ACCOUNT_{ids[email]}_CLIENT_ID": creds["client_id"],
            f"GOOGLE_ACCOUNT_{ids[email]}_CLIENT_SECRET": creds["client_secret"],
            f"GOOGLE_ACCOUNT_{ids[email]}_REFRESH_TOKEN": creds["refresh_token"],
        }
    env |= microsoft_env(emulator, {email: ids[email] for email in microsoft})
    for n, (name, source, target) in enumerate(flows, start=1):
        env |= {
            f"SYNC_FLOW_{n}_NAME": name,
            f"SYNC_FLOW_{n}_SOURCE_ACCOUNT_ID": str(ids[source]),
            f"SYNC_FLOW_{n}_SOURCE_CALENDAR_ID": "primary",
            f"SYNC_FLOW_{n}_TARGET_ACCOUNT_ID": str(ids[target]),
            f"SYNC_FLOW_{n}_TARGET_CALENDAR_ID": "primary",
            f"SYNC_FLOW_{n}_START_OFFSET": "0",
            f"SYNC_FLOW_{n}_END_OFFSET": "0",
        }
    if webhooks:
        env |= {"WEBHOOK_BASE_URL": f"http://127.0.0.1:{port}", "WEBHOOK_API_KEY": WEBHOOK_KEY}
    return env | dict(extra or {})


def microsoft_env(emulator: EmulatorProcess, ids: Mapping[str, int]) -> dict[str, str]:
    """Return the variables pointing calmirror at the emulator's Graph, with the mailboxes as numbered."""
    if not ids:
        return {}
    graph = emulator.microsoft
    env = {
        "MICROSOFT_GRAPH_ROOT_URL": graph["graph_root"],
        "MICROSOFT_LOGIN_URL": graph["login_url"],
        "MICROSOFT_TENANT_ID": graph["tenant_id"],
    }
    for email, n in ids.items():
        creds = graph["accounts"][email]
        env |= {
            f"MICROSOFT_ACCOUNT_{n}_EMAIL": email,
            f"MICROSOFT_ACCOUNT_{n}_CLIENT_ID": creds["client_id"],
            f"MICROSOFT_ACCOUNT_{n}_CLIENT_SECRET": creds["client_secret"],
            f"MICROSOFT_ACCOUNT_{n}_REFRESH_TOKEN": creds["refresh_token"],
        }
    return env


@dataclass
class DaemonProcess:
    """`calmirror run` in a subprocess; its output is collected line by line."""

    proc: asyncio.subprocess.Process
    base_url: str
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        """Collect stdout and stderr lines until the process closes them."""
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def port(self) -> int:
        """Return the port the daemon listens on."""
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def output(self) -> str:
        """Return everything the daemon printed so far."""
        return "\n".join(self.lines)

    async def get(self, path: str, **headers: str) -> tuple[int, str, Mapping[str, str]]:
        """GET a daemon path: status, body text and headers."""
        async with aiohttp.ClientSession() as http, http.get(self.base_url + path, headers=headers) as resp:
            return resp.status, await resp.text(), resp.headers

    async def health(self) -> tuple[int, dict[str, Any]]:
        """Return /health's status and JSON body."""
        status, text, _ = await self.get("/health")
        return status, json.loads(text)

    async def post_webhook(self, headers: Mapping[str, str], body: bytes = b"") -> int:
        """POST to the webhook as Google (or a forger) would, and return the status."""
        url = self.base_url + "/api/v1/webhooks/google-calendar"
        async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
            return resp.status

    async def wait_ready(self, seconds: float = 30.0) -> dict[str, Any]:
        """Wait until /health says the daemon is ready, and return that body."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.returncode is None, f"daemon exited early:\n{self.output}"
            try:
                _, body = await self.health()
            except aiohttp.ClientError:
                body = {}
            if body.get("ready"):
                return body
            await asyncio.sleep(0.1)
        raise AssertionError(f"daemon not ready after {seconds}s:\n{self.output}")

    async def terminate(self, seconds: float = 10.0) -> tuple[int, float]:
        """Send SIGTERM; return the exit status and how long the daemon took to exit."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        status = await asyncio.wait_for(self.proc.wait(), seconds)
        if self._reader is not None:
            await self._reader
        return status, time.monotonic() - started

    async def kill(self) -> None:
        """SIGKILL the daemon (crash tests) and wait for it."""
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        if self._reader is not None:
            await self._reader


def file_limit(files: int | None) -> Callable[[], None] | None:
    """Return a preexec_fn that lowers the child's open-file limit to `files` (None: keep it)."""
    if files is None:
        return None
    limit = files

    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return lower


async def start_daemon(env: Mapping[str, str], *args: str, files: int | None = None) -> DaemonProcess:
    """Start `calmirror run` with the environment (cwd without a .env file); output is collected.

    `files` lowers the daemon's open-file limit, as a unit's LimitNOFILE would.
    """
    port = env["LISTEN_PORT"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "calmirror",
        "run",
        *args,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd="/",
        preexec_fn=file_limit(files),
    )
    daemon = DaemonProcess(proc, f"http://127.0.0.1:{port}")
    daemon._reader = asyncio.get_running_loop().create_task(daemon._read())
    return daemon


@asynccontextmanager
async def running_daemon(
    env: Mapping[str, str], *args: str, files: int | None = None
) -> AsyncIterator[DaemonProcess]:
    """Start `calmirror run`, wait until it is ready, and SIGKILL it afterwards (if still running)."""
    daemon = await start_daemon(env, *args, files=files)
    try:
        await daemon.wait_ready()
        yield daemon
    finally:
        await daemon.kill()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0, what: str = "") -> None:
    """Wait until `check()` holds; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"not reached within {seconds}s: {what or 'condition'}"
        await asyncio.sleep(0.05)
