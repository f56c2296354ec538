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


async def authorize(
    emulator: Emulator, cwd: Path, *flags: str, uris: bool = True, env: dict[str, str] | None = None
) -> str:
    """Run `calmirror authorize FLAGS --no-browser` (emulator URIs as flags); follow the URL."""
    uri_flags = ["--auth-uri", emulator.auth_uri, "--token-uri", emulator.token_uri] if uris else []
    args = [sys.executable, "-m", "calmirror", "authorize", *flags, *uri_flags, "--no-browser"]
    proc = await asyncio.create_subprocess_exec(
        *args,
        cwd=cwd,
        env=env or clean_environment(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    url = None
    while url is None:  # the prompt goes to stderr
        line = (await asyncio.wait_for(proc.stderr.readline(), 20)).decode()
        assert line, "authorize exited before printing the URL"
        found = re.search(r"(http://\S+)", line)
        url = found.group(1) if found else None
    assert url.startswith(emulator.auth_uri)
    assert "code_challenge_method=S256" in url
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200  # the redirect landed on the command's loopback server
    out, _ = (part.decode() for part in await asyncio.wait_for(proc.communicate(), 20))
    assert proc.returncode == 0
    assert all(line.startswith(("#", "GOOGLE_")) for line in out.splitlines()), out  # only lines to paste
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
    assert f"  2: google {BOB}  client {'shared' if shared else 'own'}" in summary


def secrets_to_files(config: str, credentials: Path) -> str:
    """Move the secret lines of a .env text into one file each under `credentials`, as install.sh wants."""
    credentials.mkdir()
    kept = []
    for line in config.splitlines():
        name, _, value = line.partition("=")
        if name.endswith(("_SECRET", "_REFRESH_TOKEN")):
            (credentials / name).write_text(value + "\n")
        else:
            kept.append(line + "\n")
    return "".join(kept)


def emulator_lines(emulator: Emulator) -> str:
    """Return the .env lines that point every Google endpoint calmirror uses at the emulator."""
    return (
        f"GOOGLE_API_ROOT_URL={emulator.api_root}\nGOOGLE_TOKEN_URI={emulator.token_uri}\n"
        f"GOOGLE_AUTH_URI={emulator.auth_uri}\n"
    )


async def check_online(cwd: Path, env: dict[str, str], *flags: str) -> tuple[int, str, str]:
    """Run `calmirror check-config --online FLAGS`; return its exit status, stdout and stderr."""
    check = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "calmirror", "check-config", "--online", *flags,
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = (part.decode() for part in await asyncio.wait_for(check.communicate(), 30))
    return check.returncode or 0, out, err


@pytest.mark.parametrize("layout", ["shared-client", "own-client", "env-file-and-credentials"])
async def test_the_health_fix_round_trips_with_the_configured_client(
    emulator: Emulator, tmp_path: Path, layout: str
) -> None:
    """`authorize --email E --account-number N`, as /health prints it, uses the client account N is given.

    Account 2 (bob) lacks its refresh token. The command runs with no client flag and no URI flag (both
    come from the configuration); its pasted lines make `check-config --online` refresh the token with
    the very client the daemon will use. The shared client is set in every layout, so an own client
    must win over it. The third layout is deploy/install.sh's: settings in an --env-file elsewhere,
    secrets as files in $CREDENTIALS_DIRECTORY.
    """
    alice, bob = emulator.accounts[ALICE], emulator.accounts[BOB]
    shared = layout == "shared-client"
    config = base_env_file(emulator, shared=True) + emulator_lines(emulator)
    env = clean_environment()
    workdir, flags = tmp_path, []
    env_file = tmp_path / ".env"
    if not shared:
        config += f"GOOGLE_ACCOUNT_2_CLIENT_ID={bob.client_id}\n"
        config += f"GOOGLE_ACCOUNT_2_CLIENT_SECRET={bob.client_secret}\n"
    if layout == "env-file-and-credentials":
        credentials = tmp_path / "credentials"
        config = secrets_to_files(config, credentials)
        env["CREDENTIALS_DIRECTORY"] = str(credentials)
        env_file = tmp_path / "etc" / "calmirror.env"
        env_file.parent.mkdir()
        workdir = tmp_path / "elsewhere"
        workdir.mkdir()
        flags = ["--env-file", str(env_file)]
    env_file.write_text(config)

    out = await authorize(
        emulator, workdir, "--email", BOB, "--account-number", "2", *flags, uris=False, env=env
    )

    pasted = [line for line in out.splitlines() if line.startswith("GOOGLE_")]
    assert [line.partition("=")[0] for line in pasted] == [
        "GOOGLE_ACCOUNT_2_EMAIL",
        "GOOGLE_ACCOUNT_2_REFRESH_TOKEN",
    ]  # the client is already configured: no client line to paste
    token = pasted[1].partition("=")[2]
    if layout == "env-file-and-credentials":
        env_file.write_text(config + pasted[0] + "\n")
        (credentials / "GOOGLE_ACCOUNT_2_REFRESH_TOKEN").write_text(token + "\n")
    else:
        env_file.write_text(config + out)
    code, summary, err = await check_online(workdir, env, *flags)

    assert code == 0, err
    assert f"  2: google {BOB}  client {'shared' if shared else 'own'} " in summary
    assert "online: 2 account(s) authorized" in summary
    assert token not in summary + err
    assert alice.client_id != bob.client_id  # the layouts differ in which client the token belongs to


def test_no_client_anywhere_is_one_line_per_variable(tmp_path: Path) -> None:
    """Without any client for the account, authorize exits 2 naming the variables to set, no traceback."""
    (tmp_path / ".env").write_text("GOOGLE_ACCOUNT_4_CLIENT_ID=own.apps.googleusercontent.com\n")
    done = subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-m", "calmirror", "authorize", "--email", ALICE, "--account-number", "4"],
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        "calmirror authorize: GOOGLE_ACCOUNT_4_CLIENT_SECRET: missing; GOOGLE_ACCOUNT_4_CLIENT_ID is set, "
        "and an account's own OAuth client needs both",
        "calmirror authorize: set the client in ./.env, the --env-file PATH or $CREDENTIALS_DIRECTORY, "
        "or give --client-id and --client-secret",
    ]


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
