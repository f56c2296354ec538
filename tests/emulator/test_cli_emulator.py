"""`calmirror emulator` as a subprocess: one JSON line (or .env lines) once ready, serves until SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import aiohttp
import pytest

ACCOUNTS = ["ann@example.com", "ben@example.com"]


async def test_cli_prints_one_json_line_and_serves() -> None:
    """The line carries api_root, token_uri and per-account client_id/secret/refresh_token that work."""
    args = [sys.executable, "-m", "calmirror", "emulator", "--port", "0", "--allow-http-webhooks"]
    for email in ACCOUNTS:
        args += ["--account", email]
    proc = await asyncio.create_subprocess_exec(*args, stdout=PIPE, stderr=PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        line = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
        ready = (await asyncio.wait_for(proc.stderr.readline(), 5)).decode()
        assert ready.startswith(
            f"calmirror emulator: serving Google Calendar and OAuth at {line['api_root']} "
        )
        assert "stop it with Ctrl-C" in ready
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
    assert await proc.stdout.read() == b""  # exactly one stdout line


FLOW = {
    "SYNC_FLOW_1_NAME": "ann to ben",
    "SYNC_FLOW_1_SOURCE_ACCOUNT_ID": "1",
    "SYNC_FLOW_1_SOURCE_CALENDAR_ID": ACCOUNTS[0],
    "SYNC_FLOW_1_TARGET_ACCOUNT_ID": "2",
    "SYNC_FLOW_1_TARGET_CALENDAR_ID": ACCOUNTS[1],
}


def _clean_env() -> dict[str, str]:
    """This process's environment without calmirror's own variables."""
    prefixes = ("GOOGLE_", "SYNC_", "WEBHOOK_", "DAILY_", "LISTEN_", "LOG_LEVEL", "CREDENTIALS_DIRECTORY")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


async def test_print_env_lines_pass_check_config_and_zones_apply(tmp_path: Path) -> None:
    """--print-env prints GOOGLE_* lines in account order; with a flow added they pass check-config."""
    args = [
        sys.executable,
        "-m",
        "calmirror",
        "emulator",
        "--print-env",
        "--zone",
        f"{ACCOUNTS[1]}=Europe/Berlin",
    ]
    for email in ACCOUNTS:
        args += ["--account", email]
    proc = await asyncio.create_subprocess_exec(*args, stdout=PIPE, stderr=PIPE)
    try:
        assert proc.stdout is not None
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip() for _ in range(10)]
        names = [line.partition("=")[0] for line in lines]
        per_account = ["EMAIL", "CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN"]
        assert names == ["GOOGLE_API_ROOT_URL", "GOOGLE_TOKEN_URI"] + [
            f"GOOGLE_ACCOUNT_{n}_{field}" for n in (1, 2) for field in per_account
        ]
        env = dict(line.partition("=")[::2] for line in lines)
        assert (env["GOOGLE_ACCOUNT_1_EMAIL"], env["GOOGLE_ACCOUNT_2_EMAIL"]) == tuple(ACCOUNTS)
        env_file = tmp_path / ".env"
        env_file.write_text("\n".join([*lines, *(f"{k}={v}" for k, v in FLOW.items())]) + "\n")
        check = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "calmirror",
            "check-config",
            "--env-file",
            str(env_file),
            stdout=PIPE,
            stderr=PIPE,
            env=_clean_env(),
            cwd=tmp_path,
        )
        out, err = await asyncio.wait_for(check.communicate(), 30)
        assert (check.returncode, err) == (0, b""), out + err
        zones = await _calendar_zones(env, 2)
        assert zones == {ACCOUNTS[1]: "Europe/Berlin"}
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 10)


async def _calendar_zones(env: dict[str, str], n: int) -> dict[str, str]:
    """Return calendar id -> timeZone from account n's calendarList, with the printed credentials."""
    form = {"grant_type": "refresh_token"} | {
        key: env[f"GOOGLE_ACCOUNT_{n}_{key.upper()}"]
        for key in ("client_id", "client_secret", "refresh_token")
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(env["GOOGLE_TOKEN_URI"], data=form) as resp:
            token = (await resp.json())["access_token"]
        url = env["GOOGLE_API_ROOT_URL"] + "calendar/v3/users/me/calendarList"
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
            listed = await resp.json()
    return {e["id"]: e["timeZone"] for e in listed["items"]}


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("ann@example.com=Mars/Olympus", "--zone: unknown time zone 'Mars/Olympus'"),
        ("ann@example.com=Europe", "--zone: unknown time zone 'Europe'"),
        ("zed@example.com=UTC", "--zone: a time zone is given for zed@example.com, which is not an account"),
        ("Europe/Berlin", "--zone Europe/Berlin: expected EMAIL=ZONE"),
    ],
)
def test_bad_zone_is_a_one_line_usage_error(zone: str, message: str) -> None:
    """A --zone that names no account or no IANA zone exits 2 with one line naming it, no traceback."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module, parameters from this test
        [sys.executable, "-m", "calmirror", "emulator", "--account", "ann@example.com", "--zone", zone],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"calmirror emulator: {message}")
