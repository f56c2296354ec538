"""Microsoft accounts: delegated or app-only, the shared app registration, spelling, secrets and typos."""

from __future__ import annotations

from pathlib import Path

import pytest

from calmirror.commands.check_config import summary
from calmirror.config import CalendarRef, MicrosoftAccount, Settings, load_settings
from calmirror.errors import ConfigError

MS_SECRET = "ms-shared-client-secret-60d1"
MS_OWN_SECRET = "ms-own-client-secret-2b7c"
MS_TOKEN = "M.C123_refresh-token-five-9af0"
MS_TOKEN_6 = "M.C123_refresh-token-six-4e1d"
CALENDAR = "AAMkAGI2TGuLAAA="  # a Graph calendar id: case-sensitive


@pytest.fixture
def env(good_env: dict[str, str]) -> dict[str, str]:
    """The good environment plus a delegated Microsoft account (5) on the shared client and a flow from it."""
    return good_env | {
        "MICROSOFT_CLIENT_ID": "shared-app-id",
        "MICROSOFT_CLIENT_SECRET": MS_SECRET,
        "MICROSOFT_ACCOUNT_5_EMAIL": "Dana@Contoso.com",
        "MICROSOFT_ACCOUNT_5_REFRESH_TOKEN": MS_TOKEN,
        "SYNC_FLOW_5_NAME": "Outlook to personal",
        "SYNC_FLOW_5_SOURCE_ACCOUNT_ID": "5",
        "SYNC_FLOW_5_SOURCE_CALENDAR_ID": "primary",
        "SYNC_FLOW_5_TARGET_ACCOUNT_ID": "2",
        "SYNC_FLOW_5_TARGET_CALENDAR_ID": "bob@example.com",
    }


def _app(n: int = 6) -> dict[str, str]:
    """Return the variables of an app-only account n in the Contoso tenant, on the shared client."""
    return {
        f"MICROSOFT_ACCOUNT_{n}_EMAIL": "room@contoso.com",
        f"MICROSOFT_ACCOUNT_{n}_AUTH": "app",
        f"MICROSOFT_ACCOUNT_{n}_TENANT_ID": "contoso.onmicrosoft.com",
    }


def _load(env: dict[str, str], **where: Path | None) -> Settings:
    """Return the settings of `env` alone (or with a credentials directory)."""
    return load_settings(env, env_file=None, credentials_directory=where.get("credentials"))


def _problems(env: dict[str, str]) -> list[str]:
    """Return the problems load_settings reports for `env` (which must be invalid)."""
    with pytest.raises(ConfigError) as caught:
        _load(env)
    return caught.value.problems


def test_a_delegated_account_loads_on_the_shared_app_registration(env: dict[str, str]) -> None:
    """The account gets the shared client id, secret and tenant, and the flow names its own calendar."""
    settings = _load(env)

    account = settings.account(5)
    assert isinstance(account, MicrosoftAccount)
    assert (account.provider, account.email, account.auth) == ("microsoft", "dana@contoso.com", "delegated")
    assert (account.client_id, account.tenant_id) == ("shared-app-id", "common")
    assert account.client_secret is not None
    assert account.client_secret.get_secret_value() == MS_SECRET
    assert account.refresh_token is not None
    assert account.refresh_token.get_secret_value() == MS_TOKEN
    assert settings.flows[2].source == CalendarRef(account_id=5, calendar_id="primary")
    assert (settings.microsoft_graph_root_url, settings.microsoft_login_url) == (
        "https://graph.microsoft.com/v1.0",
        "https://login.microsoftonline.com",
    )
    assert settings.warnings == ()


def test_a_public_client_needs_no_secret(env: dict[str, str]) -> None:
    """A delegated account on a public client (no secret anywhere) loads with client_secret None."""
    del env["MICROSOFT_CLIENT_SECRET"]
    assert _load(env).microsoft_accounts[5].client_secret is None


