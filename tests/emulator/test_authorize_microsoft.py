"""`calmirror authorize --provider microsoft` as a process against `calmirror emulator --microsoft-account`.

The device code is approved (declined, expired) through the emulator's control API; the loopback flow's
browser visit is an HTTP GET of the printed URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.emulator.test_cli_microsoft import emulator_process

MAX, MIA = "max@example.com", "mia@example.com"


def clean_environment() -> dict[str, str]:
    """os.environ without any calmirror, Google or Microsoft variable."""
    prefixes = ("GOOGLE_", "MICROSOFT_", "SYNC_", "CREDENTIALS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def env_file(cwd: Path, microsoft: dict[str, Any]) -> None:
    """A .env with the emulator's Microsoft client, tenant and login URL (no account lines yet)."""
    client = next(iter(microsoft["accounts"].values()))
    (cwd / ".env").write_text(
        f"MICROSOFT_CLIENT_ID={client['client_id']}\nMICROSOFT_CLIENT_SECRET={client['client_secret']}\n"
        f"MICROSOFT_TENANT_ID={microsoft['tenant_id']}\nMICROSOFT_LOGIN_URL={microsoft['login_url']}\n"
    )


async def start_authorize(cwd: Path, *flags: str) -> asyncio.subprocess.Process:
    """Start `calmirror authorize --provider microsoft FLAGS` in a directory."""
    args = [sys.executable, "-m", "calmirror", "authorize", "--provider", "microsoft", *flags]
    return await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=clean_environment(), stdout=PIPE, stderr=PIPE
    )


async def line_matching(proc: asyncio.subprocess.Process, pattern: str) -> re.Match[str]:
    """Read stderr (where the prompt goes) until a line matches."""
    assert proc.stderr is not None
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), 20)).decode()
        assert line, "authorize exited before printing what it was to print"
        found = re.search(pattern, line)
        if found:
            return found


async def finish(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    """Wait for the command; return its exit status, the rest of stdout and stderr."""
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode(), err.decode()


async def control(api_root: str, path: str, body: Any = None) -> None:
    """POST to the emulator's control API."""
    async with aiohttp.ClientSession() as http, http.post(api_root + "_emulator/" + path, json=body) as resp:
        assert resp.status < 300, await resp.text()


async def mailbox_of(microsoft: dict[str, Any], client: dict[str, str], refresh_token: str) -> str:
    """The mailbox a printed refresh token signs in as (token endpoint, then GET /me/calendar)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **client}
    async with aiohttp.ClientSession() as http:
        url = f"{microsoft['login_url']}/{microsoft['tenant_id']}/oauth2/v2.0/token"
        async with http.post(url, data=form) as resp:
            assert resp.status == 200, await resp.text()
            token = (await resp.json())["access_token"]
        async with http.get(
            microsoft["graph_root"] + "/me/calendar", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            return str((await resp.json())["owner"]["address"])


def pasted(out: str) -> dict[str, str]:
    """The MICROSOFT_* lines printed to paste, checking that stdout holds nothing else but comments."""
    assert all(line.startswith(("#", "MICROSOFT_")) for line in out.splitlines()), out
    return dict(line.partition("=")[::2] for line in out.splitlines() if line.startswith("MICROSOFT_"))


async def running_emulator_line(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    """The emulator's JSON line."""
    assert proc.stdout is not None
    line: dict[str, Any] = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
    return line


async def test_device_code_flow_prints_a_working_refresh_token(tmp_path: Path) -> None:
    """The command prints the code; approved for MAX through the control API, its token signs in as MAX."""
    async with emulator_process() as emulator:
        line = await running_emulator_line(emulator)
        microsoft = line["microsoft"]
        env_file(tmp_path, microsoft)
        proc = await start_authorize(tmp_path, "--email", MAX, "--account-number", "4")
        code = (await line_matching(proc, r"enter the code (\w+)")).group(1)
        await control(line["api_root"], f"microsoft/devicecode/{code}/approve", {"email": MAX})
        status, out, err = await finish(proc)
        assert status == 0, err
        lines = pasted(out)
        assert sorted(lines) == ["MICROSOFT_ACCOUNT_4_EMAIL", "MICROSOFT_ACCOUNT_4_REFRESH_TOKEN"]
        assert lines["MICROSOFT_ACCOUNT_4_EMAIL"] == MAX
        token = lines["MICROSOFT_ACCOUNT_4_REFRESH_TOKEN"]
        assert token not in err
        client = {k: v for k, v in microsoft["accounts"][MAX].items() if k != "refresh_token"}
        assert await mailbox_of(microsoft, client, token) == MAX


async def test_loopback_flow_with_pkce(tmp_path: Path) -> None:
    """--loopback prints the authorize URL; the browser's visit lands on the command with a code for MIA."""
    async with emulator_process() as emulator:
        line = await running_emulator_line(emulator)
        microsoft = line["microsoft"]
        env_file(tmp_path, microsoft)
        proc = await start_authorize(
            tmp_path, "--email", MIA, "--account-number", "3", "--loopback", "--no-browser"
        )
        url = (await line_matching(proc, r"(http://\S+)")).group(1)
        assert url.startswith(microsoft["login_url"] + "/common/oauth2/v2.0/authorize?")
        assert "code_challenge_method=S256" in url
        # http://localhost with any port matches the registered http://localhost; 127.0.0.1 would not.
        assert re.search(r"redirect_uri=http%3A%2F%2Flocalhost%3A\d+%2F&", url), url
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 200  # redirected to the command's loopback server
        status, out, err = await finish(proc)
        assert status == 0, err
        token = pasted(out)["MICROSOFT_ACCOUNT_3_REFRESH_TOKEN"]
        client = {k: v for k, v in microsoft["accounts"][MIA].items() if k != "refresh_token"}
        assert await mailbox_of(microsoft, client, token) == MIA


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("decline", "calmirror authorize: the sign-in was declined; run the command again to retry"),
        ("expire", "calmirror authorize: the code expired before anyone signed in; run the command again"),
    ],
)
async def test_declined_or_expired_is_one_line(tmp_path: Path, action: str, message: str) -> None:
    """A declined or expired device code ends the command with exit 1 and one line on stderr."""
    async with emulator_process() as emulator:
        line = await running_emulator_line(emulator)
        env_file(tmp_path, line["microsoft"])
        proc = await start_authorize(tmp_path, "--email", MAX)
        code = (await line_matching(proc, r"enter the code (\w+)")).group(1)
        await control(line["api_root"], f"microsoft/devicecode/{code}/{action}")
        status, out, err = await finish(proc)
        assert (status, err.splitlines()) == (1, [message])
        assert "REFRESH_TOKEN" not in out


