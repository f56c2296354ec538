"""The shipped .env.example is a valid configuration that documents every variable."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest

from calmirror.config import load_settings
from calmirror.config.names import FAMILIES, GLOBALS, Variable
from calmirror.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_env_example_is_valid_without_warnings() -> None:
    """Loading .env.example alone gives two accounts and two flows, with no problem and no warning."""
    settings = load_settings({}, env_file=EXAMPLE, credentials_directory=None)
    assert sorted(settings.accounts) == [1, 2]
    assert [flow.name for flow in settings.flows] == [
        "Work meetings to personal",
        "Personal appointments to work",
    ]
    assert settings.warnings == ()


def test_env_example_leaves_webhooks_off_and_its_placeholder_key_is_refused(tmp_path: Path) -> None:
    """Copied as is, .env.example only polls; uncommenting its webhook lines fails on the FAKE- key."""
    assert load_settings({}, env_file=EXAMPLE, credentials_directory=None).webhook_base_url is None
    uncommented = tmp_path / ".env"
    text = EXAMPLE.read_text()
    uncommented.write_text(re.sub(r"^# (WEBHOOK_(?:BASE_URL|API_KEY)=)", r"\1", text, flags=re.MULTILINE))
    with pytest.raises(ConfigError) as caught:
        load_settings({}, env_file=uncommented, credentials_directory=None)
    assert [problem.split(":", 1)[0] for problem in caught.value.problems] == ["WEBHOOK_API_KEY"]


def _declared() -> list[tuple[str, Variable]]:
    """Return every declared variable, numbered ones as .env.example's first member of the family has them."""
    example_number = {"GOOGLE_ACCOUNT_": 2, "CALDAV_ACCOUNT_": 3, "ICS_ACCOUNT_": 4, "MICROSOFT_ACCOUNT_": 5}
    example_number["SYNC_FLOW_"] = 1
    return [
        *GLOBALS.items(),
        *(
            (f"{family.prefix}{example_number[family.prefix]}_{suffix}", variable)
            for family in FAMILIES
            for suffix, variable in family.variables.items()
        ),
    ]


def test_env_example_mentions_every_variable() -> None:
    """Every declared variable, global or of a numbered family, appears in .env.example."""
    text = EXAMPLE.read_text()
    assert [name for name, _ in _declared() if name not in text] == []


def _shown(default: object) -> str | None:
    """Return a default as .env.example writes it, or None for one it describes in words."""
    if isinstance(default, time):
        return f"{default:%H:%M}"
    return str(default) if isinstance(default, int | str) and not isinstance(default, bool) else None


def _paragraph(text: str, name: str) -> str:
    """Return the lines between blank lines around the first line that sets `name` (commented or not)."""
    paragraphs = text.split("\n\n")
    return next(p for p in paragraphs if re.search(rf"^(# )?{name}=", p, re.MULTILINE))


def _states(paragraph: str, shown: str) -> bool:
    """Say whether the paragraph states the default `shown`: `(default 60` or `busy (default)`."""
    value = re.escape(shown)
    return re.search(rf"default {value}(?!\w)|(?<!\w){value} \(default\)", paragraph) is not None


def test_env_example_states_every_default() -> None:
    """Each variable's declared default is stated in the paragraph that sets it."""
    text = EXAMPLE.read_text()
    wrong = [
        f"{name}: default {shown}"
        for name, variable in _declared()
        if (shown := _shown(variable.field.default)) is not None
        and not _states(_paragraph(text, name), shown)
    ]
    assert wrong == []


def test_env_example_policy_lines_uncommented_are_valid(tmp_path: Path) -> None:
    """Flow 1's commented policy examples, uncommented, load without a warning and mean what they say."""
    uncommented = tmp_path / ".env"
    text = EXAMPLE.read_text()
    uncommented.write_text(re.sub(r"^# (SYNC_FLOW_1_[A-Z_]+=)", r"\1", text, flags=re.MULTILINE))

    settings = load_settings({}, env_file=uncommented, credentials_directory=None)

    policy = settings.flows[0].policy
    assert settings.warnings == ()
    assert policy.describe() == (
        "unanswered busy, tentative busy, only Mon-Fri 09:00-17:00 America/New_York, all-day block, "
        "skip titles matching '^(hold|lunch\\?)'"
    )
    assert policy.skip_title_regex is not None
    assert policy.skip_title_regex.search("LUNCH? maybe")


def test_env_example_caldav_and_ics_lines_uncommented_are_valid(tmp_path: Path) -> None:
    """The commented CalDAV account, ICS feed and their flows, uncommented, load without a warning."""
    uncommented = tmp_path / ".env"
    text = EXAMPLE.read_text()
    pattern = r"^# ((?:CALDAV_ACCOUNT_3|ICS_ACCOUNT_4|SYNC_FLOW_3|SYNC_FLOW_4)_[A-Z_]+=)"
    uncommented.write_text(re.sub(pattern, r"\1", text, flags=re.MULTILINE))

    settings = load_settings({}, env_file=uncommented, credentials_directory=None)

    assert settings.warnings == ()
    assert {n: account.provider for n, account in settings.accounts.items()} == {
        1: "google",
        2: "google",
        3: "caldav",
        4: "ics",
    }
    assert [(str(flow.source), str(flow.target)) for flow in settings.flows[2:]] == [
        ("3:https://p42-caldav.icloud.com/1234567890/calendars/home/", "1:alice@example.com"),
        ("4:feed", "1:alice@example.com"),
    ]
