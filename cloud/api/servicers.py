"""Thin gRPC servicers over the domain services: authenticate, convert, run on the worker pool, publish.

Catalog reads and sign-in are public (no token); every cart, pairing, profile and
payment-PIN call needs ``authorization: Bearer <token>``.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from cloud.api import convert
from cloud.api.errors import Context, grpc_errors
from cloud.domain.accounts import AccountService
from cloud.domain.auth import Authenticator
from cloud.domain.carts import CartService, Mutation
from cloud.domain.catalog import CatalogService, ProductFilter
from cloud.domain.lockout import Network, client_address
from cloud.domain.pairing import PairingService
from cloud.domain.pins import PaymentPins
from cloud.domain.profiles import ProfileService
from cloud.domain.types import CartChange, ChangeKind, Principal
from cloud.domain.validate import require_id
from cloud.errors import InvalidArgument
from cloud.fanout import CartHub, Notifier
from cloud.storage import Database
from proto.omnifit.v1 import (
    cart_pb2,
    cart_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    pairing_pb2,
    pairing_pb2_grpc,
    profile_pb2,
    profile_pb2_grpc,
)

_LOGGER = logging.getLogger(__name__)


def _text_values(context: Context, key: str) -> list[str]:
    """The values of a text metadata key (binary ``-bin`` keys come as bytes and are never these)."""
    return [value for name, value in context.invocation_metadata() or () if name == key and isinstance(value, str)]


@dataclass(frozen=True)
class Services:
    """Everything a servicer needs; built once per server."""

    database: Database
    hub: CartHub
    authenticator: Authenticator
    catalog: CatalogService
    carts: CartService
    pairing: PairingService
    profiles: ProfileService
    accounts: AccountService
    pins: PaymentPins
    notifier: Notifier | None = None
    trusted_proxies: tuple[Network, ...] = ()  # whose x-forwarded-for names the client (the load balancer's)

    def client_address(self, context: Context) -> str:
        """The caller's address for the per-address sign-in limit (see :func:`cloud.domain.lockout.client_address`)."""
        forwarded = ", ".join(_text_values(context, "x-forwarded-for"))
        return client_address(context.peer(), forwarded, self.trusted_proxies)

    async def principal(self, context: Context) -> Principal:
        header = next(iter(_text_values(context, "authorization")), None)
        principal = self.authenticator.verify_header(header)
        await self.recheck(principal)
        return principal

    async def recheck(self, principal: Principal, fresh: bool = False) -> None:
        """``Unauthenticated`` unless ``principal``'s token still stands: not expired, its device unrevoked, its
        account's credential generation unchanged (a recent answer reused unless ``fresh``)."""
        if fresh or not self.authenticator.check_cached(principal):
            await self.database.run(self.authenticator.check, principal)

    def revoked(self, principal_key: str) -> None:
        """``principal_key``'s tokens just ended here: its watchers on this replica stop now (others hear NOTIFY)."""
        self.hub.revoke(principal_key)

    def publish(self, *changes: CartChange | None) -> None:
        """Wake this replica's watchers and tell the other replicas (PostgreSQL NOTIFY or the bus)."""
        for change in changes:
            if change is not None:
                self.hub.publish_change(change)
                if self.notifier is not None:
                    self.notifier.notify(change.cart.cart_id, change.cart.version)


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, services: Services) -> None:
        self.s = services

    @grpc_errors
    async def ListProducts(self, request: catalog_pb2.ListProductsRequest, context: Context) -> catalog_pb2.ListProductsResponse:
        flt = ProductFilter(
            query=request.query,
            category=convert.from_wire_enum(catalog_pb2.Category, "CATEGORY", request.category, "category"),
            brand=request.brand,
            gender=convert.from_wire_enum(catalog_pb2.Gender, "GENDER", request.gender, "gender"),
            store_id=request.store_id,
            in_stock_only=request.in_stock_only,
            max_price_minor=request.max_price_minor,
        )
        page = await self.s.database.run(self.s.catalog.list_products, flt, request.page.page_size, request.page.page_token)
        return catalog_pb2.ListProductsResponse(
            products=[convert.product(p) for p in page.products],
            page={"next_page_token": page.next_page_token, "total_size": page.total_size},
        )

    @grpc_errors
    async def GetProduct(self, request: catalog_pb2.GetProductRequest, context: Context) -> catalog_pb2.Product:
        return convert.product(await self.s.database.run(self.s.catalog.get_product, request.product_id))

    @grpc_errors
    async def GetStock(self, request: catalog_pb2.GetStockRequest, context: Context) -> catalog_pb2.GetStockResponse:
        levels = await self.s.database.run(self.s.catalog.get_stock, request.store_id, list(request.skus), request.product_id)
        return catalog_pb2.GetStockResponse(
            levels=[catalog_pb2.StockLevel(sku=lv.sku, store_id=lv.store_id, on_hand=lv.on_hand) for lv in levels]
        )

    @grpc_errors
    async def ListStores(self, request: catalog_pb2.ListStoresRequest, context: Context) -> catalog_pb2.ListStoresResponse:
        return catalog_pb2.ListStoresResponse(stores=[convert.store(s) for s in await self.s.database.run(self.s.catalog.list_stores)])


