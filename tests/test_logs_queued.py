"""The daemon's log: written from a thread (masked, one line each, flushed at exit) and repeats folded."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from calmirror.daemon.repeats import RepeatFilter
from calmirror.logs import QUEUED_RECORDS, STOP_SECONDS, flush_logs, setup_logging

SECRET = "s3cr3t-client-value"


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    """Put the root logger's handlers and level back after each test, stopping any writer thread."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


class HeldStream(io.StringIO):
    """A stdout whose writes wait until released, like a journal that has stopped reading."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()

    def write(self, text: str) -> int:
        """Wait for the release (at most 10 s), then write."""
        self.released.wait(10)
        return super().write(text)


def test_queued_records_are_masked_and_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Through the writer thread a secret is still masked, in the message and its traceback alike."""
    setup_logging("INFO", [SECRET], journald=False, queued=True)
    log = logging.getLogger("calmirror.test")
    log.info("secret %s", SECRET)
    try:
        raise ValueError(f"bad token {SECRET}\nsecond line")
    except ValueError:
        log.exception("refresh failed")
    flush_logs()
    first, second = capsys.readouterr().out.splitlines()
    assert first.endswith("calmirror.test secret ***")
    assert "refresh failed | Traceback (most recent call last):" in second
    assert "ValueError: bad token *** | second line" in second


def test_queued_json_keeps_fields_and_masks_them(capsys: pytest.CaptureFixture[str]) -> None:
    """LOG_FORMAT=json through the writer thread: the record's fields are keys, secrets masked there too."""
    setup_logging("INFO", [SECRET], fmt="json", queued=True)
    logging.getLogger("calmirror.test").info("run %s", "ok", extra={"fields": {"note": SECRET, "n": 2}})
    flush_logs()
    line = json.loads(capsys.readouterr().out)
    assert (line["message"], line["note"], line["n"]) == ("run ok", "***", 2)


def test_a_stalled_stdout_does_not_hold_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """Logging returns while stdout does not take the line; the line is written once it does."""
    stream = HeldStream()
    monkeypatch.setattr(sys, "stdout", stream)
    setup_logging("INFO", [], journald=True, queued=True)
    logging.getLogger("calmirror").warning("written later")
    assert stream.getvalue() == ""  # a direct write would have waited for the release (10 s) and be here
    stream.released.set()
    flush_logs()
    assert stream.getvalue() == "<4>calmirror WARNING written later\n"


def test_records_beyond_the_queue_are_counted_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """While stdout is stalled the queue holds a bounded number of records; the rest are reported dropped."""
    stream = HeldStream()
    monkeypatch.setattr(sys, "stdout", stream)
    setup_logging("INFO", [], journald=True, queued=True)
    log = logging.getLogger("calmirror")
    total = QUEUED_RECORDS + 100
    for n in range(total):
        log.info("record %d", n)
    stream.released.set()
    flush_logs()
    log.info("after")  # the first record queued after the drops carries their count
    flush_logs()
    lines = stream.getvalue().splitlines()
    (note,) = [line for line in lines if "log records dropped" in line]
    dropped = int(re.search(r"([\d,]+) log records dropped", note)[1].replace(",", ""))  # type: ignore[index]
    written = [line for line in lines if " record " in line]
    assert QUEUED_RECORDS <= len(written) <= QUEUED_RECORDS + 1  # the one the thread took before the stall
    assert len(written) + dropped == total
    assert lines[-2:] == [note, "<6>calmirror INFO after"]


def test_closing_with_a_full_queue_and_a_stalled_stdout_returns_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Shutdown with the queue full and stdout taking nothing: no queue.Full, no hang past the bound."""
    stream = HeldStream()
    monkeypatch.setattr(sys, "stdout", stream)
    setup_logging("INFO", [], journald=True, queued=True)
    log = logging.getLogger("calmirror")
    for n in range(QUEUED_RECORDS + 10):
        log.info("record %d", n)
    (handler,) = [h for h in logging.getLogger().handlers if type(h).__name__ == "_QueuedHandler"]
    closed = threading.Event()
    closer = threading.Thread(target=lambda: (handler.close(), closed.set()), daemon=True)
    closer.start()
    assert closed.wait(4 * STOP_SECONDS), "closing the log waited for a stdout that takes nothing"
    stream.released.set()


def test_everything_queued_is_written_before_os_exit() -> None:
    """logging.shutdown (which run_daemon calls before os._exit) writes every queued record first."""
    script = (
        "import logging, os\n"
        "from calmirror.logs import setup_logging\n"
        "setup_logging('INFO', [], journald=True, queued=True)\n"
        "for n in range(2000):\n"
        "    logging.getLogger('calmirror').info('line %d', n)\n"
        "logging.shutdown()\n"
        "os._exit(3)\n"
    )
    done = subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3
    lines = done.stdout.splitlines()
    assert lines == [f"<6>calmirror INFO line {n}" for n in range(2000)]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        """Return the current time."""
        return self.now


def test_repeats_are_one_line_and_a_count_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    """The first record of a kind passes; the others within the interval become one count line."""
    clock = Clock()
    repeats = RepeatFilter(60.0, clock=clock)
    log = logging.getLogger("calmirror.test.repeats")
    log.addFilter(repeats)
    try:
        with caplog.at_level(logging.INFO, logger=log.name):
            for n in range(1000):  # one kind: the same template, whatever its arguments
                log.warning("malformed request from %s", f"10.0.0.{n % 250}")
            log.error("another kind")
            clock.now = 30.0
            repeats.report()
            repeats.report()  # nothing new held back: no line
            clock.now = 61.0
            log.warning("malformed request from %s", "10.0.1.1")  # a new interval: passes again
    finally:
        log.removeFilter(repeats)
    assert [r.getMessage() for r in caplog.records] == [
        "malformed request from 10.0.0.0",
        "another kind",
        "malformed request from 10.0.0.0 (and 999 more like it in the last 30 s)",
        "malformed request from 10.0.1.1",
    ]
    assert caplog.records[2].levelno == logging.WARNING


def test_the_kinds_remembered_are_bounded() -> None:
    """Distinct messages never grow the filter beyond its bound."""
    repeats = RepeatFilter(60.0, clock=Clock(), kinds=10)
    for n in range(1000):
        record = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, f"task {n} failed", None, None)
        assert repeats.filter(record)
    assert len(repeats._runs) == 10
