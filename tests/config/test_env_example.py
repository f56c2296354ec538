"""The shipped .env.example is a valid configuration that documents every variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from calmirror.config import load_settings
from calmirror.config.names import ACCOUNT_FIELDS, FLOW_FIELDS, GLOBAL_NAMES
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


def test_env_example_mentions_every_variable() -> None:
    """Every global variable and every account and flow field appears in .env.example."""
    text = EXAMPLE.read_text()
    names = [
        *GLOBAL_NAMES,
        *(f"GOOGLE_ACCOUNT_2_{f}" for f in ACCOUNT_FIELDS),
        *(f"SYNC_FLOW_1_{f}" for f in FLOW_FIELDS),
    ]
    assert [name for name in names if name not in text] == []


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
        "skip titles matching '^(hold|lunch\\\\?)'"
    )
    assert policy.skip_title_regex is not None
    assert policy.skip_title_regex.search("LUNCH? maybe")
