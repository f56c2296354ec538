"""`calmirror sync` and `calmirror purge` as real subprocesses against an in-process emulator."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from calmirror.config import Settings
from calmirror.emulator import Emulator
from tests.engine.conftest import EMAILS, MakeWorld, World, base_time

FLOWS = (("work", 1, 2, 10, 5), ("home", 3, 2, 0, 0))


def environment(world: World) -> dict[str, str]:
    """Return the environment a user would configure for the world's accounts and flows."""
    return environment_of(world.emulator, world.settings)


def environment_of(emulator: Emulator, settings: Settings) -> dict[str, str]:
    """Return the environment a user would configure for these accounts and flows on the emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "SYNC_FLOW_"))}
    env |= {"GOOGLE_API_ROOT_URL": emulator.api_root, "GOOGLE_TOKEN_URI": emulator.token_uri}
    for account in settings.google_accounts.values():
        prefix = f"GOOGLE_ACCOUNT_{account.id}_"
        env |= {
            prefix + "EMAIL": account.email,
            prefix + "CLIENT_ID": account.client_id,
            prefix + "CLIENT_SECRET": account.client_secret.get_secret_value(),
            prefix + "REFRESH_TOKEN": account.refresh_token.get_secret_value(),
        }
    for flow in settings.flows:
        prefix = f"SYNC_FLOW_{flow.id}_"
        env |= {
            prefix + "NAME": flow.name,
            prefix + "SOURCE_ACCOUNT_ID": str(flow.source.account_id),
            prefix + "SOURCE_CALENDAR_ID": flow.source.calendar_id,
            prefix + "TARGET_ACCOUNT_ID": str(flow.target.account_id),
            prefix + "TARGET_CALENDAR_ID": flow.target.calendar_id,
            prefix + "START_OFFSET": str(flow.start_offset),
            prefix + "END_OFFSET": str(flow.end_offset),
        }
    return env


async def calmirror(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    """Run `python -m calmirror ARGS` without blocking the loop the emulator serves on."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "calmirror",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def row(output: str, flow: str) -> list[str]:
    """Return the table row of one flow, split into cells."""
    [line] = [line for line in output.splitlines() if line.split()[:1] == [flow]]
    return line.split()


async def test_sync_mirrors_and_prints_a_table(make_world: MakeWorld, tmp_path: Path) -> None:
    """A dry run writes nothing; the real run creates the blocks; both print the per-flow table and exit 0."""
    world = make_world(FLOWS)
    await world.meeting(1, base_time())
    await world.meeting(3, base_time() + timedelta(hours=2))
    env = environment(world)
    world.emulator.reset_requests()

    code, out, err = await calmirror(
        env, tmp_path, "sync", "--days-back", "1", "--days-forward", "3", "--dry-run"
    )
    assert code == 0, err
    assert row(out, "work")[:2] == ["work", "1"]
    assert world.writes() == 0

    code, out, err = await calmirror(env, tmp_path, "sync", "--days-back", "1", "--days-forward", "3")
    assert code == 0, err
    assert row(out, "work") == ["work", "1", "0", "0", "0", "0", "0", "0", "ok"]
    assert row(out, "home")[1] == "1"
    assert len(world.blocks(2)) == 2
    assert env["GOOGLE_ACCOUNT_1_REFRESH_TOKEN"] not in out + err
    assert " INFO " not in out + err  # the engine's per-target log line would repeat the table


async def test_sync_window_excludes_later_meetings(make_world: MakeWorld, tmp_path: Path) -> None:
    """--days-forward bounds the window: a meeting beyond it gets no block."""
    world = make_world(FLOWS)
    await world.meeting(1, base_time() + timedelta(days=5))

    code, _out, err = await calmirror(
        environment(world), tmp_path, "sync", "--days-back", "0", "--days-forward", "2"
    )

    assert code == 0, err
    assert world.blocks(2) == []


async def test_broken_account_fails_its_flow_only(make_world: MakeWorld, tmp_path: Path) -> None:
    """A revoked source account makes its flow fail and the exit status 1; the other flow still mirrors."""
    world = make_world(FLOWS)
    await world.meeting(1, base_time())
    world.emulator.revoke(EMAILS[3])

    code, out, _err = await calmirror(
        environment(world), tmp_path, "sync", "--days-back", "1", "--days-forward", "3"
    )

    assert code == 1
    assert row(out, "work")[-1] == "ok"
    assert row(out, "home")[-1] == "error"
    assert len(world.blocks(2)) == 1


