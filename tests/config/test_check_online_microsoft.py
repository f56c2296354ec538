"""`calmirror check-config --online` for Microsoft accounts, as a process against the Graph emulator."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from calmirror.commands._online_microsoft import _flow_problems
from calmirror.config import CalendarRef, Flow
from calmirror.emulator.graph.server import GraphEmulator, start_graph_emulator
from calmirror.microsoft import GraphCalendar
from tests.config.conftest import CONFIG_PREFIXES
from tests.engine.test_cli_sync import calmirror

DANA, ERIN = "dana@contoso.com", "erin@contoso.com"


@pytest.fixture
async def graph() -> AsyncIterator[GraphEmulator]:
    """A Graph emulator with dana's and erin's mailboxes; erin also has a "Team" calendar."""
    emulator = await start_graph_emulator(users=(DANA, ERIN))
    emulator.store.create_calendar(ERIN, "Team")
    try:
        yield emulator
    finally:
        await emulator.stop()


def _team(graph: GraphEmulator) -> str:
    """Return the Graph id of erin's Team calendar."""
    return next(c.id for c in graph.store.calendars.values() if c.name == "Team")


def environment(graph: GraphEmulator, team: str) -> dict[str, str]:
    """Dana (1) and erin (2), delegated on the emulator's app; dana's calendar and erin's Team into erin's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    return env | {
        "MICROSOFT_GRAPH_ROOT_URL": graph.graph_root,
        "MICROSOFT_LOGIN_URL": graph.login_root,
        "MICROSOFT_CLIENT_ID": graph.client.client_id,
        "MICROSOFT_CLIENT_SECRET": graph.client.client_secret,
        "MICROSOFT_ACCOUNT_1_EMAIL": DANA,
        "MICROSOFT_ACCOUNT_1_REFRESH_TOKEN": graph.refresh_tokens[DANA],
        "MICROSOFT_ACCOUNT_2_EMAIL": ERIN,
        "MICROSOFT_ACCOUNT_2_REFRESH_TOKEN": graph.refresh_tokens[ERIN],
        "SYNC_FLOW_1_NAME": "dana",
        "SYNC_FLOW_1_SOURCE_ACCOUNT_ID": "1",
        "SYNC_FLOW_1_SOURCE_CALENDAR_ID": "primary",
        "SYNC_FLOW_1_TARGET_ACCOUNT_ID": "2",
        "SYNC_FLOW_1_TARGET_CALENDAR_ID": ERIN,
        "SYNC_FLOW_2_NAME": "team",
        "SYNC_FLOW_2_SOURCE_ACCOUNT_ID": "2",
        "SYNC_FLOW_2_SOURCE_CALENDAR_ID": team,
        "SYNC_FLOW_2_TARGET_ACCOUNT_ID": "2",
        "SYNC_FLOW_2_TARGET_CALENDAR_ID": "primary",
    }


def _secrets(graph: GraphEmulator) -> list[str]:
    """Return the emulator's client secret and every refresh token it issued."""
    return [graph.client.client_secret, *graph.identity.refresh_tokens, *graph.identity.revoked]


async def test_good_setup_lists_each_mailboxs_calendars(graph: GraphEmulator, tmp_path: Path) -> None:
    """Exit 0; each mailbox's calendars are listed by the id a flow names them with, name and access."""
    team = _team(graph)

    code, out, err = await calmirror(environment(graph, team), tmp_path, "check-config", "--online")

    assert code == 0, err
    lines = out.splitlines()
    assert "calendars of account 2 (microsoft erin@contoso.com, delegated):" in lines
    assert "  primary  'Calendar'  read and write" in lines
    assert f"  {team}  'Team'  read and write" in lines
    assert (
        "online: 2 account(s) authorized; every flow can read its source calendar and write its target" in out
    )
    assert not any(secret in out + err for secret in _secrets(graph))


async def test_a_calendar_id_in_the_wrong_case_names_its_variable_and_the_id(
    graph: GraphEmulator, tmp_path: Path
) -> None:
    """Graph ids keep their case: a lower-cased id is not the mailbox's, and the fix names the real one."""
    team = _team(graph)
    env = environment(graph, team) | {"SYNC_FLOW_2_SOURCE_CALENDAR_ID": team.lower()}

    code, _, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    assert err.splitlines()[1:] == [
        f"  SYNC_FLOW_2_SOURCE_CALENDAR_ID={team.lower()}: it is not one of account 2's calendars "
        f"(listed above); nearest: {team}"
    ]


async def test_the_default_calendar_named_by_its_graph_id_is_accepted(
    graph: GraphEmulator, tmp_path: Path
) -> None:
    """A flow may name a mailbox's default calendar by its Graph id (as Outlook shows it)."""
    default = graph.store.mailbox(DANA).default_calendar_id
    env = environment(graph, _team(graph)) | {"SYNC_FLOW_1_SOURCE_CALENDAR_ID": default}

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 0, err
    assert "every flow can read its source calendar and write its target" in out


async def test_the_default_calendar_spelt_two_ways_names_both_variables(
    graph: GraphEmulator, tmp_path: Path
) -> None:
    """Its Graph id in one flow and `primary` in another are one calendar spelt two ways: write `primary`."""
    team = _team(graph)
    default = graph.store.mailbox(DANA).default_calendar_id
    env = environment(graph, team) | {
        "SYNC_FLOW_1_SOURCE_CALENDAR_ID": default,
        "SYNC_FLOW_3_NAME": "team to dana",
        "SYNC_FLOW_3_SOURCE_ACCOUNT_ID": "2",
        "SYNC_FLOW_3_SOURCE_CALENDAR_ID": team,
        "SYNC_FLOW_3_TARGET_ACCOUNT_ID": "1",
        "SYNC_FLOW_3_TARGET_CALENDAR_ID": "primary",
    }

    code, _, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    assert err.splitlines()[1:] == [
        f"  SYNC_FLOW_1_SOURCE_CALENDAR_ID={default} and SYNC_FLOW_3_TARGET_CALENDAR_ID=primary: "
        'one calendar (account 1\'s default calendar) spelt two ways; write "primary" in both'
    ]


