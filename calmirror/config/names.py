"""The names of calmirror's variables, and recognising numbered ones and likely typos."""

from __future__ import annotations

import difflib
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
    "WEBHOOK_BASE_URL",
    "WEBHOOK_API_KEY",
    "LOG_LEVEL",
    "LISTEN_HOST",
    "LISTEN_PORT",
    "GOOGLE_API_ROOT_URL",
    "GOOGLE_TOKEN_URI",
)
SECRET_GLOBALS = frozenset({"GOOGLE_CLIENT_SECRET", "WEBHOOK_API_KEY"})
SECRET_ACCOUNT_FIELDS = frozenset({"CLIENT_SECRET", "REFRESH_TOKEN"})

# Prefixes that only calmirror's variables use; an unknown name under one is most likely a typo.
# GOOGLE_ alone is left out on purpose: other tools set GOOGLE_APPLICATION_CREDENTIALS and the like.
_WATCHED_PREFIXES = (
    ACCOUNT_PREFIX,
    "SYNC_",
    "DAILY_RECONCILE_",
    "WEBHOOK_",
    "LISTEN_",
    "GOOGLE_CLIENT_",
    "GOOGLE_API_",
    "GOOGLE_TOKEN_",
)
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


def _closest(word: str, candidates: tuple[str, ...]) -> str | None:
    """Return the candidate `word` most likely misspells (or abbreviates), or None."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if close:
        return close[0]
    containing = [candidate for candidate in candidates if word in candidate or candidate in word]
    return containing[0] if len(containing) == 1 else None


def typo_warning(name: str) -> str | None:
    """Return a warning when `name` looks like a misspelt calmirror variable, else None."""
    if name in GLOBAL_NAMES or not name.startswith(_WATCHED_PREFIXES):
        return None
    numbered = parse_numbered(name)
    if numbered is not None and numbered.field in numbered.known_fields:
        return None  # a known field; a bad N is reported as a problem instead
    if numbered is not None and numbered.valid_number:
        stem = f"{numbered.prefix}{numbered.number}_"
        close = _closest(numbered.field, numbered.known_fields)
        close = stem + close if close else None
    else:
        close = _closest(name, GLOBAL_NAMES)
    hint = f" (did you mean {close}?)" if close else ""
    return f"{name}: not a calmirror variable, ignored{hint}"
