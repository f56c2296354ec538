"""Logging: one stdout line per record, with secrets and credential shapes masked everywhere."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from calmirror.logs import RedactingFilter, redact, setup_logging

SECRET = "s3cr3t-client-value"


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    """Put the root logger's handlers and level back after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Return what was written to stdout, as lines."""
    return capsys.readouterr().out.splitlines()


def test_registered_secret_is_masked_in_message_and_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """A registered secret is masked whether it is in the format string or an argument."""
    setup_logging("INFO", [SECRET], journald=False)
    logging.getLogger("calmirror.test").info("secret %s and " + SECRET, SECRET)
    (line,) = _lines(capsys)
    assert SECRET not in line
    assert line.endswith("calmirror.test secret *** and ***")


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: Bearer ya29.a0AfH6SMBx-token_part", "a0AfH6SMBx"),
        ("access ya29.A0ARrdaM-abc.def", "A0ARrdaM"),
        ("refresh 1//0gLx9Abc-def_ghi", "0gLx9Abc"),
        ("body client_secret=GOCSPX-abc&refresh_token=1//xyz&grant_type=refresh_token", "GOCSPX-abc"),
        ("redirect /?state=s&code=4/0AY0e-g7abc&scope=x", "4/0AY0e-g7abc"),
        ("access_token=opaque-value-123 rest", "opaque-value-123"),
        ('{"access_token": "tok-in-json", "expires_in": 3599}', "tok-in-json"),
        ("headers {'X-Goog-Channel-Token': 'channel-secret-1'}", "channel-secret-1"),
    ],
)
def test_credential_shapes_are_masked(capsys: pytest.CaptureFixture[str], text: str, leak: str) -> None:
    """Tokens nobody registered are still masked by their shape."""
    setup_logging("INFO", [], journald=False)
    logging.getLogger("aiohttp.access").warning(text)
    output = capsys.readouterr().out
    assert leak not in output
    assert "***" in output


def test_traceback_is_masked_and_kept_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """An exception carrying a secret is logged with its traceback masked, as one line."""
    setup_logging("INFO", [SECRET], journald=False)

    def refresh() -> None:
        raise ValueError(f"bad token {SECRET} from 1//0gLx9AbcDef")

    try:
        refresh()
    except ValueError:
        logging.getLogger("calmirror.google").exception("refresh failed")
    (line,) = _lines(capsys)
    assert SECRET not in line
    assert "0gLx9AbcDef" not in line
    assert "Traceback (most recent call last):" in line
    assert "ValueError: bad token *** from 1//***" in line


def test_multi_line_message_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A message with newlines stays one line, so journald keeps it as one entry."""
    setup_logging("INFO", [], journald=False)
    logging.getLogger("calmirror").info("first\nsecond\r\nthird")
    (line,) = _lines(capsys)
    assert line.endswith("first | second | third")


def test_journald_lines_carry_the_priority(capsys: pytest.CaptureFixture[str]) -> None:
    """Under journald each line starts with its syslog priority and carries no timestamp of its own."""
    setup_logging("DEBUG", [], journald=True)
    logging.getLogger("calmirror").warning("careful")
    logging.getLogger("calmirror").debug("detail")
    assert _lines(capsys) == ["<4>calmirror WARNING careful", "<7>calmirror DEBUG detail"]


def test_level_filters_and_setup_twice_keeps_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    """Records below the level are dropped, and a second setup replaces the first handler."""
    setup_logging("INFO", [], journald=True)
    setup_logging("WARNING", [], journald=True)
    logging.getLogger("calmirror").info("quiet")
    logging.getLogger("calmirror").error("loud")
    assert _lines(capsys) == ["<3>calmirror ERROR loud"]


def test_ordinary_words_survive_redaction() -> None:
    """Text without credentials passes unchanged, e.g. status_code= is not mistaken for code=."""
    text = "GET /calendar/v3 status_code=200 barcode=5 Bearer-less"
    assert redact(text, ["", "unrelated"]) == text


def test_malformed_record_is_masked_instead_of_raising() -> None:
    """A record whose arguments do not fit its format passes the filter masked, instead of raising."""
    record = logging.LogRecord("calmirror", logging.INFO, __file__, 1, "%d items", (SECRET,), None)
    assert RedactingFilter([SECRET]).filter(record)
    assert record.getMessage() == "%d items ('***',)"


def test_a_short_secret_is_masked_as_a_word_but_not_inside_words(capsys: pytest.CaptureFixture[str]) -> None:
    """A weak key like "short" is masked where it stands alone, and leaves "shorter" readable."""
    setup_logging("INFO", ["short"], journald=False)
    logging.getLogger("calmirror.test").warning("WEBHOOK_API_KEY: shorter than 16; key=short, (short)")
    (line,) = _lines(capsys)
    assert line.endswith("calmirror.test WEBHOOK_API_KEY: shorter than 16; key=***, (***)")
