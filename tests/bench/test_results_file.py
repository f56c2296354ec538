"""A quick run writes its own results file, so the committed full-run figures are never overwritten."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import QUICK_RESULTS, RESULTS, results_path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_writes_a_git_ignored_file_of_its_own() -> None:
    assert results_path(None, quick=False) == RESULTS
    assert results_path(None, quick=True) == QUICK_RESULTS != RESULTS
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert QUICK_RESULTS.relative_to(ROOT).as_posix() in ignored
    assert RESULTS.relative_to(ROOT).as_posix() not in ignored


def test_an_explicit_output_wins_in_both_modes(tmp_path: Path) -> None:
    chosen = tmp_path / "mine.json"
    assert results_path(chosen, quick=True) == chosen
    assert results_path(chosen, quick=False) == chosen
