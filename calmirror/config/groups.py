"""The rules of the numbered families that no single field can check: N, clients, references, overlaps."""

from __future__ import annotations

import re

from calmirror.config.models import Flow, Settings
from calmirror.config.names import ACCOUNT_PREFIX, FAMILIES, FAMILY, FLOW_PREFIX, parse_numbered
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
    own_id, own_secret = (reader.text(f"{ACCOUNT_PREFIX}{n}_{field}") for field in _CLIENT)
    if own_id and own_secret:
        return own_id, own_secret, False
    if own_id or own_secret:
        have, lack = _CLIENT if own_id else _CLIENT[::-1]
        reader.problem(
            f"{ACCOUNT_PREFIX}{n}_{lack}",
            f"missing; {ACCOUNT_PREFIX}{n}_{have} is set, and an account's own OAuth client needs both",
        )
        return None
    shared_id, shared_secret = reader.text("GOOGLE_CLIENT_ID"), reader.text("GOOGLE_CLIENT_SECRET")
    for field, shared in zip(_CLIENT, (shared_id, shared_secret), strict=True):
        if not shared:
            reader.problem(
                f"{ACCOUNT_PREFIX}{n}_{field}", f"missing, and the shared GOOGLE_{field} is not set either"
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


def check_references(reader: Reader, numbers: dict[str, set[int]]) -> None:
    """Record every variable naming the N of a family member that is not configured (an unknown account)."""
    for family in FAMILIES:
        for n in sorted(numbers[family.attribute]):
            for suffix, declared in family.variables.items():
                target = FAMILY[declared.refers_to] if declared.refers_to else None
                name = f"{family.prefix}{n}_{suffix}"
                value = reader.text(name)
                if target is None or value is None or not _NUMBER.match(value):
                    continue
                if int(value) not in numbers[target.attribute]:
                    reader.problem(name, f"no {target.prefix}{int(value)}_* is configured")


def check_across(reader: Reader, settings: Settings) -> None:
    """Record problems between flows: repeated names, self-mirrors, one calendar under two spellings."""
    names: dict[str, Flow] = {}
    targets: dict[str, Flow] = {}
    for flow in settings.flows:
        prefix = f"{FLOW_PREFIX}{flow.id}_"
        first = names.setdefault(flow.name.casefold(), flow)
        if first is not flow:
            reader.problem(prefix + "NAME", f"the same name as {FLOW_PREFIX}{first.id}_NAME")
        if flow.source.calendar_id.casefold() == flow.target.calendar_id.casefold():
            reader.problem(
                prefix + "TARGET_CALENDAR_ID",
                f"the same calendar as {prefix}SOURCE_CALENDAR_ID; nothing to mirror",
            )
            continue
        other = targets.setdefault(flow.target.calendar_id.casefold(), flow)
        if other.target != flow.target:
            reader.problem(
                prefix + "TARGET_CALENDAR_ID",
                f"the same calendar as the target of {FLOW_PREFIX}{other.id} ({other.target}); every flow "
                "into one calendar must name it through the same account and spelling",
            )


def warn_unused_accounts(reader: Reader, settings: Settings) -> None:
    """Warn about every account no flow reads or writes."""
    used = {ref.account_id for flow in settings.flows for ref in (flow.source, flow.target)}
    for n in sorted(set(settings.accounts) - used):
        reader.warnings.append(f"{ACCOUNT_PREFIX}{n}_*: account {n} is used by no flow")
