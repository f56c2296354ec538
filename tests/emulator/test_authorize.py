"""`calmirror authorize` against the emulator: loopback flow with PKCE, lines that paste cleanly."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from calmirror.emulator import Emulator

ALICE, BOB = "alice@example.com", "bob@example.com"


def clean_environment() -> dict[str, str]:
    """Return os.environ without any calmirror or Google variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "SYNC_", "CREDENTIALS_"))}


async def authorize(emulator: Emulator, cwd: Path, *flags: str) -> str:
    """Run `calmirror authorize FLAGS --no-browser`, follow its URL; return its stdout."""
    args = [
        sys.executable, "-m", "calmirror", "authorize", *flags,
        "--auth-uri", emulator.auth_uri, "--token-uri", emulator.token_uri, "--no-browser",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=clean_environment(), stdout=asyncio.subprocess.PIPE
    )
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
    return out


async def test_authorize_prints_a_working_refresh_token(emulator: Emulator, tmp_path: Path) -> None:
    """The printed URL redirects to the loopback port with a code; the printed refresh token then works."""
    client = emulator.accounts[ALICE]

    out = await authorize(
        emulator, tmp_path, "--email", ALICE, "--account-number", "3",
        "--client-id", client.client_id, "--client-secret", client.client_secret,
    )  # fmt: skip

    assert f"GOOGLE_ACCOUNT_3_EMAIL={ALICE}" in out
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


def base_env_file(emulator: Emulator, *, shared: bool) -> str:
    """Return a .env with account 1 (alice) and a flow from it to account 2, whose lines are still to come."""
    alice = emulator.accounts[ALICE]
    prefix = "GOOGLE_" if shared else "GOOGLE_ACCOUNT_1_"
    client = f"{prefix}CLIENT_ID={alice.client_id}\n{prefix}CLIENT_SECRET={alice.client_secret}\n"
    return (
        client
        + f"GOOGLE_ACCOUNT_1_EMAIL={ALICE}\nGOOGLE_ACCOUNT_1_REFRESH_TOKEN={alice.refresh_token}\n"
        + "SYNC_FLOW_1_NAME=work\nSYNC_FLOW_1_SOURCE_ACCOUNT_ID=1\n"
        + f"SYNC_FLOW_1_SOURCE_CALENDAR_ID={ALICE}\nSYNC_FLOW_1_TARGET_ACCOUNT_ID=2\n"
        + f"SYNC_FLOW_1_TARGET_CALENDAR_ID={BOB}\n"
    )


@pytest.mark.parametrize("shared", [True, False], ids=["shared-client", "own-client"])
async def test_pasted_output_makes_a_valid_configuration(
    emulator: Emulator, tmp_path: Path, shared: bool
) -> None:
    """Authorize's lines appended to the .env make check-config pass, with the client it was run with."""
    env_file = tmp_path / ".env"
    env_file.write_text(base_env_file(emulator, shared=shared))
    bob = emulator.accounts[BOB]
    flags = [] if shared else ["--client-id", bob.client_id, "--client-secret", bob.client_secret]

    out = await authorize(emulator, tmp_path, "--email", BOB, "--account-number", "2", *flags)
    with env_file.open("a") as file:
        file.write(out)
    check = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "calmirror", "check-config",
        cwd=tmp_path, env=clean_environment(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    summary, err = (part.decode() for part in await asyncio.wait_for(check.communicate(), 20))

    assert check.returncode == 0, err
    assert err == ""
    assert ("GOOGLE_ACCOUNT_2_CLIENT_SECRET=" in out) is not shared
    assert ("GOOGLE_ACCOUNT_2_CLIENT_ID=" in out) is not shared
    assert f"  2: {BOB}  client {'shared' if shared else 'own'}" in summary


def authorize_refused(cwd: Path, *flags: str) -> tuple[int, list[str]]:
    """Run `calmirror authorize FLAGS` with a client given; return its exit status and stderr lines."""
    client = ("--client-id", "id", "--client-secret", "secret")
    done = subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-m", "calmirror", "authorize", "--email", ALICE, *client, "--no-browser", *flags],
        cwd=cwd,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr.splitlines()


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (("--port", "99999"), "argument --port: 99999 is not between 0 and 65535"),
        (("--port", "http"), "argument --port: 'http' is not a whole number"),
        (("--account-number", "-1"), "argument --account-number: -1 is less than 0"),
    ],
)
def test_a_bad_flag_is_a_usage_error_naming_it(tmp_path: Path, flags: tuple[str, ...], error: str) -> None:
    """An out-of-range --port or --account-number exits 2 with argparse's line naming the flag."""
    status, lines = authorize_refused(tmp_path, *flags)
    assert status == 2
    assert lines[-1] == f"calmirror authorize: error: {error}"


def test_a_busy_port_is_one_line_naming_it(tmp_path: Path) -> None:
    """A --port another program listens on exits 2 with one line naming --port, no traceback."""
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        status, lines = authorize_refused(tmp_path, "--port", str(port))
    assert (status, lines) == (
        2,
        [f"calmirror authorize: --port {port}: cannot listen on it (Address already in use)"],
    )
