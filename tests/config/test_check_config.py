"""`calmirror check-config`: a secret-free summary and exit 0, or every problem on stderr and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from calmirror.cli import main


def test_valid_configuration_prints_the_summary(
    clean_env: pytest.MonkeyPatch,
    good_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    assert_no_secret: Callable[..., None],
) -> None:
    """A valid configuration exits 0 with accounts, flows (each with its policy line), webhook, schedule
    and listen address."""
    policy = {
        "UNANSWERED": "skip",
        "TENTATIVE": "Skip",
        "DAYS": "mon-fri",
        "HOURS": "09:00-17:00",
        "TIME_ZONE": "America/New_York",
        "ALL_DAY": "skip",
        "SKIP_TITLE_REGEX": "^hold",
    }
    for name, value in good_env.items() | {f"SYNC_FLOW_2_{k}": v for k, v in policy.items()}.items():
        clean_env.setenv(name, value)
    assert main(["check-config"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "configuration OK",
        "accounts (2):",
        "  1: google alice@example.com  client shared (id shared.apps.googleusercontent.com, secret set)"
        "  refresh token set",
        "  2: google bob@example.com  client own (id own.apps.googleusercontent.com, secret set)"
        "  refresh token set",
        "flows (2):",
        "  1: 'Work to personal'  1:alice@example.com -> 2:bob@example.com  offsets -5/+10 min"
        "  min participants 2  title 'Busy'",
        "     policy: unanswered busy, tentative busy, any time, all-day block, no title skipped",
        "  2: 'Personal to work'  2:bob@example.com -> 1:alice@example.com  offsets none"
        "  min participants 2  title 'Busy'",
        "     policy: unanswered skip, tentative skip, only Mon-Fri 09:00-17:00 America/New_York, "
        "all-day skip, skip titles matching '^hold'",
        "webhooks: on, https://calmirror.example.com/api/v1/webhooks/google-calendar and "
        "https://calmirror.example.com/api/v1/webhooks/microsoft-graph",
        "polling: every 60 min",
        "daily reconcile: 06:00 UTC, 2 days back, 14 days forward",
        "deletion guard: a pass deleting more than 25 blocks and more than 50% of a target's blocks"
        " deletes none and waits for a person",
        "listen: 127.0.0.1:8000",
        "log level: INFO, format text",
    ]
    assert err == ""
    assert_no_secret(out, err)


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        (("0", "99"), "deletion guard: a pass deleting more than 0 blocks and more than 99% of a target's"),
        (("40", "0"), "deletion guard: off (DELETION_GUARD_PERCENT=0)"),
    ],
)
def test_the_summary_shows_the_deletion_guard(
    clean_env: pytest.MonkeyPatch,
    good_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    settings: tuple[str, str],
    line: str,
) -> None:
    """check-config states the deletion guard's thresholds, or that it is off."""
    env = good_env | dict(zip(("DELETION_GUARD_MIN_BLOCKS", "DELETION_GUARD_PERCENT"), settings, strict=True))
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main(["check-config"]) == 0
    shown = [row for row in capsys.readouterr().out.splitlines() if row.startswith("deletion guard")]
    assert len(shown) == 1, shown
    assert shown[0].startswith(line), shown


