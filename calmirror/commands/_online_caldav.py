"""`check-config --online` for CalDAV: list each account's calendars once; a flow names one of them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from difflib import get_close_matches

from calmirror.caldav import CalDavProvider
from calmirror.caldav.discovery import DavCalendar
from calmirror.caldav.errors import NOT_CALDAV
from calmirror.commands._online_check import OnlineCheck
from calmirror.config import CalDavAccount, Flow, Settings
from calmirror.config.calendars import normalise_calendar_url
from calmirror.errors import PASSWORD_REFUSED, AuthNeededError, ForbiddenError, NotFoundError, ProviderError

Listing = dict[str, DavCalendar]  # calendar URL, spelt as a flow's calendar id -> the calendar


async def check_caldav(settings: Settings, providers: Mapping[int, CalDavProvider]) -> OnlineCheck:
    """Ask every CalDAV account for its calendars once; list them and check each flow's CalDAV calendars."""
    accounts = sorted(providers)
    answers = await asyncio.gather(*(_calendars(providers[n]) for n in accounts))
    problems: list[str] = []
    unreachable: list[str] = []
    lines: list[str] = []
    listings: dict[int, Listing] = {}
    for n, answer in zip(accounts, answers, strict=True):
        account = settings.caldav_accounts[n]
        if isinstance(answer, ProviderError) and answer.retryable:  # the network or server, not the settings
            where = f"the CalDAV server at {account.url}"
            unreachable.append(f"account {n}: {where} could not be asked ({answer.kind}): {answer}")
        elif isinstance(answer, ProviderError):
            problems.append(_account_problem(account, answer))
        elif not answer:  # a wrong address can answer an empty listing rather than an error
            problems.append(_wrong_url(account, "none listed"))
        else:
            listings[n] = _spelt(account, answer)
            lines += _listing_lines(account, listings[n])
    for flow in settings.flows:
        problems += _flow_problems(flow, listings)
    return OnlineCheck(tuple(problems), tuple(unreachable), tuple(lines))


async def _calendars(provider: CalDavProvider) -> list[DavCalendar] | ProviderError:
    """Return the account's calendars, or the failure."""
    try:
        return await provider.list_calendars()
    except ProviderError as error:
        return error


def _spelt(account: CalDavAccount, calendars: list[DavCalendar]) -> Listing:
    """Return the calendars by URL spelt the one way a flow's calendar id is (config/calendars.py)."""
    listing = {}
    for calendar in calendars:
        try:
            listing[normalise_calendar_url(account.url, calendar.url)] = calendar
        except ValueError:
            continue  # a URL no flow could name (another scheme): nothing to choose
    return listing


def _listing_lines(account: CalDavAccount, listing: Listing) -> list[str]:
    """Return the account's calendars as lines: URL (to copy into a flow), display name, access."""
    lines = [f"calendars of account {account.id} (caldav {account.url}  user {account.username}):"]
    lines += [f"  {url}  {calendar.name!r}  {_access(calendar)}" for url, calendar in sorted(listing.items())]
    return lines


def _access(calendar: DavCalendar) -> str:
    """Describe what the account may do with a calendar."""
    if calendar.can_read and calendar.can_write:
        return "read and write"
    if calendar.can_read:
        return "read only"
    return "write only" if calendar.can_write else "no access"


def _account_problem(account: CalDavAccount, error: ProviderError) -> str:
    """Return the problem of an account whose calendars could not be listed."""
    prefix = f"CALDAV_ACCOUNT_{account.id}_"
    if isinstance(error, AuthNeededError) and error.reason == PASSWORD_REFUSED:
        return (
            f"{prefix}PASSWORD: the server at {account.url} refused the password of user "
            f"{account.username!r} (HTTP 401): create a new app password and configure it"
        )
    if isinstance(error, (NotFoundError, ForbiddenError)):
        return _wrong_url(account, f"HTTP {error.status}")
    if error.reason == NOT_CALDAV:
        return (
            f"{prefix}URL={account.url}: not a CalDAV server (HTTP {error.status} to PROPFIND); give the "
            "address of the provider's CalDAV service, e.g. https://caldav.fastmail.com/dav/"
        )
    return f"{prefix}*: account {account.id} could not list its calendars: {error}"


def _wrong_url(account: CalDavAccount, what: str) -> str:
    """Return the problem of an account URL where the user's calendars are not found."""
    return (
        f"CALDAV_ACCOUNT_{account.id}_URL={account.url}: user {account.username!r} has no calendars there "
        f"({what}); give the server's address or the user's principal URL"
    )


def _flow_problems(flow: Flow, listings: Mapping[int, Listing]) -> list[str]:
    """Return the problems of one flow's CalDAV sides: a calendar of the account, readable or writable."""
    problems = []
    for side, ref in (("SOURCE", flow.source), ("TARGET", flow.target)):
        listing = listings.get(ref.account_id)
        if listing is None:
            continue  # not a CalDAV account, or its own problem is reported already
        variable = f"SYNC_FLOW_{flow.id}_{side}_CALENDAR_ID={ref.calendar_id}"
        calendar = listing.get(ref.calendar_id)
        if calendar is None:
            problems.append(f"{variable}: {_not_listed(ref.account_id, ref.calendar_id, listing)}")
        elif side == "SOURCE" and not calendar.can_read:
            problems.append(
                f"{variable}: account {ref.account_id} may not read it; flow {flow.name!r} reads it"
            )
        elif side == "TARGET" and not calendar.can_write:
            problems.append(
                f"{variable}: account {ref.account_id} may only read it; flow {flow.name!r} writes to it"
            )
    return problems


def _not_listed(account_id: int, calendar_id: str, listing: Listing) -> str:
    """Say that a calendar is not the account's, naming the nearest of its calendars."""
    text = f"it is not one of account {account_id}'s calendars (listed above)"
    nearest = get_close_matches(calendar_id, list(listing), n=1, cutoff=0.0)
    return f"{text}; nearest: {nearest[0]}" if nearest else text
