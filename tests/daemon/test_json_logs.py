"""LOG_FORMAT=json: one JSON object per line, structured fields kept, secrets masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from calmirror.logs import setup_logging

SECRET = "webhook-key-value-123456"


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    """Put the root logger's handlers and level back after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_fields_and_mask_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    """Each record is one parseable object; fields become keys; secrets never appear."""
    setup_logging("INFO", [SECRET], fmt="json")
    log = logging.getLogger("calmirror.test")
    log.info("reconcile %s", "ok", extra={"fields": {"trigger": "webhook", "creates": 2, "note": SECRET}})
    try:
        raise ValueError(f"boom {SECRET}\nsecond line")
    except ValueError:
        log.exception("failed")
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["message"] == "reconcile ok"
    assert (first["level"], first["logger"], first["trigger"], first["creates"]) == (
        "INFO", "calmirror.test", "webhook", 2,
    )  # fmt: skip
    assert first["note"] == "***"
    assert second["level"] == "ERROR"
    assert "ValueError" in second["exception"]
    assert SECRET not in second["exception"]
