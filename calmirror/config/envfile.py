"""Read a .env file as python-dotenv does, and flag the lines systemd's EnvironmentFile= reads differently."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import Binding, parse_stream

_INLINE_COMMENT = re.compile(r"\s#")
_EXPORT = re.compile(r"^export\s")
# systemd.exec(5), EnvironmentFile=: no `export`, and a `#` only starts a comment at the start of a line.
_SYSTEMD = "systemd's EnvironmentFile= reads this line differently"


@dataclass(frozen=True)
class EnvFile:
    """The variables of one .env file, its unreadable lines (problems) and its systemd pitfalls (warnings)."""

    values: dict[str, str | None]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_env_file(path: Path) -> EnvFile:
    """Read KEY=VALUE lines (quotes and `export` allowed); a missing file is empty, a bad line a problem."""
    if not path.is_file():
        return EnvFile({})
    bindings = list(parse_stream(io.StringIO(path.read_text(encoding="utf-8"))))
    problems = [
        f"{path}, line {b.original.line}: not a NAME=value line (quote a value with spaces)"
        for b in bindings
        if b.error
    ]
    warnings = [warning for b in bindings if (warning := _systemd_pitfall(path, b))]
    # Parse only the good lines, so python-dotenv does not print its own warning about the bad ones.
    text = "".join(b.original.string for b in bindings if not b.error)
    return EnvFile(dict(dotenv_values(stream=io.StringIO(text), interpolate=False)), problems, warnings)


def _systemd_pitfall(path: Path, binding: Binding) -> str | None:
    """Return a warning naming the file, line and variable when systemd would read the line otherwise."""
    if binding.key is None:
        return None
    where = f"{path}, line {binding.original.line} ({binding.key})"
    line = binding.original.string.strip()
    if _EXPORT.match(line):
        return f"{where}: {_SYSTEMD}; write {binding.key}=value without `export`"
    value = line.partition("=")[2].strip()
    if not value.startswith(("'", '"')) and _INLINE_COMMENT.search(value):
        return (
            f"{where}: {_SYSTEMD}, keeping the `# ...` as part of the value; put the comment on its own line"
        )
    return None
