"""Build the numbered groups: accounts (GOOGLE_ACCOUNT_<N>_*) and flows (SYNC_FLOW_<N>_*)."""

from __future__ import annotations

import re

from pydantic import SecretStr, ValidationError

from calmirror.config.models import Account, CalendarRef, Flow
from calmirror.config.names import ACCOUNT_PREFIX, FLOW_PREFIX, POLICY_FIELDS, parse_numbered
from calmirror.config.policy import FlowPolicy
from calmirror.config.reader import Reader

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
NO_FLOWS = f"{FLOW_PREFIX}<N>_*: no sync flow is configured (see .env.example)"
MAX_OFFSET_MINUTES = 24 * 60  # a longer margin around a meeting is surely a unit mistake (hours?)


def group_numbers(reader: Reader) -> tuple[set[int], set[int]]:
    """Return the account and flow numbers in use; a malformed N is a problem naming the variable."""
    accounts: set[int] = set()
    flows: set[int] = set()
    for name in sorted(reader.values):
        numbered = parse_numbered(name)
        if numbered is None or numbered.field not in numbered.known_fields:
            continue
        if not numbered.valid_number:
            reader.problem(
                name, f"N={numbered.number!r} is not a whole number 0, 1, 2, ... (no leading zeros)"
            )
        else:
            (accounts if numbered.is_account else flows).add(int(numbered.number))
    return accounts, flows


def account_client(reader: Reader, n: int) -> tuple[str, str, bool] | None:
    """Return (client id, client secret, shared) for account n, or None after recording problems."""
    own_id, own_secret = (
        reader.text(f"{ACCOUNT_PREFIX}{n}_{field}") for field in ("CLIENT_ID", "CLIENT_SECRET")
    )
    if own_id and own_secret:
        return own_id, own_secret, False
    if own_id or own_secret:
        have, lack = ("CLIENT_ID", "CLIENT_SECRET") if own_id else ("CLIENT_SECRET", "CLIENT_ID")
        reader.problems.append(
            f"{ACCOUNT_PREFIX}{n}_{lack}: missing; {ACCOUNT_PREFIX}{n}_{have} is set, and an account's own "
            "OAuth client needs both"
        )
        return None
    shared_id, shared_secret = reader.text("GOOGLE_CLIENT_ID"), reader.text("GOOGLE_CLIENT_SECRET")
    for field, shared in (("CLIENT_ID", shared_id), ("CLIENT_SECRET", shared_secret)):
        if not shared:
            reader.problems.append(
                f"{ACCOUNT_PREFIX}{n}_{field}: missing, and the shared GOOGLE_{field} is not set either"
            )
    return (shared_id, shared_secret, True) if shared_id and shared_secret else None


