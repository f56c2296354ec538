"""The `calmirror` entry point: every command describes itself in --help."""

from __future__ import annotations

import subprocess
import sys

import pytest

SUMMARIES = {
    "run": "Run the daemon (webhooks, polling, health and metrics).",
    "check-config": "Validate the configuration and print a summary.",
    "sync": "Run one full reconcile of every flow and print what was done.",
    "purge": "Remove every block calmirror owns in the target calendars.",
    "demo": "Run calmirror against the embedded emulator with sample meetings.",
    "authorize": "Obtain a refresh token for an account through the browser.",
    "emulator": "Run the Google Calendar and Microsoft Graph emulator alone.",
}


def help_text(*args: str) -> str:
    """Return `calmirror ARGS --help` on one line (argparse wraps it), asserting it exits 0."""
    done = subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-m", "calmirror", *args, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


def test_top_level_help_lists_every_command_with_its_summary() -> None:
    """`calmirror --help` says what calmirror is and gives each command a one-line summary."""
    text = help_text()
    assert (
        "Mirror meetings between Google, Microsoft 365, CalDAV and ICS calendars as private Busy blocks."
        in text
    )
    for command, summary in SUMMARIES.items():
        assert f"{command} {summary.split()[0]}" in text


@pytest.mark.parametrize("command", sorted(SUMMARIES))
def test_every_command_help_starts_with_its_summary(command: str) -> None:
    """Each sub-command's --help exits 0 and opens its description with the one-line summary."""
    usage_and_description = help_text(command).split(" options: ")[0]
    assert f" {SUMMARIES[command]}" in usage_and_description


def test_sync_help_shows_the_default_window() -> None:
    """`sync --help` says which window a plain `calmirror sync` reconciles."""
    text = help_text("sync")
    assert "The window is 2 days back and 14 days forward from now" in text
    assert "(default: DAILY_RECONCILE_DAYS_BACK, 2)" in text
    assert "(default: DAILY_RECONCILE_DAYS_FORWARD, 14)" in text


# Raises KeyboardInterrupt when the engine is imported, as a Ctrl-C while the commands load would.
INTERRUPTED_IMPORT = """
import runpy, sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "calmirror.engine":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
sys.argv = ["calmirror", "check-config"]
"""
ENTRY_POINTS = {
    "python -m calmirror": 'runpy.run_module("calmirror", run_name="__main__")',
    "console script": "from calmirror.cli import main; sys.exit(main())",
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_ctrl_c_while_the_commands_load_exits_130_in_one_line(entry: str) -> None:
    """A Ctrl-C before the commands are loaded prints "interrupted", not a traceback, and exits 130."""
    done = subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-c", INTERRUPTED_IMPORT + ENTRY_POINTS[entry]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (130, "calmirror: interrupted\n")


@pytest.mark.parametrize(("command", "flag"), [("purge", "--verbose"), ("sync", "--bogus")])
def test_an_unknown_flag_shows_the_command_usage(command: str, flag: str) -> None:
    """An unknown flag exits 2 with the command's own usage, not the top-level one."""
    done = subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-m", "calmirror", command, flag],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"usage: calmirror {command} [-h]")
    assert done.stderr.splitlines()[-1] == f"calmirror {command}: error: unrecognized arguments: {flag}"
