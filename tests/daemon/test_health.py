"""Pure tests of the /health answer built from a Snapshot."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from calmirror.config import CalDavAccount, IcsAccount
from calmirror.daemon.health import NO_OUTCOME_YET, POLLING_ONLY, health
from calmirror.daemon.metrics import DaemonMetrics
from calmirror.daemon.snapshot import AccountView, FlowView, Snapshot, TargetView
from calmirror.engine import HoldReason
from calmirror.engine.stats import SyncEngineStats
from calmirror.errors import Failure

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STATS = SyncEngineStats(
    events_processed=0, busy_blocks_created=0, busy_blocks_deleted=0, errors=0, accounts=2, sync_flows=2,
    last_updated="",
)  # fmt: skip
WATCHED = FlowView("work", NOW - timedelta(minutes=5), True, None, NOW + timedelta(days=6), None)
POLLED = FlowView("home", NOW - timedelta(minutes=5), True, None, None, "invalid")


def snapshot(**changes: object) -> Snapshot:
    """Return a healthy, ready snapshot with the given fields replaced."""
    base = Snapshot(
        ready=True,
        started_at=NOW - timedelta(hours=1),
        now=NOW,
        poll_interval=timedelta(minutes=60),
        accounts=(AccountView(1, "a@example.com", None), AccountView(2, "b@example.com", None)),
        flows=(WATCHED, POLLED),
        stats=STATS,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_healthy_lists_accounts_and_flows_and_polling_only_is_not_a_failure() -> None:
    """200: every account and flow, channel expiry or "polling only"."""
    status, body = health(snapshot())
    assert status == 200
    assert body["status"] == "pass"
    assert [a["state"] for a in body["accounts"]] == ["ok", "ok"]
    flows = {f["name"]: f for f in body["flows"]}
    assert flows["work"]["channel_expires"] == (NOW + timedelta(days=6)).isoformat()
    assert flows["home"]["channel_expires"] == POLLING_ONLY
    assert flows["home"]["polling_reason"] == "invalid"


def test_starting_is_503() -> None:
    """Before the first reconcile finished."""
    status, body = health(snapshot(ready=False))
    assert (status, body["status"], body["ready"]) == (503, "starting", False)


def test_revoked_account_is_503_and_names_the_fix() -> None:
    """invalid_grant: the account and the command that fixes it."""
    renewal = "run `calmirror authorize --email b@example.com --account-number 2`"
    revoked_view = AccountView(2, "b@example.com", "invalid_grant", renewal=renewal)
    accounts = (AccountView(1, "a@example.com", None), revoked_view)
    status, body = health(snapshot(accounts=accounts))
    assert status == 503
    revoked = body["accounts"][1]
    assert revoked == {
        "id": 2,
        "provider": "google",
        "email": "b@example.com",
        "state": "needs_reauth",
        "sync": "stopped until its credentials are renewed",
        "error": "invalid_grant",
        "fix": renewal,
    }
    assert body["problems"] == [f"account 2 needs new credentials; fix: {renewal}"]


CAL_DAV = CalDavAccount(id=3, url="https://caldav.example.com/", username="u", password=SecretStr("p"))
FEED = IcsAccount(id=4, url=SecretStr("https://feeds.example.com/feed.ics"))


def test_each_account_names_its_provider_how_it_is_read_and_how_to_renew_it() -> None:
    """A CalDAV account polled on its own says so; a refused password and feed address name their fix."""
    accounts = (
        AccountView(1, "a@example.com", None),
        AccountView(3, None, "unauthorized", "caldav", 5, CAL_DAV.renewal()),
        AccountView(4, None, "feed_refused", "ics", 15, FEED.renewal()),
    )
    status, body = health(replace(snapshot(accounts=accounts), webhooks=True))
    assert status == 503
    google, caldav, feed = body["accounts"]
    assert (google["provider"], google["sync"], google["state"]) == (
        "google",
        "push, and polling every 60 min",
        "ok",
    )
    assert (caldav["provider"], caldav["sync"], caldav["state"]) == (
        "caldav",
        "stopped until its credentials are renewed",
        "needs_reauth",
    )
    assert (
        caldav["fix"]
        == "create a new app password, set it as CALDAV_ACCOUNT_3_PASSWORD and restart calmirror"
    )
    assert feed["sync"] == "stopped until its credentials are renewed"
    assert feed["fix"] == "set the feed's current secret address as ICS_ACCOUNT_4_URL and restart calmirror"
    assert len(body["problems"]) == 2


def test_a_polled_source_is_stale_after_twice_its_own_interval() -> None:
    """A CalDAV source polled every 5 min is stale after 10 min, not after twice the global interval."""
    polled = replace(POLLED, poll_interval=timedelta(minutes=5), push=False)
    fresh = replace(polled, last_success=NOW - timedelta(minutes=9))
    old = replace(polled, last_success=NOW - timedelta(minutes=11))
    assert health(snapshot(flows=(fresh,)))[1]["flows"][0]["state"] == "ok"
    assert health(snapshot(flows=(old,)))[1]["flows"][0]["state"] == "stale"


def test_flow_without_success_within_twice_the_interval_is_503() -> None:
    """Stale after 2 x SYNC_INTERVAL_MINUTES without a success; a never-successful flow counts from start."""
    old = replace(WATCHED, last_success=NOW - timedelta(minutes=121), last_ok=False, last_error="transient")
    status, body = health(snapshot(flows=(old, POLLED)))
    assert status == 503
    assert body["flows"][0]["state"] == "stale"
    assert body["flows"][0]["last_error"] == "transient"
    fresh = replace(WATCHED, last_success=NOW - timedelta(minutes=119), last_ok=False)
    assert health(snapshot(flows=(fresh, POLLED)))[0] == 200
    never = replace(WATCHED, last_success=None, last_ok=False)
    assert health(snapshot(flows=(never, POLLED), started_at=NOW - timedelta(hours=3)))[0] == 503
    assert health(snapshot(flows=(never, POLLED), started_at=NOW - timedelta(minutes=10)))[0] == 200


NOT_FOUND = Failure("not_found", "source", "a@example.com", 1, "read", 404, "notFound", "Not Found")
BACKEND = Failure("transient", "source", "a@example.com", 1, "read", 503, "backendError", "Backend Error")


def failing(failure: Failure, minutes_ago: int = 0) -> FlowView:
    """Return the watched flow whose last pass, a minute ago, failed with `failure` (since `minutes_ago`)."""
    since = NOW - timedelta(minutes=minutes_ago)
    return replace(WATCHED, last_ok=False, last_error=failure.kind, failures=(failure,), failing_since=since)


def test_a_failure_needing_a_person_fails_at_once_naming_flow_calendar_answer_and_fix() -> None:
    """404 on the source: 503 `fail` while the last success is only five minutes old."""
    status, body = health(snapshot(flows=(failing(NOT_FOUND), POLLED)))
    assert (status, body["status"]) == (503, "fail")
    (problem,) = body["problems"]
    assert problem.startswith("flow work: reading the source calendar a@example.com (account 1) failed: ")
    assert "HTTP 404 notFound; fix: check that the source calendar a@example.com exists" in problem
    assert body["flows"][0]["errors"][0]["status"] == 404


def test_a_transient_failure_warns_with_200_and_a_grace_delays_fail() -> None:
    """503 storm: 200 `warn` listing the flow; a 404 inside the grace is `warn` too, then `fail`."""
    status, body = health(snapshot(flows=(failing(BACKEND), POLLED)))
    assert (status, body["status"], body["problems"]) == (200, "warn", [])
    assert body["warnings"][0].startswith("flow work: reading the source calendar")
    graced = snapshot(flows=(failing(NOT_FOUND, minutes_ago=1), POLLED), fail_grace=timedelta(minutes=2))
    assert health(graced)[1]["status"] == "warn"
    assert health(replace(graced, fail_grace=timedelta(seconds=30)))[1]["status"] == "fail"


def test_held_deletions_make_the_other_flow_into_the_target_not_ok() -> None:
    """home's source unread (transient): work, into the same target, is `warn` and names home."""
    held: tuple[tuple[str, HoldReason], ...] = (("blk1", "source_unread"),)
    home = replace(failing(BACKEND), name="home", target="2:b", held=held, held_by=("home",))
    work = replace(WATCHED, target="2:b", held=held, held_by=("home",))
    target = TargetView("2:b", held, ("home",))
    status, body = health(snapshot(flows=(work, home), targets=(target,)))
    assert (status, body["status"]) == (200, "warn")
    assert [f["state"] for f in body["flows"]] == ["warn", "warn"]
    assert body["targets"] == [
        {
            "target": "2:b",
            "deletions_held": {"count": 1, "reasons": ["source_unread"], "because_of": ["home"]},
        }
    ]
    home = replace(home, failures=(NOT_FOUND,))
    assert [f["state"] for f in health(snapshot(flows=(work, home)))[1]["flows"]] == ["error", "error"]


