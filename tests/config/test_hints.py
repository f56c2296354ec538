"""The next step `calmirror sync` names under a failed flow, chosen by what Google said."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr

from calmirror.commands._hints import with_next_step
from calmirror.config import (
    FEED_CALENDAR_ID,
    CalDavAccount,
    CalendarRef,
    Flow,
    GoogleAccount,
    IcsAccount,
    Settings,
)
from calmirror.engine import FlowOutcome
from calmirror.errors import (
    AuthNeededError,
    Failure,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
)

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


def test_a_missing_feed_names_its_address_not_a_calendar_id() -> None:
    """A feed is one calendar: when it is not found, its ICS_ACCOUNT_<N>_URL is what to check."""
    feed = IcsAccount(id=3, url=SecretStr("https://school.example/feeds/token-1/x.ics"))
    flow = Flow(
        id=2,
        name="school",
        source=CalendarRef(account_id=3, calendar_id=FEED_CALENDAR_ID),
        target=CalendarRef(account_id=2, calendar_id=BOB),
    )
    base = settings()
    with_feed = Settings(google_accounts=base.google_accounts, ics_accounts={3: feed}, flows=(flow,))
    error = NotFoundError("the ICS feed of account 3: HTTP 404", status=404, reason="feed_not_found")
    outcome = FlowOutcome(
        "school",
        False,
        "feed gone",
        datetime.now(UTC),
        failures=(Failure.of(error, "source", "feed", "read", 3),),
    )
    step = with_next_step(with_feed, outcome)
    assert step == "feed gone; check ICS_ACCOUNT_3_URL (`calmirror check-config --online` fetches it)"


def test_a_refused_caldav_password_suggests_a_new_app_password_not_authorize() -> None:
    """The auth step is the account's own renewal: a CalDAV account never gets `calmirror authorize`."""
    dav = CalDavAccount(id=3, url="https://caldav.example.com/", username="me", password=SecretStr("p"))
    source = CalendarRef(account_id=3, calendar_id="https://caldav.example.com/cal/")
    flow = Flow(id=2, name="dav", source=source, target=CalendarRef(account_id=2, calendar_id=BOB))
    base = settings()
    with_dav = Settings(google_accounts=base.google_accounts, caldav_accounts={3: dav}, flows=(flow,))
    error = AuthNeededError("CalDAV list: HTTP 401", status=401, reason="unauthorized")
    failure = Failure.of(error, "source", source.calendar_id, "read", 3)
    step = with_next_step(
        with_dav, FlowOutcome("dav", False, "refused", datetime.now(UTC), failures=(failure,))
    )
    assert (
        step
        == "refused; create a new app password, set it as CALDAV_ACCOUNT_3_PASSWORD and restart calmirror"
    )
