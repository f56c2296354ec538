"""Bad environments: every problem is listed at once, names its variable and never shows a secret."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from calmirror.config import load_settings
from calmirror.errors import ConfigError

TOKEN = "1//refresh-token-one-a8e2"  # the good environment's account 1 token, see conftest.py


def _problems(env: dict[str, str]) -> list[str]:
    """Return the problems load_settings reports for `env` (which must be invalid)."""
    with pytest.raises(ConfigError) as caught:
        load_settings(env, env_file=None, credentials_directory=None)
    return caught.value.problems


def _named(problems: list[str]) -> set[str]:
    """Return the variable each problem starts with (the part before `=` or `:`)."""
    return {problem.split(":", 1)[0].split("=", 1)[0] for problem in problems}


def _flows_removed(env: dict[str, str]) -> dict[str, str]:
    """Return env without any SYNC_FLOW_* variable."""
    return {name: value for name, value in env.items() if not name.startswith("SYNC_FLOW_")}


BAD: list[tuple[str, dict[str, str | None], set[str]]] = [
    ("missing refresh token", {"GOOGLE_ACCOUNT_1_REFRESH_TOKEN": None}, {"GOOGLE_ACCOUNT_1_REFRESH_TOKEN"}),
    ("missing email", {"GOOGLE_ACCOUNT_2_EMAIL": None}, {"GOOGLE_ACCOUNT_2_EMAIL"}),
    ("malformed email", {"GOOGLE_ACCOUNT_2_EMAIL": "bob"}, {"GOOGLE_ACCOUNT_2_EMAIL"}),
    ("email without domain", {"GOOGLE_ACCOUNT_1_EMAIL": "alice@"}, {"GOOGLE_ACCOUNT_1_EMAIL"}),
    (
        "no client at all",
        {"GOOGLE_CLIENT_ID": None, "GOOGLE_CLIENT_SECRET": None},
        {"GOOGLE_ACCOUNT_1_CLIENT_ID", "GOOGLE_ACCOUNT_1_CLIENT_SECRET"},
    ),
    (
        "shared client without secret",
        {"GOOGLE_CLIENT_SECRET": None},
        {"GOOGLE_CLIENT_SECRET", "GOOGLE_ACCOUNT_1_CLIENT_SECRET"},
    ),
    (
        "own client without secret",
        {"GOOGLE_ACCOUNT_2_CLIENT_SECRET": None},
        {"GOOGLE_ACCOUNT_2_CLIENT_SECRET"},
    ),
    ("unknown account", {"SYNC_FLOW_2_TARGET_ACCOUNT_ID": "7"}, {"SYNC_FLOW_2_TARGET_ACCOUNT_ID"}),
    ("account id not a number", {"SYNC_FLOW_1_SOURCE_ACCOUNT_ID": "one"}, {"SYNC_FLOW_1_SOURCE_ACCOUNT_ID"}),
    ("offset not a number", {"SYNC_FLOW_1_START_OFFSET": "five"}, {"SYNC_FLOW_1_START_OFFSET"}),
    ("negative offset", {"SYNC_FLOW_1_END_OFFSET": "-1"}, {"SYNC_FLOW_1_END_OFFSET"}),
    ("offset of days", {"SYNC_FLOW_2_END_OFFSET": "2000"}, {"SYNC_FLOW_2_END_OFFSET"}),
    ("zero participants", {"SYNC_FLOW_1_MIN_PARTICIPANTS": "0"}, {"SYNC_FLOW_1_MIN_PARTICIPANTS"}),
    ("participants not a number", {"SYNC_FLOW_2_MIN_PARTICIPANTS": "two"}, {"SYNC_FLOW_2_MIN_PARTICIPANTS"}),
    (
        "missing flow fields",
        {
            "SYNC_FLOW_2_NAME": None,
            "SYNC_FLOW_2_SOURCE_CALENDAR_ID": None,
            "SYNC_FLOW_2_TARGET_ACCOUNT_ID": None,
        },
        {"SYNC_FLOW_2_NAME", "SYNC_FLOW_2_SOURCE_CALENDAR_ID", "SYNC_FLOW_2_TARGET_ACCOUNT_ID"},
    ),
    ("duplicate flow names", {"SYNC_FLOW_2_NAME": "work to personal"}, {"SYNC_FLOW_2_NAME"}),
    (
        "source is target",
        {"SYNC_FLOW_2_TARGET_ACCOUNT_ID": "2", "SYNC_FLOW_2_TARGET_CALENDAR_ID": "bob@example.com"},
        {"SYNC_FLOW_2_TARGET_CALENDAR_ID"},
    ),
    (
        "source is target through primary",
        {"SYNC_FLOW_1_TARGET_ACCOUNT_ID": "1", "SYNC_FLOW_1_TARGET_CALENDAR_ID": "primary"},
        {"SYNC_FLOW_1_TARGET_CALENDAR_ID"},
    ),
    (
        "one target through two accounts",
        {
            "SYNC_FLOW_3_NAME": "Team to personal",
            "SYNC_FLOW_3_SOURCE_ACCOUNT_ID": "1",
            "SYNC_FLOW_3_SOURCE_CALENDAR_ID": "team@group.calendar.google.com",
            "SYNC_FLOW_3_TARGET_ACCOUNT_ID": "1",
            "SYNC_FLOW_3_TARGET_CALENDAR_ID": "Bob@example.com",
        },
        {"SYNC_FLOW_3_TARGET_CALENDAR_ID"},
    ),
    ("webhook URL without scheme", {"WEBHOOK_BASE_URL": "calmirror.example.com"}, {"WEBHOOK_BASE_URL"}),
    ("webhook URL without host", {"WEBHOOK_BASE_URL": "https://"}, {"WEBHOOK_BASE_URL"}),
    ("webhook URL not http", {"WEBHOOK_BASE_URL": "ftp://calmirror.example.com"}, {"WEBHOOK_BASE_URL"}),
    ("webhook URL with a query", {"WEBHOOK_BASE_URL": "https://x.example.com/?a=1"}, {"WEBHOOK_BASE_URL"}),
    ("webhook without key", {"WEBHOOK_API_KEY": None}, {"WEBHOOK_API_KEY"}),
    ("placeholder webhook key", {"WEBHOOK_API_KEY": "FAKE-webhook-key-000000000000"}, {"WEBHOOK_API_KEY"}),
    ("port not a number", {"LISTEN_PORT": "http"}, {"LISTEN_PORT"}),
    ("port too large", {"LISTEN_PORT": "70000"}, {"LISTEN_PORT"}),
    ("zero interval", {"SYNC_INTERVAL_MINUTES": "0"}, {"SYNC_INTERVAL_MINUTES"}),
    ("time of day in words", {"DAILY_RECONCILE_TIME": "6am"}, {"DAILY_RECONCILE_TIME"}),
    ("hour 24", {"DAILY_RECONCILE_TIME": "24:00"}, {"DAILY_RECONCILE_TIME"}),
    ("unknown log level", {"LOG_LEVEL": "LOUD"}, {"LOG_LEVEL"}),
    ("negative days back", {"DAILY_RECONCILE_DAYS_BACK": "-1"}, {"DAILY_RECONCILE_DAYS_BACK"}),
    ("zero days forward", {"DAILY_RECONCILE_DAYS_FORWARD": "0"}, {"DAILY_RECONCILE_DAYS_FORWARD"}),
    ("negative guard minimum", {"DELETION_GUARD_MIN_BLOCKS": "-1"}, {"DELETION_GUARD_MIN_BLOCKS"}),
    ("guard minimum in words", {"DELETION_GUARD_MIN_BLOCKS": "many"}, {"DELETION_GUARD_MIN_BLOCKS"}),
    ("guard percent of 100", {"DELETION_GUARD_PERCENT": "100"}, {"DELETION_GUARD_PERCENT"}),
    ("negative guard percent", {"DELETION_GUARD_PERCENT": "-5"}, {"DELETION_GUARD_PERCENT"}),
    ("guard percent with a sign", {"DELETION_GUARD_PERCENT": "50%"}, {"DELETION_GUARD_PERCENT"}),
    ("misspelt guard variable", {"DELETION_GUARD_PERCENTAGE": "50"}, {"DELETION_GUARD_PERCENTAGE"}),
    ("API root not a URL", {"GOOGLE_API_ROOT_URL": "localhost:8080"}, {"GOOGLE_API_ROOT_URL"}),
    ("token URI with bad port", {"GOOGLE_TOKEN_URI": "http://127.0.0.1:99999/token"}, {"GOOGLE_TOKEN_URI"}),
    ("flow N not a number", {"SYNC_FLOW_A_NAME": "Extra"}, {"SYNC_FLOW_A_NAME"}),
    (
        "account N with leading zero",
        {"GOOGLE_ACCOUNT_01_EMAIL": "x@example.com"},
        {"GOOGLE_ACCOUNT_01_EMAIL"},
    ),
]


@pytest.mark.parametrize(("changes", "expected"), [(c, e) for _, c, e in BAD], ids=[i for i, _, _ in BAD])
def test_bad_environment_names_exactly_the_wrong_variables(
    good_env: dict[str, str],
    changes: dict[str, str | None],
    expected: set[str],
    assert_no_secret: Callable[..., None],
) -> None:
    """Each bad environment is refused with problems naming exactly the wrong variables, no secret shown."""
    for name, value in changes.items():
        if value is None:
            good_env.pop(name)
        else:
            good_env[name] = value
    problems = _problems(good_env)
    assert _named(problems) == expected, problems
    assert_no_secret(*problems, "\n".join(problems))


def test_unknown_account_message_matches_the_design(good_env: dict[str, str]) -> None:
    """A flow naming an unconfigured account gets the exact message docs/design.md §1.4 shows."""
    good_env["SYNC_FLOW_2_TARGET_ACCOUNT_ID"] = "7"
    assert _problems(good_env) == [
        "SYNC_FLOW_2_TARGET_ACCOUNT_ID=7: no GOOGLE_ACCOUNT_7_*, CALDAV_ACCOUNT_7_*, ICS_ACCOUNT_7_* "
        "or MICROSOFT_ACCOUNT_7_* "
        "is configured"
    ]


def test_placeholder_webhook_key_is_refused_in_one_line(good_env: dict[str, str]) -> None:
    """A key with .env.example's FAKE- prefix is refused in one line naming it, even with webhooks off."""
    del good_env["WEBHOOK_BASE_URL"]
    good_env["WEBHOOK_API_KEY"] = "FAKE-my-own-key-0123456789abcdef"
    assert _problems(good_env) == [
        "WEBHOOK_API_KEY: a FAKE- placeholder from .env.example, known to everyone; use a random key"
    ]


