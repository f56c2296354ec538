"""Bounds what hostile or broken traffic can write to the log: one line per kind and minute, with counts.

asyncio logs its accept error once per connection it cannot accept (and on EMFILE retries every
second), and aiohttp logs every malformed request with a traceback; both go through a RepeatFilter.
Refused webhook requests are already counted in calmirror_webhook_rejections_total; the log gets one
summary of those counts a minute instead of a line per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable

from aiohttp.http_exceptions import HttpProcessingError

from calmirror.daemon.metrics import DaemonMetrics
from calmirror.daemon.repeats import RepeatFilter
from calmirror.daemon.tasks import BackgroundTasks

log = logging.getLogger(__name__)

SUMMARY_SECONDS = 60.0
NOISY_LOGGERS = ("asyncio", "aiohttp.server")  # the loop's accept errors; aiohttp's per-request errors
DETAIL_CHARACTERS = 120  # of a parser's complaint, which may quote what the client sent


class MalformedRequestFilter(logging.Filter):
    """Turns aiohttp's traceback for a request it could not parse into one WARNING line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a parse failure's record in place; pass every record on."""
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "unknown"
            detail = " ".join(str(exc.message).split())[:DETAIL_CHARACTERS]
            record.msg, record.args = (
                "malformed HTTP request from %s: %s: %s",
                (
                    remote,
                    type(exc).__name__,
                    detail,
                ),
            )
            record.exc_info, record.exc_text = None, None
            if record.levelno > logging.WARNING:
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class RejectionSummary:
    """Logs how many webhook requests were refused since its last line, by reason, from the metric."""

    def __init__(self, metrics: DaemonMetrics, clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics, self.clock = metrics, clock
        self.seen = self._counts()
        self.since = clock()

    def _counts(self) -> Counter[str]:
        """Return calmirror_webhook_rejections_total by reason."""
        return Counter(
            {
                s.labels["reason"]: int(s.value)
                for family in self.metrics.rejections.collect()
                for s in family.samples
                if s.name.endswith("_total")
            }
        )

    def report(self) -> None:
        """Write one line with the refusals since the last report, if there were any."""
        counts, now = self._counts(), self.clock()
        new = +(counts - self.seen)
        seconds = round(now - self.since)
        self.seen, self.since = counts, now
        if new:
            reasons = ", ".join(f"{n:,} {reason}" for reason, n in new.most_common())
            log.warning(
                "rejected %s webhook requests in the last %d s: %s", f"{new.total():,}", seconds, reasons
            )


@contextlib.asynccontextmanager
async def quiet_logs(metrics: DaemonMetrics, every: float = SUMMARY_SECONDS) -> AsyncIterator[None]:
    """Fold repeated failures and refusals into counts while the daemon serves; report the rest at exit."""
    repeats = RepeatFilter(every)
    malformed = MalformedRequestFilter()
    rejections = RejectionSummary(metrics)
    loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]
    for logger in loggers:
        logger.addFilter(malformed)  # before the RepeatFilter, which then sees the rewritten kind
        logger.addFilter(repeats)

    async def periodically() -> None:
        while True:
            await asyncio.sleep(every)
            repeats.report()
            rejections.report()

    reporting = BackgroundTasks("log summaries")
    reporting.spawn(periodically())
    try:
        yield
    finally:
        await reporting.close(0)
        repeats.report()
        rejections.report()
        for logger in loggers:
            logger.removeFilter(repeats)
            logger.removeFilter(malformed)
