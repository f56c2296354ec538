"""Fixtures for configuration tests: a known-good environment whose secrets are easy to spot."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

SHARED_SECRET = "shared-client-secret-7f3a"
OWN_SECRET = "own-client-secret-91bc"
TOKEN_1 = "1//refresh-token-one-a8e2"
TOKEN_2 = "1//refresh-token-two-c44d"
WEBHOOK_KEY = "webhook-key-5d8e0f1a2b3c4d5e"
SECRETS = (SHARED_SECRET, OWN_SECRET, TOKEN_1, TOKEN_2, WEBHOOK_KEY)


def make_good_env() -> dict[str, str]:
    """Return two accounts (one on the shared client, one on its own) and two flows between them."""
    return {
        "GOOGLE_CLIENT_ID": "shared.apps.googleusercontent.com",
        "GOOGLE_CLIENT_SECRET": SHARED_SECRET,
        "GOOGLE_ACCOUNT_1_EMAIL": "alice@example.com",
        "GOOGLE_ACCOUNT_1_REFRESH_TOKEN": TOKEN_1,
        "GOOGLE_ACCOUNT_2_EMAIL": "bob@example.com",
        "GOOGLE_ACCOUNT_2_CLIENT_ID": "own.apps.googleusercontent.com",
        "GOOGLE_ACCOUNT_2_CLIENT_SECRET": OWN_SECRET,
        "GOOGLE_ACCOUNT_2_REFRESH_TOKEN": TOKEN_2,
        "SYNC_FLOW_1_NAME": "Work to personal",
        "SYNC_FLOW_1_SOURCE_ACCOUNT_ID": "1",
        "SYNC_FLOW_1_SOURCE_CALENDAR_ID": "alice@example.com",
        "SYNC_FLOW_1_TARGET_ACCOUNT_ID": "2",
        "SYNC_FLOW_1_TARGET_CALENDAR_ID": "bob@example.com",
        "SYNC_FLOW_1_START_OFFSET": "5",
        "SYNC_FLOW_1_END_OFFSET": "10",
        "SYNC_FLOW_2_NAME": "Personal to work",
        "SYNC_FLOW_2_SOURCE_ACCOUNT_ID": "2",
        "SYNC_FLOW_2_SOURCE_CALENDAR_ID": "bob@example.com",
        "SYNC_FLOW_2_TARGET_ACCOUNT_ID": "1",
        "SYNC_FLOW_2_TARGET_CALENDAR_ID": "alice@example.com",
        "WEBHOOK_BASE_URL": "https://calmirror.example.com",
        "WEBHOOK_API_KEY": WEBHOOK_KEY,
    }


@pytest.fixture
def good_env() -> dict[str, str]:
    """A fresh copy of the known-good environment."""
    return make_good_env()


def _assert_no_secret(*texts: str) -> None:
    """Fail when any known secret value appears in any of the texts."""
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret leaked into: {text!r}"


@pytest.fixture
def assert_no_secret() -> Callable[..., None]:
    """A check that no secret of the good environment appears in the given texts."""
    return _assert_no_secret


@pytest.fixture
def secrets() -> tuple[str, ...]:
    """Every secret value in the good environment."""
    return SECRETS


CONFIG_PREFIXES = (
    "GOOGLE_",
    "SYNC_",
    "WEBHOOK_",
    "DAILY_",
    "LISTEN_",
    "LOG_LEVEL",
    "CREDENTIALS_DIRECTORY",
    "DELETION_",
    "CALDAV_",
    "ICS_",
    "MICROSOFT_",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An os.environ without calmirror variables, run from an empty directory (so no stray .env)."""
    for name in list(os.environ):
        if name.startswith(CONFIG_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch
