"""Talk to a running `calmirror emulator` from the deploy checks and the boot test (stdlib only).

emulator_client.py seed-meeting ENV_FILE N [HOUR]     insert a 2-person meeting tomorrow at HOUR (UTC, default
                                                      10) in account N's primary calendar; print its start
emulator_client.py blocks ENV_FILE CALENDAR START     print how many live events of CALENDAR start at START
emulator_client.py channels ENV_FILE                  print the id of every live watch channel
emulator_client.py forge-notifications DAEMON_URL     post notifications the daemon must reject
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

WEBHOOK_PATH = "/api/v1/webhooks/google-calendar"


def read_env(env_file: Path) -> dict[str, str]:
    """Return the NAME=value lines of an env file (as `calmirror emulator --print-env` writes them)."""
    pairs = (line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs if not name.lstrip().startswith("#")}


def call(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    """Send one request and return its JSON answer (None for an empty one)."""
    request = urllib.request.Request(url, data=body, headers=headers or {})  # noqa: S310 (loopback http)
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback http only)
        text = answer.read()
    return json.loads(text) if text else None


def access_token(env: dict[str, str], n: int) -> str:
    """Exchange account N's refresh token for an access token at the emulator's token endpoint."""
    form = {
        "grant_type": "refresh_token",
        "client_id": env[f"GOOGLE_ACCOUNT_{n}_CLIENT_ID"],
        "client_secret": env[f"GOOGLE_ACCOUNT_{n}_CLIENT_SECRET"],
        "refresh_token": env[f"GOOGLE_ACCOUNT_{n}_REFRESH_TOKEN"],
    }
    answer = call(env["GOOGLE_TOKEN_URI"], urllib.parse.urlencode(form).encode())
    return str(answer["access_token"])


def seed_meeting(env: dict[str, str], n: int, hour: int) -> str:
    """Insert a one-hour meeting with a guest tomorrow at the hour (UTC); return its start."""
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)
    email = env[f"GOOGLE_ACCOUNT_{n}_EMAIL"]
    event = {
        "summary": "Deploy check meeting",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        "attendees": [{"email": email, "responseStatus": "accepted"}, {"email": "guest@example.net"}],
    }
    url = f"{env['GOOGLE_API_ROOT_URL']}calendar/v3/calendars/primary/events"
    headers = {"Authorization": f"Bearer {access_token(env, n)}", "Content-Type": "application/json"}
    call(url, json.dumps(event).encode(), headers)
    return start.isoformat()


def blocks(env: dict[str, str], calendar: str, start: str) -> int:
    """Return how many live events of the calendar start at the given time."""
    items = call(f"{env['GOOGLE_API_ROOT_URL']}_emulator/calendars/{calendar}/events")["items"]
    wanted = datetime.fromisoformat(start)
    return sum(
        1
        for item in items
        if item.get("status") != "cancelled"
        and datetime.fromisoformat(item["start"]["dateTime"].replace("Z", "+00:00")) == wanted
    )


def forge_notifications(daemon_url: str) -> list[int]:
    """Post one notification without headers and one with a forged token; return the statuses."""
    forged = {
        "X-Goog-Channel-ID": "forged-channel",
        "X-Goog-Resource-ID": "forged-resource",
        "X-Goog-Resource-State": "exists",
        "X-Goog-Channel-Token": "v1.1.cHJpbWFyeQ.forged",
    }
    statuses = []
    for headers in ({}, forged):
        try:
            call(daemon_url.rstrip("/") + WEBHOOK_PATH, b"", headers)
            statuses.append(200)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def main(argv: list[str]) -> int:
    """Run one sub-command (see the module docstring)."""
    match argv:
        case ["seed-meeting", env_file, n, *hour]:
            print(seed_meeting(read_env(Path(env_file)), int(n), int(hour[0]) if hour else 10))
        case ["blocks", env_file, calendar, start]:
            print(blocks(read_env(Path(env_file)), calendar, start))
        case ["channels", env_file]:
            live = call(f"{read_env(Path(env_file))['GOOGLE_API_ROOT_URL']}_emulator/channels")["channels"]
            print("\n".join(channel["id"] for channel in live))
        case ["forge-notifications", daemon_url]:
            statuses = forge_notifications(daemon_url)
            print(*statuses)
            return 0 if all(400 <= status < 500 for status in statuses) else 1
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
