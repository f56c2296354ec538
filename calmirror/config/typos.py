"""Recognising unknown variables that are most likely misspelt calmirror variables."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from calmirror.config.names import FAMILIES, GLOBAL_NAMES, parse_numbered

# Prefixes no other tool uses: an unknown name under one is a typo, and ignoring it would silently run
# with a default (SYNC_FLOW_1_END_OFSET=5 would mean an offset of 0).
OWNED_PREFIXES = (*(family.prefix for family in FAMILIES), "DAILY_RECONCILE_", "DELETION_GUARD_")
# Prefixes calmirror shares with other tools (GOOGLE_API_KEY, GOOGLE_CLIENT_EMAIL, ...): an unknown name
# under one is only an error when it is a near miss of one of calmirror's names.
SHARED_PREFIXES = (
    *("SYNC_", "WEBHOOK_", "LISTEN_", "GOOGLE_CLIENT_", "GOOGLE_API_", "GOOGLE_TOKEN_"),
    *("MICROSOFT_CLIENT_", "MICROSOFT_TENANT_", "MICROSOFT_GRAPH_", "MICROSOFT_LOGIN_"),
)
NEAR_MISS = 2  # edits (insert, delete, replace) that still make a name a likely typo
MIN_NEAR_MISS_LENGTH = 8  # shorter names are too likely to be another tool's, a near miss by chance
_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class UnknownName:
    """An unknown variable that looks like one of calmirror's: an error, or a warning when ignorable."""

    name: str
    suggestion: str | None
    fatal: bool

    def __str__(self) -> str:
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        return f"{self.name}: not a calmirror variable{'' if self.fatal else ', ignored'}{hint}"


def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance between two strings."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def _closest(word: str, candidates: tuple[str, ...]) -> str | None:
    """Return the candidate `word` most likely misspells (or abbreviates), or None."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if close:
        return close[0]
    containing = [candidate for candidate in candidates if word in candidate or candidate in word]
    return containing[0] if len(containing) == 1 else None


def _owned_suggestion(name: str) -> str | None:
    """Return the closest known name for a name under an owned prefix."""
    numbered = parse_numbered(name)
    if numbered is not None and numbered.valid_number:
        close = _closest(numbered.field, numbered.known_fields)
        return f"{numbered.prefix}{numbered.number}_{close}" if close else None
    return _closest(name, GLOBAL_NAMES)


def _near_miss(name: str) -> str | None:
    """Return the known name (numbered ones with the name's own N) within NEAR_MISS edits, or None."""
    candidates = [*GLOBAL_NAMES]
    for number in dict.fromkeys(_NUMBER.findall(name)):
        for family in FAMILIES:
            candidates += [f"{family.prefix}{number}_{field}" for field in family.variables]
    distance, best = min((edit_distance(name, known), known) for known in candidates)
    return best if distance <= NEAR_MISS else None


def _without_account(name: str) -> str | None:
    """Return the account variable a name means when it drops `ACCOUNT_` (CALDAV_3_URL), else None."""
    for family in FAMILIES:
        short = family.prefix.replace("ACCOUNT_", "")
        if short == family.prefix or not name.startswith(short):
            continue
        meant = family.prefix + name.removeprefix(short)
        numbered = parse_numbered(meant)
        if numbered is not None and numbered.valid_number and numbered.field in numbered.known_fields:
            return meant
    return None


def unknown_name(name: str) -> UnknownName | None:
    """Return how to report `name` when it looks like a misspelt calmirror variable, else None."""
    if name in GLOBAL_NAMES:
        return None
    numbered = parse_numbered(name)
    if numbered is not None and numbered.field in numbered.known_fields:
        return None  # a known field; a bad N is reported as a problem instead
    meant = _without_account(name)
    if meant is not None:
        # CALDAV_3_PASSWORD: ignoring it would silently leave account 3 unconfigured.
        return UnknownName(name, meant, fatal=True)
    if name.startswith(OWNED_PREFIXES):
        return UnknownName(name, _owned_suggestion(name), fatal=True)
    near = _near_miss(name)
    if name.startswith(SHARED_PREFIXES):
        return UnknownName(name, near or _closest(name, GLOBAL_NAMES), fatal=near is not None)
    if name.startswith(("GOOGLE_", "MICROSOFT_")) and near is not None:
        # Other tools read GOOGLE_* and MICROSOFT_* names from the same environment (a shell, a unit): a
        # near miss there may be theirs, so it warns (check-config shows it) rather than stop the daemon.
        return UnknownName(name, near, fatal=False)
    if near is not None and len(name) >= MIN_NEAR_MISS_LENGTH:
        # DELETON_GUARD_PERCENT=40 or LOG_LEVLE=DEBUG: ignoring it would silently run with the default.
        return UnknownName(name, near, fatal=True)
    return None
