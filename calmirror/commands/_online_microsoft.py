"""`check-config --online` for Microsoft: list each mailbox's calendars once; a flow names one of them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from difflib import get_close_matches

from calmirror.commands._online_check import OnlineCheck
from calmirror.config import Flow, MicrosoftAccount, Settings
from calmirror.config.calendars import PRIMARY
from calmirror.errors import (
    CLIENT_REFUSED,
    CLIENT_UNKNOWN,
    AuthNeededError,
    ForbiddenError,
    NotFoundError,
    ProviderError,
)
from calmirror.microsoft import GraphCalendar, GraphClient

Listing = dict[str, GraphCalendar]  # calendar id as a flow names it ("primary" for the default) -> calendar
PERMISSION = "the Calendars.ReadWrite permission"


async def check_microsoft(settings: Settings, clients: Mapping[int, GraphClient]) -> OnlineCheck:
    """Ask every Microsoft account for its calendars once; list them and check each flow's calendars."""
    accounts = sorted(clients)
    delegated = {n: settings.microsoft_accounts[n].auth == "delegated" for n in accounts}
    answers = await asyncio.gather(*(_calendars(clients[n], delegated[n]) for n in accounts))
    problems: list[str] = []
    unreachable: list[str] = []
    lines: list[str] = []
    listings: dict[int, Listing] = {}
    for n, answer in zip(accounts, answers, strict=True):
        account = settings.microsoft_accounts[n]
        if (
            isinstance(answer, ProviderError) and answer.retryable
        ):  # the network or Microsoft, not the settings
            unreachable.append(f"account {n}: Microsoft Graph could not be asked ({answer.kind}): {answer}")
        elif isinstance(answer, ProviderError):
            problems.append(_account_problem(settings, account, answer))
        elif (wrong := _wrong_mailbox(account, answer[1])) is not None:
            problems.append(wrong)
        else:
            listings[n] = {PRIMARY if c.is_default else c.id: c for c in answer[0]}
            lines += _listing_lines(account, listings[n])
    for flow in settings.flows:
        problems += _flow_problems(flow, listings)
    problems += _default_spelt_two_ways(settings.flows, listings)
    return OnlineCheck(tuple(problems), tuple(unreachable), tuple(lines))


async def _calendars(
    client: GraphClient, delegated: bool
) -> tuple[list[GraphCalendar], str | None] | ProviderError:
    """Return the mailbox's calendars and, when delegated, who signed in (`/me`), or the failure."""
    try:
        calendars = await client.list_calendars()
        return calendars, (await client.signed_in_address() if delegated else None)
    except ProviderError as error:
        return error


def _wrong_mailbox(account: MicrosoftAccount, signed_in: str | None) -> str | None:
    """Return the problem of a delegated account whose address is not the mailbox that signed in."""
    if not signed_in or signed_in.casefold() == account.email.casefold():
        return None
    return (
        f"MICROSOFT_ACCOUNT_{account.id}_EMAIL={account.email}: its refresh token signed in as {signed_in}; "
        f"set the address of that mailbox, or sign in as {account.email}"
    )


def _listing_lines(account: MicrosoftAccount, listing: Listing) -> list[str]:
    """Return the mailbox's calendars as lines: the id a flow names it by, its name, the access."""
    lines = [f"calendars of account {account.id} (microsoft {account.email}, {account.auth}):"]
    for calendar_id, calendar in listing.items():
        access = "read and write" if calendar.can_edit else "read only"
        lines.append(f"  {calendar_id}  {calendar.name!r}  {access}")
    return lines


