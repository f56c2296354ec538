"""RepeatFilter: a flood of one log record costs one line per interval plus a count of the rest."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

SUMMARY = "repeat_summary"  # a record with this attribute set is RepeatFilter's own count: let through


@dataclass
class _Run:
    """One kind of record within its interval: when the interval began, its first line, the held back."""

    since: float
    message: str
    held: int = 0


class RepeatFilter(logging.Filter):
    """Lets the first record of each kind through per interval and holds back the rest, counted.

    A kind is the logger, the level, the message before its arguments and the exception type, so a
    flood of one failure (asyncio's accept error on EMFILE, a malformed request from many addresses)
    costs one line per interval, plus the count that report() writes.
    """

    def __init__(
        self, interval: float = 60.0, *, clock: Callable[[], float] = time.monotonic, kinds: int = 256
    ) -> None:
        super().__init__()
        self.interval, self.clock, self.kinds = interval, clock, kinds
        self._runs: OrderedDict[tuple[str, int, str, str], _Run] = OrderedDict()
        self._reported = clock()

    def filter(self, record: logging.LogRecord) -> bool:
        """Pass the first record of its kind in an interval; count and drop the others."""
        if getattr(record, SUMMARY, False):
            return True
        exc = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind = (record.name, record.levelno, str(record.msg), exc)
        now = self.clock()
        run = self._runs.get(kind)
        if run is not None and now - run.since < self.interval:
            run.held += 1
            return False
        if run is not None:  # a new interval: this record passes, the old count still waits for report()
            run.since = now
            return True
        self._runs[kind] = _Run(now, _message(record))
        while len(self._runs) > self.kinds:
            self._runs.popitem(last=False)
        return True

    def report(self) -> None:
        """Log, once per kind, how many records were held back since the last report."""
        now = self.clock()
        seconds = round(now - self._reported)
        self._reported = now
        for (name, level, _, _), run in list(self._runs.items()):
            if run.held:
                logging.getLogger(name).log(
                    level,
                    "%s (and %s more like it in the last %d s)",
                    run.message,
                    f"{run.held:,}",
                    seconds,
                    extra={SUMMARY: True},
                )
                run.held = 0
        for kind in [k for k, run in self._runs.items() if now - run.since >= self.interval]:
            del self._runs[kind]


def _message(record: logging.LogRecord) -> str:
    """Return a record's message on one line, without failing on a malformed call."""
    try:
        return " | ".join(record.getMessage().splitlines())
    except (TypeError, ValueError):
        return str(record.msg)