def test_env_file_option_and_non_default_google(
    clean_env: pytest.MonkeyPatch,
    good_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--env-file is read; a non-Google API root and token URI are shown; warnings go to stderr."""
    del good_env["WEBHOOK_BASE_URL"]
    good_env |= {"GOOGLE_API_ROOT_URL": "http://127.0.0.1:9000/", "GOOGLE_ACOUNT_1_EMAIL": "typo"}
    env_file = tmp_path / "calmirror.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in good_env.items()))
    assert main(["check-config", "--env-file", str(env_file)]) == 0
    out, err = capsys.readouterr()
    assert "webhooks: off (WEBHOOK_BASE_URL not set; polling only)" in out
    assert "google api root: http://127.0.0.1:9000/ (not Google's)" in out
    assert "google token uri" not in out
    assert err.splitlines() == [
        "warning: GOOGLE_ACOUNT_1_EMAIL: not a calmirror variable, ignored "
        "(did you mean GOOGLE_ACCOUNT_1_EMAIL?)",
        "warning: WEBHOOK_API_KEY: set but unused: WEBHOOK_BASE_URL is not set, so calmirror only polls",
    ]


def test_missing_env_file_option_is_a_problem(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An --env-file that does not exist exits 2 and says so."""
    assert main(["check-config", "--env-file", "absent.env"]) == 2
    assert "--env-file absent.env: no such file" in capsys.readouterr().err


def test_invalid_configuration_lists_every_problem(
    clean_env: pytest.MonkeyPatch,
    good_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    assert_no_secret: Callable[..., None],
) -> None:
    """An invalid configuration exits 2, prints each problem to stderr and nothing to stdout."""
    good_env |= {"SYNC_FLOW_2_TARGET_ACCOUNT_ID": "7", "LISTEN_PORT": "eighty"}
    del good_env["GOOGLE_ACCOUNT_2_CLIENT_SECRET"]
    for name, value in good_env.items():
        clean_env.setenv(name, value)
    assert main(["check-config"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "calmirror: 3 configuration problem(s):",
        "  GOOGLE_ACCOUNT_2_CLIENT_SECRET: missing; GOOGLE_ACCOUNT_2_CLIENT_ID is set, and an account's own "
        "OAuth client needs both",
        "  SYNC_FLOW_2_TARGET_ACCOUNT_ID=7: no GOOGLE_ACCOUNT_7_*, CALDAV_ACCOUNT_7_*, ICS_ACCOUNT_7_* "
        "or MICROSOFT_ACCOUNT_7_* "
        "is configured",
        "  LISTEN_PORT=eighty: not a whole number",
    ]
    assert_no_secret(out, err)


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
def test_real_process_exit_status_and_no_secret(
    good_env: dict[str, str], tmp_path: Path, valid: bool, assert_no_secret: Callable[..., None]
) -> None:
    """`python -m calmirror check-config` as a real process exits 0 or 2 and prints no secret."""
    if not valid:
        good_env["SYNC_FLOW_1_TARGET_ACCOUNT_ID"] = "7"
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    token = good_env.pop("GOOGLE_ACCOUNT_2_REFRESH_TOKEN")
    (credentials / "GOOGLE_ACCOUNT_2_REFRESH_TOKEN").write_text(token + "\n")
    env = {"PATH": os.environ.get("PATH", ""), "CREDENTIALS_DIRECTORY": str(credentials), **good_env}
    done = subprocess.run(
        [sys.executable, "-m", "calmirror", "check-config"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == (0 if valid else 2), done.stderr
    assert ("configuration OK" in done.stdout) is valid
    assert_no_secret(done.stdout, done.stderr)


def test_a_typo_is_shown_beside_the_problem_it_causes(
    clean_env: pytest.MonkeyPatch,
    good_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A misspelt variable is a problem of its own beside the "missing" it causes, the hint included."""
    for name, value in good_env.items():
        if name != "SYNC_FLOW_1_SOURCE_CALENDAR_ID":
            clean_env.setenv(name, value)
    clean_env.setenv("SYNC_FLOW_1_SOURCE_CALENDAR", "alice@example.com")

    assert main(["check-config"]) == 2

    err = capsys.readouterr().err
    assert "SYNC_FLOW_1_SOURCE_CALENDAR_ID: missing" in err
    hint = "(did you mean SYNC_FLOW_1_SOURCE_CALENDAR_ID?)"
    assert f"  SYNC_FLOW_1_SOURCE_CALENDAR: not a calmirror variable {hint}" in err.splitlines()


def test_env_file_outranks_credentials_as_under_the_systemd_unit(
    clean_env: pytest.MonkeyPatch,
    good_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    assert_no_secret: Callable[..., None],
) -> None:
    """install.sh's check: the unit's EnvironmentFile= becomes the environment, which beats its credentials.

    A placeholder key left in the env file is what the daemon will see, so check-config must refuse it
    even though the credentials directory holds a good key.
    """
    key = good_env.pop("WEBHOOK_API_KEY")
    env_file = tmp_path / "calmirror.env"
    settings = "".join(f"{name}={value}\n" for name, value in good_env.items())
    env_file.write_text(settings + "WEBHOOK_API_KEY=FAKE-webhook-api-key-from-env-example\n")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "WEBHOOK_API_KEY").write_text(key + "\n")
    clean_env.setenv("CREDENTIALS_DIRECTORY", str(credentials))

    assert main(["check-config", "--env-file", str(env_file)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "calmirror: 1 configuration problem(s):",
        "  WEBHOOK_API_KEY: a FAKE- placeholder from .env.example, known to everyone; use a random key",
        f"warning: WEBHOOK_API_KEY: set differently in {env_file} and $CREDENTIALS_DIRECTORY; "
        f"{env_file} wins",
    ]
    assert_no_secret(out, err)