def _expected(request: object) -> int | None:
    return request.expected_version if request.HasField("expected_version") else None  # type: ignore[attr-defined]


class CartServicer(cart_pb2_grpc.CartServiceServicer):
    def __init__(self, services: Services) -> None:
        self.s = services

    async def _mutation(self, context: Context, fn: Callable[..., Any], *args: object) -> cart_pb2.Cart:
        principal = await self.s.principal(context)
        result: Mutation = await self.s.database.run_batched(fn, principal, *args)
        self.s.publish(result.change)
        return convert.cart(result.cart)

    @grpc_errors
    async def CreateCart(self, request: cart_pb2.CreateCartRequest, context: Context) -> cart_pb2.Cart:
        return await self._mutation(context, self.s.carts.create_cart, request.store_id, request.idempotency_key)

    @grpc_errors
    async def GetCart(self, request: cart_pb2.GetCartRequest, context: Context) -> cart_pb2.Cart:
        principal = await self.s.principal(context)
        return convert.cart(await self.s.database.run(self.s.carts.get_cart, principal, request.cart_id))

    @grpc_errors
    async def AddLine(self, request: cart_pb2.AddLineRequest, context: Context) -> cart_pb2.Cart:
        return await self._mutation(
            context,
            self.s.carts.add_line,
            request.cart_id,
            request.idempotency_key,
            request.sku,
            request.quantity,
            _expected(request),
            request.pickup_only,
        )

    @grpc_errors
    async def UpdateLine(self, request: cart_pb2.UpdateLineRequest, context: Context) -> cart_pb2.Cart:
        return await self._mutation(
            context, self.s.carts.update_line, request.cart_id, request.idempotency_key, request.line_id, request.quantity,
            _expected(request),
        )

    @grpc_errors
    async def RemoveLine(self, request: cart_pb2.RemoveLineRequest, context: Context) -> cart_pb2.Cart:
        return await self._mutation(
            context, self.s.carts.remove_line, request.cart_id, request.idempotency_key, request.line_id, _expected(request)
        )

    @grpc_errors
    async def WatchCart(self, request: cart_pb2.WatchCartRequest, context: Context) -> AsyncIterator[cart_pb2.CartEvent]:
        principal = await self.s.principal(context)
        cart_id = require_id(request.cart_id, "cart_id")
        if request.after_version < 0:
            raise InvalidArgument(f"after_version must be 0 or more; got {request.after_version}", field="after_version")

        async def changes_after(version: int) -> list[CartChange]:
            return await self.s.database.run(self.s.carts.changes_after, cart_id, version)

        async def recheck(fresh: bool) -> None:
            """The token still stands (and, after a revocation, the caller may still see the cart)."""
            await self.s.recheck(principal, fresh)

        with self.s.hub.subscribe(cart_id, principal.key) as sub:
            current = await self.s.database.run(self.s.carts.get_cart, principal, cart_id)
            if request.after_version > current.version:
                raise InvalidArgument(
                    f"after_version {request.after_version} is beyond cart {cart_id}'s version {current.version}", field="after_version"
                )
            last = request.after_version
            if last == 0:
                yield convert.cart_event(CartChange(ChangeKind.SNAPSHOT, current))
                last = current.version
            async for change in self.s.hub.follow(sub, last, current.version, changes_after, recheck,
                                                  expires_at_ms=principal.expires_at_ms):
                yield convert.cart_event(change)


