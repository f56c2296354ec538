"""Where variables come from: environment > .env file > $CREDENTIALS_DIRECTORY files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from calmirror.config import load_settings
from calmirror.config.envfile import read_env_file
from calmirror.errors import ConfigError

TOKEN_VAR = "GOOGLE_ACCOUNT_1_REFRESH_TOKEN"


def _token(env: dict[str, str], **sources: Path | None) -> str:
    """Return account 1's refresh token as loaded from env plus the given sources."""
    settings = load_settings(env, **sources)  # type: ignore[arg-type]
    return settings.account(1).refresh_token.get_secret_value()


def test_credential_file_supplies_a_secret(good_env: dict[str, str], tmp_path: Path) -> None:
    """A file named exactly like the variable supplies its value, trailing newline stripped."""
    del good_env[TOKEN_VAR]
    (tmp_path / TOKEN_VAR).write_text("1//from-credential-file\n")
    assert _token(good_env, env_file=None, credentials_directory=tmp_path) == "1//from-credential-file"


def test_credentials_directory_is_taken_from_the_given_environ(
    good_env: dict[str, str], tmp_path: Path
) -> None:
    """Without the parameter, CREDENTIALS_DIRECTORY in the environ mapping is used (systemd's way)."""
    del good_env[TOKEN_VAR]
    (tmp_path / TOKEN_VAR).write_text("1//via-systemd")
    good_env["CREDENTIALS_DIRECTORY"] = str(tmp_path)
    assert _token(good_env, env_file=None) == "1//via-systemd"


def test_env_file_supplies_variables(good_env: dict[str, str], tmp_path: Path) -> None:
    """A .env file with comments, quotes and `export` supplies what the environment lacks."""
    del good_env[TOKEN_VAR]
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"# a comment\nexport {TOKEN_VAR}=\"1//from-dotenv\"\nSYNC_FLOW_1_BLOCK_TITLE='Out'\n"
    )
    settings = load_settings(good_env, env_file=env_file, credentials_directory=None)
    assert settings.account(1).refresh_token.get_secret_value() == "1//from-dotenv"
    assert settings.flows[0].block_title == "Out"


def test_missing_env_file_is_not_an_error(good_env: dict[str, str], tmp_path: Path) -> None:
    """The default .env is optional: a path that does not exist adds nothing and fails nothing."""
    settings = load_settings(good_env, env_file=tmp_path / "absent.env", credentials_directory=None)
    assert len(settings.flows) == 2


def test_precedence_environment_then_env_file_then_credentials(
    good_env: dict[str, str], tmp_path: Path
) -> None:
    """The process environment beats the .env file, which beats a credential file (systemd's order)."""
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / TOKEN_VAR).write_text("1//credential")
    env_file = tmp_path / ".env"
    env_file.write_text(f"{TOKEN_VAR}=1//dotenv\n")
    sources = {"env_file": env_file, "credentials_directory": credentials}
    assert _token(good_env, **sources) == good_env[TOKEN_VAR]
    del good_env[TOKEN_VAR]
    assert _token(good_env, **sources) == "1//dotenv"
    env_file.write_text("")
    assert _token(good_env, **sources) == "1//credential"


def test_conflicting_sources_warn_without_values(
    good_env: dict[str, str], tmp_path: Path, assert_no_secret: Callable[..., None]
) -> None:
    """A variable set differently in two sources is a warning naming it and the winner, no value."""
    (tmp_path / TOKEN_VAR).write_text("1//stale-credential-value")
    settings = load_settings(good_env, env_file=None, credentials_directory=tmp_path)
    assert settings.warnings == (
        f"{TOKEN_VAR}: set differently in the environment and $CREDENTIALS_DIRECTORY; the environment wins",
    )
    assert_no_secret(*settings.warnings)
    assert "stale-credential-value" not in settings.warnings[0]


def test_empty_environment_value_lets_a_lower_source_fill_in(
    good_env: dict[str, str], tmp_path: Path
) -> None:
    """An empty variable counts as unset, e.g. `X=` in an EnvironmentFile next to a credential file."""
    good_env[TOKEN_VAR] = ""
    (tmp_path / TOKEN_VAR).write_text("1//credential")
    assert _token(good_env, env_file=None, credentials_directory=tmp_path) == "1//credential"


def test_other_files_in_the_credentials_directory_are_ignored(
    good_env: dict[str, str], tmp_path: Path
) -> None:
    """Files not named like a variable (other credentials, sub-directories) are left alone."""
    (tmp_path / "google-client-secret").write_text("something else")
    (tmp_path / "sub.dir").mkdir()
    settings = load_settings(good_env, env_file=None, credentials_directory=tmp_path)
    assert settings.warnings == ()


def test_unusable_credentials_directory_is_a_problem(good_env: dict[str, str], tmp_path: Path) -> None:
    """A CREDENTIALS_DIRECTORY that does not exist is reported, naming the variable."""
    good_env["CREDENTIALS_DIRECTORY"] = str(tmp_path / "absent")
    with pytest.raises(ConfigError) as caught:
        load_settings(good_env, env_file=None)
    assert caught.value.problems == [f"CREDENTIALS_DIRECTORY={tmp_path / 'absent'}: not a readable directory"]


def test_unreadable_credential_file_is_a_problem(good_env: dict[str, str], tmp_path: Path) -> None:
    """A credential file that is not UTF-8 text is reported by name, with no content shown."""
    (tmp_path / "GOOGLE_ACCOUNT_2_CLIENT_SECRET").write_bytes(b"\xff\xfe secret bytes")
    with pytest.raises(ConfigError) as caught:
        load_settings(good_env, env_file=None, credentials_directory=tmp_path)
    (problem,) = caught.value.problems
    assert problem.startswith("GOOGLE_ACCOUNT_2_CLIENT_SECRET: cannot read credential file")
    assert "secret bytes" not in problem


def test_env_file_that_is_not_utf8_is_a_problem(good_env: dict[str, str], tmp_path: Path) -> None:
    """A .env file that is not UTF-8 text is a problem naming the file, not a crash."""
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"LOG_LEVEL=\xff\xfe\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(good_env, env_file=env_file, credentials_directory=None)
    assert caught.value.problems == [
        f"{env_file}: cannot read this .env file (UnicodeDecodeError; it must be UTF-8 text)"
    ]


def test_env_file_values_are_taken_literally_as_systemd_does(tmp_path: Path) -> None:
    """A `$` in a .env value is not expanded (systemd's EnvironmentFile= does not expand it either)."""
    env_file = tmp_path / ".env"
    env_file.write_text("SYNC_FLOW_1_BLOCK_TITLE=Busy ${HOME}\n")

    assert read_env_file(env_file).values["SYNC_FLOW_1_BLOCK_TITLE"] == "Busy ${HOME}"
