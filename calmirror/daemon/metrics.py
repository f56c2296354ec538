"""The daemon's Prometheus metrics: one registry per app, counters it updates, gauges read at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from calmirror.caldav import METHODS as CALDAV_METHODS
from calmirror.config import ProviderName
from calmirror.daemon.errorkinds import KINDS, error_kind
from calmirror.daemon.graphhook import CHANGES as GRAPH_CHANGES
from calmirror.daemon.graphhook import LIFECYCLE as GRAPH_LIFECYCLE
from calmirror.daemon.snapshot import Snapshot
from calmirror.daemon.webhook import REJECTIONS, STATES
from calmirror.engine import HoldReason, Trigger
from calmirror.errors import ProviderError
from calmirror.google.client import METHODS as GOOGLE_METHODS
from calmirror.ics import GET_METHOD
from calmirror.microsoft.client import METHODS as MICROSOFT_METHODS

TRIGGERS: tuple[Trigger, ...] = get_args(Trigger)
HOLD_REASONS: tuple[HoldReason, ...] = get_args(HoldReason)
# Every request method of each provider, by the names its client tells its observers.
PROVIDER_METHODS: dict[ProviderName, tuple[str, ...]] = {
    "google": GOOGLE_METHODS,
    "caldav": CALDAV_METHODS,
    "ics": (GET_METHOD,),
    "microsoft": MICROSOFT_METHODS,
}
GOOGLE_ONLY: tuple[ProviderName, ...] = ("google",)
_LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
_RECONCILE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def method_label(method: str) -> str:
    """Return the method label of a discovery id: "calendar.events.list" -> "events.list"."""
    return method.removeprefix("calendar.")


class DaemonMetrics:
    """The daemon's metric objects, registered on a registry of its own."""

    def __init__(self, providers: Collection[ProviderName] = GOOGLE_ONLY) -> None:
        """Make the metrics; every method of each configured provider is shown from zero on."""
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        r, ns = self.registry, "calmirror"
        self.provider_requests = Counter(
            "provider_requests",
            "Calendar provider calls by provider, method and outcome. In Google, each part of a batch"
            ' counts under its own method and the batch HTTP request once more under method="batch"; the'
            " daemon sends every Google write (events.insert/update/delete) in a batch, so Google HTTP"
            " requests = all its calls minus those writes. Microsoft Graph counts the same way, its batch"
            ' under method="$batch". Every other provider\'s call is one request.',
            ["provider", "method", "outcome"],
            namespace=ns,
            registry=r,
        )
        self.reconcile_duration = Histogram(
            "reconcile_duration_seconds",
            "One reconcile of one target calendar.",
            ["trigger"],
            buckets=_RECONCILE_BUCKETS,
            namespace=ns,
            registry=r,
        )
        self.reconciles = Counter(
            "reconciles", "Target reconciles.", ["trigger", "outcome"], namespace=ns, registry=r
        )
        self.webhook_to_block = Histogram(
            "webhook_to_block_seconds",
            "From receipt of a notification to the block written.",
            buckets=_LATENCY_BUCKETS,
            namespace=ns,
            registry=r,
        )
        self.notifications = Counter(
            "webhook_notifications", "Accepted push notifications.", ["state"], namespace=ns, registry=r
        )
        self.rejections = Counter(
            "webhook_rejections", "Refused webhook requests.", ["reason"], namespace=ns, registry=r
        )
        self.push_missed = Counter(
            "push_missed_changes",
            "Changes a poll found in the flow's source while it had a live channel and no notification"
            " for it had come (changes younger than the grace are left out). Several mean push stopped.",
            ["flow"],
            namespace=ns,
            registry=r,
        )
        # Known label values start at zero, so rate() and alerts see series before the first event.
        for trigger in TRIGGERS:
            self.reconcile_duration.labels(trigger=trigger)
            for outcome in ("ok", "error"):
                self.reconciles.labels(trigger=trigger, outcome=outcome)
        for provider in providers:
            for method in PROVIDER_METHODS[provider]:
                for kind in KINDS:
                    self.provider_requests.labels(
                        provider=provider, method=method_label(method), outcome=kind
                    )
        for state in STATES:
            self.notifications.labels(state=state)
        if "microsoft" in providers:  # Graph's change types and lifecycle events share the family
            for state in (*GRAPH_CHANGES, *GRAPH_LIFECYCLE):
                self.notifications.labels(state=state)
        for reason in REJECTIONS:
            self.rejections.labels(reason=reason)

    def request(
        self, provider: ProviderName, method: str, error: ProviderError | None, seconds: float | None
    ) -> None:
        """Count one provider attempt: an HTTP request, or a part of a Google batch."""
        del seconds  # the reconcile histogram times the work; per-request timing is not in the contract
        labels = {"provider": provider, "method": method_label(method), "outcome": error_kind(error)}
        self.provider_requests.labels(**labels).inc()

    def reconciled(self, trigger: str, ok: bool, seconds: float) -> None:
        """Count and time one target reconcile."""
        self.reconciles.labels(trigger=trigger, outcome="ok" if ok else "error").inc()
        self.reconcile_duration.labels(trigger=trigger).observe(seconds)

    def watch(self, snapshot: Callable[[], Snapshot]) -> None:
        """Publish the gauges and engine counters of `snapshot()` at every scrape."""
        self.registry.register(_SnapshotCollector(snapshot))

    def render(self, accept: str) -> tuple[bytes, str]:
        """Return the exposition and its content type: OpenMetrics when `accept` asks for it."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


class _SnapshotCollector(Collector):
    """Reads a Snapshot at scrape time: per-flow and per-account gauges, the engine's counters."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        """Yield every family built from a fresh snapshot."""
        s = self._snapshot()
        flow = ["flow"]
        expiry = GaugeMetricFamily(
            "calmirror_channel_expiry_timestamp_seconds", "When the source's channel expires.", labels=flow
        )
        polling = GaugeMetricFamily("calmirror_flow_polling_only", "1 without a live channel.", labels=flow)
        success = GaugeMetricFamily(
            "calmirror_flow_last_success_timestamp_seconds", "Last successful sync.", labels=flow
        )
        up = GaugeMetricFamily("calmirror_flow_up", "1 when the last sync succeeded.", labels=flow)
        person = GaugeMetricFamily(
            "calmirror_flow_needs_person",
            "1 when the last sync failed in a way retrying does not cure (access, quota, not found).",
            labels=flow,
        )
        for view in s.flows:
            if view.channel_expiry is not None and view.polling_reason is None:
                expiry.add_metric([view.name], view.channel_expiry.timestamp())
            if view.push:  # a source without push is polled by design: no series, no alert
                polling.add_metric([view.name], float(view.polling_reason is not None))
            if view.last_success is not None:
                success.add_metric([view.name], view.last_success.timestamp())
            up.add_metric([view.name], float(bool(view.last_ok)))
            needs_person = bool(view.stopped_by) or any(f.needs_person for f in view.failures)
            person.add_metric([view.name], float(needs_person))
        labels = ["account", "provider"]
        account_up = GaugeMetricFamily("calmirror_account_up", "1 when the account works.", labels=labels)
        reauth = GaugeMetricFamily(
            "calmirror_account_needs_reauth",
            "1 after its credentials were refused (Google invalid_grant, a CalDAV or feed 401).",
            labels=labels,
        )
        for account in s.accounts:
            account_up.add_metric([str(account.id), account.provider], float(account.needs_reauth is None))
            reauth.add_metric([str(account.id), account.provider], float(account.needs_reauth is not None))
        yield from (expiry, polling, success, up, person, account_up, reauth, _deletions_held(s))
        stats = s.stats
        for name, value in (
            ("events_processed", stats.events_processed),
            ("blocks_created", stats.busy_blocks_created),
            ("blocks_deleted", stats.busy_blocks_deleted),
            ("sync_errors", stats.errors),
        ):
            yield CounterMetricFamily(f"calmirror_{name}", f"Engine statistics: {name}.", value=value)
        yield GaugeMetricFamily("calmirror_ready", "1 after the first reconcile.", value=float(s.ready))
        yield GaugeMetricFamily(
            "calmirror_webhooks_enabled",
            "1 when push is configured (WEBHOOK_BASE_URL).",
            value=float(s.webhooks),
        )


def _deletions_held(snapshot: Snapshot) -> GaugeMetricFamily:
    """Return the deletions each target's last pass held back, per reason (every reason, zero included)."""
    held = GaugeMetricFamily(
        "calmirror_deletions_held",
        "Blocks no meeting needs that the target's last pass kept, by why.",
        labels=["target", "reason"],
    )
    for target in snapshot.targets:
        for reason in HOLD_REASONS:
            held.add_metric([target.target, reason], sum(why == reason for _, why in target.held))
    return held
