"""The daemon behind `calmirror run`: webhooks, watch channels, scheduled syncs, health and metrics."""