def build_accounts(reader: Reader, numbers: set[int]) -> dict[int, Account]:
    """Return the valid accounts by N, recording a problem for every missing or malformed field."""
    shared = {name: reader.text(name) for name in ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")}
    if len([value for value in shared.values() if value]) == 1:
        lack, have = sorted(shared, key=lambda name: bool(shared[name]))
        reader.problems.append(f"{lack}: missing; {have} is set, and the shared OAuth client needs both")
    accounts: dict[int, Account] = {}
    for n in sorted(numbers):
        email_var = f"{ACCOUNT_PREFIX}{n}_EMAIL"
        email = reader.text(email_var, required=True, what="the account's Google address")
        if email is not None and not _EMAIL.match(email):
            reader.problem(email_var, "not an email address")
            email = None
        token = reader.text(
            f"{ACCOUNT_PREFIX}{n}_REFRESH_TOKEN",
            required=True,
            what="run `calmirror authorize` to obtain one",
        )
        client = account_client(reader, n)
        if email is None or token is None or client is None:
            continue
        client_id, client_secret, shared_client = client
        accounts[n] = Account(
            id=n,
            email=email.lower(),  # Google answers with lower-case calendar ids
            client_id=client_id,
            client_secret=SecretStr(client_secret),
            refresh_token=SecretStr(token),
            shared_client=shared_client,
        )
    return accounts


def _calendar(
    reader: Reader, n: int, side: str, account_numbers: set[int], accounts: dict[int, Account]
) -> CalendarRef | None:
    """Return flow n's SOURCE or TARGET calendar, with `primary` spelt as the account's address."""
    account_var = f"{FLOW_PREFIX}{n}_{side}_ACCOUNT_ID"
    account_id = reader.integer(account_var, None, 0)
    calendar_id = reader.text(
        f"{FLOW_PREFIX}{n}_{side}_CALENDAR_ID",
        required=True,
        what="a calendar id such as primary or an address",
    )
    if account_id is not None and account_id not in account_numbers:
        reader.problem(account_var, f"no {ACCOUNT_PREFIX}{account_id}_* is configured")
        return None
    if account_id is None or calendar_id is None:
        return None
    if calendar_id == "primary" and account_id in accounts:
        # One calendar must have one spelling, or two planners would fight over the same blocks.
        calendar_id = accounts[account_id].email
    return CalendarRef(account_id=account_id, calendar_id=calendar_id)


def _policy(reader: Reader, n: int) -> FlowPolicy | None:
    """Return flow n's policy from its set policy variables, or None after recording a problem per bad one."""
    raw = {
        field.lower(): value for field in POLICY_FIELDS if (value := reader.text(f"{FLOW_PREFIX}{n}_{field}"))
    }
    try:
        return FlowPolicy.model_validate(raw)
    except ValidationError as invalid:
        for error in invalid.errors():
            # Our validators raise ValueError with the whole sentence; pydantic's own messages say
            # what is allowed ("Input should be 'busy' or 'skip'").
            cause = error.get("ctx", {}).get("error")
            message = str(cause) if isinstance(cause, ValueError) else str(error["msg"])
            reader.problem(f"{FLOW_PREFIX}{n}_{str(error['loc'][0]).upper()}", message)
        return None


def _flow(reader: Reader, n: int, account_numbers: set[int], accounts: dict[int, Account]) -> Flow | None:
    """Return flow n, or None after recording its problems."""
    name = reader.text(f"{FLOW_PREFIX}{n}_NAME", required=True, what="a display name for the flow")
    source = _calendar(reader, n, "SOURCE", account_numbers, accounts)
    target = _calendar(reader, n, "TARGET", account_numbers, accounts)
    start = reader.integer(f"{FLOW_PREFIX}{n}_START_OFFSET", 0, 0, MAX_OFFSET_MINUTES)
    end = reader.integer(f"{FLOW_PREFIX}{n}_END_OFFSET", 0, 0, MAX_OFFSET_MINUTES)
    threshold = reader.integer(f"{FLOW_PREFIX}{n}_MIN_PARTICIPANTS", 2, 1)
    title = reader.text(f"{FLOW_PREFIX}{n}_BLOCK_TITLE") or "Busy"
    policy = _policy(reader, n)
    if name is None or source is None or target is None or policy is None:
        return None
    if start is None or end is None or threshold is None:
        return None
    return Flow(
        id=n,
        name=name,
        source=source,
        target=target,
        start_offset=start,
        end_offset=end,
        min_participants=threshold,
        block_title=title,
        policy=policy,
    )


def _check_across(reader: Reader, flows: list[Flow]) -> None:
    """Record problems between flows: repeated names, self-mirrors, one calendar under two spellings."""
    names: dict[str, Flow] = {}
    targets: dict[str, Flow] = {}
    for flow in flows:
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


def build_flows(
    reader: Reader, numbers: set[int], accounts: dict[int, Account], account_numbers: set[int]
) -> list[Flow]:
    """Return the valid flows in N order, recording every problem, and warn about unused accounts."""
    if not numbers:
        reader.problems.append(NO_FLOWS)
    flows = [flow for n in sorted(numbers) if (flow := _flow(reader, n, account_numbers, accounts))]
    _check_across(reader, flows)
    if len(flows) == len(numbers):  # only when every flow parsed, or the warning may be wrong
        used = {ref.account_id for flow in flows for ref in (flow.source, flow.target)}
        for n in sorted(set(accounts) - used):
            reader.warnings.append(f"{ACCOUNT_PREFIX}{n}_*: account {n} is used by no flow")
    return flows
