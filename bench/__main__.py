"""Run the benchmarks, print one aligned table and write `bench/results/latest.json` (or `quick.json`)."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Cheapest first, so a broken environment shows up quickly.
BENCHMARKS = (
    "planner",
    "emulator",
    "sync_costs",
    "provider_costs",
    "microsoft_costs",
    "daemon",
    "microsoft_daemon",
    "daemon_scale",
    "daemon_stop",
)
ONLY_ON_REQUEST = ("daemon_flood",)  # a part of daemon_scale, for reruns of one figure (--only)
RESULTS = Path(__file__).parent / "results" / "latest.json"  # the committed full-run figures
QUICK_RESULTS = RESULTS.with_name("quick.json")  # git-ignored: a quick run never replaces them
COLUMNS = ("bench", "case", "system", "metric", "value", "unit")


def run_one(name: str, *, quick: bool) -> list[dict[str, Any]]:
    """Import `bench.<name>` and call its `run()`, passing `quick` only to benchmarks that accept it."""
    module = importlib.import_module(f"bench.{name}")
    kwargs = {"quick": quick} if "quick" in inspect.signature(module.run).parameters else {}
    rows: list[dict[str, Any]] = module.run(**kwargs)
    return rows


def render(value: Any) -> str:
    """Format a cell: floats with sensible precision, everything else as text."""
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def table(rows: list[dict[str, Any]]) -> str:
    """Return the rows as one aligned text table, numbers right-aligned."""
    cells = [[render(row.get(col)) for col in COLUMNS] for row in rows]
    widths = [max([len(col)] + [len(line[i]) for line in cells]) for i, col in enumerate(COLUMNS)]
    value_col = COLUMNS.index("value")

    def line(parts: list[str]) -> str:
        padded = [
            p.rjust(w) if i == value_col else p.ljust(w)
            for i, (p, w) in enumerate(zip(parts, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(COLUMNS)), rule, *(line(c) for c in cells)])


def results_path(output: Path | None, *, quick: bool) -> Path:
    """Return where the results go: --output if given, else quick.json for --quick, else latest.json."""
    if output is not None:
        return output
    return QUICK_RESULTS if quick else RESULTS


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the chosen benchmarks and report; exit 1 if any benchmark failed."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only", nargs="+", choices=BENCHMARKS + ONLY_ON_REQUEST, metavar="NAME", help="run only these"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats")
    parser.add_argument(
        "--output",
        type=Path,
        help="results file (default: bench/results/latest.json; quick.json with --quick)",
    )
    args = parser.parse_args(argv)

    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    started = time.perf_counter()
    for name in args.only or BENCHMARKS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            rows += run_one(name, quick=args.quick)
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
        print(f"  {name} took {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    print(table(rows))
    command = "python -m bench" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "duration_s": round(time.perf_counter() - started, 1),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine slows the throughput figures; this says how busy it was.
            "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        },
        "failed": failed,
        "rows": rows,
    }
    output = results_path(args.output, quick=args.quick)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(output)
    print(f"\nwrote {output} ({len(rows)} rows, {result['duration_s']} s)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
