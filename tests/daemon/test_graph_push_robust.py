"""Graph push over real HTTP, hard cases: what a subscription watches, gaps, odd answers, mixed POSTs."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from calmirror.commands.authorize_microsoft import Tenant
from calmirror.daemon.graphhook import make_client_state, parse_items
from calmirror.emulator.graph.messages import GraphRequest, GraphResponse
from calmirror.microsoft.calls import Call
from harness.processes import eventually
from tests.daemon.graphrig import ALICE, KEY, SOURCE, Rig, add_event, graph_rig, meeting


async def subscribed(rig: Rig) -> str:
    """Subscribe the source calendar and return the subscription id."""
    await rig.manager.start()
    assert rig.manager.polling_reason(SOURCE) is None, rig.manager.polling_reason(SOURCE)
    return rig.manager.live[SOURCE].id


async def read_finds(rig: Rig, subject: str) -> None:
    """Wait for a delta read that finds a meeting."""

    async def found() -> bool:
        return any(subject in subjects for subjects in rig.reads)

    await eventually(found, 10, f"a delta read that finds {subject!r}")


async def test_a_primary_source_watches_its_own_calendar_not_the_mailbox() -> None:
    """A "primary" source is subscribed by the default calendar's id: other calendars' writes notify none."""
    async with graph_rig() as rig:
        store, hub = rig.emulator.store, rig.emulator.subscriptions
        blocks = store.create_calendar(ALICE, "Blocks")  # e.g. calmirror's own target in the same mailbox
        sub_id = await subscribed(rig)
        assert hub.subscriptions[sub_id].calendar_ids == {store.calendar(ALICE, None).id}
        store.insert(blocks, meeting("Busy"))
        add_event(store, "Planning")
        await read_finds(rig, "Planning")
        await hub.drain()
        sent = [d.kind for d in hub.deliveries if d.subscription_id == sub_id and d.kind != "validation"]
        assert sent == ["created"]  # the meeting's, not the block's


async def test_a_remade_subscription_reads_the_gap_at_once() -> None:
    """After subscriptionRemoved, a renewal's 404 or a refusal that now succeeds, the gap is read at once."""
    async with graph_rig() as rig:
        hub = rig.emulator.subscriptions
        hub.allow_http = False  # Graph refuses the first subscription: the calendar is polled
        await rig.manager.start()
        assert rig.manager.expiry(SOURCE) is None
        add_event(rig.emulator.store, "Before the subscription")
        hub.allow_http = True
        assert await rig.manager.ensure(SOURCE, force=True)
        await read_finds(rig, "Before the subscription")
        sub_id = rig.manager.live[SOURCE].id
        hub.lifecycle(sub_id, "subscriptionRemoved")  # removed now; its notice is POSTed after this
        add_event(rig.emulator.store, "After the removal")  # notifies no subscription
        await read_finds(rig, "After the removal")
        hub.subscriptions.clear()  # Graph lost it without a word: the renewal's PATCH answers 404
        add_event(rig.emulator.store, "While lost")
        assert await rig.manager.ensure(SOURCE, force=True)
        await read_finds(rig, "While lost")
        assert rig.manager.live[SOURCE].id in hub.subscriptions


Rewrite = Callable[[GraphRequest, GraphResponse], GraphResponse]
ODD: dict[str, tuple[str, Rewrite]] = {  # which call answers oddly, and how
    "create without id": ("POST", lambda _, a: GraphResponse(201, {**a.body, "id": None})),
    "create with a bad date": (
        "POST",
        lambda _, a: GraphResponse(201, {**a.body, "expirationDateTime": "soon"}),
    ),
    "create not an object": ("POST", lambda _, a: GraphResponse(201, ["subscription"])),
    "list answered 204": ("GET", lambda _, a: GraphResponse(204)),
    "list of junk": ("GET", lambda _, a: GraphResponse(200, {"value": [3, None]})),
    "list not a list": ("GET", lambda _, a: GraphResponse(200, {"value": "none"})),
}