async def test_failed_flows_name_the_next_step(make_world: MakeWorld, tmp_path: Path) -> None:
    """A rejected token names the authorize command; an inaccessible target names its variable."""
    world = make_world(FLOWS)
    world.emulator.revoke(EMAILS[3])
    env = environment(world) | {"SYNC_FLOW_1_TARGET_CALENDAR_ID": "nobody@example.com"}

    code, out, _err = await calmirror(env, tmp_path, "sync", "--days-back", "1", "--days-forward", "3")

    assert code == 1
    [home] = [line for line in out.splitlines() if line.startswith("home: ")]
    assert home.endswith(
        "; run `calmirror authorize --email carol@example.com --account-number 3`, "
        "set the new GOOGLE_ACCOUNT_3_REFRESH_TOKEN and restart calmirror"
    )
    [work] = [line for line in out.splitlines() if line.startswith("work: ")]
    assert work.endswith(
        "; check SYNC_FLOW_1_TARGET_CALENDAR_ID=nobody@example.com "
        "(`calmirror check-config --online` tells what access is missing)"
    )


async def test_sync_names_the_deletions_an_unread_source_held(make_world: MakeWorld, tmp_path: Path) -> None:
    """alice cancels while carol is revoked: the block stays, and work's line says why and because of whom."""
    world = make_world(FLOWS)
    meeting = await world.meeting(1, base_time())
    await world.engine.reconcile_all()
    await world.users[1].delete_event(EMAILS[1], meeting["id"])
    world.emulator.revoke(EMAILS[3])

    code, out, _err = await calmirror(
        environment(world), tmp_path, "sync", "--days-back", "1", "--days-forward", "3"
    )

    assert code == 1
    assert len(world.blocks(2)) == 1
    assert "work: 1 deletion(s) in its target held back: source_unread (read of home failed)" in out


async def test_an_unknown_flow_lists_the_flows(make_world: MakeWorld, tmp_path: Path) -> None:
    """`--flow nope` exits 2 naming the flag and the valid names."""
    world = make_world(FLOWS)

    code, _, err = await calmirror(environment(world), tmp_path, "sync", "--flow", "nope")

    assert code == 2
    assert "  --flow nope: no flow has this name; the flows are work, home" in err.splitlines()


async def test_bad_configuration_exits_2(make_world: MakeWorld, tmp_path: Path) -> None:
    """A flow naming an unconfigured account is reported by variable and nothing runs."""
    world = make_world(FLOWS)
    env = environment(world) | {"SYNC_FLOW_2_TARGET_ACCOUNT_ID": "7"}

    code, _, err = await calmirror(env, tmp_path, "sync", "--days-back", "1", "--days-forward", "3")

    assert code == 2
    assert "SYNC_FLOW_2_TARGET_ACCOUNT_ID" in err


async def test_purge_removes_only_blocks(make_world: MakeWorld, tmp_path: Path) -> None:
    """Purge (after a dry run that removes nothing) deletes every block, far ones too, and nothing else."""
    world = make_world(FLOWS)
    await world.meeting(1, base_time())
    await world.meeting(1, base_time() + timedelta(days=30))
    await world.meeting(2, base_time() + timedelta(hours=4))  # bob's own meeting stays
    env = environment(world)
    code, _, err = await calmirror(env, tmp_path, "sync", "--days-back", "1", "--days-forward", "40")
    assert code == 0, err
    assert len(world.blocks(2)) == 2
    others = [e for e in world.live(2) if e not in world.blocks(2)]

    code, out, err = await calmirror(env, tmp_path, "purge", "--dry-run")
    assert code == 0, err
    assert "would remove 2 block(s)" in out
    assert len(world.blocks(2)) == 2

    code, out, err = await calmirror(env, tmp_path, "purge", "--flow", "work")
    assert code == 0, err
    assert "removed 2 block(s)" in out
    assert world.blocks(2) == []
    assert world.live(2) == others
    assert len(world.live(1)) == 2


