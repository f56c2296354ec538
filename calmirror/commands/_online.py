"""`check-config --online`: every token refreshes, every flow can read its source and write its target."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from calmirror.config import CalendarRef, Flow, GoogleAccount, Settings
from calmirror.errors import AuthNeededError, ProviderError
from calmirror.google.client import CalendarClient
from calmirror.runtime import google_clients, runtime

# calendarList accessRole values (https://developers.google.com/calendar/api/v3/reference/calendarList)
READ_ROLES = frozenset({"reader", "writer", "owner"})
WRITE_ROLES = frozenset({"writer", "owner"})

Roles = dict[str, str]  # calendar id -> the account's accessRole


@dataclass(frozen=True)
class OnlineCheck:
    """What asking Google found: problems in the configuration, and accounts Google could not be asked for."""

    problems: list[str]
    unreachable: list[str]


async def online_problems(settings: Settings) -> OnlineCheck:
    """Ask Google: every configuration problem (naming the variable to fix), and what it could not ask."""
    async with runtime(settings) as engine:
        clients = google_clients(engine.providers)
        accounts = sorted(clients)
        answers = await asyncio.gather(*(_roles(clients[n]) for n in accounts))
    roles: dict[int, Roles] = {}
    problems: list[str] = []
    unreachable: list[str] = []
    for n, answer in zip(accounts, answers, strict=True):
        if isinstance(answer, ProviderError) and answer.retryable:  # the network or Google, not the settings
            unreachable.append(f"account {n}: Google could not be asked ({answer.kind}): {answer}")
        elif isinstance(answer, ProviderError):
            problems.append(_account_problem(settings.google_accounts[n], answer))
        else:
            roles[n] = answer
    for flow in settings.flows:
        problems += _flow_problems(settings, flow, roles)
    return OnlineCheck(problems, unreachable)


async def _roles(client: CalendarClient) -> Roles | ProviderError:
    """Return the account's access role per calendar (listing it refreshes the token), or the failure."""
    try:
        entries = await client.list_calendars()
    except ProviderError as error:
        return error
    return {str(entry["id"]): str(entry.get("accessRole", "")) for entry in entries if "id" in entry}


def _account_problem(account: GoogleAccount, error: ProviderError) -> str:
    """Return the problem of an account whose calendars could not be listed."""
    prefix = f"GOOGLE_ACCOUNT_{account.id}_"
    authorize = authorize_hint(account)
    if isinstance(error, AuthNeededError) and error.reason == "invalid_client":
        secret = "GOOGLE_CLIENT_SECRET" if account.shared_client else f"{prefix}CLIENT_SECRET"
        return f"{secret}: Google rejects the OAuth client of account {account.id} (invalid_client)"
    if isinstance(error, AuthNeededError):
        return f"{prefix}REFRESH_TOKEN: Google rejects it ({error.reason}); {authorize}"
    return f"{prefix}*: account {account.id} could not list its calendars: {error}"


def authorize_hint(account: GoogleAccount) -> str:
    """Return the command that gives an account a new refresh token."""
    return f"run `calmirror authorize --email {account.email} --account-number {account.id}`"


def _flow_problems(settings: Settings, flow: Flow, roles: Mapping[int, Roles]) -> list[str]:
    """Return the problems of one flow: its source must be readable, its target writable."""
    problems = []
    for side, ref, needed, what in (
        ("SOURCE", flow.source, READ_ROLES, "reader, writer or owner"),
        ("TARGET", flow.target, WRITE_ROLES, "writer or owner"),
    ):
        if ref.account_id not in roles:
            continue  # the account's own problem is reported already
        role = roles[ref.account_id].get(ref.calendar_id)
        if role in needed:
            continue
        variable = f"SYNC_FLOW_{flow.id}_{side}_CALENDAR_ID={ref.calendar_id}"
        problems.append(f"{variable}: {_lacking(settings, ref, role)}; flow {flow.name!r} needs {what}")
    return problems


def _lacking(settings: Settings, ref: CalendarRef, role: str | None) -> str:
    """Describe the access an account lacks to a calendar."""
    account = settings.google_accounts[ref.account_id]
    who = f"account {ref.account_id} ({account.email})"
    if role is None:
        return f"{who} does not have this calendar in its calendar list (wrong id, or not shared with it)"
    return f"{who} has only {role} access"
