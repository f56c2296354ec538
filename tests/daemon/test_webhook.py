"""Pure tests of notification header parsing, HMAC channel tokens and the per-channel rate limit."""

from __future__ import annotations

from typing import get_args

import pytest

from calmirror.config import CalendarRef
from calmirror.daemon.metrics import DaemonMetrics
from calmirror.daemon.webhook import (
    MAX_TOKEN_LENGTH,
    Notification,
    RateLimiter,
    Rejection,
    RejectionReason,
    make_token,
    parse_headers,
    verify_token,
)
from calmirror.engine import Trigger
from calmirror.logs import redact

KEY = "k" * 32
REF = CalendarRef(account_id=3, calendar_id="team.planning@group.calendar.google.com")
HEADERS = {"X-Goog-Channel-ID": "ch-1", "X-Goog-Resource-ID": "res-1", "X-Goog-Resource-State": "exists"}


def test_token_round_trip_tells_which_calendar_it_watches() -> None:
    """A process that never saw the channel learns its account and calendar from the token alone."""
    token = make_token(KEY, "ch-1", REF)
    assert verify_token(KEY, "ch-1", token) == REF
    assert len(token) <= MAX_TOKEN_LENGTH
    assert REF.calendar_id not in token  # encoded, and without dots, so the token splits in four


@pytest.mark.parametrize(
    ("key", "channel_id", "mutate"),
    [
        ("another-key-of-32-characters-xxx", "ch-1", lambda t: t),  # another deployment's key
        (KEY, "ch-2", lambda t: t),  # a real token replayed under another channel id
        (KEY, "ch-1", lambda t: t.replace("v1.3.", "v1.4.", 1)),  # claims another account
        (KEY, "ch-1", lambda t: t[:-1] + ("A" if t[-1] != "A" else "B")),  # altered MAC
        (KEY, "ch-1", lambda t: "v2" + t[2:]),
        (KEY, "ch-1", lambda t: t + ".extra"),
        (KEY, "ch-1", lambda t: "v1.x.abc.def"),
        (KEY, "ch-1", lambda t: "v1.3.!!!.def"),
        (KEY, "ch-1", lambda t: "v1.3." + "A" * 300),
        (KEY, "ch-1", lambda t: t.replace("v1.3.", "v1.\u00b2.", 1)),  # a digit int() refuses
        (KEY, "ch-1", lambda t: t.replace("v1.3.", "v1.\u0663.", 1)),  # a digit int() reads as 3
        (KEY, "ch-1", lambda t: t.replace("v1.3.", "v1..", 1)),
        (KEY, "ch-1", lambda t: "v1.3.." + t.split(".")[3]),  # no calendar
    ],
)
def test_forged_or_altered_tokens_fail(key: str, channel_id: str, mutate: object) -> None:
    """Only the exact token made with this key for this channel verifies."""
    assert callable(mutate)
    token = mutate(make_token(KEY, "ch-1", REF))
    assert verify_token(key, channel_id, token) is None


def test_missing_token_fails() -> None:
    """No token, no calendar."""
    assert verify_token(KEY, "ch-1", None) is None
    assert verify_token(KEY, "ch-1", "") is None


def test_parse_headers() -> None:
    """The headers Google always sends are required; the state must be one Google sends."""
    parsed = parse_headers({**HEADERS, "X-Goog-Channel-Token": "t", "X-Goog-Message-Number": "7"})
    assert parsed == Notification("ch-1", "res-1", "exists", "t")
    for name in HEADERS:
        assert parse_headers({k: v for k, v in HEADERS.items() if k != name}) == Rejection(
            "missing_headers", 400
        )
    assert parse_headers({**HEADERS, "X-Goog-Resource-State": "updated"}) == Rejection("bad_state", 400)
    assert isinstance(parse_headers({**HEADERS, "X-Goog-Resource-State": "not_exists"}), Notification)


def test_rate_limit_is_per_channel_and_refills() -> None:
    """A burst, then refusals; another channel is unaffected; time refills the bucket."""
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")
    now[0] += 0.5
    assert limiter.allow("a")
    assert not limiter.allow("a")


def test_tokens_are_masked_in_logs_even_unregistered() -> None:
    """The token shape is a known credential shape for the redactor."""
    token = make_token(KEY, "ch-1", REF)
    assert token not in redact(f"notification with {token} arrived", ())


def test_every_rejection_reason_and_trigger_has_a_series_from_the_start() -> None:
    """Alerts and rate() see each reason the handler can give, and each engine trigger, at zero."""
    exposition = DaemonMetrics().render("")[0].decode()
    for reason in get_args(RejectionReason):
        assert f'calmirror_webhook_rejections_total{{reason="{reason}"}} 0.0' in exposition
    for trigger in get_args(Trigger):
        assert f'calmirror_reconciles_total{{outcome="ok",trigger="{trigger}"}} 0.0' in exposition
