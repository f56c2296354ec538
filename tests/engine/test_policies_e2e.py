"""Flow policies end to end: the engine against the emulator, and `calmirror sync` as a real process."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from calmirror.config import FlowPolicy
from calmirror.engine import SyncEngine
from tests.engine.conftest import EMAILS, MakeWorld, World, base_time, rfc
from tests.engine.test_cli_sync import calmirror, environment, listing

NEW_YORK = ZoneInfo("America/New_York")
POLICY = {
    "UNANSWERED": "skip",
    "TENTATIVE": "skip",
    "DAYS": "mon-fri",
    "HOURS": "09:00-17:00",
    "TIME_ZONE": "America/New_York",
    "ALL_DAY": "skip",
    "SKIP_TITLE_REGEX": "^hold",
}
OUTSIDE = "outside Mon-Fri 09:00-17:00 America/New_York"


def next_weekday(weekday: int) -> date:
    """Return the first date after tomorrow (in New York) that falls on `weekday` (Monday 0)."""
    day = base_time().astimezone(NEW_YORK).date() + timedelta(days=1)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a New York wall-clock time on `day`."""
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def answer(response: str) -> list[dict[str, str]]:
    """Return an attendee list in which the calendar's owner answered `response`."""
    return [{"email": EMAILS[1], "responseStatus": response}, {"email": "guest@elsewhere.test"}]


async def plant(world: World) -> dict[str, dict[str, Any]]:
    """Insert one meeting per rule into account 1's calendar; return them by title."""
    monday, tuesday, saturday = next_weekday(0), next_weekday(1), next_weekday(5)
    timed = {
        "Design review": (ny(monday, 10), 60, {}),
        "Late call": (ny(monday, 16, 30), 60, {}),  # overlaps the end of the working day
        "Invitation": (ny(monday, 12), 30, {"attendees": answer("needsAction")}),
        "Maybe": (ny(monday, 13), 30, {"attendees": answer("tentative")}),
        "Hold: offsite": (ny(monday, 14), 30, {}),
        "Dinner": (ny(monday, 18), 60, {}),
        "Early": (ny(monday, 8), 60, {}),  # ends as the working day starts
        "Weekend sync": (ny(saturday, 10), 60, {}),
    }
    planted = {
        title: await world.meeting(1, start, minutes, summary=title, **fields)
        for title, (start, minutes, fields) in timed.items()
    }
    all_day = {"start": {"date": tuesday.isoformat()}, "end": {"date": (tuesday + timedelta(1)).isoformat()}}
    planted["Offsite"] = await world.meeting(1, base_time(), summary="Offsite", **all_day)
    return planted


def span(event: dict[str, Any], before: int = 10, after: int = 5) -> tuple[str, str]:
    """Return the block span flow `work` (offsets 10 and 5 minutes) wants for a timed meeting."""
    start = datetime.fromisoformat(event["start"]["dateTime"]) - timedelta(minutes=before)
    return rfc(start), rfc(datetime.fromisoformat(event["end"]["dateTime"]) + timedelta(minutes=after))


async def test_a_policy_flow_creates_exactly_the_qualifying_blocks(make_world: MakeWorld) -> None:
    """Only the two meetings the policy lets through get blocks; one that stops qualifying loses its block."""
    world = make_world()
    [flow] = world.settings.flows
    policy = FlowPolicy.model_validate({name.lower(): value for name, value in POLICY.items()})
    settings = world.settings.model_copy(update={"flows": (flow.model_copy(update={"policy": policy}),)})
    engine = SyncEngine(settings, world.providers)
    planted = await plant(world)

    summary = await engine.reconcile_all(engine.window(days_back=1, days_forward=10))

    assert world.spans(2) == sorted([span(planted["Design review"]), span(planted["Late call"])])
    reasons = {r.event_title: r.reason for o in summary.targets for r in o.results if r.action == "skipped"}
    assert reasons == {
        "Invitation": "you have not answered",
        "Maybe": "you accepted tentatively",
        "Hold: offsite": "the title matches the flow's skip pattern",
        "Offsite": "an all-day meeting",
        "Dinner": OUTSIDE,
        "Early": OUTSIDE,
        "Weekend sync": OUTSIDE,
    }
    # /stats serves the engine's ledger: the same reasons, and never a title.
    ledger = sorted(r.reason or "" for r in engine.results() if r.action == "skipped")
    assert ledger == sorted(reasons.values())

    # The owner now answers the late call only tentatively: it no longer qualifies, like a cancellation.
    await world.edit(1, planted["Late call"], attendees=answer("tentative"))
    await engine.reconcile_all(engine.window(days_back=1, days_forward=10))
    assert world.spans(2) == [span(planted["Design review"])]


async def test_sync_dry_run_verbose_prints_each_policy_reason(make_world: MakeWorld, tmp_path: Path) -> None:
    """`calmirror sync --dry-run --verbose` with policy variables names each skip in the owner's words."""
    world = make_world()
    planted = await plant(world)
    env = environment(world) | {f"SYNC_FLOW_1_{name}": value for name, value in POLICY.items()}

    code, out, err = await calmirror(env, tmp_path, "sync", "--dry-run", "--verbose", "--days-forward", "10")

    assert code == 0, err
    lines = listing(out)
    skipped = sorted(line[-1] for line in lines if line[0] == "skip")
    assert skipped == sorted(
        [
            f"Dinner: {OUTSIDE}",
            f"Early: {OUTSIDE}",
            "Hold: offsite: the title matches the flow's skip pattern",
            "Invitation: you have not answered",
            "Maybe: you accepted tentatively",
            "Offsite: an all-day meeting",
            f"Weekend sync: {OUTSIDE}",
        ]
    )
    written = sorted(line[-1] for line in lines if line[0] == "would create")
    assert written == ["Design review", "Late call"]
    assert world.blocks(2) == []
    start = datetime.fromisoformat(planted["Design review"]["start"]["dateTime"]).astimezone(UTC)
    assert f"{start - timedelta(minutes=10):%Y-%m-%d %H:%M}" in out
