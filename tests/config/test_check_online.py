"""`calmirror check-config --online` as a subprocess against the emulator: tokens and calendar access."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from calmirror.emulator import Emulator
from tests.engine.conftest import EMAILS, make_settings
from tests.engine.test_cli_sync import calmirror, environment_of

FLOWS = (("work", 1, 2, 0, 0), ("home", 3, 2, 0, 0))


async def test_working_configuration_passes(emulator: Emulator, tmp_path: Path) -> None:
    """Every token refreshes and every flow can read its source and write its target: exit 0."""
    env = environment_of(emulator, make_settings(emulator, FLOWS))

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 0, err
    assert (
        "online: 3 account(s) authorized; every flow can read its source calendar and write its target" in out
    )


async def test_read_only_target_and_unknown_source_are_named(emulator: Emulator, tmp_path: Path) -> None:
    """A target shared read-only, and a source the account cannot see, name their flow's variable: exit 2."""
    async with aiohttp.ClientSession(emulator.api_root) as http:  # the control API, as a user would
        async with http.post("/_emulator/calendars", json={"owner": EMAILS[1], "summary": "Team"}) as resp:
            team = (await resp.json())["id"]
        acl = {"account": EMAILS[2], "role": "reader"}
        async with http.post(f"/_emulator/calendars/{team}/acl", json=acl) as resp:
            assert resp.status == 200
    env = environment_of(emulator, make_settings(emulator, FLOWS))
    env |= {"SYNC_FLOW_1_TARGET_CALENDAR_ID": team, "SYNC_FLOW_2_SOURCE_CALENDAR_ID": "nobody@elsewhere.test"}
    emulator.reset_requests()

    code, _out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2
    assert err.splitlines()[1:] == [
        f"  SYNC_FLOW_1_TARGET_CALENDAR_ID={team}: account 2 ({EMAILS[2]}) has only reader access; "
        "flow 'work' needs writer or owner",
        f"  SYNC_FLOW_2_SOURCE_CALENDAR_ID=nobody@elsewhere.test: account 3 ({EMAILS[3]}) does not have "
        "this calendar in its calendar list (wrong id, or not shared with it); flow 'home' needs reader, "
        "writer or owner",
    ]
    # Each account refreshed its token and listed its calendars; nothing was written.
    assert emulator.requests.stats()["calls"] == {"oauth2.token": 3, "calendar.calendarList.list": 3}


async def test_revoked_account_names_its_refresh_token(emulator: Emulator, tmp_path: Path) -> None:
    """A revoked account is reported by its refresh-token variable with the command that fixes it."""
    env = environment_of(emulator, make_settings(emulator, FLOWS))
    emulator.revoke(EMAILS[3])

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2
    assert err.splitlines()[1:] == [
        "  GOOGLE_ACCOUNT_3_REFRESH_TOKEN: Google rejects it (invalid_grant); "
        f"run `calmirror authorize --email {EMAILS[3]} --account-number 3`, "
        "set the new GOOGLE_ACCOUNT_3_REFRESH_TOKEN and restart calmirror",
    ]
    assert env["GOOGLE_ACCOUNT_3_REFRESH_TOKEN"] not in out + err


async def test_google_out_of_reach_is_a_run_time_failure_not_a_configuration_problem(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Google answering 503 to every listing: exit 1, saying there is nothing to fix in the settings."""
    env = environment_of(emulator, make_settings(emulator, FLOWS))
    emulator.faults.add({"kind": "status", "status": 503, "reason": "backendError", "methods": ["*"]})

    code, _out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 1, err
    assert "could not check online (nothing to fix in the settings; try again)" in err
    assert "GOOGLE_ACCOUNT_" not in err  # no variable is blamed
