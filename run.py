"""Start the daemon: `python run.py` is `calmirror run`."""

import sys

from calmirror.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
