"""The typed, frozen configuration: accounts, flows and the daemon's settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

DEFAULT_API_ROOT = "https://www.googleapis.com/"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (an address, not a password)
# Bounds of a reconcile window in days around now: DAILY_RECONCILE_DAYS_* and `sync --days-*` alike.
DAYS_BACK_RANGE = (0, 365)
DAYS_FORWARD_RANGE = (1, 365)
DEFAULT_DAYS_BACK = 2
DEFAULT_DAYS_FORWARD = 14
# The deletion guard (engine/guard.py): DELETION_GUARD_MIN_BLOCKS and DELETION_GUARD_PERCENT.
DEFAULT_GUARD_MIN_BLOCKS = 25
DEFAULT_GUARD_PERCENT = 50
GUARD_PERCENT_RANGE = (0, 100)


class CalendarRef(BaseModel, frozen=True):
    """A calendar as seen through one configured account."""

    account_id: int
    calendar_id: str

    def __str__(self) -> str:
        return f"{self.account_id}:{self.calendar_id}"


class Account(BaseModel, frozen=True):
    """A Google account calmirror acts as (GOOGLE_ACCOUNT_<N>_*)."""

    id: int
    email: str
    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr
    shared_client: bool = False  # True when the client comes from GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET


class Flow(BaseModel, frozen=True):
    """One mirror from a source calendar into a target calendar (SYNC_FLOW_<N>_*)."""

    id: int
    name: str
    source: CalendarRef
    target: CalendarRef
    start_offset: int = Field(ge=0)
    end_offset: int = Field(ge=0)
    min_participants: int = Field(default=2, ge=1)
    block_title: str = "Busy"


class Settings(BaseModel, frozen=True):
    """Everything the daemon needs, validated; `warnings` lists suspicious but runnable settings."""

    accounts: Mapping[int, Account]
    flows: tuple[Flow, ...]
    sync_interval_minutes: int = 60
    daily_reconcile_time: time = time(6, 0)
    daily_reconcile_days_back: int = DEFAULT_DAYS_BACK
    daily_reconcile_days_forward: int = DEFAULT_DAYS_FORWARD
    deletion_guard_min_blocks: int = Field(default=DEFAULT_GUARD_MIN_BLOCKS, ge=0)
    deletion_guard_percent: int = Field(default=DEFAULT_GUARD_PERCENT, ge=0, le=100)  # 0: guard off
    webhook_base_url: str | None = None
    webhook_api_key: SecretStr | None = None
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    listen_host: str = "127.0.0.1"
    listen_port: int = 8000
    google_api_root_url: str = DEFAULT_API_ROOT
    google_token_uri: str = DEFAULT_TOKEN_URI
    warnings: tuple[str, ...] = ()

    def account(self, account_id: int) -> Account:
        """Return the account with this id; KeyError when there is none."""
        return self.accounts[account_id]

    def targets(self) -> tuple[CalendarRef, ...]:
        """Return every distinct target calendar, in flow order."""
        return tuple(dict.fromkeys(flow.target for flow in self.flows))

    def flows_into(self, target: CalendarRef) -> tuple[Flow, ...]:
        """Return the flows whose target is this calendar, in flow order."""
        return tuple(flow for flow in self.flows if flow.target == target)

    def flows_from(self, source: CalendarRef) -> tuple[Flow, ...]:
        """Return the flows whose source is this calendar, in flow order."""
        return tuple(flow for flow in self.flows if flow.source == source)

    def secrets(self) -> tuple[str, ...]:
        """Return every secret value (client secrets, refresh tokens, webhook key) for log redaction."""
        values = [self.webhook_api_key] if self.webhook_api_key else []
        for account in self.accounts.values():
            values += [account.client_secret, account.refresh_token]
        return tuple(dict.fromkeys(v.get_secret_value() for v in values if v.get_secret_value()))
