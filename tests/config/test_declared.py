"""Each setting is declared once (calmirror/config/models.py): variables, bounds and errors derive from it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar, Literal

import pytest
from pydantic import BaseModel, Field, SecretStr, ValidationError

from calmirror.config import CalendarRef, Flow, Settings, load_settings
from calmirror.config.models import numbered
from calmirror.config.names import FAMILIES, GLOBALS, families
from calmirror.errors import ConfigError


def _problems(env: dict[str, str]) -> list[str]:
    """Return the problems load_settings reports for `env` (which must be invalid)."""
    with pytest.raises(ConfigError) as caught:
        load_settings(env, env_file=None, credentials_directory=None)
    return caught.value.problems


def test_a_new_family_is_one_model_and_one_field() -> None:
    """A JMAP_ACCOUNT_<N>_* family needs only its model and a numbered() field: its names follow,
    and its `provider` makes it an account family that flows may name."""

    class JmapAccount(BaseModel, frozen=True):
        """A JMAP account, as a later family might declare it."""

        provider: ClassVar[Literal["jmap"]] = "jmap"
        tenant: str = Field(description="the directory's id")
        email: str
        refresh_token: SecretStr

    class WithJmap(Settings):
        """Settings plus the new family."""

        jmap_accounts: Mapping[int, JmapAccount] = numbered("JMAP_ACCOUNT_", dict)

    jmap = families(WithJmap)[-1]
    assert (jmap.prefix, jmap.attribute) == ("JMAP_ACCOUNT_", "jmap_accounts")
    assert jmap.provider == "jmap"
    assert list(jmap.variables) == ["TENANT", "EMAIL", "REFRESH_TOKEN"]
    assert [name for name, variable in jmap.variables.items() if variable.secret] == ["REFRESH_TOKEN"]


def test_every_variable_is_described() -> None:
    """Each declared variable carries a description, the hint a "missing" problem gives."""
    variables = [*GLOBALS.items()] + [(f.prefix + n, v) for f in FAMILIES for n, v in f.variables.items()]
    assert [name for name, variable in variables if not variable.field.description] == []


def test_an_error_names_the_flows_own_number(good_env: dict[str, str]) -> None:
    """Flows 1 and 2 renumbered 3 and 9: a bad value of the second flow names SYNC_FLOW_9_*, not index 1."""
    env = {
        name.replace("SYNC_FLOW_1_", "SYNC_FLOW_3_").replace("SYNC_FLOW_2_", "SYNC_FLOW_9_"): value
        for name, value in good_env.items()
    }
    env["SYNC_FLOW_9_END_OFFSET"] = "1441"
    assert _problems(env) == ["SYNC_FLOW_9_END_OFFSET=1441: must be at least 0 and at most 1440"]


def test_a_flow_without_calendars_names_each_missing_part(good_env: dict[str, str]) -> None:
    """A flow with only a name is missing its source and target, each part named as its variable."""
    good_env["SYNC_FLOW_3_NAME"] = "Half done"
    assert _problems(good_env) == [
        "SYNC_FLOW_3_SOURCE_ACCOUNT_ID: missing (an account's N)",
        "SYNC_FLOW_3_SOURCE_CALENDAR_ID: missing (a calendar id such as primary or an address)",
        "SYNC_FLOW_3_TARGET_ACCOUNT_ID: missing (an account's N)",
        "SYNC_FLOW_3_TARGET_CALENDAR_ID: missing (a calendar id such as primary or an address)",
    ]


def test_a_flow_built_in_code_has_the_bounds_of_its_variables() -> None:
    """The offset bound SYNC_FLOW_<N>_START_OFFSET has holds for a Flow built directly too."""
    ref = CalendarRef(account_id=1, calendar_id="a@example.com")
    with pytest.raises(ValidationError):
        Flow(id=1, name="f", source=ref, target=ref, start_offset=2000, end_offset=0)


def test_settings_built_directly_read_no_environment(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings(...) in code takes its arguments and defaults only, whatever os.environ or ./.env say."""
    clean_env.setenv("LISTEN_PORT", "1234")
    (tmp_path / ".env").write_text("LISTEN_PORT=4321\n")
    assert Settings(flows=()).listen_port == 8000


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("DELETION_GUARD_MIN_BLOCKS", "-1", "must be at least 0"),
        ("DELETION_GUARD_PERCENT", "100", "must be at least 0 and at most 99"),
        ("DELETION_GUARD_PERCENT", "half", "not a whole number"),
    ],
)
def test_deletion_guard_bounds(good_env: dict[str, str], name: str, value: str, problem: str) -> None:
    """The deletion guard's two settings refuse values outside their declared bounds."""
    good_env[name] = value
    assert _problems(good_env) == [f"{name}={value}: {problem}"]


def test_deletion_guard_defaults(good_env: dict[str, str]) -> None:
    """Unset, the deletion guard allows 25 deletions and then at most half of a target's blocks."""
    settings = load_settings(good_env, env_file=None, credentials_directory=None)
    assert (settings.deletion_guard_min_blocks, settings.deletion_guard_percent) == (25, 50)