class PairingServicer(pairing_pb2_grpc.PairingServiceServicer):
    def __init__(self, services: Services) -> None:
        self.s = services

    @grpc_errors
    async def CreatePairingCode(self, request: pairing_pb2.CreatePairingCodeRequest, context: Context) -> pairing_pb2.PairingCode:
        principal = await self.s.principal(context)
        return convert.pairing_code(await self.s.database.run_write(self.s.pairing.create_code, principal, request.cart_id))

    @grpc_errors
    async def ClaimPairingCode(
        self, request: pairing_pb2.ClaimPairingCodeRequest, context: Context
    ) -> pairing_pb2.ClaimPairingCodeResponse:
        principal = await self.s.principal(context)
        result = await self.s.database.run_write(self.s.pairing.claim, principal, request.code, self.s.client_address(context))
        self.s.publish(*result.changes)
        return pairing_pb2.ClaimPairingCodeResponse(cart=convert.cart(result.cart), profile=convert.fit_profile(result.profile))


class AccountServicer(profile_pb2_grpc.AccountServiceServicer):
    def __init__(self, services: Services) -> None:
        self.s = services

    @grpc_errors
    async def RegisterShopper(self, request: profile_pb2.RegisterShopperRequest, context: Context) -> profile_pb2.RegisterShopperResponse:
        # Whether the email was free or not, the answer is the same (see the message's comment).
        await self.s.database.run(self.s.accounts.register_shopper, request.email, request.password, request.phone,
                                  request.display_name, self.s.client_address(context))
        return profile_pb2.RegisterShopperResponse(next_step="sign_in")

    @grpc_errors
    async def SignIn(self, request: profile_pb2.SignInRequest, context: Context) -> profile_pb2.Session:
        return convert.session(await self.s.database.run(self.s.accounts.sign_in, request.email, request.password,
                                                         self.s.client_address(context)))

    @grpc_errors
    async def StaffSignIn(self, request: profile_pb2.StaffSignInRequest, context: Context) -> profile_pb2.Session:
        return convert.session(await self.s.database.run(self.s.accounts.staff_sign_in, request.staff_id, request.password,
                                                         self.s.client_address(context)))

    @grpc_errors
    async def SignOutEverywhere(
        self, request: profile_pb2.SignOutEverywhereRequest, context: Context
    ) -> profile_pb2.SignOutEverywhereResponse:
        principal = await self.s.principal(context)
        key = await self.s.database.run_write(self.s.accounts.sign_out_everywhere, principal, request.shopper_id,
                                              request.staff_id)
        self.s.revoked(key)
        return profile_pb2.SignOutEverywhereResponse(principal=key)

    @grpc_errors
    async def RenewDeviceToken(self, request: profile_pb2.RenewDeviceTokenRequest, context: Context) -> profile_pb2.Session:
        principal = await self.s.principal(context)
        return convert.session(self.s.accounts.renew_device_token(principal))

    @grpc_errors
    async def SetPaymentPin(self, request: profile_pb2.SetPaymentPinRequest, context: Context) -> profile_pb2.PaymentPinStatus:
        principal = await self.s.principal(context)
        status = await self.s.database.run(self.s.pins.set_pin, principal, request.password, request.pin,
                                           self.s.client_address(context))
        return profile_pb2.PaymentPinStatus(shopper_id=status.shopper_id, pin_set=status.pin_set,
                                            updated_at_ms=status.updated_at_ms)


class ProfileServicer(profile_pb2_grpc.ProfileServiceServicer):
    def __init__(self, services: Services) -> None:
        self.s = services

    @grpc_errors
    async def GetFitProfile(self, request: profile_pb2.GetFitProfileRequest, context: Context) -> profile_pb2.FitProfile:
        principal = await self.s.principal(context)
        return convert.fit_profile(await self.s.database.run(self.s.profiles.get_profile, principal, request.cart_id))

    @grpc_errors
    async def PutFitProfile(self, request: profile_pb2.PutFitProfileRequest, context: Context) -> profile_pb2.FitProfile:
        principal = await self.s.principal(context)
        update = convert.fit_profile_update(request.profile)
        profile = await self.s.database.run_write(self.s.profiles.put_profile, principal, request.cart_id, request.idempotency_key, update)
        return convert.fit_profile(profile)
