"""The next step `calmirror sync` names under a failed flow, chosen by what Google said."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr

from calmirror.commands._hints import with_next_step
from calmirror.config import CalendarRef, Flow, GoogleAccount, Settings
from calmirror.engine import FlowOutcome
from calmirror.errors import Failure, ForbiddenError, QuotaExceededError, RateLimitedError

ALICE, BOB = "alice@example.com", "bob@example.com"


def settings() -> Settings:
    """One flow, alice's calendar into bob's."""
    accounts = {
        n: GoogleAccount(
            id=n, email=e, client_id="c", client_secret=SecretStr("s"), refresh_token=SecretStr("r")
        )
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
    return Settings(google_accounts=accounts, flows=(flow,))


def failed(failure: Failure) -> FlowOutcome:
    """Return the outcome of flow "work" that failed with one failure, its message worded like Google's."""
    return FlowOutcome("work", False, "Google said something", datetime.now(UTC), failures=(failure,))


def test_missing_access_names_the_calendar_variable() -> None:
    """A target Google says the account may not write: check its calendar id variable."""
    error = ForbiddenError("You need writer access", status=403, reason="requiredAccessLevel")
    outcome = failed(Failure.of(error, "target", BOB, "write", 2))
    assert f"check SYNC_FLOW_1_TARGET_CALENDAR_ID={BOB}" in with_next_step(settings(), outcome)


def test_a_quota_refusal_is_not_blamed_on_the_calendar() -> None:
    """A 403 for a rate or usage limit gets no calendar hint: the calendar id is not what to fix."""
    for error in (
        RateLimitedError("HTTP 403 forbidden requiredAccessLevel", status=403, reason="rateLimitExceeded"),
        QuotaExceededError("HTTP 404", status=403, reason="quotaExceeded"),
    ):
        outcome = failed(Failure.of(error, "source", ALICE, "read", 1))
        assert with_next_step(settings(), outcome) == "Google said something"
