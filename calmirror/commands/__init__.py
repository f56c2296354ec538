"""Sub-commands of the `calmirror` CLI; each module registers one with `register(subparsers)`."""
