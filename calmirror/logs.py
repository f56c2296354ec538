"""Logging to stdout, one line (text or JSON) per record, with every secret masked before it is written."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable

MASK = "***"
# A secret shorter than this would mask parts of ordinary words ("short" inside "shorter"): in logs it is
# masked only as a whole word, and in text shown to a person (configuration problems, the check-config
# summary) not at all.
MIN_MASKED_LENGTH = 6
# Shapes of credentials that must never reach a log even when nobody registered their value.
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ya29\.[0-9A-Za-z_.\-]+"), "ya29." + MASK),  # Google access tokens
    (re.compile(r"1//[0-9A-Za-z_.\-]+"), "1//" + MASK),  # Google refresh tokens
    (re.compile(r"(?i)\b(bearer\s+)[^\s'\",;]+"), r"\1" + MASK),
    (
        re.compile(r"\b(client_secret|refresh_token|access_token|id_token|code|token)=[^&\s'\",;]+"),
        r"\1=" + MASK,
    ),
    (re.compile(r"(\"(?:client_secret|refresh_token|access_token|id_token)\"\s*:\s*\")[^\"]*"), r"\1" + MASK),
    (re.compile(r"(?i)(x-goog-channel-token['\"]?\s*[:=]\s*['\"]?)[^'\",\s]+"), r"\1" + MASK),
    # calmirror's own channel tokens (calmirror.daemon.webhook): v1.<account>.<calendar>.<mac>
    (re.compile(r"\bv1\.\d+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]{43}"), "v1." + MASK),
)
# journald's priority prefixes (sd-daemon(3)), so `journalctl -p warning` filters calmirror's lines.
_JOURNAL_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return `text` with the given secret values and every known credential shape masked."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= MIN_MASKED_LENGTH:
            text = text.replace(secret, MASK)
        else:
            text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", MASK, text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in the message, its arguments, the traceback and the stack of every record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place with secrets masked; never drops a record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call must not crash the caller through the filter
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message, self.secrets), None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {
                k: redact(v, self.secrets) if isinstance(v, str) else v for k, v in fields.items()
            }
        if record.exc_info and not record.exc_text:
            # Render the traceback now, so the formatter reuses the redacted text instead of the raw one.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


class OneLineFormatter(logging.Formatter):
    """Formats a record, traceback included, as one line, so journald keeps it as one entry."""

    def __init__(self, *, journald: bool) -> None:
        fmt = (
            "%(name)s %(levelname)s %(message)s"
            if journald
            else "%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        super().__init__(fmt)
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        """Return the record on a single line, with a journald priority prefix when under journald."""
        line = super().format(record).replace("\r", "").replace("\n", " | ")
        if self.journald:
            return f"<{_JOURNAL_PRIORITY.get(record.levelno, 6)}>{line}"
        return line


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object per line; a record's `fields` extra become keys of it."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a single-line JSON object."""
        line: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str)


class _CalmirrorHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stdout handler setup_logging installs; recognised so a second call replaces it."""


def installed_secrets() -> tuple[str, ...] | None:
    """Return the secrets the handler of setup_logging masks, or None when it has not run."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _CalmirrorHandler):
            return tuple(s for f in handler.filters if isinstance(f, RedactingFilter) for s in f.secrets)
    return None


def setup_logging(
    level: str, secrets: Iterable[str], *, journald: bool | None = None, fmt: str = "text"
) -> None:
    """Send every logger's records to stdout at `level` (as text or JSON lines), `secrets` masked."""
    if journald is None:
        journald = "JOURNAL_STREAM" in os.environ  # set by systemd when stdout is the journal
    handler = _CalmirrorHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else OneLineFormatter(journald=journald))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _CalmirrorHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