async def test_a_refused_refresh_token_names_its_variable_and_authorize(
    graph: GraphEmulator, tmp_path: Path
) -> None:
    """Dana's revoked grant: exit 2, naming her refresh token and the authorize command; erin is fine."""
    env = environment(graph, _team(graph))
    graph.identity.revoke(DANA)

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    problem = next(line for line in err.splitlines() if "MICROSOFT_ACCOUNT_1" in line)
    assert problem.startswith("  MICROSOFT_ACCOUNT_1_REFRESH_TOKEN: Microsoft rejects it (")
    assert problem.endswith(
        "run `calmirror authorize --provider microsoft --email dana@contoso.com --account-number 1`, "
        "set the new MICROSOFT_ACCOUNT_1_REFRESH_TOKEN and restart calmirror"
    )
    assert "calendars of account 2 (microsoft erin@contoso.com, delegated):" in out
    assert not any(secret in out + err for secret in _secrets(graph))


async def test_an_app_only_account_with_a_wrong_secret_names_the_shared_secret(
    graph: GraphEmulator, tmp_path: Path
) -> None:
    """Client credentials refused (invalid_client): the shared secret's variable is the one to fix."""
    env = environment(graph, _team(graph))
    del env["MICROSOFT_ACCOUNT_1_REFRESH_TOKEN"]
    env |= {
        "MICROSOFT_ACCOUNT_1_AUTH": "app",
        "MICROSOFT_ACCOUNT_1_TENANT_ID": "contoso.onmicrosoft.com",
        "MICROSOFT_CLIENT_SECRET": "wrong-secret-of-the-app-5c2e",
    }

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    problems = err.splitlines()[1:]
    assert problems[0].startswith(
        f"  MICROSOFT_CLIENT_SECRET: Microsoft rejects the app registration {graph.client.client_id} of "
        "account 1 (token: HTTP 401 invalid_client AADSTS7000215)"
    )
    assert "wrong-secret-of-the-app-5c2e" not in out + err


async def test_a_public_client_refused_for_its_missing_secret_names_the_shared_secret(
    graph: GraphEmulator, tmp_path: Path
) -> None:
    """No secret anywhere, a confidential registration refuses: the shared variable, and public flows."""
    env = environment(graph, _team(graph))
    del env["MICROSOFT_CLIENT_SECRET"]

    code, _, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    problem = next(line for line in err.splitlines() if "AADSTS7000215" in line)
    assert problem.startswith("  MICROSOFT_CLIENT_SECRET: Microsoft rejects the app registration")
    assert "this app registration needs a client secret" in problem
    assert "enable public client flows" in problem or "allow public client flows" in problem
    assert "MICROSOFT_ACCOUNT_1_CLIENT_SECRET" not in err


async def test_an_unknown_application_names_the_client_id_it_comes_from(
    graph: GraphEmulator, tmp_path: Path
) -> None:
    """AADSTS700016 (no such application) names MICROSOFT_CLIENT_ID, or the account's own _CLIENT_ID."""
    env = environment(graph, _team(graph)) | {
        "MICROSOFT_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
        "MICROSOFT_ACCOUNT_2_CLIENT_ID": "66666666-2222-3333-4444-555555555555",
    }

    code, _, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    problems = [line for line in err.splitlines() if "AADSTS700016" in line]
    assert [line.split(":")[0] for line in problems] == [
        "  MICROSOFT_CLIENT_ID",
        "  MICROSOFT_ACCOUNT_2_CLIENT_ID",
    ]
    assert "CLIENT_SECRET" not in "".join(problems).split(";")[0]


async def test_an_address_that_is_not_the_signed_in_mailbox_names_both(
    graph: GraphEmulator, tmp_path: Path
) -> None:
    """Dana's token under ana's address: one line naming MICROSOFT_ACCOUNT_1_EMAIL and who signed in."""
    ana = "ana@contoso.com"
    env = environment(graph, _team(graph)) | {"MICROSOFT_ACCOUNT_1_EMAIL": ana}

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    assert err.splitlines()[1:] == [
        f"  MICROSOFT_ACCOUNT_1_EMAIL={ana}: its refresh token signed in as {DANA}; "
        f"set the address of that mailbox, or sign in as {ana}"
    ]
    assert "calendars of account 1" not in out


def test_a_read_only_target_is_named() -> None:
    """A Microsoft calendar the account may only read is no target: the problem names the flow's variable."""
    flow = Flow(
        id=4,
        name="into shared",
        source=CalendarRef(account_id=1, calendar_id="primary"),
        target=CalendarRef(account_id=2, calendar_id="AAMkShared="),
    )
    listings = {
        1: {"primary": GraphCalendar(id="AAMkOwn=", name="Calendar", can_edit=True, is_default=True)},
        2: {"AAMkShared=": GraphCalendar(id="AAMkShared=", name="Boss", can_edit=False, is_default=False)},
    }
    assert _flow_problems(flow, listings) == [
        "SYNC_FLOW_4_TARGET_CALENDAR_ID=AAMkShared=: account 2 may only read it; "
        "flow 'into shared' writes to it"
    ]
