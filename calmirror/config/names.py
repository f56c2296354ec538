"""The names of calmirror's variables, and recognising numbered ones."""

from __future__ import annotations

import re
from dataclasses import dataclass

ACCOUNT_PREFIX = "GOOGLE_ACCOUNT_"
FLOW_PREFIX = "SYNC_FLOW_"
ACCOUNT_FIELDS = ("EMAIL", "CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN")
FLOW_FIELDS = (
    "NAME",
    "SOURCE_ACCOUNT_ID",
    "SOURCE_CALENDAR_ID",
    "TARGET_ACCOUNT_ID",
    "TARGET_CALENDAR_ID",
    "START_OFFSET",
    "END_OFFSET",
    "MIN_PARTICIPANTS",
    "BLOCK_TITLE",
)
GLOBAL_NAMES = (
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "SYNC_INTERVAL_MINUTES",
    "DAILY_RECONCILE_TIME",
    "DAILY_RECONCILE_DAYS_BACK",
    "DAILY_RECONCILE_DAYS_FORWARD",
    "DELETION_GUARD_MIN_BLOCKS",
    "DELETION_GUARD_PERCENT",
    "WEBHOOK_BASE_URL",
    "WEBHOOK_API_KEY",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "LISTEN_HOST",
    "LISTEN_PORT",
    "GOOGLE_API_ROOT_URL",
    "GOOGLE_TOKEN_URI",
    "GOOGLE_AUTH_URI",  # read by `calmirror authorize` only
)
SECRET_GLOBALS = frozenset({"GOOGLE_CLIENT_SECRET", "WEBHOOK_API_KEY"})
SECRET_ACCOUNT_FIELDS = frozenset({"CLIENT_SECRET", "REFRESH_TOKEN"})

_NUMBERED = re.compile(rf"^(?P<prefix>{ACCOUNT_PREFIX}|{FLOW_PREFIX})(?P<n>[^_]+)_(?P<field>.+)$")
_CANONICAL_NUMBER = re.compile(r"^(0|[1-9][0-9]{0,8})$")


@dataclass(frozen=True)
class NumberedName:
    """A variable of a numbered group, e.g. SYNC_FLOW_2_NAME -> (SYNC_FLOW_, "2", NAME)."""

    name: str
    prefix: str
    number: str
    field: str

    @property
    def is_account(self) -> bool:
        """Say whether this names an account (GOOGLE_ACCOUNT_<N>_*) rather than a flow."""
        return self.prefix == ACCOUNT_PREFIX

    @property
    def known_fields(self) -> tuple[str, ...]:
        """Return the field names valid for this group."""
        return ACCOUNT_FIELDS if self.is_account else FLOW_FIELDS

    @property
    def valid_number(self) -> bool:
        """Say whether N is a whole number written without sign or leading zeros."""
        return bool(_CANONICAL_NUMBER.match(self.number))


def parse_numbered(name: str) -> NumberedName | None:
    """Split a GOOGLE_ACCOUNT_<N>_<FIELD> or SYNC_FLOW_<N>_<FIELD> name, or return None."""
    match = _NUMBERED.match(name)
    if match is None:
        return None
    return NumberedName(name, match["prefix"], match["n"], match["field"])


def is_known(name: str) -> bool:
    """Say whether `name` is one of calmirror's variables (any N)."""
    numbered = parse_numbered(name)
    return name in GLOBAL_NAMES or (numbered is not None and numbered.field in numbered.known_fields)


def is_secret(name: str) -> bool:
    """Say whether the variable holds a secret whose value must never be shown."""
    numbered = parse_numbered(name)
    if numbered is not None and numbered.is_account:
        return numbered.field in SECRET_ACCOUNT_FIELDS
    return name in SECRET_GLOBALS
