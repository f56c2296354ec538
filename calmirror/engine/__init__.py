"""The sync engine: filters, planner, executor, calendar caches and the reconcile loop."""
