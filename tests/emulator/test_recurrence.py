"""Recurring events: DST-correct expansion, instance ids, exceptions, showDeleted matrix."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.store_api import Api, reason

BERLIN = "Europe/Berlin"
WINDOW = {"timeMin": "2026-10-20T00:00:00Z", "timeMax": "2026-11-01T00:00:00Z"}
MOVED, CANCELLED = "series00_20261023T080000Z", "series00_20261027T090000Z"


@pytest.fixture
def api() -> Api:
    """A daily 10:00 Berlin series across the October DST change, one instance moved, one cancelled."""
    api = Api()
    body = {
        "id": "series00",
        "summary": "standup",
        "start": {"dateTime": "2026-10-22T10:00:00", "timeZone": BERLIN},
        "end": {"dateTime": "2026-10-22T10:30:00", "timeZone": BERLIN},
        "recurrence": ["RRULE:FREQ=DAILY;UNTIL=20261028T235959Z"],
    }
    api.ok("events.insert", body=body)
    moved = {
        "start": {"dateTime": "2026-10-23T15:00:00+02:00"},
        "end": {"dateTime": "2026-10-23T15:30:00+02:00"},
    }
    api.ok("events.patch", eventId=MOVED, body=moved)
    api.ok("events.delete", eventId=CANCELLED)
    return api


def listed(api: Api, **query: str) -> list[dict[str, Any]]:
    """List the window with extra parameters."""
    return api.items(**WINDOW, **query)


def test_instances_follow_wall_clock_across_dst(api: Api) -> None:
    """Instances keep 10:00 Berlin: 08:00Z before, 09:00Z after the DST change; UTC-stamp ids."""
    found = {e["id"]: e for e in listed(api, singleEvents="true", orderBy="startTime")}
    assert list(found) == [
        "series00_20261022T080000Z",
        MOVED,
        "series00_20261024T080000Z",
        "series00_20261025T090000Z",
        "series00_20261026T090000Z",
        "series00_20261028T090000Z",
    ]
    assert found["series00_20261025T090000Z"]["start"]["dateTime"] == "2026-10-25T09:00:00+00:00"
    instance = found["series00_20261026T090000Z"]
    assert instance["recurringEventId"] == "series00"
    assert "recurrence" not in instance
    assert instance["originalStartTime"] == {"dateTime": "2026-10-26T09:00:00+00:00", "timeZone": BERLIN}
    assert instance["iCalUID"] == "series00@google.com"


def test_moved_instance_overrides_its_occurrence(api: Api) -> None:
    """A modified instance keeps its id and originalStartTime but has its own times (recurrence guide)."""
    found = {e["id"]: e for e in listed(api, singleEvents="true")}
    moved = found[MOVED]
    assert moved["start"]["dateTime"] == "2026-10-23T13:00:00+00:00"
    assert moved["originalStartTime"]["dateTime"] == "2026-10-23T08:00:00+00:00"
    starts = sorted(e["start"]["dateTime"] for e in found.values())
    assert starts == sorted(starts)
    assert len(found) == 6


def test_show_deleted_matrix(api: Api) -> None:
    """showDeleted x singleEvents decides whether the cancelled instance appears."""
    expanded = {e["id"]: e for e in listed(api, singleEvents="true", showDeleted="true")}
    assert expanded[CANCELLED] == {
        "kind": "calendar#event",
        "etag": expanded[CANCELLED]["etag"],
        "id": CANCELLED,
        "status": "cancelled",
        "recurringEventId": "series00",
        "originalStartTime": {"dateTime": "2026-10-27T09:00:00+00:00", "timeZone": BERLIN},
    }
    raw = {e["id"]: e for e in listed(api)}  # both off: parent, exception, and the cancelled exception
    assert set(raw) == {"series00", MOVED, CANCELLED}
    assert raw["series00"]["recurrence"] == ["RRULE:FREQ=DAILY;UNTIL=20261028T235959Z"]
    assert raw[CANCELLED]["status"] == "cancelled"


def test_deleted_series_instances(api: Api) -> None:
    """A deleted series lists nothing by default and only cancelled instances with showDeleted."""
    api.ok("events.delete", eventId="series00")
    assert listed(api, singleEvents="true") == []
    assert listed(api) == []  # the moved exception goes with its series
    gone = listed(api, singleEvents="true", showDeleted="true")
    assert gone
    assert all(e["status"] == "cancelled" and "recurringEventId" in e for e in gone)


def test_get_and_instances_endpoint(api: Api) -> None:
    """get accepts an instance id; events.instances lists a series' instances."""
    one = api.ok("events.get", eventId="series00_20261024T080000Z")
    assert one["recurringEventId"] == "series00"
    assert one["start"]["dateTime"] == "2026-10-24T08:00:00+00:00"
    assert api.call("events.get", eventId="series00_20261024T090000Z")[0] == 404  # no such occurrence
    page = api.ok("events.instances", eventId="series00", query=WINDOW)
    assert len(page["items"]) == 6
    assert api.call("events.delete", eventId=CANCELLED)[0] == 410


