"""CalDAV accounts and ICS feeds: their variables, one number space with Google's, rules per provider."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from calmirror.cli import main
from calmirror.config import (
    FEED_CALENDAR_ID,
    CalDavAccount,
    CalendarRef,
    IcsAccount,
    Settings,
    load_settings,
)
from calmirror.errors import ConfigError

PASSWORD = "caldav-app-password-3e9f"
FEED = "https://feeds.example.net/private/feed-token-77aa10/basic.ics"
FASTMAIL = "https://caldav.fastmail.com/dav/"
CAROL_DEFAULT = "https://caldav.fastmail.com/dav/calendars/user/carol@fastmail.com/Default/"
ONE_ACCOUNT = "an account number names one account; renumber one of them"


@pytest.fixture
def env(good_env: dict[str, str]) -> dict[str, str]:
    """The good environment plus a Fastmail account (3), an ICS feed (4) and a flow from each."""
    return good_env | {
        "CALDAV_ACCOUNT_3_URL": FASTMAIL,
        "CALDAV_ACCOUNT_3_USERNAME": "carol@fastmail.com",
        "CALDAV_ACCOUNT_3_PASSWORD": PASSWORD,
        "ICS_ACCOUNT_4_URL": FEED,
        "SYNC_FLOW_3_NAME": "Fastmail to work",
        "SYNC_FLOW_3_SOURCE_ACCOUNT_ID": "3",
        "SYNC_FLOW_3_SOURCE_CALENDAR_ID": "/dav/calendars/user/carol@fastmail.com/Default",
        "SYNC_FLOW_3_TARGET_ACCOUNT_ID": "1",
        "SYNC_FLOW_3_TARGET_CALENDAR_ID": "primary",
        "SYNC_FLOW_4_NAME": "Feed to personal",
        "SYNC_FLOW_4_SOURCE_ACCOUNT_ID": "4",
        "SYNC_FLOW_4_TARGET_ACCOUNT_ID": "2",
        "SYNC_FLOW_4_TARGET_CALENDAR_ID": "bob@example.com",
    }


def _load(env: dict[str, str]) -> Settings:
    """Return the settings of `env` alone."""
    return load_settings(env, env_file=None, credentials_directory=None)


def _problems(env: dict[str, str]) -> list[str]:
    """Return the problems load_settings reports for `env` (which must be invalid)."""
    with pytest.raises(ConfigError) as caught:
        _load(env)
    return caught.value.problems


def test_caldav_and_ics_accounts_load_with_their_defaults(env: dict[str, str]) -> None:
    """Both families load, each account knows its provider, and Settings finds every account by N."""
    settings = _load(env)

    assert settings.caldav_accounts == {
        3: CalDavAccount(
            id=3, url=FASTMAIL, username="carol@fastmail.com", password=SecretStr(PASSWORD), poll_minutes=5
        )
    }
    assert settings.caldav_accounts[3].password.get_secret_value() == PASSWORD
    feed = settings.ics_accounts[4]
    assert (feed.url.get_secret_value(), feed.email, feed.poll_minutes) == (FEED, None, 15)
    assert {n: account.provider for n, account in settings.accounts.items()} == {
        1: "google",
        2: "google",
        3: "caldav",
        4: "ics",
    }
    assert isinstance(settings.account(4), IcsAccount)
    assert sorted(settings.google_accounts) == [1, 2]
    assert settings.warnings == ()


def test_optional_variables_are_read(env: dict[str, str]) -> None:
    """_EMAIL (lower-cased, as Google's) and _POLL_MINUTES are read when set."""
    env |= {
        "CALDAV_ACCOUNT_3_EMAIL": "Carol@Fastmail.com",
        "CALDAV_ACCOUNT_3_POLL_MINUTES": "1",
        "ICS_ACCOUNT_4_EMAIL": "carol@example.com",
        "ICS_ACCOUNT_4_POLL_MINUTES": "1440",
    }
    settings = _load(env)
    assert (settings.caldav_accounts[3].email, settings.caldav_accounts[3].poll_minutes) == (
        "carol@fastmail.com",
        1,
    )
    assert (settings.ics_accounts[4].email, settings.ics_accounts[4].poll_minutes) == (
        "carol@example.com",
        1440,
    )


@pytest.mark.parametrize("name", ["CALDAV_ACCOUNT_3_POLL_MINUTES", "ICS_ACCOUNT_4_POLL_MINUTES"])
@pytest.mark.parametrize("value", ["0", "1441"])
def test_poll_minutes_are_bounded(env: dict[str, str], name: str, value: str) -> None:
    """A poll interval outside 1..1440 minutes is a problem stating the bounds."""
    env[name] = value
    assert _problems(env) == [f"{name}={value}: must be at least 1 and at most 1440"]


@pytest.mark.parametrize(
    "name",
    ["CALDAV_ACCOUNT_3_URL", "CALDAV_ACCOUNT_3_USERNAME", "CALDAV_ACCOUNT_3_PASSWORD", "ICS_ACCOUNT_4_URL"],
)
def test_a_required_variable_missing_is_named(env: dict[str, str], name: str) -> None:
    """An account without a required variable is a problem naming exactly that variable."""
    env["ICS_ACCOUNT_4_EMAIL"] = "carol@example.com"  # so that the feed stays configured without its URL
    del env[name]
    assert [problem.split(":")[0] for problem in _problems(env)] == [name]


@pytest.mark.parametrize(
    ("calendar_id", "spelt"),
    [
        ("/dav/calendars/user/carol@fastmail.com/Default", CAROL_DEFAULT),
        ("/dav/calendars/user/carol@fastmail.com/Default/", CAROL_DEFAULT),
        ("https://CalDAV.Fastmail.com/dav/calendars/user/carol@fastmail.com/Default", CAROL_DEFAULT),
        ("calendars/user/carol@fastmail.com/Default", CAROL_DEFAULT),  # relative to the account's URL
    ],
)
def test_a_caldav_calendar_is_spelt_as_its_absolute_url(
    env: dict[str, str], calendar_id: str, spelt: str
) -> None:
    """A path or URL of a CalDAV collection loads as its absolute URL with a trailing slash: one spelling."""
    env["SYNC_FLOW_3_SOURCE_CALENDAR_ID"] = calendar_id
    assert _load(env).flows[2].source == CalendarRef(account_id=3, calendar_id=spelt)


def test_two_spellings_of_one_caldav_target_are_one_calendar(env: dict[str, str]) -> None:
    """Flows into one CalDAV collection, one by path and one by URL, share its one target."""
    env |= {
        "SYNC_FLOW_3_SOURCE_ACCOUNT_ID": "1",
        "SYNC_FLOW_3_SOURCE_CALENDAR_ID": "primary",
        "SYNC_FLOW_3_TARGET_ACCOUNT_ID": "3",
        "SYNC_FLOW_3_TARGET_CALENDAR_ID": "/dav/calendars/user/carol@fastmail.com/Default",
        "SYNC_FLOW_5_NAME": "Personal to Fastmail",
        "SYNC_FLOW_5_SOURCE_ACCOUNT_ID": "2",
        "SYNC_FLOW_5_SOURCE_CALENDAR_ID": "primary",
        "SYNC_FLOW_5_TARGET_ACCOUNT_ID": "3",
        "SYNC_FLOW_5_TARGET_CALENDAR_ID": CAROL_DEFAULT.rstrip("/"),
    }
    settings = _load(env)
    target = CalendarRef(account_id=3, calendar_id=CAROL_DEFAULT)
    assert [flow.name for flow in settings.flows_into(target)] == ["Fastmail to work", "Personal to Fastmail"]


@pytest.mark.parametrize(
    ("calendar_id", "server"),
    [
        ("https://calendar.evil.example/dav/calendars/carol/", "caldav.fastmail.com"),
        ("//calendar.evil.example/dav/calendars/carol/", "caldav.fastmail.com"),
    ],
)
def test_a_caldav_calendar_off_the_accounts_server_is_refused(
    env: dict[str, str], calendar_id: str, server: str
) -> None:
    """A calendar on another host would be sent the password: refused."""
    env["SYNC_FLOW_3_SOURCE_CALENDAR_ID"] = calendar_id
    assert _problems(env) == [
        f"SYNC_FLOW_3_SOURCE_CALENDAR_ID={calendar_id}: not on the server of account 3 (CALDAV_ACCOUNT_3_*) "
        f"({server}); calmirror sends the account's password to no other"
    ]


def test_an_icloud_calendar_on_its_partition_host_is_the_accounts(env: dict[str, str]) -> None:
    """iCloud keeps calendars on pNN-caldav.icloud.com behind caldav.icloud.com: the same server."""
    home = "https://p42-caldav.icloud.com/1234567890/calendars/home/"
    env |= {"CALDAV_ACCOUNT_3_URL": "https://caldav.icloud.com/", "SYNC_FLOW_3_SOURCE_CALENDAR_ID": home}
    assert _load(env).flows[2].source.calendar_id == home


def test_primary_is_a_google_or_microsoft_calendar_only(env: dict[str, str]) -> None:
    """`primary` names a Google or Microsoft account's own calendar; for a CalDAV account it is a problem."""
    env["SYNC_FLOW_3_SOURCE_CALENDAR_ID"] = "primary"
    assert _problems(env) == [
        "SYNC_FLOW_3_SOURCE_CALENDAR_ID=primary: `primary` names a Google or Microsoft account's own "
        "calendar; account 3 (CALDAV_ACCOUNT_3_*) is neither"
    ]


def test_a_flow_from_a_feed_reads_its_one_calendar(env: dict[str, str]) -> None:
    """SOURCE_CALENDAR_ID may be left out for a feed (or be FEED_CALENDAR_ID); the flow reads the feed."""
    expected = CalendarRef(account_id=4, calendar_id=FEED_CALENDAR_ID)
    assert _load(env).flows[3].source == expected
    env["SYNC_FLOW_4_SOURCE_CALENDAR_ID"] = FEED_CALENDAR_ID
    assert _load(env).flows[3].source == expected


def test_a_feed_has_no_other_calendar(env: dict[str, str]) -> None:
    """Any other calendar id for a feed is a problem saying to leave it out."""
    env["SYNC_FLOW_4_SOURCE_CALENDAR_ID"] = "holidays"
    assert _problems(env) == [
        "SYNC_FLOW_4_SOURCE_CALENDAR_ID=holidays: account 4 (ICS_ACCOUNT_4_*) is an ICS feed, which is one "
        "calendar: leave this variable out"
    ]


def test_a_feed_cannot_be_a_target(env: dict[str, str]) -> None:
    """A flow into an ICS account is refused: calmirror cannot write to a feed."""
    env |= {"SYNC_FLOW_1_TARGET_ACCOUNT_ID": "4", "SYNC_FLOW_1_TARGET_CALENDAR_ID": FEED_CALENDAR_ID}
    assert _problems(env) == [
        "SYNC_FLOW_1_TARGET_ACCOUNT_ID=4: account 4 (ICS_ACCOUNT_4_*) is an ICS feed, which calmirror can "
        "only read: a feed can be a flow's source, never its target"
    ]


def test_one_n_in_two_families_is_one_problem_among_the_others(env: dict[str, str]) -> None:
    """GOOGLE_ACCOUNT_1_* and CALDAV_ACCOUNT_1_* is one problem naming both, listed with every other one."""
    env |= {
        "CALDAV_ACCOUNT_1_URL": FASTMAIL,
        "CALDAV_ACCOUNT_1_USERNAME": "dave@fastmail.com",
        "CALDAV_ACCOUNT_1_PASSWORD": PASSWORD,
        "ICS_ACCOUNT_2_URL": FEED,
        "ICS_ACCOUNT_4_POLL_MINUTES": "0",
        "LISTEN_PORT": "eighty",
    }
    assert _problems(env) == [
        f"GOOGLE_ACCOUNT_1_* and CALDAV_ACCOUNT_1_*: {ONE_ACCOUNT}",
        f"GOOGLE_ACCOUNT_2_* and ICS_ACCOUNT_2_*: {ONE_ACCOUNT}",
        "ICS_ACCOUNT_4_POLL_MINUTES=0: must be at least 1 and at most 1440",
        "LISTEN_PORT=eighty: not a whole number",
    ]


def test_one_n_in_two_families_is_refused_alone(env: dict[str, str]) -> None:
    """With nothing else wrong, the one problem is still reported once."""
    env |= {"ICS_ACCOUNT_2_URL": FEED}
    assert _problems(env) == [f"GOOGLE_ACCOUNT_2_* and ICS_ACCOUNT_2_*: {ONE_ACCOUNT}"]


def test_settings_built_in_code_refuse_one_n_twice(env: dict[str, str]) -> None:
    """Settings built directly hold the same rule: Settings.accounts could not tell the two apart."""
    settings = _load(env)
    feed = IcsAccount(id=1, url=SecretStr(FEED))
    with pytest.raises(ValidationError, match="GOOGLE_ACCOUNT_1_\\* and ICS_ACCOUNT_1_\\*"):
        Settings(google_accounts=settings.google_accounts, ics_accounts={1: feed}, flows=settings.flows)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ftp://feeds.example.net/feed-token-77aa10", "not an http:// or https:// URL with a host"),
        ("feeds.example.net/feed-token-77aa10", "not an http:// or https:// URL with a host"),
        (
            "webcal://feeds.example.net/feed-token-77aa10",
            "a webcal:// address; write it with https:// instead",
        ),
    ],
)
def test_a_bad_feed_url_is_refused_without_showing_it(env: dict[str, str], value: str, message: str) -> None:
    """A feed's URL carries its token: the problem says what is wrong and never repeats the value."""
    env["ICS_ACCOUNT_4_URL"] = value
    problems = _problems(env)
    assert problems == [f"ICS_ACCOUNT_4_URL: {message}"]
    assert "feed-token-77aa10" not in "".join(problems)


