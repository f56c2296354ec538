"""Allow `python -m calmirror`."""

from calmirror.cli import main

raise SystemExit(main())
