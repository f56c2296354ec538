"""The rules of the numbered families that no single field can check: N, clients, references, overlaps."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from calmirror.config.calendars import FEED_CALENDAR_ID, PRIMARY, normalise_calendar_url, on_account_server
from calmirror.config.models import CalendarRef, Flow, MicrosoftAccount, Settings, account_clashes
from calmirror.config.names import (
    ACCOUNT_FAMILY,
    FAMILIES,
    FAMILY,
    FLOW_PREFIX,
    GOOGLE_ACCOUNT_PREFIX,
    Family,
    parse_numbered,
)
from calmirror.config.reader import Reader

NO_FLOWS = f"{FLOW_PREFIX}<N>_*: no sync flow is configured (see .env.example)"
_NUMBER = re.compile(r"^\+?[0-9]+$")
_CLIENT = ("CLIENT_ID", "CLIENT_SECRET")


def group_numbers(reader: Reader) -> dict[str, set[int]]:
    """Return the Ns in use per family (by Settings field); a malformed N is a problem naming the variable."""
    numbers: dict[str, set[int]] = {family.attribute: set() for family in FAMILIES}
    for name in sorted(reader.values):
        numbered = parse_numbered(name)
        if numbered is None or numbered.field not in numbered.known_fields:
            continue
        if not numbered.valid_number:
            reader.problem(
                name, f"N={numbered.number!r} is not a whole number 0, 1, 2, ... (no leading zeros)"
            )
        else:
            numbers[numbered.family.attribute].add(int(numbered.number))
    return numbers


def account_client(reader: Reader, n: int) -> tuple[str, str, bool] | None:
    """Return (client id, client secret, shared) for account n, or None after recording problems."""
    own_id, own_secret = (reader.text(f"{GOOGLE_ACCOUNT_PREFIX}{n}_{field}") for field in _CLIENT)
    if own_id and own_secret:
        return own_id, own_secret, False
    if own_id or own_secret:
        have, lack = _CLIENT if own_id else _CLIENT[::-1]
        reader.problem(
            f"{GOOGLE_ACCOUNT_PREFIX}{n}_{lack}",
            f"missing; {GOOGLE_ACCOUNT_PREFIX}{n}_{have} is set, "
            "and an account's own OAuth client needs both",
        )
        return None
    shared_id, shared_secret = reader.text("GOOGLE_CLIENT_ID"), reader.text("GOOGLE_CLIENT_SECRET")
    for field, shared in zip(_CLIENT, (shared_id, shared_secret), strict=True):
        if not shared:
            reader.problem(
                f"{GOOGLE_ACCOUNT_PREFIX}{n}_{field}",
                f"missing, and the shared GOOGLE_{field} is not set either",
            )
    return (shared_id, shared_secret, True) if shared_id and shared_secret else None


def check_clients(reader: Reader, accounts: set[int]) -> None:
    """Record a half-set shared client and every account left without a whole client."""
    shared = {name: reader.text(name) for name in ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")}
    if len([value for value in shared.values() if value]) == 1:
        lack, have = sorted(shared, key=lambda name: bool(shared[name]))
        reader.problem(lack, f"missing; {have} is set, and the shared OAuth client needs both")
    for n in sorted(accounts):
        account_client(reader, n)


def check_microsoft_clients(reader: Reader, accounts: set[int]) -> None:
    """Record a client secret set without its client id: a secret belongs to one app registration."""
    if reader.text("MICROSOFT_CLIENT_SECRET") and not reader.text("MICROSOFT_CLIENT_ID"):
        reader.problem(
            "MICROSOFT_CLIENT_SECRET", "set without MICROSOFT_CLIENT_ID, the app registration it belongs to"
        )
    prefix = FAMILY["microsoft_accounts"].prefix
    for n in sorted(accounts):
        if reader.text(f"{prefix}{n}_CLIENT_SECRET") and not reader.text(f"{prefix}{n}_CLIENT_ID"):
            reader.problem(
                f"{prefix}{n}_CLIENT_ID",
                f"missing; {prefix}{n}_CLIENT_SECRET is set, and an account's own client secret "
                "belongs to its own client id",
            )


def check_account_numbers(reader: Reader, numbers: dict[str, set[int]]) -> None:
    """Record every N that two account families use: a flow's account id must name one account."""
    reader.problems += account_clashes({f.prefix: numbers[f.attribute] for f in ACCOUNT_FAMILY.values()})


def _referred(refers_to: str) -> Iterable[Family]:
    """Return the families whose Ns a variable may name: every account family, or the one named."""
    return ACCOUNT_FAMILY.values() if refers_to == "accounts" else (FAMILY[refers_to],)


def _any_of(families: Iterable[Family], n: int) -> str:
    """Return `A_7_*, B_7_* or C_7_*`: the members of any of the families with this N."""
    *others, last = [family.members(n) for family in families]
    return f"{', '.join(others)} or {last}" if others else last


def check_references(reader: Reader, numbers: dict[str, set[int]]) -> None:
    """Record every variable naming the N of a family member that is not configured (an unknown account)."""
    for family in FAMILIES:
        for n in sorted(numbers[family.attribute]):
            for suffix, declared in family.variables.items():
                name = f"{family.prefix}{n}_{suffix}"
                value = reader.text(name)
                if declared.refers_to is None or value is None or not _NUMBER.match(value):
                    continue
                targets = tuple(_referred(declared.refers_to))
                if not any(int(value) in numbers[target.attribute] for target in targets):
                    reader.problem(name, f"no {_any_of(targets, int(value))} is configured")


