"""`calmirror emulator --microsoft-account`: Graph on the same port, in the JSON line and the .env lines."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

GOOGLE = ["ann@example.com", "ben@example.com"]
MICROSOFT = ["mia@example.com", "max@example.com"]


@asynccontextmanager
async def emulator_process(*flags: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """`calmirror emulator` with two Google and two Microsoft accounts, stopped by SIGTERM afterwards."""
    args = [sys.executable, "-m", "calmirror", "emulator", *flags]
    for email in GOOGLE:
        args += ["--account", email]
    for email in MICROSOFT:
        args += ["--microsoft-account", email]
    proc = await asyncio.create_subprocess_exec(*args, stdout=PIPE, stderr=PIPE)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0


async def calendars(login_url: str, tenant: str, graph_root: str, creds: dict[str, str]) -> Any:
    """Redeem a printed refresh token and list that mailbox's calendars through Graph."""
    form = {"grant_type": "refresh_token", "scope": "offline_access Calendars.ReadWrite", **creds}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{login_url}/{tenant}/oauth2/v2.0/token", data=form) as resp:
            assert resp.status == 200, await resp.text()
            token = (await resp.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(graph_root + "/me/calendars", headers=headers) as resp:
            return await resp.json()


async def test_the_json_line_carries_graph_on_the_same_port() -> None:
    """The line gains `microsoft`: graph_root, login_url, tenant_id, working credentials per mailbox."""
    async with emulator_process() as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        line = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
        ready = (await asyncio.wait_for(proc.stderr.readline(), 5)).decode()
        assert "Microsoft Graph" in ready
        assert "mia@example.com" in ready
        microsoft = line["microsoft"]
        assert set(microsoft) == {"graph_root", "login_url", "tenant_id", "accounts"}
        assert microsoft["graph_root"] == line["api_root"] + "v1.0"
        assert microsoft["login_url"] + "/" == line["api_root"]
        assert sorted(microsoft["accounts"]) == sorted(MICROSOFT)
        creds = microsoft["accounts"]["max@example.com"]
        assert set(creds) == {"client_id", "client_secret", "refresh_token"}
        listed = await calendars(
            microsoft["login_url"], microsoft["tenant_id"], microsoft["graph_root"], creds
        )
        assert listed["value"][0]["owner"]["address"] == "max@example.com"
        assert sorted(line["accounts"]) == GOOGLE


async def test_print_env_numbers_microsoft_accounts_after_googles() -> None:
    """--print-env adds MICROSOFT_* lines; account numbers continue after the Google accounts."""
    async with emulator_process("--print-env") as proc:
        assert proc.stdout is not None
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip() for _ in range(19)]
        names = [line.partition("=")[0] for line in lines]
        assert names[10:] == [
            "MICROSOFT_GRAPH_ROOT_URL",
            "MICROSOFT_LOGIN_URL",
            "MICROSOFT_TENANT_ID",
            "MICROSOFT_CLIENT_ID",
            "MICROSOFT_CLIENT_SECRET",
            "MICROSOFT_ACCOUNT_3_EMAIL",
            "MICROSOFT_ACCOUNT_3_REFRESH_TOKEN",
            "MICROSOFT_ACCOUNT_4_EMAIL",
            "MICROSOFT_ACCOUNT_4_REFRESH_TOKEN",
        ]
        env = dict(line.partition("=")[::2] for line in lines)
        assert env["MICROSOFT_ACCOUNT_4_EMAIL"] == "max@example.com"
        creds = {
            "client_id": env["MICROSOFT_CLIENT_ID"],
            "client_secret": env["MICROSOFT_CLIENT_SECRET"],
            "refresh_token": env["MICROSOFT_ACCOUNT_4_REFRESH_TOKEN"],
        }
        listed = await calendars(
            env["MICROSOFT_LOGIN_URL"], env["MICROSOFT_TENANT_ID"], env["MICROSOFT_GRAPH_ROOT_URL"], creds
        )
        assert listed["value"][0]["owner"]["address"] == "max@example.com"
