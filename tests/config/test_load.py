"""Good environments: load_settings builds the typed accounts, flows and settings they describe."""

from __future__ import annotations

from datetime import time

import pytest

from calmirror.config import CalendarRef, Flow, GoogleAccount, Settings, load_settings


def _load(env: dict[str, str]) -> Settings:
    """Load `env` alone: no .env file, no credential directory."""
    return load_settings(env, env_file=None, credentials_directory=None)


def test_good_environment_builds_accounts_and_flows(good_env: dict[str, str]) -> None:
    """Accounts are keyed by N, use their own or the shared client, and flows refer to them."""
    settings = _load(good_env)
    assert settings.google_accounts[1] == GoogleAccount(
        id=1,
        email="alice@example.com",
        client_id="shared.apps.googleusercontent.com",
        client_secret="shared-client-secret-7f3a",
        refresh_token="1//refresh-token-one-a8e2",
        shared_client=True,
    )
    assert settings.google_accounts[2].client_id == "own.apps.googleusercontent.com"
    assert settings.google_accounts[2].client_secret.get_secret_value() == "own-client-secret-91bc"
    assert not settings.google_accounts[2].shared_client
    assert settings.flows == (
        Flow(
            id=1,
            name="Work to personal",
            source=CalendarRef(account_id=1, calendar_id="alice@example.com"),
            target=CalendarRef(account_id=2, calendar_id="bob@example.com"),
            start_offset=5,
            end_offset=10,
        ),
        Flow(
            id=2,
            name="Personal to work",
            source=CalendarRef(account_id=2, calendar_id="bob@example.com"),
            target=CalendarRef(account_id=1, calendar_id="alice@example.com"),
            start_offset=0,
            end_offset=0,
        ),
    )
    assert settings.webhook_base_url == "https://calmirror.example.com"
    assert settings.warnings == ()


def test_defaults_apply_when_optional_variables_are_unset(good_env: dict[str, str]) -> None:
    """Without the optional variables every default from the design applies; no webhook means polling."""
    del good_env["WEBHOOK_BASE_URL"], good_env["WEBHOOK_API_KEY"]
    settings = _load(good_env)
    assert (settings.flows[1].min_participants, settings.flows[1].block_title) == (2, "Busy")
    assert settings.sync_interval_minutes == 60
    assert settings.daily_reconcile_time == time(6, 0)
    assert (settings.daily_reconcile_days_back, settings.daily_reconcile_days_forward) == (2, 14)
    assert (settings.webhook_base_url, settings.webhook_api_key) == (None, None)
    assert (settings.log_level, settings.listen_host, settings.listen_port) == ("INFO", "127.0.0.1", 8000)
    assert settings.google_api_root_url == "https://www.googleapis.com/"
    assert settings.google_token_uri == "https://oauth2.googleapis.com/token"


def test_every_optional_variable_is_read(good_env: dict[str, str]) -> None:
    """Each optional variable overrides its default, normalised (level upper case, root with a slash)."""
    good_env |= {
        "SYNC_FLOW_1_MIN_PARTICIPANTS": "3",
        "SYNC_FLOW_1_BLOCK_TITLE": "Occupied",
        "SYNC_INTERVAL_MINUTES": "15",
        "DAILY_RECONCILE_TIME": "23:30",
        "DAILY_RECONCILE_DAYS_BACK": "0",
        "DAILY_RECONCILE_DAYS_FORWARD": "30",
        "WEBHOOK_BASE_URL": "https://calmirror.example.com/hooks/",
        "LOG_LEVEL": "debug",
        "LISTEN_HOST": "192.0.2.10",
        "LISTEN_PORT": "0",
        "GOOGLE_API_ROOT_URL": "http://127.0.0.1:9000",
        "GOOGLE_TOKEN_URI": "http://127.0.0.1:9000/token",
    }
    settings = _load(good_env)
    assert (settings.flows[0].min_participants, settings.flows[0].block_title) == (3, "Occupied")
    assert settings.sync_interval_minutes == 15
    assert settings.daily_reconcile_time == time(23, 30)
    assert (settings.daily_reconcile_days_back, settings.daily_reconcile_days_forward) == (0, 30)
    assert settings.webhook_base_url == "https://calmirror.example.com/hooks"
    assert (settings.log_level, settings.listen_host, settings.listen_port) == ("DEBUG", "192.0.2.10", 0)
    assert settings.google_api_root_url == "http://127.0.0.1:9000/"
    assert settings.google_token_uri == "http://127.0.0.1:9000/token"


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        (
            {"SYNC_FLOW_1_SOURCE_CALENDAR_ID": "primary"},
            lambda s: s.flows[0].source.calendar_id == "alice@example.com",
        ),
        ({"LOG_LEVEL": "warn"}, lambda s: s.log_level == "WARNING"),
        ({"SYNC_FLOW_1_NAME": "  Work  "}, lambda s: s.flows[0].name == "Work"),
        (
            {"GOOGLE_ACCOUNT_1_REFRESH_TOKEN": "1//tok\n"},
            lambda s: s.account(1).refresh_token.get_secret_value() == "1//tok",
        ),
        ({"SYNC_INTERVAL_MINUTES": ""}, lambda s: s.sync_interval_minutes == 60),
        ({"DAILY_RECONCILE_TIME": "7:05"}, lambda s: s.daily_reconcile_time == time(7, 5)),
        ({"SYNC_FLOW_1_END_OFFSET": "+15"}, lambda s: s.flows[0].end_offset == 15),
        (
            {"GOOGLE_ACCOUNT_1_EMAIL": "Alice@Example.com", "SYNC_FLOW_1_SOURCE_CALENDAR_ID": "primary"},
            lambda s: s.flows[0].source.calendar_id == "alice@example.com",
        ),
    ],
    ids=[
        "primary-is-the-email",
        "warn",
        "trimmed",
        "token-newline",
        "empty-is-unset",
        "one-digit-hour",
        "plus",
        "email-lower-case",
    ],
)
def test_good_variants(good_env: dict[str, str], changes: dict[str, str], check: object) -> None:
    """Harmless spellings are accepted and normalised."""
    good_env |= changes
    assert callable(check)
    assert check(_load(good_env))


