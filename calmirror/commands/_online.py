"""`check-config --online`: every account answers, every flow can read its source and write its target.

Google is checked here; CalDAV, ICS and Microsoft in _online_caldav.py, _online_ics.py and
_online_microsoft.py, each reporting an OnlineCheck.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from calmirror.caldav import CalDavProvider
from calmirror.commands._online_caldav import check_caldav
from calmirror.commands._online_check import OnlineCheck
from calmirror.commands._online_ics import check_feeds
from calmirror.commands._online_microsoft import check_microsoft
from calmirror.config import CalendarRef, Flow, GoogleAccount, Settings
from calmirror.errors import AuthNeededError, ProviderError
from calmirror.google.client import CalendarClient
from calmirror.ics import IcsProvider
from calmirror.runtime import google_clients, microsoft_clients, runtime

# calendarList accessRole values (https://developers.google.com/calendar/api/v3/reference/calendarList)
READ_ROLES = frozenset({"reader", "writer", "owner"})
WRITE_ROLES = frozenset({"writer", "owner"})

Roles = dict[str, str]  # calendar id -> the account's accessRole


async def online_problems(settings: Settings) -> OnlineCheck:
    """Ask every account once: the problems (naming the variable to fix), what it could not ask, listings."""
    async with runtime(settings) as engine:
        providers = engine.providers
        caldav = {n: p for n, p in providers.items() if isinstance(p, CalDavProvider)}
        feeds = {n: p for n, p in providers.items() if isinstance(p, IcsProvider)}
        google, dav, ics, microsoft = await asyncio.gather(
            _check_google(settings, google_clients(providers)),
            check_caldav(settings, caldav),
            check_feeds(settings, feeds),
            check_microsoft(settings, microsoft_clients(providers)),
        )
    return google + dav + ics + microsoft


async def _check_google(settings: Settings, clients: Mapping[int, CalendarClient]) -> OnlineCheck:
    """Ask Google: every token refreshes, every flow's Google source is readable and target writable."""
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
    return OnlineCheck(tuple(problems), tuple(unreachable))


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
    authorize = account.renewal()
    if isinstance(error, AuthNeededError) and error.reason == "invalid_client":
        secret = "GOOGLE_CLIENT_SECRET" if account.shared_client else f"{prefix}CLIENT_SECRET"
        return f"{secret}: Google rejects the OAuth client of account {account.id} (invalid_client)"
    if isinstance(error, AuthNeededError):
        return f"{prefix}REFRESH_TOKEN: Google rejects it ({error.reason}); {authorize}"
    return f"{prefix}*: account {account.id} could not list its calendars: {error}"


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