def test_an_accounts_own_client_and_tenant_override_the_shared_ones(env: dict[str, str]) -> None:
    """Its own _CLIENT_ID comes with its own secret or none (never the shared one); _TENANT_ID overrides."""
    env |= {"MICROSOFT_TENANT_ID": "fabrikam.com", "MICROSOFT_ACCOUNT_5_CLIENT_ID": "own-app-id"}
    account = _load(env).microsoft_accounts[5]
    assert (account.client_id, account.client_secret, account.tenant_id) == (
        "own-app-id",
        None,
        "fabrikam.com",
    )

    env |= {
        "MICROSOFT_ACCOUNT_5_CLIENT_SECRET": MS_OWN_SECRET,
        "MICROSOFT_ACCOUNT_5_TENANT_ID": "contoso.com",
    }
    account = _load(env).microsoft_accounts[5]
    assert account.client_secret is not None
    assert account.client_secret.get_secret_value() == MS_OWN_SECRET
    assert account.tenant_id == "contoso.com"


@pytest.mark.parametrize(
    ("written", "spelt"),
    [
        ("primary", "primary"),
        ("PRIMARY", "primary"),
        ("dana@contoso.com", "primary"),
        ("DANA@contoso.COM", "primary"),
        (CALENDAR, CALENDAR),
    ],
)
def test_a_microsoft_calendar_is_primary_or_its_graph_id_as_written(
    env: dict[str, str], written: str, spelt: str
) -> None:
    """The account's own calendar is `primary` however it is written; a Graph id keeps its case."""
    env["SYNC_FLOW_5_SOURCE_CALENDAR_ID"] = written
    assert _load(env).flows[2].source.calendar_id == spelt


def test_primary_of_two_mailboxes_is_two_calendars(env: dict[str, str]) -> None:
    """`primary` of account 5 into `primary` of account 6 joins two mailboxes: not a self-mirror."""
    env |= _app() | {"SYNC_FLOW_5_TARGET_ACCOUNT_ID": "6", "SYNC_FLOW_5_TARGET_CALENDAR_ID": "primary"}
    flow = _load(env).flows[2]
    assert (flow.source, flow.target) == (
        CalendarRef(account_id=5, calendar_id="primary"),
        CalendarRef(account_id=6, calendar_id="primary"),
    )


def test_an_app_only_account_loads_with_its_tenant_and_the_shared_secret(env: dict[str, str]) -> None:
    """AUTH=app (any case) needs no refresh token: the client secret and a real tenant sign it in."""
    env |= _app() | {"MICROSOFT_ACCOUNT_6_AUTH": "App"}
    account = _load(env).microsoft_accounts[6]
    assert (account.auth, account.tenant_id, account.refresh_token) == (
        "app",
        "contoso.onmicrosoft.com",
        None,
    )
    assert "MICROSOFT_CLIENT_SECRET" in account.renewal()
    assert "admin consent" in account.renewal()


def test_every_problem_of_an_app_only_account_is_named_at_once(env: dict[str, str]) -> None:
    """Without a secret, in a shared tenant and with a refresh token: three problems, each its variable."""
    del env["MICROSOFT_CLIENT_SECRET"]
    env |= _app() | {
        "MICROSOFT_ACCOUNT_6_TENANT_ID": "organizations",
        "MICROSOFT_ACCOUNT_6_REFRESH_TOKEN": MS_TOKEN_6,
    }
    problems = _problems(env)
    assert [problem.split(":")[0] for problem in problems] == [
        "MICROSOFT_ACCOUNT_6_CLIENT_SECRET",
        "MICROSOFT_ACCOUNT_6_TENANT_ID=organizations",
        "MICROSOFT_ACCOUNT_6_REFRESH_TOKEN",
    ]
    assert "client secret" in problems[0]
    assert "tenant's id or domain" in problems[1]
    assert "remove it" in problems[2]
    assert not any(MS_TOKEN_6 in problem for problem in problems)


