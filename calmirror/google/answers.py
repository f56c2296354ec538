"""What counts as Google's answer: a JSON object, nothing for bodiless methods, or "no answer"."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from calmirror.errors import NoAnswerError
from calmirror.google.writes import WriteOutcome

# Methods whose success has no body (HTTP 204).
EMPTY_ANSWERS = frozenset({"calendar.events.delete", "calendar.channels.stop"})


def checked_answer(method: str, answer: Any) -> dict[str, Any]:
    """Return a call's JSON object, or raise NoAnswerError for an answer that is not Google's.

    googleapiclient hands back the raw text of a body that is not JSON (a captive portal's or a proxy's
    HTML page answered with 200). Taking that for "no events" would let a reconcile delete every block
    of a source that only seemed empty, so such an answer is a failed, retryable read.
    """
    if method in EMPTY_ANSWERS and answer in ("", None, {}):
        return {}
    if not isinstance(answer, dict) or (
        method.endswith(".list") and not isinstance(answer.get("items"), list)
    ):
        raise NoAnswerError(f"{method}: the answer is not a Google API response ({type(answer).__name__})")
    return answer


def unknown_if_unanswered(outcome: WriteOutcome) -> WriteOutcome:
    """Keep "no answer" as a write's final error when a later attempt only failed transiently.

    An unanswered attempt may have been carried out, so a 503 to its resend does not mean "not done".
    """
    error = outcome.error
    if error is None or not error.retryable or isinstance(error, NoAnswerError):
        return outcome
    text = f"no answer to an earlier attempt, then {error}"
    return replace(outcome, error=NoAnswerError(text, status=error.status, account_id=error.account_id))
