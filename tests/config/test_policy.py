"""A flow's policy variables: parsed once into a FlowPolicy, every bad value a problem naming what to fix."""

from __future__ import annotations

import re

import pytest

from calmirror.cli import main
from calmirror.config import FlowPolicy, load_settings
from calmirror.config.policy import days_text, parse_days
from calmirror.errors import ConfigError

P = "SYNC_FLOW_1_"


def _problems(env: dict[str, str]) -> list[str]:
    """Return the problems load_settings reports for `env` (which must be invalid)."""
    with pytest.raises(ConfigError) as caught:
        load_settings(env, env_file=None, credentials_directory=None)
    return caught.value.problems


def test_unset_policy_variables_keep_todays_behaviour(good_env: dict[str, str]) -> None:
    """Without any policy variable every flow has the default policy: every meeting, any time."""
    settings = load_settings(good_env, env_file=None, credentials_directory=None)
    assert [flow.policy for flow in settings.flows] == [FlowPolicy(), FlowPolicy()]
    assert not settings.flows[0].policy.limits_time


def test_policy_variables_are_parsed_once_into_values(good_env: dict[str, str]) -> None:
    """Each variable becomes a parsed value: day numbers, times, a zone and a compiled pattern."""
    good_env |= {
        P + "UNANSWERED": "SKIP",
        P + "TENTATIVE": "skip",
        P + "DAYS": "Mon,wed , FRIDAY",
        P + "HOURS": "22:00-06:00",
        P + "TIME_ZONE": "Australia/Lord_Howe",
        P + "ALL_DAY": "skip",
        P + "SKIP_TITLE_REGEX": r"^(hold|lunch\?)",
    }
    policy = load_settings(good_env, env_file=None, credentials_directory=None).flows[0].policy
    assert (policy.unanswered, policy.tentative, policy.all_day) == ("skip", "skip", "skip")
    assert policy.days == frozenset({0, 2, 4})
    assert policy.hours is not None
    assert (str(policy.hours), policy.hours.overnight) == ("22:00-06:00", True)
    assert policy.time_zone.key == "Australia/Lord_Howe"
    assert policy.skip_title_regex is not None
    assert policy.skip_title_regex.search("HOLD for the offsite")
    assert not policy.skip_title_regex.search("Lunch with Bob")
    assert policy.working_time() == "Mon, Wed, Fri 22:00-06:00 Australia/Lord_Howe"


@pytest.mark.parametrize(
    ("text", "days", "shown"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}, "Mon-Fri"),
        ("mon,wed,fri", {0, 2, 4}, "Mon, Wed, Fri"),
        ("sat-sun", {5, 6}, "Sat-Sun"),
        ("sun-thu", {6, 0, 1, 2, 3}, "Mon-Thu, Sun"),  # a range wraps past Sunday
        ("Tuesday", {1}, "Tue"),
        ("mon-sun", set(range(7)), "every day"),
        ("fri-thu", set(range(7)), "every day"),
    ],
)
def test_days_read_as_written(text: str, days: set[int], shown: str) -> None:
    """Days are names, lists and ranges, in any case, and are shown back compactly."""
    assert parse_days(text) == days
    assert days_text(parse_days(text)) == shown


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("TIME_ZONE", "Mars/Olympus_Mons", "not an IANA time zone such as Europe/Berlin or America/New_York"),
        ("TIME_ZONE", "Europe/Londn", "(did you mean Europe/London?)"),
        ("HOURS", "09:00-09:00", "starts where it ends; leave it unset for the whole day"),
        ("HOURS", "25:00-26:00", "not a time range; use HH:MM-HH:MM with times from 00:00 to 23:59"),
        ("HOURS", "9-17", "not a time range; use HH:MM-HH:MM"),
        ("DAYS", "funday", "'funday' is not a day; use mon, tue, wed, thu, fri, sat, sun"),
        ("DAYS", "mon-", "an empty entry is not a day"),
        ("SKIP_TITLE_REGEX", "(hold", "not a Python regular expression (missing ), unterminated subpattern"),
        ("UNANSWERED", "maybe", "Input should be 'busy' or 'skip'"),
        ("TENTATIVE", "block", "Input should be 'busy' or 'skip'"),
        ("ALL_DAY", "busy", "Input should be 'block' or 'skip'"),
    ],
)
def test_bad_value_is_one_problem_naming_variable_value_and_what_is_allowed(
    good_env: dict[str, str], field: str, value: str, message: str
) -> None:
    """A bad policy value is exactly one `VARIABLE=value: what to fix` problem."""
    good_env[P + field] = value
    [problem] = _problems(good_env)
    assert problem.startswith(f"{P}{field}={value}: ")
    assert message in problem


def test_every_bad_policy_value_is_listed_at_once(good_env: dict[str, str]) -> None:
    """Bad values of several flows and an unrelated problem are all reported in one go."""
    good_env |= {
        P + "HOURS": "25:00-26:00",
        P + "DAYS": "funday",
        "SYNC_FLOW_2_TIME_ZONE": "Nowhere/Land",
        "SYNC_FLOW_2_SKIP_TITLE_REGEX": "[",
        "SYNC_FLOW_2_START_OFFSET": "soon",
    }
    named = sorted(problem.split("=", 1)[0] for problem in _problems(good_env))
    assert named == [
        "SYNC_FLOW_1_DAYS",
        "SYNC_FLOW_1_HOURS",
        "SYNC_FLOW_2_SKIP_TITLE_REGEX",
        "SYNC_FLOW_2_START_OFFSET",
        "SYNC_FLOW_2_TIME_ZONE",
    ]


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("TIMEZONE", "TIME_ZONE"), ("TENTATIVES", "TENTATIVE"), ("SKIP_TITLE", "SKIP_TITLE_REGEX")],
)
def test_misspelt_policy_variable_gets_did_you_mean(good_env: dict[str, str], typo: str, meant: str) -> None:
    """A misspelt policy variable is a problem of its own, naming the variable it most likely means."""
    good_env[P + typo] = "x"
    assert _problems(good_env) == [f"{P}{typo}: not a calmirror variable (did you mean {P}{meant}?)"]


def test_check_config_exits_2_and_names_the_bad_policy(
    clean_env: pytest.MonkeyPatch,
    good_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`calmirror check-config` refuses a bad policy with exit 2, one line per problem, no traceback."""
    for name, value in good_env.items():
        clean_env.setenv(name, value)
    clean_env.setenv(P + "HOURS", "09:00-09:00")
    clean_env.setenv("SYNC_FLOW_2_DAYS", "funday")

    assert main(["check-config"]) == 2

    err = capsys.readouterr().err
    assert re.search(r"^  SYNC_FLOW_1_HOURS=09:00-09:00: starts where it ends", err, re.MULTILINE), err
    assert re.search(r"^  SYNC_FLOW_2_DAYS=funday: 'funday' is not a day", err, re.MULTILINE), err
    assert "Traceback" not in err
