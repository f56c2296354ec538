"""The daemon as a process with a CalDAV account on a real Radicale: polled on its own, named in /health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.caldav_servers import DavServer, make_calendar, put_object
from tests.daemon.processes import (
    ALICE,
    BOB,
    EmulatorProcess,
    block_starts,
    daemon_env,
    eventually,
    free_port,
    running_daemon,
)

# Radicale checks the password (htpasswd), so a wrong one is refused with 401.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("dav_server", ["radicale"], indirect=True)]

CALDAV_N = 3  # one number space: the Google accounts are 1 (alice) and 2 (bob)
OWNER = "dave@example.com"


@pytest.fixture
async def calendar(dav_server: DavServer) -> str:
    """A fresh calendar collection in the CalDAV account's home."""
    return await make_calendar(dav_server)


def caldav_env(
    emulator: EmulatorProcess, server: DavServer, calendar: str, *, password: str | None = None
) -> dict[str, str]:
    """Mirror the CalDAV calendar into bob's Google calendar; the CalDAV account is polled every minute."""
    flow = {
        "NAME": "dav",
        "SOURCE_ACCOUNT_ID": str(CALDAV_N),
        "SOURCE_CALENDAR_ID": calendar,
        "TARGET_ACCOUNT_ID": "2",
        "TARGET_CALENDAR_ID": "primary",
    }
    account = {
        "URL": server.base_url + server.principal_path,
        "USERNAME": server.username,
        "PASSWORD": password or server.password,
        "EMAIL": OWNER,
        "POLL_MINUTES": "1",
    }
    extra = {f"SYNC_FLOW_1_{key}": value for key, value in flow.items()}
    extra |= {f"CALDAV_ACCOUNT_{CALDAV_N}_{key}": value for key, value in account.items()}
    # Google's own poll is a day away: only the CalDAV account's poll can explain a block.
    return daemon_env(emulator, [ALICE, BOB], [], port=free_port(), webhooks=False, extra=extra)


def meeting(start: datetime) -> bytes:
    """A one-hour meeting of the CalDAV account's owner with a guest."""
    stamp = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tests//calmirror//EN",
        "BEGIN:VEVENT",
        f"UID:standup-{start:%Y%m%d%H%M}",
        f"DTSTAMP:{datetime.now(UTC):{stamp}}",
        f"DTSTART:{start:{stamp}}",
        f"DTEND:{start + timedelta(hours=1):{stamp}}",
        "SUMMARY:Stand-up",
        f"ORGANIZER:mailto:{OWNER}",
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{OWNER}",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:guest@elsewhere.test",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


async def test_a_change_on_the_caldav_server_reaches_its_google_target_within_one_poll(
    emulator_process: EmulatorProcess, dav_server: DavServer, calendar: str
) -> None:
    """A meeting stored on Radicale after the start becomes a block in Google by the next minute's poll."""
    env = caldav_env(emulator_process, dav_server, calendar)
    async with running_daemon(env) as daemon:
        status, body = await daemon.health()
        [account] = [a for a in body["accounts"] if a["id"] == CALDAV_N]
        assert (account["provider"], account["sync"], account["state"]) == (
            "caldav",
            "polling every 1 min",
            "ok",
        )
        assert body["flows"][0]["polling_reason"] == "CalDAV has no push: polled every 1 min"
        assert status == 200, body
        start = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)

        await put_object(f"{calendar}standup.ics", meeting(start))

        async def mirrored() -> bool:
            return await block_starts(emulator_process, BOB) == [start]

        # One poll interval (a minute) plus room for a busy machine.
        await eventually(mirrored, seconds=150, what="the CalDAV meeting's block in bob's calendar")
        _, text, _ = await daemon.get("/metrics")
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }
        syncs = (
            "calmirror_provider_requests_total",
            (("method", "caldav.sync"), ("outcome", "ok"), ("provider", "caldav")),
        )
        assert samples[syncs] >= 1  # the poll read a delta, not the whole window
        assert samples[("calmirror_account_up", (("account", "3"), ("provider", "caldav")))] == 1.0
        assert ("calmirror_flow_polling_only", (("flow", "dav"),)) not in samples  # polled by design


async def test_a_refused_caldav_password_is_needs_new_credentials_and_names_its_fix(
    emulator_process: EmulatorProcess, dav_server: DavServer, calendar: str
) -> None:
    """Radicale answers 401: the account needs new credentials, /health says which variable, no secret."""
    wrong = "not-the-app-password-42"
    env = caldav_env(emulator_process, dav_server, calendar, password=wrong)
    async with running_daemon(env) as daemon:
        status, body = await daemon.health()
        [account] = [a for a in body["accounts"] if a["id"] == CALDAV_N]
        assert status == 503
        assert account["state"] == "needs_reauth"
        fix = f"create a new app password, set it as CALDAV_ACCOUNT_{CALDAV_N}_PASSWORD and restart calmirror"
        assert account["fix"] == fix
        assert f"account {CALDAV_N} needs new credentials; fix: {fix}" in body["problems"]
        _, text, _ = await daemon.get("/metrics")
        assert wrong not in text + str(body) + daemon.output