def test_all_day_series_ids_exdate_and_rdate(api: Api) -> None:
    """All-day instance ids are <id>_<YYYYMMDD>; EXDATE removes, RDATE adds occurrences (recurrence guide)."""
    body = {
        "id": "allda000",
        "start": {"date": "2026-10-20"},
        "end": {"date": "2026-10-21"},
        "recurrence": [
            "RRULE:FREQ=WEEKLY;COUNT=3",
            "EXDATE;VALUE=DATE:20261027",
            "RDATE;VALUE=DATE:20261030",
        ],
    }
    api.ok("events.insert", body=body)
    found = [e["id"] for e in listed(api, singleEvents="true") if e["id"].startswith("allda000")]
    assert sorted(found) == ["allda000_20261020", "allda000_20261030"]


def test_recurring_event_requires_a_time_zone(api: Api) -> None:
    """A timed recurring event without start.timeZone answers 400 (discovery doc EventDateTime.timeZone)."""
    body = {
        "start": {"dateTime": "2026-10-20T10:00:00Z"},
        "end": {"dateTime": "2026-10-20T11:00:00Z"},
        "recurrence": ["RRULE:FREQ=DAILY"],
    }
    assert api.call("events.insert", body=body)[0] == 400


def test_instances_parameters(api: Api) -> None:
    """events.instances honours showDeleted and originalStart (discovery doc events.instances)."""
    with_deleted = api.ok("events.instances", eventId="series00", query={**WINDOW, "showDeleted": "true"})
    assert CANCELLED in {e["id"] for e in with_deleted["items"]}
    one = api.ok("events.instances", eventId="series00", query={"originalStart": "2026-10-23T08:00:00Z"})
    assert [e["id"] for e in one["items"]] == [MOVED]
    assert api.call("events.instances", eventId="nothere0")[0] == 404


def test_cancelling_an_instance_by_patch(api: Api) -> None:
    """Setting status cancelled on an instance id cancels just that occurrence (recurrence guide sample)."""
    api.ok("events.patch", eventId="series00_20261025T090000Z", body={"status": "cancelled"})
    found = {e["id"] for e in listed(api, singleEvents="true")}
    assert "series00_20261025T090000Z" not in found
    assert "series00_20261026T090000Z" in found


BAD_RULES = [
    "RRULE:FREQ=SOMETIMES",
    "RRULE:FREQ=DAILY;COUNT=-1",
    "RRULE:FREQ=DAILY;COUNT=0",
    "RRULE:FREQ=WEEKLY;BYDAY=XX",
    "RRULE:FREQ=DAILY;COUNT=3;UNTIL=20261101T000000Z",
    "RRULE:FREQ=DAILY;FREQ=WEEKLY",
    "RRULE:COUNT=3",
    "RRULE:FREQ=DAILY;UNTIL=tomorrow",
    "RRULE:FREQ=DAILY;COLOR=RED",
    "EXDATE:20261027T1000",
    "RDATE;TZID=Mars/Olympus:20261027T100000",
    "XRULE:FREQ=DAILY",
    "garbage",
]


@pytest.mark.parametrize("line", BAD_RULES)
def test_invalid_recurrence_is_refused_on_write(api: Api, line: str) -> None:
    """Insert, update and patch with a rule RFC 5545 forbids answer 400 invalid; nothing is stored."""
    body = api.ok("events.get", eventId="series00")
    start, end = body["start"], body["end"]
    attempts = [
        ("events.insert", {"body": {"start": start, "end": end, "recurrence": [line]}}),
        ("events.update", {"eventId": "series00", "body": body | {"recurrence": [line]}}),
        ("events.patch", {"eventId": "series00", "body": {"recurrence": ["RRULE:FREQ=DAILY", line]}}),
    ]
    before = api.store.raw_events("alice@example.com")
    for method, kwargs in attempts:
        status, answer = api.call(method, **kwargs)
        assert (status, reason(answer), answer["error"]["message"]) == (
            400,
            "invalid",
            "Invalid recurrence rule.",
        )
    assert api.store.raw_events("alice@example.com") == before


def test_valid_rule_forms_are_accepted(api: Api) -> None:
    """BYDAY lists, local UNTIL, TZID dates and EXRULE are accepted on write."""
    start = {"dateTime": "2026-11-02T09:00:00", "timeZone": BERLIN}
    end = {"dateTime": "2026-11-02T09:30:00", "timeZone": BERLIN}
    lines = [
        "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;UNTIL=20261231",
        "EXDATE;TZID=Europe/Berlin:20261116T090000",
        "RDATE:20261104T080000Z",
        "EXRULE:FREQ=MONTHLY;COUNT=1",
    ]
    api.ok("events.insert", body={"id": "valid000", "start": start, "end": end, "recurrence": lines})
    found = [
        e["id"] for e in api.items(singleEvents="true", timeMin="2026-11-01T00:00:00Z") if "valid" in e["id"]
    ]
    days = [instance.rpartition("_")[2][:8] for instance in found]
    assert days[:4] == ["20261102", "20261104", "20261106", "20261120"]  # RDATE in, EXDATE of the 16th out


def test_a_stored_bad_rule_cannot_poison_listings(api: Api) -> None:
    """Even a bad rule that got into the store (it cannot through the API) only loses its own line."""
    expanded, plain = listed(api, singleEvents="true"), listed(api)
    series = api.store.get("alice@example.com", "series00")
    assert series is not None
    bad = ["RRULE:FREQ=SOMETIMES", "garbage", *series["recurrence"]]
    api.store.commit("alice@example.com", series | {"recurrence": bad})
    assert [e["id"] for e in listed(api, singleEvents="true")] == [e["id"] for e in expanded]
    assert [e["id"] for e in listed(api)] == [e["id"] for e in plain]
