"""OrderService.ListOrders: a shopper's own orders, newest first, paged; nobody else's, and not for kiosks.

A real server on SQLite and PostgreSQL; orders are made the way the app makes them (a card
payment captured through the sandbox gateway).
"""
from __future__ import annotations

import asyncio

import pytest

from cloud.client import ClientError, SyncClient
from cloud.testing import ServerProcess
from omnifit.errors import ErrorCode

STORE = "sh-jingan"
PASSWORD = "correct horse battery"


async def _buy(client: SyncClient, skus: list[str]) -> str:
    cart = await client.create_cart(STORE)
    for sku in skus:
        cart = await client.add_line(cart.cart_id, sku)
    intent = await client.create_payment_intent(cart.cart_id, cart.subtotal, payment_token="tok_visa_approve")
    await client.confirm_payment_intent(intent.intent_id)
    return (await client.capture_payment_intent(intent.intent_id)).order_id


async def _refused(call) -> ErrorCode:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as refused:
        await call
    return refused.value.code


def test_shoppers_list_only_their_own_orders_newest_first(db_url: str) -> None:
    from cloud.admin import issue_device_token

    server = ServerProcess(db_url).start()
    try:
        device_token = issue_device_token(db_url, STORE)

        async def check() -> None:
            async with SyncClient(server.target) as ann, SyncClient(server.target) as bob, \
                    SyncClient(server.target, token=device_token) as kiosk, SyncClient(server.target) as nobody:
                await ann.register("ann@example.com", PASSWORD, "+8613800138001")
                await bob.register("bob@example.com", PASSWORD, "+8613800138002")
                first = await _buy(ann, ["ka-swift-m-BLK-42"])
                second = await _buy(ann, ["hp-crew-m-WHT-M", "hp-slimcrew-m-GRY-M"])
                await _buy(bob, ["ka-tempo-m-SKY-42"])

                page = await ann.list_orders(page_size=1)
                assert [o.order_id for o in page.orders] == [second] and page.total_size == 2 and page.next_page_token
                assert len(page.orders[0].lines) == 2 and page.orders[0].store_name.startswith("Omnifit")
                assert page.orders[0].total.minor == sum(line.unit_price.minor * line.quantity for line in page.orders[0].lines)
                rest = await ann.list_orders(page_size=1, page_token=page.next_page_token)
                assert [o.order_id for o in rest.orders] == [first] and rest.next_page_token == ""
                assert [o.order_id for o in (await ann.list_orders()).orders] == [second, first]

                assert {o.order_id for o in (await bob.list_orders()).orders}.isdisjoint({first, second})
                # another shopper cannot page on with Ann's token, a kiosk and an anonymous caller cannot list
                assert await _refused(bob.list_orders(page_token=page.next_page_token)) is ErrorCode.INVALID_ARGUMENT
                assert await _refused(kiosk.list_orders()) is ErrorCode.PERMISSION_DENIED
                assert await _refused(nobody.list_orders()) is ErrorCode.UNAUTHENTICATED
                assert await _refused(ann.list_orders(page_size=51)) is ErrorCode.INVALID_ARGUMENT
                assert await _refused(ann.list_orders(page_token="bm90IGEgdG9rZW4=")) is ErrorCode.INVALID_ARGUMENT

        asyncio.run(check())
    finally:
        server.stop()