def test_deletions_the_guard_holds_fail_at_once_naming_target_count_and_fix() -> None:
    """30 deletions held by the guard: 503 `fail` at once (no grace), each flow into the target `error`
    with the count and the commands, the target's entry with the fix; a flow elsewhere stays `ok`."""
    held: tuple[tuple[str, HoldReason], ...] = tuple((f"blk{n}", "guard") for n in range(30))
    work = replace(WATCHED, target="2:b", held=held)
    target = TargetView("2:b", held, ())
    status, body = health(snapshot(flows=(work, POLLED), targets=(target,), fail_grace=timedelta(hours=1)))
    assert (status, body["status"]) == (503, "fail")
    assert [f["state"] for f in body["flows"]] == ["error", "ok"]
    fix = "look with `calmirror sync --dry-run`, then run `calmirror sync --allow-mass-deletion`"
    assert body["problems"] == [f"target 2:b: 30 deletion(s) held by the deletion guard; fix: {fix}"]
    assert body["targets"] == [
        {"target": "2:b", "deletions_held": {"count": 30, "reasons": ["guard"], "because_of": []}, "fix": fix}
    ]


def test_starting_says_what_it_waits_on() -> None:
    """While starting, the phase is named."""
    body = health(snapshot(ready=False, starting="first reconcile: 3 of 7 targets done"))[1]
    assert body["starting"] == "first reconcile: 3 of 7 targets done"


