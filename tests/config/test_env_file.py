"""A .env file's lines that systemd reads differently are warnings, and unreadable lines are problems."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from calmirror.config.envfile import read_env_file
from tests.config.conftest import make_good_env


def calmirror(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m calmirror ARGS` in `cwd` with only PATH and `env` set."""
    return subprocess.run(  # noqa: S603 (the arguments are this test's own)
        [sys.executable, "-m", "calmirror", *args],
        env={"PATH": os.environ.get("PATH", ""), **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write_env_file(path: Path, *extra: str) -> Path:
    """Write the good configuration to `path` with `extra` lines appended, and return the path."""
    lines = [f"{name}={value}" for name, value in make_good_env().items()]
    path.write_text("\n".join([*lines, *extra]) + "\n")
    return path


def test_inline_comment_and_export_lines_are_warned_about(tmp_path: Path) -> None:
    """`NAME=value  # ...` and `export NAME=...` pass, with a warning naming file, line and variable each."""
    env_file = write_env_file(
        tmp_path / "my.env", "LISTEN_PORT=8001   # the health port", "export LOG_LEVEL=DEBUG"
    )
    done = calmirror(tmp_path, "check-config", "--env-file", str(env_file))
    assert done.returncode == 0, done.stderr
    assert "listen: 127.0.0.1:8001" in done.stdout
    assert done.stderr.splitlines() == [
        f"warning: {env_file}, line 23 (LISTEN_PORT): systemd's EnvironmentFile= reads this line "
        "differently, keeping the `# ...` as part of the value; put the comment on its own line",
        f"warning: {env_file}, line 24 (LOG_LEVEL): systemd's EnvironmentFile= reads this line "
        "differently; write LOG_LEVEL=value without `export`",
    ]


def test_quoted_hash_and_own_line_comments_are_not_warned_about(tmp_path: Path) -> None:
    """A `#` inside quotes or on a line of its own means the same to systemd: no warning."""
    env_file = write_env_file(tmp_path / ".env", "# the health port", 'SYNC_FLOW_1_BLOCK_TITLE="Busy #1"')
    done = calmirror(tmp_path, "check-config")
    assert done.returncode == 0, done.stderr
    assert "title 'Busy #1'" in done.stdout
    assert done.stderr == ""
    assert env_file.is_file()


def test_a_malformed_line_is_a_problem_naming_file_and_line(tmp_path: Path) -> None:
    """A line that is not NAME=value exits 2 with one problem naming file and line, not dotenv's warning."""
    write_env_file(tmp_path / ".env", "LOG_LEVEL=INFO", "this is not a setting")
    done = calmirror(tmp_path, "check-config")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "calmirror: 1 configuration problem(s):",
        "  .env, line 24: not a NAME=value line (quote a value with spaces)",
    ]


def test_the_readme_configuration_block_reads_the_same_under_systemd(tmp_path: Path) -> None:
    """The README's sample .env has no line that systemd would read differently from check-config."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("## Configuration")[1].split("```sh\n")[1].split("```")[0]
    env_file = tmp_path / "readme.env"
    env_file.write_text(block)
    parsed = read_env_file(env_file)
    assert parsed.warnings == []
    assert parsed.problems == []
    assert parsed.values["SYNC_FLOW_1_START_OFFSET"] == "5"


def test_no_env_file_and_no_flow_in_the_environment_says_where_it_looked(tmp_path: Path) -> None:
    """Run from a directory without .env and nothing set, calmirror names the directory it looked in."""
    done = calmirror(tmp_path, "check-config")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "calmirror: 1 configuration problem(s):",
        f"  no .env in {tmp_path} and no SYNC_FLOW_<N>_* in the environment (see .env.example)",
    ]


def test_an_env_file_without_flows_says_no_flow_is_configured(tmp_path: Path) -> None:
    """With a .env present, the problem is the missing flow, not the missing file."""
    (tmp_path / ".env").write_text("LOG_LEVEL=INFO\n")
    done = calmirror(tmp_path, "check-config")
    assert "  SYNC_FLOW_<N>_*: no sync flow is configured (see .env.example)" in done.stderr.splitlines()


def test_an_env_file_option_naming_a_directory_says_so(tmp_path: Path) -> None:
    """`--env-file DIR` is refused as a directory, not as a missing file."""
    done = calmirror(tmp_path, "check-config", "--env-file", str(tmp_path))
    assert (done.returncode, done.stderr.splitlines()[1:]) == (
        2,
        [f"  --env-file {tmp_path}: is a directory; give the path of a file"],
    )