def test_a_secret_pasted_into_another_variable_is_masked(env: dict[str, str]) -> None:
    """The CalDAV password or the feed's URL in the wrong variable never appears in a problem."""
    env |= {"CALDAV_ACCOUNT_3_POLL_MINUTES": PASSWORD, "CALDAV_ACCOUNT_3_USERNAME": FEED, "LISTEN_PORT": FEED}
    problems = _problems(env)
    assert [problem.split("=")[0] for problem in problems] == ["CALDAV_ACCOUNT_3_POLL_MINUTES", "LISTEN_PORT"]
    assert not [problem for problem in problems if PASSWORD in problem or FEED in problem]


def test_settings_secrets_include_passwords_and_feed_urls(env: dict[str, str]) -> None:
    """Log redaction masks CalDAV passwords and ICS feed URLs with the Google secrets."""
    assert {PASSWORD, FEED} <= set(_load(env).secrets())


def test_check_config_lists_every_account_without_a_secret(
    clean_env: pytest.MonkeyPatch, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Each account shows its provider and what is set; a feed shows only its scheme and host."""
    env |= {"ICS_ACCOUNT_4_EMAIL": "carol@example.com", "CALDAV_ACCOUNT_3_POLL_MINUTES": "10"}
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main(["check-config"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[1:6] == [
        "accounts (4):",
        "  1: google alice@example.com  client shared (id shared.apps.googleusercontent.com, secret set)"
        "  refresh token set",
        "  2: google bob@example.com  client own (id own.apps.googleusercontent.com, secret set)"
        "  refresh token set",
        f"  3: caldav {FASTMAIL}  user carol@fastmail.com  password set  polled every 10 min",
        "  4: ics https://feeds.example.net/\u2026  owner carol@example.com  fetched every 15 min",
    ]
    assert f"  3: 'Fastmail to work'  3:{CAROL_DEFAULT} -> 1:alice@example.com" in out
    assert "  4: 'Feed to personal'  4:feed -> 2:bob@example.com" in out
    assert PASSWORD not in out + err
    assert "feed-token" not in out + err


def test_check_config_problems_never_show_the_new_secrets(
    clean_env: pytest.MonkeyPatch, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """check-config's problem list names the CalDAV and feed variables but not their values."""
    env |= {"ICS_ACCOUNT_4_URL": "gopher://feeds.example.net/feed-token-77aa10", "SYNC_FLOW_4_NAME": PASSWORD}
    del env["CALDAV_ACCOUNT_3_USERNAME"]
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main(["check-config"]) == 2
    out, err = capsys.readouterr()
    assert "ICS_ACCOUNT_4_URL: not an http:// or https:// URL with a host" in err
    assert "CALDAV_ACCOUNT_3_USERNAME: missing (the login name, often the address)" in err
    assert "feed-token" not in out + err
    assert PASSWORD not in out + err


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("CALDAV_ACOUNT_3_URL", "CALDAV_ACCOUNT_3_URL"),
        ("CALDAV_ACCOUNT_3_USER", "CALDAV_ACCOUNT_3_USERNAME"),
        ("CALDAV_ACCOUNT_3_POLL_MINUTE", "CALDAV_ACCOUNT_3_POLL_MINUTES"),
        ("ICS_ACCOUNT_4_URI", "ICS_ACCOUNT_4_URL"),
        ("ICS_ACOUNT_4_EMAIL", "ICS_ACCOUNT_4_EMAIL"),
        ("CALDAV_3_PASSWORD", "CALDAV_ACCOUNT_3_PASSWORD"),  # ACCOUNT_ left out
        ("ICS_4_POLL_MINUTES", "ICS_ACCOUNT_4_POLL_MINUTES"),
    ],
)
def test_a_misspelt_variable_gets_did_you_mean(
    env: dict[str, str], tmp_path: Path, typo: str, meant: str
) -> None:
    """A misspelt CalDAV or ICS variable in a .env file is a problem naming the variable it means."""
    env_file = tmp_path / ".env"
    env_file.write_text(f"{typo}=x\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(env, env_file=env_file, credentials_directory=None)
    assert caught.value.problems == [f"{typo}: not a calmirror variable (did you mean {meant}?)"]


@pytest.mark.parametrize("name", ["CALDAV_ACCOUNT_3_PASSWORD", "ICS_ACCOUNT_4_URL"])
def test_a_credential_file_supplies_the_new_secrets(env: dict[str, str], tmp_path: Path, name: str) -> None:
    """$CREDENTIALS_DIRECTORY/<NAME> supplies a CalDAV password or a feed URL (systemd's LoadCredential=)."""
    value = env.pop(name)
    (tmp_path / name).write_text(value + "\n")
    settings = load_settings(env | {"CREDENTIALS_DIRECTORY": str(tmp_path)}, env_file=None)
    assert {PASSWORD, FEED} <= set(settings.secrets())
    assert settings.warnings == ()


def test_an_unused_account_of_any_provider_is_warned_about(env: dict[str, str]) -> None:
    """An account no flow names is a warning naming its own family."""
    env |= {"ICS_ACCOUNT_7_URL": FEED}
    assert _load(env).warnings == ("ICS_ACCOUNT_7_*: account 7 is used by no flow",)


def test_a_flow_naming_an_unknown_account_names_every_family(env: dict[str, str]) -> None:
    """An N no family configures is the friendly unknown-account problem, listing where it could be."""
    env["SYNC_FLOW_3_SOURCE_ACCOUNT_ID"] = "9"
    assert _problems(env) == [
        "SYNC_FLOW_3_SOURCE_ACCOUNT_ID=9: no GOOGLE_ACCOUNT_9_*, CALDAV_ACCOUNT_9_*, ICS_ACCOUNT_9_* "
        "or MICROSOFT_ACCOUNT_9_* "
        "is configured"
    ]


def test_a_caldav_account_url_with_a_password_in_it_is_refused(env: dict[str, str]) -> None:
    """A password written into CALDAV_ACCOUNT_<N>_URL would show wherever the URL does: refused."""
    problems = _problems(env | {"CALDAV_ACCOUNT_3_URL": "https://carol:hunter2@caldav.fastmail.com/dav/"})
    [problem] = [p for p in problems if p.startswith("CALDAV_ACCOUNT_3_URL")]
    assert "user name or password in it" in problem


@pytest.mark.parametrize(
    ("account", "calendar"),
    [
        ("https://mydav.co.uk/dav/", "https://attacker.co.uk/cal/"),
        ("https://nx123.your-storageshare.de/remote.php/dav/", "https://nx999.your-storageshare.de/cal/"),
        ("https://caldav.icloud.com/", "https://caldav.icloud.com.example.net/cal/"),
    ],
)
def test_a_host_that_only_shares_a_domain_is_not_the_accounts_server(
    env: dict[str, str], account: str, calendar: str
) -> None:
    """Another customer of a shared host is another server: the account's password never goes there."""
    env |= {"CALDAV_ACCOUNT_3_URL": account, "SYNC_FLOW_3_SOURCE_CALENDAR_ID": calendar}
    [problem] = [p for p in _problems(env) if p.startswith("SYNC_FLOW_3_SOURCE_CALENDAR_ID")]
    assert "not on the server of account 3" in problem


def test_two_caldav_calendars_whose_paths_differ_only_in_case_are_two_calendars(env: dict[str, str]) -> None:
    """A URL's path is case-sensitive: /Work/ and /work/ are two calendars, one may feed the other."""
    env |= {
        "SYNC_FLOW_5_NAME": "work to Work",
        "SYNC_FLOW_5_SOURCE_ACCOUNT_ID": "3",
        "SYNC_FLOW_5_SOURCE_CALENDAR_ID": "/dav/calendars/user/carol@fastmail.com/work/",
        "SYNC_FLOW_5_TARGET_ACCOUNT_ID": "3",
        "SYNC_FLOW_5_TARGET_CALENDAR_ID": "/dav/calendars/user/carol@fastmail.com/Work/",
    }
    settings = _load(env)
    flow = next(flow for flow in settings.flows if flow.name == "work to Work")
    assert flow.source.calendar_id != flow.target.calendar_id


def test_a_feed_address_pasted_as_its_calendar_id_is_not_printed(env: dict[str, str]) -> None:
    """Someone may paste the feed's address where the calendar id goes: its token is never shown."""
    env["SYNC_FLOW_4_SOURCE_CALENDAR_ID"] = "https://school.example/feeds/OTHERTOKEN77/x.ics"
    [problem] = _problems(env)
    assert problem.startswith("SYNC_FLOW_4_SOURCE_CALENDAR_ID=https://school.example/…: ")
    assert "OTHERTOKEN77" not in problem


def test_another_port_of_the_accounts_host_is_another_server(env: dict[str, str]) -> None:
    """A different port may be another program: the account's password does not go there either."""
    env["SYNC_FLOW_3_SOURCE_CALENDAR_ID"] = "https://caldav.fastmail.com:8443/dav/calendars/x/"
    [problem] = [p for p in _problems(env) if p.startswith("SYNC_FLOW_3_SOURCE_CALENDAR_ID")]
    assert "not on the server of account 3" in problem


def test_an_http_calendar_of_an_https_account_says_so(env: dict[str, str]) -> None:
    """The same host over http:// is refused with the reason, not as "another server"."""
    env["SYNC_FLOW_3_SOURCE_CALENDAR_ID"] = "http://caldav.fastmail.com/dav/calendars/x/"
    [problem] = [p for p in _problems(env) if p.startswith("SYNC_FLOW_3_SOURCE_CALENDAR_ID")]
    assert "an http:// address while account 3" in problem