@pytest.mark.parametrize("case", sorted(ODD))
async def test_odd_graph_answers_are_refusals_never_crashes(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Graph (or a proxy) answering a subscription call oddly: a refusal polled and retried, no exception."""
    async with graph_rig() as rig:
        method, rewrite = ODD[case]
        hub = rig.emulator.subscriptions
        real = hub.handle

        async def odd(request: GraphRequest) -> GraphResponse:
            answer = await real(request)
            return rewrite(request, answer) if request.method == method else answer

        monkeypatch.setattr(hub, "handle", odd)
        await rig.manager.start()  # raised KeyError, ValueError or AttributeError before
        if method == "POST":
            reason = rig.manager.polling_reason(SOURCE)
            assert "did not make the subscription for now" in str(reason)
            assert rig.manager.failures[SOURCE].attempts == 1
            monkeypatch.undo()
            assert await rig.manager.ensure(SOURCE, force=True)
        assert rig.manager.live[SOURCE].id in hub.subscriptions  # subscribed despite the odd listing


async def test_no_secret_in_any_repr() -> None:
    """The client secret and the clientState HMAC never show in the repr of what holds them."""
    async with graph_rig() as rig:
        sub_id = await subscribed(rig)
        secret, state = rig.emulator.client.client_secret, make_client_state(KEY, SOURCE)
        body = json.dumps(
            {"value": [{"subscriptionId": sub_id, "clientState": state, "changeType": "updated"}]}
        )
        holders = [
            rig.emulator.client,  # the emulator's registered application
            Tenant("https://login.example", "contoso", rig.emulator.client.client_id, secret),
            rig.emulator.subscriptions.subscriptions[sub_id],  # the emulator's record of it
            rig.manager.live[SOURCE],
            rig.manager,
            Call("subscriptions.create", "POST", "/subscriptions", body={"clientState": state}),
            parse_items(body.encode()),  # a notification as the route reads it
        ]
        for holder in holders:
            shown = repr(holder)
            assert secret not in shown, shown
            assert state not in shown, shown
            assert KEY not in shown, shown


async def test_one_odd_item_does_not_refuse_the_authentic_ones() -> None:
    """Unknown events, a forged and an unreadable item beside an authentic one: 202, and only it is read."""
    async with graph_rig() as rig:
        sub_id = await subscribed(rig)
        before = len(rig.answers)
        ours = make_client_state(KEY, SOURCE)
        items = [
            {"subscriptionId": sub_id, "clientState": ours, "changeType": "updated"},
            {"subscriptionId": sub_id, "clientState": ours, "lifecycleEvent": "aLaterLifecycleEvent"},
            {"subscriptionId": sub_id, "clientState": ours, "changeType": "exploded"},
            {"subscriptionId": sub_id, "clientState": "g1.forged", "changeType": "updated"},
            {"subscriptionId": 7},
        ]
        status, _ = await rig.post(json.dumps({"value": items}).encode())
        assert status == 202

        async def read() -> bool:
            return bool(rig.reads)

        await eventually(read, 10, "the authentic item's read")
        assert len(rig.answers) == before + 1  # that one delta read, and nothing else
        assert rig.metric("calmirror_webhook_notifications_total", state="updated") == 1
        assert rig.metric("calmirror_webhook_rejections_total", reason="bad_body") == 3
        assert rig.metric("calmirror_webhook_rejections_total", reason="bad_token") == 1
        unknown_only = [{"subscriptionId": sub_id, "clientState": ours, "lifecycleEvent": "aLaterOne"}]
        assert (await rig.post(json.dumps({"value": unknown_only}).encode()))[0] == 202  # Graph's: no retries
        assert (await rig.post(json.dumps({"value": [{"subscriptionId": 7}]}).encode()))[0] == 400
        assert len(rig.reads) == 1