def test_no_flows_is_a_problem(good_env: dict[str, str]) -> None:
    """An environment with accounts but no SYNC_FLOW_<N>_* is refused."""
    assert _named(_problems(_flows_removed(good_env))) == {"SYNC_FLOW_<N>_*"}


def test_every_problem_is_listed_at_once(good_env: dict[str, str]) -> None:
    """Independent mistakes in accounts, flows and globals are all reported by one load."""
    good_env.pop("GOOGLE_ACCOUNT_1_REFRESH_TOKEN")
    good_env["SYNC_FLOW_2_START_OFFSET"] = "-5"
    good_env["LISTEN_PORT"] = "port"
    good_env["LOG_LEVEL"] = "chatty"
    assert _named(_problems(good_env)) == {
        "GOOGLE_ACCOUNT_1_REFRESH_TOKEN",
        "SYNC_FLOW_2_START_OFFSET",
        "LISTEN_PORT",
        "LOG_LEVEL",
    }


def test_problem_about_a_secret_names_only_the_variable(good_env: dict[str, str]) -> None:
    """A problem about a secret variable never shows its value, only its name."""
    good_env.pop("GOOGLE_ACCOUNT_2_CLIENT_ID")
    problems = _problems(good_env)
    assert problems == [
        "GOOGLE_ACCOUNT_2_CLIENT_ID: missing; GOOGLE_ACCOUNT_2_CLIENT_SECRET is set, "
        "and an account's own OAuth client needs both"
    ]


