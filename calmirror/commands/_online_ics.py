"""`check-config --online` for ICS feeds: fetch each feed once and count its events in the reconcile window.

A feed's address is its secret: nothing here shows more of it than scheme and host (IcsAccount.shown_url).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from calmirror.commands._online_check import OnlineCheck
from calmirror.config import FEED_CALENDAR_ID, IcsAccount, Settings
from calmirror.engine import Window
from calmirror.errors import FEED_NOT_FOUND, FEED_REFUSED, ProviderError, UnreadableDataError
from calmirror.ics import IcsProvider

# What a feed's unreadable answer means when it is read for the first time.
_UNREADABLE = {
    "empty": "it answers an empty body, not a calendar",
    "unparsable": "it answers something that is not iCalendar data (a web or login page?)",
    "too_large": "its answer is larger than calmirror reads: publish a shorter range of the calendar",
}


async def check_feeds(settings: Settings, providers: Mapping[int, IcsProvider]) -> OnlineCheck:
    """Fetch every feed once; say how many events it holds in the daily reconcile's window."""
    now = datetime.now(UTC)
    window = Window(
        now - timedelta(days=settings.daily_reconcile_days_back),
        now + timedelta(days=settings.daily_reconcile_days_forward),
    )
    accounts = sorted(providers)
    answers = await asyncio.gather(*(_count(providers[n], window) for n in accounts))
    problems: list[str] = []
    unreachable: list[str] = []
    lines: list[str] = []
    for n, answer in zip(accounts, answers, strict=True):
        account = settings.ics_accounts[n]
        where = f"the ICS feed at {account.shown_url()}"
        if isinstance(answer, ProviderError) and answer.retryable:  # the network or server, not the settings
            unreachable.append(f"account {n}: {where} could not be asked ({answer.kind}): {answer}")
        elif isinstance(answer, ProviderError):
            problems.append(_feed_problem(account, answer))
        else:
            lines.append(
                f"feed of account {n} (ics {account.shown_url()}): {answer} event(s) from "
                f"{window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}"
            )
    return OnlineCheck(tuple(problems), tuple(unreachable), tuple(lines))


async def _count(provider: IcsProvider, window: Window) -> int | ProviderError:
    """Return how many events the feed holds in the window (one GET), or the failure."""
    try:
        listing = await provider.list_window(FEED_CALENDAR_ID, window)
    except ProviderError as error:
        return error
    return sum(1 for event in listing.events if not event.cancelled)  # a cancelled one is a tombstone


def _feed_problem(account: IcsAccount, error: ProviderError) -> str:
    """Return the problem of a feed that answered but cannot be read, naming its URL's variable."""
    variable = f"ICS_ACCOUNT_{account.id}_URL"
    where = f"the feed at {account.shown_url()}"
    if error.reason == FEED_REFUSED:
        return f"{variable}: {where} refused the address (HTTP {error.status}): configure its current address"
    if error.reason == FEED_NOT_FOUND:
        return f"{variable}: {where} has no calendar at the address (HTTP {error.status}): correct it"
    if isinstance(error, UnreadableDataError) and error.reason in _UNREADABLE:
        return f"{variable}: {where} cannot be read: {_UNREADABLE[error.reason]}"
    return f"{variable}: {where} cannot be read: {error}"