def test_a_delegated_account_without_a_refresh_token_says_how_to_get_one(env: dict[str, str]) -> None:
    """The problem names the variable and the authorize command for this account."""
    del env["MICROSOFT_ACCOUNT_5_REFRESH_TOKEN"]
    assert _problems(env) == [
        "MICROSOFT_ACCOUNT_5_REFRESH_TOKEN: missing; AUTH=delegated acts as the user through a refresh "
        "token: run `calmirror authorize --provider microsoft --email dana@contoso.com --account-number 5`"
    ]


def test_missing_client_id_and_a_secret_without_its_id_are_problems(env: dict[str, str]) -> None:
    """No client id anywhere, and an own or shared secret with no id to belong to, each name the fix."""
    del env["MICROSOFT_CLIENT_ID"]
    env["MICROSOFT_ACCOUNT_5_CLIENT_SECRET"] = MS_OWN_SECRET
    problems = _problems(env)
    assert [problem.split(":")[0] for problem in problems] == [
        "MICROSOFT_CLIENT_SECRET",
        "MICROSOFT_ACCOUNT_5_CLIENT_ID",
    ]
    assert "MICROSOFT_CLIENT_ID" in problems[0]
    assert "own client id" in problems[1]
    assert not any(MS_SECRET in p or MS_OWN_SECRET in p for p in problems)


def test_a_missing_email_or_a_bad_auth_is_named(env: dict[str, str]) -> None:
    """_EMAIL is required; _AUTH is delegated or app."""
    env["MICROSOFT_ACCOUNT_5_AUTH"] = "device"
    del env["MICROSOFT_ACCOUNT_5_EMAIL"]
    assert sorted(_problems(env)) == [
        "MICROSOFT_ACCOUNT_5_AUTH=device: not one of delegated, app",
        "MICROSOFT_ACCOUNT_5_EMAIL: missing (the mailbox's address)",
    ]


def test_one_number_space_with_the_other_providers(env: dict[str, str]) -> None:
    """A Microsoft account numbered like a Google one is a problem naming both."""
    env |= {
        "MICROSOFT_ACCOUNT_2_EMAIL": "erin@contoso.com",
        "MICROSOFT_ACCOUNT_2_REFRESH_TOKEN": MS_TOKEN_6,
    }
    assert (
        "GOOGLE_ACCOUNT_2_* and MICROSOFT_ACCOUNT_2_*: an account number names one account; "
        "renumber one of them" in _problems(env)
    )


