"""`calmirror check-config`: Validate the configuration and print a summary."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from calmirror.commands._config import load_config, report_config_error
from calmirror.commands._online import online_problems
from calmirror.config import Account, CalDavAccount, GoogleAccount, MicrosoftAccount, Settings
from calmirror.config.models import DEFAULT_API_ROOT, DEFAULT_GRAPH_ROOT, DEFAULT_LOGIN_URL, DEFAULT_TOKEN_URI
from calmirror.errors import ConfigError
from calmirror.logs import MIN_MASKED_LENGTH, redact, setup_logging

WEBHOOK_PATH = "/api/v1/webhooks/google-calendar"  # fixed by docs/design.md §6.1
GRAPH_WEBHOOK_PATH = "/api/v1/webhooks/microsoft-graph"  # calmirror/daemon/graphhook.py


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `check-config` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check-config", help="Validate the configuration and print a summary."
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="read variables from this file (default: .env in the working directory, when present); "
        "they outrank $CREDENTIALS_DIRECTORY, as an EnvironmentFile= does under systemd",
    )
    parser.add_argument(
        "--online",
        action="store_true",
        help="also ask every account: refresh Google tokens, list CalDAV calendars (with their URLs), "
        "fetch ICS feeds, and check that every flow's account can read its source calendar and write "
        "its target calendar",
    )
    parser.set_defaults(handler=check_config)


def _offsets(start: int, end: int) -> str:
    """Return the offsets as `-5/+10 min`, or `none` when both are zero."""
    return f"-{start}/+{end} min" if start or end else "none"


def _guard(settings: Settings) -> str:
    """Return the deletion guard's line: when a pass's deletions wait for a person, or off."""
    if settings.deletion_guard_percent == 0:
        return "deletion guard: off (DELETION_GUARD_PERCENT=0)"
    return (
        f"deletion guard: a pass deleting more than {settings.deletion_guard_min_blocks} blocks and more "
        f"than {settings.deletion_guard_percent}% of a target's blocks deletes none and waits for a person"
    )


def _account(account: Account) -> str:
    """Return an account's line: its provider, who it is, what is set; no secret, no feed's URL."""
    if isinstance(account, GoogleAccount):
        client = "shared" if account.shared_client else "own"
        return (
            f"  {account.id}: google {account.email}  client {client} (id {account.client_id}, secret set)"
            "  refresh token set"
        )
    if isinstance(account, MicrosoftAccount):
        return _microsoft(account)
    owner = f"  owner {account.email}" if account.email else ""
    if isinstance(account, CalDavAccount):
        return (
            f"  {account.id}: caldav {account.url}  user {account.username}  password set{owner}"
            f"  polled every {account.poll_minutes} min"
        )
    return f"  {account.id}: ics {account.shown_url()}{owner}  fetched every {account.poll_minutes} min"


def _microsoft(account: MicrosoftAccount) -> str:
    """Return a Microsoft account's line: address, sign-in, app registration and tenant; no secret."""
    secret = "secret set" if account.client_secret else "public client, no secret"
    token = "  refresh token set" if account.refresh_token else ""
    return (
        f"  {account.id}: microsoft {account.email}  {account.auth}  client {account.client_id} ({secret})"
        f"  tenant {account.tenant_id}{token}"
    )


def summary(settings: Settings) -> list[str]:
    """Return the one-screen description of a valid configuration, without any secret."""
    lines = [f"accounts ({len(settings.accounts)}):"]
    lines += [_account(account) for account in settings.accounts.values()]
    lines.append(f"flows ({len(settings.flows)}):")
    for flow in settings.flows:
        lines.append(
            f"  {flow.id}: {flow.name!r}  {flow.source} -> {flow.target}  offsets "
            f"{_offsets(flow.start_offset, flow.end_offset)}  min participants {flow.min_participants}"
            f"  title {flow.block_title!r}"
        )
        lines.append(f"     policy: {flow.policy.describe()}")
    if settings.webhook_base_url:
        base = settings.webhook_base_url
        lines.append(f"webhooks: on, {base}{WEBHOOK_PATH} and {base}{GRAPH_WEBHOOK_PATH}")
    else:
        lines.append("webhooks: off (WEBHOOK_BASE_URL not set; polling only)")
    back, forward = settings.daily_reconcile_days_back, settings.daily_reconcile_days_forward
    lines += [
        f"polling: every {settings.sync_interval_minutes} min",
        f"daily reconcile: {settings.daily_reconcile_time:%H:%M} UTC, {back} days back, "
        f"{forward} days forward",
        _guard(settings),
        f"listen: {settings.listen_host}:{settings.listen_port}",
        f"log level: {settings.log_level}, format {settings.log_format}",
    ]
    if settings.google_api_root_url != DEFAULT_API_ROOT:
        lines.append(f"google api root: {settings.google_api_root_url} (not Google's)")
    if settings.google_token_uri != DEFAULT_TOKEN_URI:
        lines.append(f"google token uri: {settings.google_token_uri} (not Google's)")
    if settings.microsoft_graph_root_url != DEFAULT_GRAPH_ROOT:
        lines.append(f"microsoft graph root: {settings.microsoft_graph_root_url} (not Microsoft's)")
    if settings.microsoft_login_url != DEFAULT_LOGIN_URL:
        lines.append(f"microsoft login url: {settings.microsoft_login_url} (not Microsoft's)")
    return lines


def check_config(args: argparse.Namespace) -> int:
    """Validate the configuration; print a summary and exit 0, or print every problem and exit 2."""
    try:
        settings = load_config(args.env_file)
    except ConfigError as error:
        report_config_error(error)
        return 2
    # Nothing secret is summarised; this only guards against a token pasted into, say, a flow name.
    print(redact("configuration OK\n" + "\n".join(summary(settings)), _shown_secrets(settings)))
    for warning in settings.warnings:  # already redacted by load_settings
        print(f"warning: {warning}", file=sys.stderr)
    return check_online(settings) if args.online else 0


def _shown_secrets(settings: Settings) -> list[str]:
    """Return the secrets to mask in text shown to a person (short ones would mask ordinary words)."""
    return [secret for secret in settings.secrets() if len(secret) >= MIN_MASKED_LENGTH]


def check_online(settings: Settings) -> int:
    """Ask every account whether the configuration works: 2 for a problem in it, 1 when one was not asked.

    CalDAV accounts' calendars (with the URLs a flow names) and each feed's size are printed first, even
    when something is wrong: they are what a person picks a flow's calendar from.
    """
    setup_logging(settings.log_level, settings.secrets(), fmt=settings.log_format)
    found = asyncio.run(online_problems(settings))
    shown = _shown_secrets(settings)
    for line in found.lines:
        print(redact(line, shown))
    if found.problems:
        print(f"calmirror: {len(found.problems)} problem(s) found online:", file=sys.stderr)
        for problem in found.problems:
            print(f"  {redact(problem, shown)}", file=sys.stderr)
        return 2
    if found.unreachable:
        print(
            "calmirror: could not check online (nothing to fix in the settings; try again):",
            file=sys.stderr,
        )
        for line in found.unreachable:
            print(f"  {redact(line, shown)}", file=sys.stderr)
        return 1
    print(
        f"online: {len(settings.accounts)} account(s) authorized; every flow can read its source "
        "calendar and write its target calendar"
    )
    return 0
