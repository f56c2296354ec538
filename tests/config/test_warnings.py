"""Suspicious but runnable settings: warnings that name the variable, never its value."""

from __future__ import annotations

import pytest

from calmirror.config import load_settings
from calmirror.errors import ConfigError


def _warnings(env: dict[str, str]) -> tuple[str, ...]:
    """Return the warnings of a valid environment."""
    return load_settings(env, env_file=None, credentials_directory=None).warnings


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "SYNC_FLOW_1_END_OFSET",
            "SYNC_FLOW_1_END_OFSET: not a calmirror variable (did you mean SYNC_FLOW_1_END_OFFSET?)",
        ),
        (
            "SYNC_FLOW_1_SOURCE_CALENDAR",
            "SYNC_FLOW_1_SOURCE_CALENDAR: not a calmirror variable "
            "(did you mean SYNC_FLOW_1_SOURCE_CALENDAR_ID?)",
        ),
        (
            "GOOGLE_ACCOUNT_1_TOKEN",
            "GOOGLE_ACCOUNT_1_TOKEN: not a calmirror variable (did you mean GOOGLE_ACCOUNT_1_REFRESH_TOKEN?)",
        ),
        (
            "DAILY_RECONCILE_DAYS",
            "DAILY_RECONCILE_DAYS: not a calmirror variable (did you mean DAILY_RECONCILE_DAYS_BACK?)",
        ),
        (
            "SYNC_INTERVAL_MINUTE",
            "SYNC_INTERVAL_MINUTE: not a calmirror variable (did you mean SYNC_INTERVAL_MINUTES?)",
        ),
        ("LISTEN_PROT", "LISTEN_PROT: not a calmirror variable (did you mean LISTEN_PORT?)"),
        ("SYNC_FLOW_1_ZZZ", "SYNC_FLOW_1_ZZZ: not a calmirror variable"),
        (
            "DELETON_GUARD_PERCENT",
            "DELETON_GUARD_PERCENT: not a calmirror variable (did you mean DELETION_GUARD_PERCENT?)",
        ),
        ("LOG_LEVLE", "LOG_LEVLE: not a calmirror variable (did you mean LOG_LEVEL?)"),
    ],
)
def test_unknown_name_under_an_owned_prefix_or_a_near_miss_is_a_problem(
    good_env: dict[str, str], name: str, expected: str
) -> None:
    """A misspelt calmirror variable fails validation with the closest name, never showing its value."""
    good_env[name] = "1//value-that-must-not-show"
    with pytest.raises(ConfigError) as caught:
        load_settings(good_env, env_file=None, credentials_directory=None)
    assert caught.value.problems == [expected]
    assert "value-that-must-not-show" not in str(caught.value.problems)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "GOOGLE_ACOUNT_1_EMAIL",
            "GOOGLE_ACOUNT_1_EMAIL: not a calmirror variable, ignored (did you mean GOOGLE_ACCOUNT_1_EMAIL?)",
        ),
        (
            "GOOGLE_CLIENTSECRET",
            "GOOGLE_CLIENTSECRET: not a calmirror variable, ignored (did you mean GOOGLE_CLIENT_SECRET?)",
        ),
        ("WEBHOOK_URL", "WEBHOOK_URL: not a calmirror variable, ignored (did you mean WEBHOOK_BASE_URL?)"),
    ],
)
def test_likely_typo_outside_owned_prefixes_warns(good_env: dict[str, str], name: str, expected: str) -> None:
    """A GOOGLE_* name a letter or two from a known one, or an unknown WEBHOOK_* name, is only a warning."""
    good_env[name] = "1//value-that-must-not-show"
    assert _warnings(good_env) == (expected,)


def test_foreign_variables_are_not_warned_about(good_env: dict[str, str]) -> None:
    """Variables other tools own (GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_CLOUD_PROJECT, ...) raise nothing."""
    good_env |= {"GOOGLE_APPLICATION_CREDENTIALS": "/x.json", "GOOGLE_CLOUD_PROJECT": "p", "PATH": "/bin"}
    assert _warnings(good_env) == ()


@pytest.mark.parametrize(("value", "expected"), [("json", "json"), ("TEXT", "text")])
def test_log_format_is_text_or_json(good_env: dict[str, str], value: str, expected: str) -> None:
    """LOG_FORMAT is a known variable: text or json, in any case."""
    good_env["LOG_FORMAT"] = value
    assert load_settings(good_env, env_file=None, credentials_directory=None).log_format == expected


def test_bad_log_format_is_a_problem(good_env: dict[str, str]) -> None:
    """A LOG_FORMAT other than text or json is a problem naming it."""
    good_env["LOG_FORMAT"] = "xml"
    with pytest.raises(ConfigError) as caught:
        load_settings(good_env, env_file=None, credentials_directory=None)
    assert caught.value.problems == ["LOG_FORMAT=xml: not one of text, json"]


def test_http_webhook_and_weak_key_warn(good_env: dict[str, str]) -> None:
    """An http webhook address and a short key are warnings (Google needs https; keys should be random)."""
    good_env |= {"WEBHOOK_BASE_URL": "http://calmirror.example.com", "WEBHOOK_API_KEY": "short"}
    assert _warnings(good_env) == (
        "WEBHOOK_API_KEY: shorter than 16 characters; use a random key",
        "WEBHOOK_BASE_URL=http://calmirror.example.com: "
        "Google and Microsoft Graph only deliver to https:// addresses "
        "(the emulator accepts http only with --allow-http-webhooks)",
    )


def test_webhook_key_without_url_warns(good_env: dict[str, str]) -> None:
    """A webhook key without WEBHOOK_BASE_URL is unused, and says so without showing the key."""
    del good_env["WEBHOOK_BASE_URL"]
    assert _warnings(good_env) == (
        "WEBHOOK_API_KEY: set but unused: WEBHOOK_BASE_URL is not set, so calmirror only polls",
    )


def test_account_without_flow_warns(good_env: dict[str, str]) -> None:
    """A configured account that no flow uses is a warning naming it."""
    good_env |= {"GOOGLE_ACCOUNT_3_EMAIL": "carol@example.com", "GOOGLE_ACCOUNT_3_REFRESH_TOKEN": "1//c"}
    assert _warnings(good_env) == ("GOOGLE_ACCOUNT_3_*: account 3 is used by no flow",)


def test_account_of_a_broken_flow_is_not_called_unused(good_env: dict[str, str]) -> None:
    """An account only a refused flow uses gets no unused-account warning: the flow's problem says it all."""
    good_env |= {
        "GOOGLE_ACCOUNT_3_EMAIL": "carol@example.com",
        "GOOGLE_ACCOUNT_3_REFRESH_TOKEN": "1//c",
        "SYNC_FLOW_3_NAME": "Carol to Alice",
        "SYNC_FLOW_3_SOURCE_ACCOUNT_ID": "3",
        "SYNC_FLOW_3_SOURCE_CALENDAR_ID": "primary",
        "SYNC_FLOW_3_TARGET_ACCOUNT_ID": "1",
        "SYNC_FLOW_3_TARGET_CALENDAR_ID": "primary",
        "SYNC_FLOW_3_START_OFFSET": "soon",
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(good_env, env_file=None, credentials_directory=None)
    assert caught.value.problems == ["SYNC_FLOW_3_START_OFFSET=soon: not a whole number"]
    assert caught.value.warnings == ()
