"""Logging to stdout, one line (text or JSON) per record, with every secret masked before it is written."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import sys
import time
from collections.abc import Iterable
from logging.handlers import QueueHandler, QueueListener
from pathlib import Path

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


class QuietCaldavFilter(logging.Filter):
    """Drops the caldav library's records below WARNING: they carry request and answer bodies.

    caldav logs bodies at DEBUG on its own loggers, and an answer that is not XML (a login page) at
    INFO on the root logger from its response module; calendar contents must never reach the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for a caldav record below WARNING, True for every other record."""
        if record.levelno >= logging.WARNING:
            return True
        from_caldav = record.name == "caldav" or record.name.startswith("caldav.")
        return not from_caldav and Path(record.pathname).parts[-2:] != ("caldav", "response.py")


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


QUEUED_RECORDS = 10_000  # lines waiting for the writer thread; past this they are counted and dropped
# After writing what was queued, the writer thread waits this long before it looks again, so a burst
# of lines wakes it (and takes the GIL from the event loop) a few times, not once per line.
BATCH_SECONDS = 0.02
STOP_SECONDS = 2.0  # at shutdown, how long the queued lines may take to reach a slow stdout


class _BatchingListener(QueueListener):
    """A QueueListener that, once the queue is empty, lets lines gather for BATCH_SECONDS."""

    def __init__(self, lines: queue.Queue[logging.LogRecord], writer: logging.Handler) -> None:
        super().__init__(lines, writer)
        self.lines = lines

    def dequeue(self, block: bool) -> logging.LogRecord:
        """Return the next line's record; pause first when nothing was waiting."""
        if self.lines.empty():
            time.sleep(BATCH_SECONDS)
        return self.lines.get(block)

    def stop(self) -> None:
        """Write what is queued and stop, waiting at most STOP_SECONDS for a stalled stdout.

        The writer is a daemon thread: when stdout takes nothing, the process may exit without it
        rather than hang in shutdown (the base class would raise queue.Full or join for ever).
        """
        with contextlib.suppress(queue.Full):  # QueueListener's sentinel is None
            self.lines.put(None, timeout=STOP_SECONDS)  # type: ignore[arg-type]
        if self._thread is not None:
            self._thread.join(STOP_SECONDS)
            self._thread = None


class _QueuedHandler(QueueHandler):
    """Masks and formats each record here, and has a thread write the line to stdout.

    So a slow stdout (a stalled journal) never blocks the event loop, while the thread holds the GIL
    for little more than its writes. Closing it (logging.shutdown does) writes what is queued first.
    """

    def __init__(self) -> None:
        lines: queue.Queue[logging.LogRecord] = queue.Queue(QUEUED_RECORDS)
        super().__init__(lines)
        writer = logging.StreamHandler(sys.stdout)
        writer.setFormatter(logging.Formatter("%(message)s"))
        self.dropped = 0
        self.listener: QueueListener | None = _BatchingListener(lines, writer)
        self.listener.start()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """Return a record that carries only the finished line."""
        return logging.makeLogRecord({"msg": self.format(record), "levelno": record.levelno})

    def enqueue(self, record: logging.LogRecord) -> None:
        """Queue the line, or count it as dropped while the writer is QUEUED_RECORDS behind."""
        try:
            if self.dropped:
                note = logging.makeLogRecord({"name": __name__, "levelno": logging.WARNING})
                note.levelname = "WARNING"
                note.msg = f"{self.dropped:,} log records dropped: stdout could not keep up"
                self.queue.put_nowait(self.prepare(note))
                self.dropped = 0
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1

    def close(self) -> None:
        """Write every queued line, then stop the writer thread."""
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        super().close()


def _ours(handler: logging.Handler) -> bool:
    """Tell whether a handler is one setup_logging installed."""
    return isinstance(handler, _CalmirrorHandler | _QueuedHandler)


def installed_secrets() -> tuple[str, ...] | None:
    """Return the secrets the handler of setup_logging masks, or None when it has not run."""
    for handler in logging.getLogger().handlers:
        if _ours(handler):
            return tuple(s for f in handler.filters if isinstance(f, RedactingFilter) for s in f.secrets)
    return None


def setup_logging(
    level: str,
    secrets: Iterable[str],
    *,
    journald: bool | None = None,
    fmt: str = "text",
    queued: bool = False,
) -> None:
    """Send every logger's records to stdout at `level` (as text or JSON lines), `secrets` masked.

    `queued` (the daemon) has a thread of its own write the lines; the shorter commands write them in
    line with their own prints.
    """
    if journald is None:
        journald = "JOURNAL_STREAM" in os.environ  # set by systemd when stdout is the journal
    handler = _QueuedHandler() if queued else _CalmirrorHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else OneLineFormatter(journald=journald))
    handler.addFilter(QuietCaldavFilter())
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if _ours(h)]:
        root.removeHandler(old)
        if isinstance(old, _QueuedHandler):
            old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())


def flush_logs() -> None:
    """Wait until the writer thread of a queued setup has written every record handed to it."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _QueuedHandler):
            handler.queue.join()  # type: ignore[attr-defined]