def test_account_zero_and_sparse_numbers_are_fine(good_env: dict[str, str]) -> None:
    """N need not start at 1 or be contiguous: accounts 0 and 5, flow 9."""
    env = {
        "GOOGLE_CLIENT_ID": "c",
        "GOOGLE_CLIENT_SECRET": "s",
        "GOOGLE_ACCOUNT_0_EMAIL": "zero@example.com",
        "GOOGLE_ACCOUNT_0_REFRESH_TOKEN": "t0",
        "GOOGLE_ACCOUNT_5_EMAIL": "five@example.com",
        "GOOGLE_ACCOUNT_5_REFRESH_TOKEN": "t5",
        "SYNC_FLOW_9_NAME": "n",
        "SYNC_FLOW_9_SOURCE_ACCOUNT_ID": "0",
        "SYNC_FLOW_9_SOURCE_CALENDAR_ID": "primary",
        "SYNC_FLOW_9_TARGET_ACCOUNT_ID": "5",
        "SYNC_FLOW_9_TARGET_CALENDAR_ID": "primary",
    }
    settings = _load(env)
    assert sorted(settings.accounts) == [0, 5]
    assert [flow.id for flow in settings.flows] == [9]


def test_given_environ_means_os_environ_is_not_read(
    good_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an explicit environ, variables and CREDENTIALS_DIRECTORY in os.environ are ignored."""
    monkeypatch.setenv("GOOGLE_ACCOUNT_9_EMAIL", "stray@example.com")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/nonexistent/credentials")
    settings = load_settings(good_env, env_file=None)
    assert 9 not in settings.accounts


def test_helpers_answer_questions_about_the_flows(good_env: dict[str, str]) -> None:
    """account(), targets(), flows_into() and flows_from() select by id and calendar."""
    settings = _load(good_env)
    alice = CalendarRef(account_id=1, calendar_id="alice@example.com")
    bob = CalendarRef(account_id=2, calendar_id="bob@example.com")
    assert settings.account(2).email == "bob@example.com"
    assert settings.targets() == (bob, alice)
    assert [flow.id for flow in settings.flows_into(alice)] == [2]
    assert [flow.id for flow in settings.flows_from(alice)] == [1]
    with pytest.raises(KeyError):
        settings.account(3)


def test_secrets_lists_every_secret_value(good_env: dict[str, str], secrets: tuple[str, ...]) -> None:
    """secrets() returns every client secret, refresh token and the webhook key, for log redaction."""
    assert set(_load(good_env).secrets()) == set(secrets)


def test_settings_repr_shows_no_secret(good_env: dict[str, str], secrets: tuple[str, ...]) -> None:
    """Printing the settings object (as a careless log line might) shows no secret."""
    text = repr(_load(good_env)) + str(_load(good_env))
    assert not [secret for secret in secrets if secret in text]