def test_secret_pasted_into_another_variable_is_masked(good_env: dict[str, str]) -> None:
    """A refresh token pasted into a non-secret variable is masked in the problem that quotes it."""
    good_env["SYNC_FLOW_1_START_OFFSET"] = TOKEN
    problems = _problems(good_env)
    assert problems == ["SYNC_FLOW_1_START_OFFSET=***: not a whole number"]


def test_unregistered_credential_shape_is_masked(good_env: dict[str, str]) -> None:
    """An access token nobody configured as a secret is masked by its shape, as in log lines."""
    good_env["SYNC_FLOW_1_START_OFFSET"] = "ya29.a0AfH6SMBx-pasted"
    assert _problems(good_env) == ["SYNC_FLOW_1_START_OFFSET=ya29.***: not a whole number"]


def test_config_error_text_lists_every_problem(good_env: dict[str, str]) -> None:
    """The ConfigError's own text (what a traceback would show) lists each problem and no secret."""
    good_env.pop("GOOGLE_CLIENT_SECRET")
    good_env["SYNC_INTERVAL_MINUTES"] = "often"
    with pytest.raises(ConfigError) as caught:
        load_settings(good_env, env_file=None, credentials_directory=None)
    text = str(caught.value)
    assert "GOOGLE_CLIENT_SECRET: missing" in text
    assert "SYNC_INTERVAL_MINUTES=often: not a whole number" in text
    assert "shared-client-secret" not in text


def test_deletion_guard_settings_read_with_defaults_and_bounds(good_env: dict[str, str]) -> None:
    """Unset, the guard is 25 blocks and 50 %; 0 and 99 are accepted; 100 (it holds nothing) is refused."""
    settings = load_settings(good_env, env_file=None, credentials_directory=None)
    assert (settings.deletion_guard_min_blocks, settings.deletion_guard_percent) == (25, 50)
    edge = good_env | {"DELETION_GUARD_MIN_BLOCKS": "0", "DELETION_GUARD_PERCENT": "99"}
    settings = load_settings(edge, env_file=None, credentials_directory=None)
    assert (settings.deletion_guard_min_blocks, settings.deletion_guard_percent) == (0, 99)
    off = load_settings(good_env | {"DELETION_GUARD_PERCENT": "0"}, env_file=None, credentials_directory=None)
    assert off.deletion_guard_percent == 0
    assert _problems(good_env | {"DELETION_GUARD_PERCENT": "100"}) == [
        "DELETION_GUARD_PERCENT=100: must be at least 0 and at most 99"
    ]
