"""`calmirror emulator` as a subprocess: one JSON line once ready, serves until SIGTERM (docs/emulator.md)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import aiohttp

ACCOUNTS = ["ann@example.com", "ben@example.com"]


async def test_cli_prints_one_json_line_and_serves() -> None:
    """The line carries api_root, token_uri and per-account client_id/secret/refresh_token that work."""
    args = [sys.executable, "-m", "calmirror", "emulator", "--port", "0", "--allow-http-webhooks"]
    for email in ACCOUNTS:
        args += ["--account", email]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
        assert set(line) == {"api_root", "token_uri", "accounts"}
        assert line["token_uri"] == line["api_root"] + "token"
        assert sorted(line["accounts"]) == ACCOUNTS
        creds = line["accounts"]["ben@example.com"]
        assert set(creds) == {"client_id", "client_secret", "refresh_token"}
        form = {"grant_type": "refresh_token", **creds}
        async with aiohttp.ClientSession() as http:
            async with http.post(line["token_uri"], data=form) as resp:
                token = (await resp.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            url = line["api_root"] + "calendar/v3/users/me/calendarList"
            async with http.get(url, headers=headers) as resp:
                listed = await resp.json()
        assert [e["id"] for e in listed["items"]] == ["ben@example.com"]
    finally:
        proc.send_signal(signal.SIGTERM)
        status = await asyncio.wait_for(proc.wait(), 10)
    assert status == 0