async def test_slow_down_widens_the_poll_interval(tmp_path: Path) -> None:
    """A slow_down answer does not end the flow: the command keeps polling and then gets the token."""
    async with emulator_process() as emulator:
        line = await running_emulator_line(emulator)
        env_file(tmp_path, line["microsoft"])
        rule = {
            "kind": "status",
            "status": 400,
            "reason": "slow_down",
            "methods": ["graph.token"],
            "times": 1,
        }
        await control(line["api_root"], "faults", {"rules": [rule]})
        proc = await start_authorize(tmp_path, "--email", MAX, "--account-number", "4")
        code = (await line_matching(proc, r"enter the code (\w+)")).group(1)
        await control(line["api_root"], f"microsoft/devicecode/{code}/approve", {"email": MAX})
        status, out, err = await finish(proc)
        assert status == 0, err
        assert "MICROSOFT_ACCOUNT_4_REFRESH_TOKEN=" in out
        async with aiohttp.ClientSession() as http, http.get(line["api_root"] + "_emulator/faults") as resp:
            assert (await resp.json())["rules"][0]["fired"] == 1


def test_no_client_is_a_usage_error(tmp_path: Path) -> None:
    """Without MICROSOFT_CLIENT_ID anywhere the command exits 2 naming the variable, no traceback."""
    done = subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-m", "calmirror", "authorize", "--provider", "microsoft", "--email", MAX],
        cwd=tmp_path, env=clean_environment(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "calmirror authorize: MICROSOFT_CLIENT_ID (or MICROSOFT_ACCOUNT_1_CLIENT_ID): missing; "
        "set it in ./.env, the --env-file PATH or $CREDENTIALS_DIRECTORY, or give --client-id"
    ]


def authorize_refused(cwd: Path, *flags: str) -> tuple[int, list[str]]:
    """Run `calmirror authorize --provider microsoft FLAGS` with a client configured; exit status, stderr."""
    (cwd / ".env").write_text("MICROSOFT_CLIENT_ID=app\nMICROSOFT_LOGIN_URL=http://127.0.0.1:9\n")
    done = subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-m", "calmirror", "authorize", "--provider", "microsoft", "--email", MAX, *flags],
        cwd=cwd, env=clean_environment(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.returncode, done.stderr.splitlines()


def test_a_busy_loopback_port_is_one_line(tmp_path: Path) -> None:
    """--loopback on a port another program holds exits 2 naming --port."""
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        status, lines = authorize_refused(tmp_path, "--loopback", "--no-browser", "--port", str(port))
    assert (status, lines) == (
        2,
        [f"calmirror authorize: --port {port}: cannot listen on it (Address already in use)"],
    )


def test_an_unreachable_identity_platform_is_one_line(tmp_path: Path) -> None:
    """A login URL nothing answers on ends with one line naming it; a lone --client-secret is refused."""
    status, lines = authorize_refused(tmp_path)
    assert (status, lines) == (
        1,
        ["calmirror authorize: cannot reach http://127.0.0.1:9: ClientConnectorError"],
    )
    status, lines = authorize_refused(tmp_path, "--client-secret", "s")
    assert (status, lines) == (2, ["calmirror authorize: --client-secret goes with --client-id"])