def _account_problem(settings: Settings, account: MicrosoftAccount, error: ProviderError) -> str:
    """Return the problem of an account whose calendars could not be listed, naming what to fix."""
    prefix = f"MICROSOFT_ACCOUNT_{account.id}_"
    if isinstance(error, AuthNeededError) and error.reason in (CLIENT_REFUSED, CLIENT_UNKNOWN):
        # The variable the account really takes its registration from: the shared one or its own.
        own = "MICROSOFT_" if account.shared_client else prefix
        variable = own + ("CLIENT_ID" if error.reason == CLIENT_UNKNOWN else "CLIENT_SECRET")
        registration = f"the app registration {account.client_id} of account {account.id}"
        return f"{variable}: Microsoft rejects {registration} ({error}); {account.renewal(error.reason)}"
    if isinstance(error, AuthNeededError) and account.auth == "delegated":
        return f"{prefix}REFRESH_TOKEN: Microsoft rejects it ({error}); {account.renewal()}"
    if isinstance(error, AuthNeededError):
        return f"{prefix}*: Microsoft refuses account {account.id}'s sign-in ({error}); {account.renewal()}"
    if isinstance(error, ForbiddenError):
        grant = (
            f"grant the app registration {PERMISSION} as an application permission, with admin consent"
            if account.auth == "app"
            else f"{account.renewal()} and consent to {PERMISSION}"
        )
        return f"{prefix}*: Graph refuses to list {account.email}'s calendars ({error}); {grant}"
    if isinstance(error, NotFoundError):
        return f"{prefix}EMAIL={account.email}: Graph has no mailbox with this address ({error})"
    tenant = f" (tenant {account.tenant_id})" if account.auth == "app" else ""
    return f"{prefix}*: account {account.id}{tenant} could not list its calendars: {error}"


def _flow_problems(flow: Flow, listings: Mapping[int, Listing]) -> list[str]:
    """Return the problems of one flow's Microsoft sides: a calendar of the mailbox, a target it can edit."""
    problems = []
    for side, ref in (("SOURCE", flow.source), ("TARGET", flow.target)):
        listing = listings.get(ref.account_id)
        if listing is None:
            continue  # not a Microsoft account, or its own problem is reported already
        variable = f"SYNC_FLOW_{flow.id}_{side}_CALENDAR_ID={ref.calendar_id}"
        calendar = listing.get(ref.calendar_id) or _default_by_id(listing, ref.calendar_id)
        if calendar is None:
            problems.append(f"{variable}: {_not_listed(ref.account_id, ref.calendar_id, listing)}")
        elif side == "TARGET" and not calendar.can_edit:
            problems.append(
                f"{variable}: account {ref.account_id} may only read it; flow {flow.name!r} writes to it"
            )
    return problems


def _default_by_id(listing: Listing, calendar_id: str) -> GraphCalendar | None:
    """Return the mailbox's default calendar when `calendar_id` is its Graph id (a flow may name it so)."""
    default = listing.get(PRIMARY)
    return default if default is not None and default.id == calendar_id else None


def _default_spelt_two_ways(flows: Sequence[Flow], listings: Mapping[int, Listing]) -> list[str]:
    """Return a problem per mailbox whose default calendar flows name both `primary` and by its Graph id.

    Block ids are made from the calendar id as configured, so two spellings of one target calendar would
    make every block twice, and a flow from one spelling into the other would mirror a calendar into itself.
    """
    problems = []
    for account_id, listing in listings.items():
        default = listing.get(PRIMARY)
        if default is None:
            continue
        named: dict[str, list[str]] = {default.id: [], PRIMARY: []}
        for flow in flows:
            for side, ref in (("SOURCE", flow.source), ("TARGET", flow.target)):
                if ref.account_id == account_id and ref.calendar_id in named:
                    named[ref.calendar_id].append(f"SYNC_FLOW_{flow.id}_{side}_CALENDAR_ID={ref.calendar_id}")
        if named[default.id] and named[PRIMARY]:
            variables = " and ".join([*named[default.id], *named[PRIMARY]])
            problems.append(
                f"{variables}: one calendar (account {account_id}'s default calendar) spelt two ways; "
                'write "primary" in both'
            )
    return problems


def _not_listed(account_id: int, calendar_id: str, listing: Listing) -> str:
    """Say that a calendar is not the mailbox's, naming the nearest of its calendars (ids keep their case)."""
    text = f"it is not one of account {account_id}'s calendars (listed above)"
    same = [known for known in listing if known.casefold() == calendar_id.casefold()]
    nearest = same or get_close_matches(calendar_id, list(listing), n=1, cutoff=0.0)
    return f"{text}; nearest: {nearest[0]}" if nearest else text
