"""Fan-out plumbing: notification payloads and the in-process hub."""
from __future__ import annotations

import asyncio

from cloud.fanout import MAX_PAYLOAD_BYTES, CartHub, encode_payloads, parse_payload


def test_payloads_round_trip_and_stay_under_the_limit() -> None:
    entries = [(f"cart_{i:032x}", i + 1) for i in range(600)]
    payloads = encode_payloads(entries)
    assert len(payloads) > 1 and all(len(p) <= MAX_PAYLOAD_BYTES for p in payloads)
    assert [e for p in payloads for e in parse_payload(p)] == entries
    assert parse_payload("cart_a:3,garbage,cart_b:x,:4") == [("cart_a", 3)]
    assert encode_payloads([]) == []


def test_hub_wakes_only_the_carts_subscribers_and_keeps_local_changes_in_order() -> None:
    async def scenario() -> None:
        hub = CartHub()
        with hub.subscribe("cart_a") as a, hub.subscribe("cart_b") as b:
            hub.publish("cart_a", 3)
            assert a.event.is_set() and not b.event.is_set() and a.notified_version == 3
            a.local.update({2: "two", 3: "three", 5: "five"})  # type: ignore[dict-item]
            assert a.take_local(1) == ["two", "three"] and a.local == {5: "five"}
            hub.resync_all()
            assert a.resync and b.resync and b.event.is_set()
        assert hub.watcher_count == 0

    asyncio.run(scenario())