async def test_purge_of_a_broken_account_fails_its_target_only(make_world: MakeWorld, tmp_path: Path) -> None:
    """A revoked target account makes purge exit 1 naming that target; the other target is still purged."""
    world = make_world((("work", 1, 2, 0, 0), ("back", 2, 1, 0, 0)))
    await world.meeting(1, base_time())
    await world.meeting(2, base_time() + timedelta(hours=3))
    await world.engine.reconcile_all()
    assert (len(world.blocks(1)), len(world.blocks(2))) == (1, 1)
    world.emulator.revoke(EMAILS[1])

    code, out, _err = await calmirror(environment(world), tmp_path, "purge")

    assert code == 1
    assert f"failed 1:{EMAILS[1]}: listing failed" in out
    assert world.blocks(2) == []
    assert len(world.blocks(1)) == 1


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (("--days-back", "0", "--days-forward", "0"), "argument --days-forward: 0 is not between 1 and 365"),
        (("--days-back", "-1"), "argument --days-back: -1 is not between 0 and 365"),
        (("--days-forward", "366"), "argument --days-forward: 366 is not between 1 and 365"),
        (("--days-back", "two"), "argument --days-back: 'two' is not a whole number"),
    ],
)
async def test_window_flags_out_of_bounds_are_usage_errors(
    make_world: MakeWorld, tmp_path: Path, flags: tuple[str, ...], named: str
) -> None:
    """A window flag outside DAILY_RECONCILE_DAYS_*'s bounds exits 2 naming the flag; nothing is read."""
    world = make_world(FLOWS)
    world.emulator.reset_requests()

    code, out, err = await calmirror(environment(world), tmp_path, "sync", *flags)

    assert code == 2
    assert named in err
    assert "Traceback" not in out + err
    assert world.emulator.requests.stats()["http_requests"] == 0


@asynccontextmanager
async def garbage_api() -> AsyncIterator[str]:
    """Serve a Calendar API root on loopback that answers every request 200 with items that are not events."""

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"kind": "calendar#events", "items": [42]})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_unexpected_failure_is_one_line_and_a_traceback_only_at_debug(
    make_world: MakeWorld, tmp_path: Path, level: str
) -> None:
    """A malformed API answer is unexpected: one line on stderr, exit 1, the redacted traceback at DEBUG."""
    world = make_world(FLOWS)
    await world.meeting(1, base_time())
    env = environment(world) | {"LOG_LEVEL": level}

    async with garbage_api() as root:
        code, out, err = await calmirror(env | {"GOOGLE_API_ROOT_URL": root}, tmp_path, "sync")

    assert code == 1
    [line] = err.splitlines()
    assert line.startswith("calmirror sync: unexpected error: ")
    assert ("Traceback" in out) == (level == "DEBUG")
    assert "Traceback" not in err
    for name in ("GOOGLE_ACCOUNT_1_REFRESH_TOKEN", "GOOGLE_ACCOUNT_1_CLIENT_SECRET"):
        assert env[name] not in out + err


def listing(output: str) -> list[list[str]]:
    """Return the per-event lines of sync's output (those before the table), split into cells."""
    lines = output.split("\nflow ", maxsplit=1)[0].splitlines() if "\nflow " in output else []
    return [re.split(r"\s{2,}", line.strip()) for line in lines if line and not LOG_LINE.match(line)]


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


async def test_verbose_lists_each_block_and_each_skip_in_plain_words(
    make_world: MakeWorld, tmp_path: Path
) -> None:
    """A dry run lists what it would write and why meetings are skipped; titles never reach a log line."""
    world = make_world(FLOWS)
    start = base_time()
    review = await world.meeting(1, start, summary="Design review")
    await world.meeting(1, start + timedelta(hours=2), people=1, summary="Focus time")
    await world.meeting(1, start + timedelta(hours=4), summary="Lunch", transparency="transparent")
    declined = [{"email": EMAILS[1], "responseStatus": "declined"}, {"email": "guest@elsewhere.test"}]
    await world.meeting(1, start + timedelta(hours=6), summary="Vendor pitch", attendees=declined)
    env = environment(world) | {"LOG_LEVEL": "DEBUG"}
    first, last = start - timedelta(minutes=10), start + timedelta(minutes=65)
    # The end shows its date only when the block crosses midnight (a run late in the UTC day).
    end = f"{last:%H:%M}" if last.date() == first.date() else f"{last:%Y-%m-%d %H:%M}"
    block = f"{first:%Y-%m-%d %H:%M}-{end} UTC"

    code, out, err = await calmirror(env, tmp_path, "sync", "--dry-run")

    assert code == 0, err
    assert sorted(listing(out)) == [
        ["skip", "work", "Focus time: 1 participant (rooms do not count), the flow needs 2"],
        ["skip", "work", "Lunch: marked free"],
        ["skip", "work", "Vendor pitch: you declined"],
        ["would create", "work", block, "Design review"],
    ]
    titles = ("Design review", "Focus time", "Lunch", "Vendor pitch")
    assert not [line for line in out.splitlines() if LOG_LINE.match(line) and any(t in line for t in titles)]
    assert not any(title in err for title in titles)

    code, out, err = await calmirror(env, tmp_path, "sync", "--no-verbose", "--dry-run")
    assert (code, listing(out)) == (0, [])
    code, out, err = await calmirror(env, tmp_path, "sync")
    assert (code, listing(out)) == (0, [])
    assert len(world.blocks(2)) == 1

    await world.users[1].delete_event(EMAILS[1], review["id"])
    code, out, err = await calmirror(env, tmp_path, "sync", "--verbose")
    assert code == 0, err
    assert ["delete", "work, home", block, "(a calmirror block): no meeting needs it any more"] in listing(
        out
    )