def test_secrets_are_redacted_listed_and_read_from_credential_files(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The refresh token and client secrets are Settings.secrets(), and LoadCredential= files supply them."""
    del env["MICROSOFT_ACCOUNT_5_REFRESH_TOKEN"], env["MICROSOFT_CLIENT_SECRET"]
    (tmp_path / "MICROSOFT_ACCOUNT_5_REFRESH_TOKEN").write_text(MS_TOKEN + "\n")
    (tmp_path / "MICROSOFT_CLIENT_SECRET").write_text(MS_SECRET + "\n")
    settings = _load(env, credentials=tmp_path)

    assert {MS_TOKEN, MS_SECRET} <= set(settings.secrets())
    assert MS_TOKEN not in repr(settings)
    assert MS_SECRET not in repr(settings)


def test_a_secret_in_a_wrong_place_is_masked(env: dict[str, str]) -> None:
    """A refresh token pasted as the tenant of an app account shows nowhere in the problems."""
    env |= _app() | {"MICROSOFT_ACCOUNT_6_TENANT_ID": "common", "MICROSOFT_ACCOUNT_6_REFRESH_TOKEN": MS_TOKEN}
    assert not any(MS_TOKEN in problem for problem in _problems(env))


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("MICROSOFT_ACCOUNT_5_REFRESH_TOKN", "MICROSOFT_ACCOUNT_5_REFRESH_TOKEN"),
        ("MICROSOFT_5_TENANT_ID", "MICROSOFT_ACCOUNT_5_TENANT_ID"),
    ],
)
def test_a_misspelt_account_variable_is_an_error_with_its_fix(
    env: dict[str, str], name: str, meant: str
) -> None:
    """Ignoring it would silently leave the account without it; the problem names the likely variable."""
    env[name] = "x"
    assert _problems(env) == [f"{name}: not a calmirror variable (did you mean {meant}?)"]


@pytest.mark.parametrize(
    ("name", "meant"),
    [("MICROSOFT_TENNANT_ID", "MICROSOFT_TENANT_ID"), ("MICROSOFT_GRAPH_ROOT", "MICROSOFT_GRAPH_ROOT_URL")],
)
def test_a_shared_microsoft_name_near_ours_warns_with_its_fix(
    env: dict[str, str], name: str, meant: str
) -> None:
    """Other tools use MICROSOFT_* names too: like GOOGLE_*, a near one is a warning naming ours."""
    env[name] = "x"
    assert _load(env).warnings == (f"{name}: not a calmirror variable, ignored (did you mean {meant}?)",)


@pytest.mark.parametrize("name", ["MICROSOFT_GRAPH_ROOT_URL", "MICROSOFT_LOGIN_URL"])
def test_microsoft_addresses_are_https_or_loopback(env: dict[str, str], name: str) -> None:
    """Credentials go over https://, or http:// to this machine (an emulator); a trailing slash is dropped."""
    env[name] = "http://127.0.0.1:8001/v1.0/"
    assert getattr(_load(env), name.lower()) == "http://127.0.0.1:8001/v1.0"
    env[name] = "http://graph.example.net/v1.0"
    assert _problems(env) == [
        f"{name}=http://graph.example.net/v1.0: an http:// address of another machine; credentials go over "
        "https:// only"
    ]


def test_check_config_describes_each_microsoft_account_without_secrets(env: dict[str, str]) -> None:
    """The summary line says the address, the sign-in, the client and the tenant; no secret value."""
    env |= _app()
    lines = summary(_load(env))
    assert (
        "  5: microsoft dana@contoso.com  delegated  client shared-app-id (secret set)  tenant common"
        "  refresh token set" in lines
    )
    assert (
        "  6: microsoft room@contoso.com  app  client shared-app-id (secret set)"
        "  tenant contoso.onmicrosoft.com" in lines
    )
    assert not any(MS_SECRET in line or MS_TOKEN in line for line in lines)


def test_one_mailbox_under_two_accounts_whose_addresses_differ_in_case_is_one_calendar(
    env: dict[str, str],
) -> None:
    """Two accounts of dana@contoso.com (one written in capitals) targeting `primary` target one calendar."""
    env |= _app() | {
        "MICROSOFT_ACCOUNT_6_EMAIL": "dana@contoso.com",
        "SYNC_FLOW_5_SOURCE_ACCOUNT_ID": "2",
        "SYNC_FLOW_5_SOURCE_CALENDAR_ID": "bob@example.com",
        "SYNC_FLOW_5_TARGET_ACCOUNT_ID": "5",
        "SYNC_FLOW_5_TARGET_CALENDAR_ID": "primary",
        "SYNC_FLOW_6_NAME": "Personal to Outlook again",
        "SYNC_FLOW_6_SOURCE_ACCOUNT_ID": "2",
        "SYNC_FLOW_6_SOURCE_CALENDAR_ID": "bob@example.com",
        "SYNC_FLOW_6_TARGET_ACCOUNT_ID": "6",
        "SYNC_FLOW_6_TARGET_CALENDAR_ID": "Dana@Contoso.com",
    }
    [problem] = _problems(env)
    assert problem.startswith("SYNC_FLOW_6_TARGET_CALENDAR_ID")
    assert "the same calendar as the target of SYNC_FLOW_5" in problem