def _account_of(reader: Reader, numbers: dict[str, set[int]], name: str) -> tuple[Family, int] | None:
    """Return the account family and N a flow's *_ACCOUNT_ID variable names, or None when none is known."""
    value = reader.text(name)
    if value is None or not _NUMBER.match(value):
        return None
    return next(
        ((f, int(value)) for f in ACCOUNT_FAMILY.values() if int(value) in numbers[f.attribute]), None
    )


def _caldav_problem(who: str, account_url: str, calendar_id: str) -> str | None:
    """Return why a CalDAV calendar id cannot be the account's calendar, or None when it can."""
    if urlsplit(account_url).scheme not in ("http", "https"):
        return None  # the account's URL is reported as not a URL
    try:
        url = normalise_calendar_url(account_url, calendar_id)
    except ValueError as error:
        return str(error)
    if on_account_server(account_url, url):
        return None
    if urlsplit(account_url).scheme == "https" and urlsplit(url).scheme != "https":
        return f"an http:// address while {who} is https://; calmirror sends its password over https only"
    server = urlsplit(account_url).netloc
    return f"not on the server of {who} ({server}); calmirror sends the account's password to no other"


def _side_problem(reader: Reader, side: str, family: Family, n: int, calendar_id: str) -> str | None:
    """Return why a flow's calendar id does not fit the provider of its account, or None when it does."""
    who = f"account {n} ({family.members(n)})"
    if calendar_id == PRIMARY and family.provider not in ("google", "microsoft"):
        return f"`primary` names a Google or Microsoft account's own calendar; {who} is neither"
    if family.provider == "ics" and calendar_id != FEED_CALENDAR_ID:
        return f"{who} is an ICS feed, which is one calendar: leave this variable out"
    if family.provider == "caldav" and (account_url := reader.text(f"{family.prefix}{n}_URL")) is not None:
        return _caldav_problem(who, account_url, calendar_id)
    return None


def check_providers(reader: Reader, numbers: dict[str, set[int]]) -> None:
    """Record every flow side its account's provider cannot serve: a feed as target, a foreign calendar."""
    for flow in sorted(numbers["flows"]):
        prefix = f"{FLOW_PREFIX}{flow}_"
        for side in ("SOURCE", "TARGET"):
            account = _account_of(reader, numbers, f"{prefix}{side}_ACCOUNT_ID")
            if account is None:
                continue
            family, n = account
            calendar_id = reader.text(f"{prefix}{side}_CALENDAR_ID")
            if side == "TARGET" and family.provider == "ics":
                reader.problem(
                    f"{prefix}TARGET_ACCOUNT_ID",
                    f"account {n} ({family.members(n)}) is an ICS feed, which calmirror can only read: "
                    "a feed can be a flow's source, never its target",
                )
            elif calendar_id is not None and (problem := _side_problem(reader, side, family, n, calendar_id)):
                # A feed's address carries its token: someone may paste it where the calendar id goes.
                reader.problem(f"{prefix}{side}_CALENDAR_ID", problem, masked=family.provider == "ics")


def _key(settings: Settings, ref: CalendarRef) -> str:
    """Return what makes two calendar refs one calendar: an address ignores case, a URL's path does not.

    A CalDAV URL is already spelt one way (scheme and host lowercased); its path is case-sensitive. A
    Microsoft calendar id names a calendar within its mailbox only (`primary`), and is case-sensitive.
    """
    account = settings.accounts.get(ref.account_id)
    if isinstance(account, MicrosoftAccount):
        return f"microsoft:{account.email.casefold()}:{ref.calendar_id}"
    calendar_id = ref.calendar_id
    return calendar_id if calendar_id.startswith(("http://", "https://")) else calendar_id.casefold()


def check_across(reader: Reader, settings: Settings) -> None:
    """Record problems between flows: repeated names, self-mirrors, one calendar under two spellings."""
    names: dict[str, Flow] = {}
    targets: dict[str, Flow] = {}
    for flow in settings.flows:
        prefix = f"{FLOW_PREFIX}{flow.id}_"
        first = names.setdefault(flow.name.casefold(), flow)
        if first is not flow:
            reader.problem(prefix + "NAME", f"the same name as {FLOW_PREFIX}{first.id}_NAME")
        if _key(settings, flow.source) == _key(settings, flow.target):
            reader.problem(
                prefix + "TARGET_CALENDAR_ID",
                f"the same calendar as {prefix}SOURCE_CALENDAR_ID; nothing to mirror",
            )
            continue
        other = targets.setdefault(_key(settings, flow.target), flow)
        if other.target != flow.target:
            reader.problem(
                prefix + "TARGET_CALENDAR_ID",
                f"the same calendar as the target of {FLOW_PREFIX}{other.id} ({other.target}); every flow "
                "into one calendar must name it through the same account and spelling",
            )


def warn_unused_accounts(reader: Reader, settings: Settings) -> None:
    """Warn about every account no flow reads or writes."""
    used = {ref.account_id for flow in settings.flows for ref in (flow.source, flow.target)}
    for n, account in settings.accounts.items():
        if n not in used:
            reader.warnings.append(
                f"{ACCOUNT_FAMILY[account.provider].members(n)}: account {n} is used by no flow"
            )
