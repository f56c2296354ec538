"""The next step `calmirror sync` names under a failed flow, chosen by what Google said."""

from __future__ import annotations

from pydantic import SecretStr

from calmirror.commands._hints import with_next_step
from calmirror.config import Account, CalendarRef, Flow, Settings

ALICE, BOB = "alice@example.com", "bob@example.com"


def settings() -> Settings:
    """One flow, alice's calendar into bob's."""
    accounts = {
        n: Account(id=n, email=e, client_id="c", client_secret=SecretStr("s"), refresh_token=SecretStr("r"))
        for n, e in ((1, ALICE), (2, BOB))
    }
    flow = Flow(
        id=1,
        name="work",
        source=CalendarRef(account_id=1, calendar_id=ALICE),
        target=CalendarRef(account_id=2, calendar_id=BOB),
        start_offset=0,
        end_offset=0,
    )
    return Settings(accounts=accounts, flows=(flow,))


def test_missing_access_names_the_calendar_variable() -> None:
    """A target Google says the account may not write: check its calendar id variable."""
    message = "listing the target failed: calendar.events.list: HTTP 403 requiredAccessLevel: You need..."
    assert f"check SYNC_FLOW_1_TARGET_CALENDAR_ID={BOB}" in with_next_step(settings(), "work", message)


def test_a_quota_refusal_is_not_blamed_on_the_calendar() -> None:
    """A 403 for a rate or usage limit gets no calendar hint: the calendar id is not what to fix."""
    message = "listing the source failed: calendar.events.list: HTTP 403 rateLimitExceeded: Rate Limit"
    assert with_next_step(settings(), "work", message) == message