def test_a_guarded_target_fed_by_two_flows_is_one_problem_line() -> None:
    """The guard's hold belongs to the target: two flows into it give one line, both flows `error`."""
    held: tuple[tuple[str, HoldReason], ...] = tuple((f"blk{n}", "guard") for n in range(30))
    work = replace(WATCHED, target="2:b", held=held)
    home = replace(POLLED, target="2:b", held=held)
    status, body = health(snapshot(flows=(work, home), targets=(TargetView("2:b", held, ()),)))
    assert status == 503
    assert [f["state"] for f in body["flows"]] == ["error", "error"]
    assert len(body["problems"]) == 1
    assert body["problems"][0].startswith("target 2:b: 30 deletion(s) held by the deletion guard")


def test_a_flow_without_an_outcome_once_ready_is_a_warning() -> None:
    """Ready, but a flow's first pass broke off (no outcome): `warn` saying so, not a silent `pass`."""
    unrun = replace(WATCHED, last_ok=None, last_success=None)
    status, body = health(snapshot(flows=(unrun, POLLED), started_at=NOW - timedelta(minutes=5)))
    assert (status, body["status"]) == (200, "warn")
    assert body["warnings"] == [f"flow work: {NO_OUTCOME_YET}"]
    starting = health(snapshot(flows=(unrun, POLLED), ready=False))[1]
    assert starting["flows"][0]["state"] == "pending"


@pytest.mark.parametrize("webhooks", [True, False])
def test_the_webhooks_gauge_says_whether_push_is_configured(webhooks: bool) -> None:
    """calmirror_webhooks_enabled follows the configuration, so the expiry alerts can tell on-purpose."""
    metrics = DaemonMetrics()
    metrics.watch(lambda: snapshot(webhooks=webhooks))
    body, _ = metrics.render("")
    values = {s.name: s.value for f in text_string_to_metric_families(body.decode()) for s in f.samples}
    assert values["calmirror_webhooks_enabled"] == float(webhooks)
