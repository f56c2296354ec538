"""`calmirror authorize` end to end against the emulator: loopback flow with PKCE (OAuth guide)."""

from __future__ import annotations

import asyncio
import re
import sys

import aiohttp

from calmirror.emulator import Emulator

ALICE = "alice@example.com"


async def test_authorize_prints_a_working_refresh_token(emulator: Emulator) -> None:
    """The printed URL redirects to the loopback port with a code; the printed refresh token then works."""
    client = emulator.accounts[ALICE]
    args = [
        sys.executable, "-m", "calmirror", "authorize", "--email", ALICE, "--account-number", "3",
        "--client-id", client.client_id, "--client-secret", client.client_secret,
        "--auth-uri", emulator.auth_uri, "--token-uri", emulator.token_uri, "--no-browser",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    url = None
    while url is None:
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert line, "authorize exited before printing the URL"
        found = re.search(r"(http://\S+)", line)
        url = found.group(1) if found else None
    assert url.startswith(emulator.auth_uri)
    assert "code_challenge_method=S256" in url
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200  # the redirect landed on the command's loopback server
    out = (await asyncio.wait_for(proc.stdout.read(), 20)).decode()
    assert await asyncio.wait_for(proc.wait(), 10) == 0
    assert f"GOOGLE_ACCOUNT_3_EMAIL={ALICE}" in out
    assert client.client_secret not in out
    refresh = re.search(r"^GOOGLE_ACCOUNT_3_REFRESH_TOKEN=(\S+)$", out, re.MULTILINE)
    assert refresh is not None
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh.group(1),
        "client_id": client.client_id,
        "client_secret": client.client_secret,
    }
    async with aiohttp.ClientSession() as http, http.post(emulator.token_uri, data=form) as resp:
        assert resp.status == 200
        assert emulator.oauth.authenticate((await resp.json())["access_token"]) == ALICE