async def test_a_mass_deletion_waits_for_a_person(make_world: MakeWorld, tmp_path: Path) -> None:
    """40 mirrored meetings, 30 cancelled: `sync` deletes none and exits 1 naming the hold and the fix;
    `sync --dry-run` lists the held blocks; `sync --allow-mass-deletion --flow work` deletes exactly the
    30 and exits 0; the next plain `sync` has nothing held and exits 0."""
    world = make_world((("work", 1, 2, 0, 0),))
    meetings = [await world.meeting(1, base_time() + timedelta(hours=n), 30) for n in range(40)]
    assert (await world.engine.reconcile_all()).ok
    assert len(world.blocks(2)) == 40
    for meeting in meetings[:30]:
        await world.users[1].delete_event(EMAILS[1], meeting["id"])
    wanted = sorted((m["start"]["dateTime"], m["end"]["dateTime"]) for m in meetings[30:])
    env = environment(world)
    world.emulator.reset_requests()

    code, out, err = await calmirror(env, tmp_path, "sync")
    assert code == 1, out + err
    assert len(world.blocks(2)) == 40
    assert world.writes() == 0
    assert row(out, "work") == [
        "work",
        "0",
        "0",
        "0",
        "10",
        "0",
        "0",
        "0",
        "held",
    ]  # 10 existed, none deleted
    fix = "look with `calmirror sync --dry-run`, then run `calmirror sync --allow-mass-deletion`"
    assert f"work: 30 deletion(s) in its target held back: guard; {fix}" in out.splitlines()
    logged = [line for line in out.splitlines() if " WARNING " in line]
    assert len(logged) == 1, out  # once per target and pass, not once per block
    assert f"deletion guard: 30 deletion(s) in target 2:{EMAILS[2]} held, none made; {fix}" in logged[0]

    code, out, err = await calmirror(env, tmp_path, "sync", "--dry-run")
    assert code == 1, out + err
    held = [line for line in out.splitlines() if line.startswith("hold ")]
    assert len(held) == 30, out
    assert all(line.endswith("(a calmirror block): held by the deletion guard") for line in held)
    code, out, err = await calmirror(env, tmp_path, "sync", "--dry-run", "--allow-mass-deletion")
    assert code == 0, out + err
    assert len([line for line in out.splitlines() if line.startswith("would delete ")]) == 30, out
    assert world.writes() == 0

    code, out, err = await calmirror(env, tmp_path, "sync", "--allow-mass-deletion", "--flow", "work")
    assert code == 0, out + err
    assert row(out, "work")[:4] == ["work", "0", "0", "30"]
    assert world.spans(2) == wanted
    code, out, err = await calmirror(env, tmp_path, "sync")
    assert (code, row(out, "work")[3]) == (0, "0"), out + err


async def test_an_off_guard_or_a_few_deletions_delete_at_once(make_world: MakeWorld, tmp_path: Path) -> None:
    """DELETION_GUARD_PERCENT=0: 30 of 40 cancelled go at once; with the guard on, 5 of 40 go at once."""
    world = make_world((("work", 1, 2, 0, 0),))
    meetings = [await world.meeting(1, base_time() + timedelta(hours=n), 30) for n in range(40)]
    assert (await world.engine.reconcile_all()).ok
    env = environment(world)
    for meeting in meetings[:30]:
        await world.users[1].delete_event(EMAILS[1], meeting["id"])
    code, out, err = await calmirror(env | {"DELETION_GUARD_PERCENT": "0"}, tmp_path, "sync")
    assert code == 0, out + err
    assert row(out, "work")[3] == "30"
    assert len(world.blocks(2)) == 10

    meetings = [
        *meetings[30:],
        *[await world.meeting(1, base_time() + timedelta(hours=n), 30) for n in range(30)],
    ]
    assert (await world.engine.reconcile_all()).ok
    assert len(world.blocks(2)) == 40
    for meeting in meetings[:5]:
        await world.users[1].delete_event(EMAILS[1], meeting["id"])
    code, out, err = await calmirror(env, tmp_path, "sync")
    assert code == 0, out + err
    assert row(out, "work")[3] == "5"
    assert len(world.blocks(2)) == 35
    assert "held" not in out + err
