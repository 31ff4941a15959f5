"""``SyncClient``: replicas, retries, the offline outbox, the catalog cache and live cart watches.

Face pay and payment calls never go through the outbox: a payment is never queued for
later. Each payment mutation carries an idempotency key made once per call (or given by
the caller), so the retries across replicas that a lost answer triggers cannot charge
twice; when no replica answers the call raises :class:`CloudUnavailable` and the kiosk
decides (ask again with the same ``idempotency_key``, or offer another way to pay).
"""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import random
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from cloud.client import convert, stock, types
from cloud.client.errors import ClientError, CloudUnavailable, from_rpc_error, is_retryable
from cloud.client.outbox import LocalStore, OutboxEntry
from cloud.client.stock import LowStockItem, Replenishment, StockCount
from proto.omnifit.v1 import (
    cart_pb2,
    cart_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    face_pb2,
    face_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
    pairing_pb2,
    pairing_pb2_grpc,
    payment_pb2,
    payment_pb2_grpc,
    privacy_pb2,
    privacy_pb2_grpc,
    profile_pb2,
    profile_pb2_grpc,
    stock_pb2,
    stock_pb2_grpc,
)

_LOGGER = logging.getLogger(__name__)

_M = TypeVar("_M", bound=Message)
# Outbox methods: the request type to parse a stored mutation back into.
MutationRequest = cart_pb2.AddLineRequest | cart_pb2.UpdateLineRequest | cart_pb2.RemoveLineRequest
_MUTATIONS: dict[str, type[MutationRequest]] = {
    "AddLine": cart_pb2.AddLineRequest,
    "UpdateLine": cart_pb2.UpdateLineRequest,
    "RemoveLine": cart_pb2.RemoveLineRequest,
}
_CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.enable_retries", 0),  # retries are ours: they rotate replicas and keep idempotency keys
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter across replicas."""

    attempts: int = 6
    initial_backoff_s: float = 0.05
    max_backoff_s: float = 2.0
    call_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts}")
        if not 0 < self.initial_backoff_s <= self.max_backoff_s:
            raise ValueError("need 0 < initial_backoff_s <= max_backoff_s")

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_backoff_s, self.initial_backoff_s * 2**attempt))


class _Replica:
    """One target's channel and stubs, made on first use."""

    def __init__(self, target: str, credentials: grpc.ChannelCredentials | None) -> None:
        self.target = target
        if credentials is None:
            self.channel = grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS)
        else:
            self.channel = grpc.aio.secure_channel(target, credentials, options=_CHANNEL_OPTIONS)
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(self.channel)
        self.carts = cart_pb2_grpc.CartServiceStub(self.channel)
        self.pairing = pairing_pb2_grpc.PairingServiceStub(self.channel)
        self.accounts = profile_pb2_grpc.AccountServiceStub(self.channel)
        self.profiles = profile_pb2_grpc.ProfileServiceStub(self.channel)
        self.faces = face_pb2_grpc.FaceServiceStub(self.channel)
        self.payments = payment_pb2_grpc.PaymentServiceStub(self.channel)
        self.orders = order_pb2_grpc.OrderServiceStub(self.channel)
        self.stock = stock_pb2_grpc.StockServiceStub(self.channel)
        self.privacy = privacy_pb2_grpc.PrivacyServiceStub(self.channel)


class SyncClient:
    """Typed client of the cloud; use ``async with SyncClient([...]) as client``.

    targets : one or several ``host:port`` replicas; calls fail over between them.
    store_path : the local SQLite file for the outbox and catalog cache (``:memory:`` keeps nothing).
    tls_root_cert, tls : TLS to the replicas, trusting ``tls_root_cert`` (PEM), else with ``tls`` the
        system's CA store; neither: plaintext (for a loopback server).
    on_token_renewed : told the new session when a kiosk device token is renewed (past half its
        lifetime, before a call), so the kiosk can store it for its next start.
    """

    def __init__(
        self,
        targets: Sequence[str] | str,
        *,
        token: str | None = None,
        store_path: Path | str = ":memory:",
        tls_root_cert: bytes | None = None,
        tls: bool = False,
        retry: RetryPolicy | None = None,
        catalog_ttl_s: float = 300.0,
        on_token_renewed: Callable[[types.Session], None] | None = None,
    ) -> None:
        targets = [targets] if isinstance(targets, str) else list(targets)
        if not targets or not all(isinstance(t, str) and ":" in t for t in targets):
            raise ValueError(f"targets must be host:port strings, got {targets!r}")
        if tls_root_cert is None and tls:
            tls_root_cert = system_root_certificates()
        self._credentials = grpc.ssl_channel_credentials(root_certificates=tls_root_cert) if tls or tls_root_cert else None
        self.on_token_renewed = on_token_renewed
        self._renewing = False
        self._next_renewal_try = 0.0
        self._targets = targets
        self._replicas: dict[str, _Replica] = {}
        self._current = 0
        self.token = token
        self.retry = retry or RetryPolicy()
        self.catalog_ttl_s = catalog_ttl_s
        self.store = LocalStore(store_path)
        self._flush_lock = asyncio.Lock()
        self._sync_task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            await asyncio.gather(self._sync_task, return_exceptions=True)
        for replica in self._replicas.values():
            await replica.channel.close()
        self._replicas.clear()
        self.store.close()

    @property
    def target(self) -> str:
        """The replica calls go to now."""
        return self._targets[self._current]

    def _replica(self) -> _Replica:
        target = self.target
        if target not in self._replicas:
            self._replicas[target] = _Replica(target, self._credentials)
        return self._replicas[target]

    def _fail_over(self) -> None:
        self._current = (self._current + 1) % len(self._targets)

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    async def _call(self, service: str, method: str, request: Message, *, retry: bool = True) -> Any:
        """One unary call with failover; only retryable statuses are tried again."""
        if self.token and not self._renewing and time.monotonic() >= self._next_renewal_try:
            await self._renew_if_due()
        attempts = self.retry.attempts if retry else 1
        last_error: grpc.aio.AioRpcError | None = None
        for attempt in range(attempts):
            stub_method = getattr(getattr(self._replica(), service), method)
            try:
                return await stub_method(request, metadata=self._metadata(), timeout=self.retry.call_timeout_s)
            except grpc.aio.AioRpcError as exc:
                if not is_retryable(exc):
                    raise from_rpc_error(exc) from exc
                last_error = exc
                _LOGGER.info("%s.%s on %s: %s; failing over", service, method, self.target, exc.code().name)
                self._fail_over()
                if attempt + 1 < attempts:
                    await asyncio.sleep(self.retry.backoff(attempt))
        raise CloudUnavailable(
            f"no replica of {self._targets} answered {method} after {attempts} attempts: "
            f"{last_error.details() if last_error else 'no attempt'}"
        )

    async def _renew_if_due(self) -> None:
        """Renew a kiosk device token past half its life (or from before key ids); a failure is retried a minute later."""
        if not device_token_due(self.token or ""):
            return
        try:
            await self.renew_device_token()
        except ClientError as exc:
            self._next_renewal_try = time.monotonic() + 60.0
            _LOGGER.warning("could not renew the device token (%s); trying again in a minute", exc)

    async def renew_device_token(self) -> types.Session:
        """A fresh token for this kiosk device (``RenewDeviceToken``); later calls carry it and
        ``on_token_renewed`` is told, to store it where the kiosk reads its token at start."""
        self._renewing = True
        try:
            session = convert.session(await self._call("accounts", "RenewDeviceToken", profile_pb2.RenewDeviceTokenRequest()))
        finally:
            self._renewing = False
        self.token = session.token
        if self.on_token_renewed is not None:
            self.on_token_renewed(session)
        return session

    # --- accounts --------------------------------------------------------------------------
    async def register(self, email: str, password: str, phone: str, display_name: str = "") -> types.Session:
        """Register, then sign in with the same email and password; later calls carry the session.

        The server answers a registration alike whether or not the email was free, so a taken email
        shows here as the sign-in's ClientError UNAUTHENTICATED ("email or password is wrong").
        """
        request = profile_pb2.RegisterShopperRequest(email=email, password=password, phone=phone, display_name=display_name)
        await self._call("accounts", "RegisterShopper", request, retry=False)
        return await self.sign_in(email, password)

    async def sign_in(self, email: str, password: str) -> types.Session:
        session = convert.session(await self._call("accounts", "SignIn", profile_pb2.SignInRequest(email=email, password=password)))
        self.token = session.token
        return session

    async def staff_sign_in(self, staff_id: str, password: str) -> types.Session:
        """Sign a staff member in (the kiosk's admin mode); later calls carry the staff token.

        A wrong id or password: ClientError UNAUTHENTICATED.
        """
        request = profile_pb2.StaffSignInRequest(staff_id=staff_id, password=password)
        session = convert.session(await self._call("accounts", "StaffSignIn", request))
        self.token = session.token
        return session

    # --- catalog (cached) ------------------------------------------------------------------
    async def _cached(self, key: str, service_method: str, request: Message, message_type: type[_M]) -> tuple[_M, bool]:
        """Fresh cache entries are served without a call; stale ones only while the cloud is down."""
        fresh = self.store.cache_get(key, max_age_s=self.catalog_ttl_s)
        if fresh is not None:
            return message_type.FromString(fresh), False
        try:
            response = await self._call("catalog", service_method, request)
        except CloudUnavailable:
            stale = self.store.cache_get(key)
            if stale is None:
                raise
            return message_type.FromString(stale), True
        self.store.cache_put(key, response.SerializeToString())
        return response, False

    async def list_products(
        self,
        query: str = "",
        *,
        category: str | None = None,
        brand: str = "",
        store_id: str = "",
        in_stock_only: bool = False,
        page_size: int = 20,
        page_token: str = "",
    ) -> types.ProductPage:
        if category is not None and category not in convert.CATEGORY_VALUES:
            raise ValueError(f"unknown category {category!r}; expected one of {sorted(convert.CATEGORY_VALUES)}")
        request = catalog_pb2.ListProductsRequest(
            query=query,
            category=convert.CATEGORY_VALUES[category] if category is not None else catalog_pb2.CATEGORY_UNSPECIFIED,
            brand=brand,
            store_id=store_id,
            in_stock_only=in_stock_only,
            page=common_pb2.PageRequest(page_size=page_size, page_token=page_token),
        )
        key = "list:" + request.SerializeToString(deterministic=True).hex()
        response, stale = await self._cached(key, "ListProducts", request, catalog_pb2.ListProductsResponse)
        return convert.product_page(response, stale=stale)

    async def get_product(self, product_id: str) -> types.Product:
        request = catalog_pb2.GetProductRequest(product_id=product_id)
        response, _ = await self._cached(f"product:{product_id}", "GetProduct", request, catalog_pb2.Product)
        return convert.product(response)

    async def list_stores(self) -> tuple[types.Store, ...]:
        response = await self._call("catalog", "ListStores", catalog_pb2.ListStoresRequest())
        return tuple(convert.store(s) for s in response.stores)

    async def stock(self, store_id: str, skus: Sequence[str]) -> dict[str, int]:
        request = catalog_pb2.GetStockRequest(store_id=store_id, skus=list(skus))
        response = await self._call("catalog", "GetStock", request)
        return {level.sku: level.on_hand for level in response.levels}

    # --- carts -----------------------------------------------------------------------------
    async def create_cart(self, store_id: str, *, idempotency_key: str | None = None) -> types.Cart:
        request = cart_pb2.CreateCartRequest(store_id=store_id, idempotency_key=idempotency_key or _new_key())
        return convert.cart(await self._call("carts", "CreateCart", request))

    async def get_cart(self, cart_id: str) -> types.Cart:
        return convert.cart(await self._call("carts", "GetCart", cart_pb2.GetCartRequest(cart_id=cart_id)))

    async def add_line(
        self,
        cart_id: str,
        sku: str,
        quantity: int = 1,
        *,
        expected_version: int | None = None,
        pickup_only: bool = False,
        idempotency_key: str | None = None,
    ) -> types.Cart | types.QueuedMutation:
        request = cart_pb2.AddLineRequest(
            cart_id=cart_id, sku=sku, quantity=quantity, pickup_only=pickup_only,
            idempotency_key=idempotency_key or _new_key(),
        )
        if expected_version is not None:
            request.expected_version = expected_version
        return await self._mutate("AddLine", request)

    async def update_line(
        self, cart_id: str, line_id: str, quantity: int, *, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> types.Cart | types.QueuedMutation:
        request = cart_pb2.UpdateLineRequest(
            cart_id=cart_id, line_id=line_id, quantity=quantity, idempotency_key=idempotency_key or _new_key()
        )
        if expected_version is not None:
            request.expected_version = expected_version
        return await self._mutate("UpdateLine", request)

    async def remove_line(
        self, cart_id: str, line_id: str, *, expected_version: int | None = None, idempotency_key: str | None = None
    ) -> types.Cart | types.QueuedMutation:
        request = cart_pb2.RemoveLineRequest(cart_id=cart_id, line_id=line_id, idempotency_key=idempotency_key or _new_key())
        if expected_version is not None:
            request.expected_version = expected_version
        return await self._mutate("RemoveLine", request)

    async def _mutate(self, method: str, request: MutationRequest) -> types.Cart | types.QueuedMutation:
        """Send now, or keep in the outbox (behind anything already queued, so order holds)."""
        if not request.idempotency_key or len(request.idempotency_key) > 128:
            raise ValueError("idempotency_key must be 1..128 characters")
        if self.store.pending_count():
            await self.flush_outbox()
        if not self.store.pending_count():
            try:
                return convert.cart(await self._call("carts", method, request))
            except CloudUnavailable:
                _LOGGER.warning("cloud unreachable; %s for cart %s kept in the outbox", method, request.cart_id)
        seq = self.store.enqueue(request.cart_id, method, request.idempotency_key, request.SerializeToString())
        self._ensure_background_sync()
        return types.QueuedMutation(seq=seq, cart_id=request.cart_id, method=method, idempotency_key=request.idempotency_key)

    @property
    def pending_mutations(self) -> int:
        return self.store.pending_count()

    def dead_letters(self) -> list[tuple[OutboxEntry, str]]:
        """Queued mutations the cloud refused for good, with the reason (for the kiosk's admin mode)."""
        return self.store.dead_letters()

    async def flush_outbox(self) -> int:
        """Replay queued mutations in order; returns how many the cloud applied (or had applied)."""
        applied = 0
        async with self._flush_lock:
            for entry in self.store.pending():
                request = _MUTATIONS[entry.method].FromString(entry.request)
                try:
                    await self._call("carts", entry.method, request)
                except CloudUnavailable:
                    break
                except ClientError as exc:
                    _LOGGER.error("outbox %s #%d refused: %s", entry.method, entry.seq, exc)
                    self.store.dead_letter(entry, f"{exc.code.value}: {exc}")
                    continue
                self.store.done(entry.seq)
                applied += 1
        return applied

    def _ensure_background_sync(self) -> None:
        if self._sync_task is None or self._sync_task.done():
            self._sync_task = asyncio.get_running_loop().create_task(self._sync_until_empty())

    async def _sync_until_empty(self) -> None:
        attempt = 0
        while self.store.pending_count():
            await asyncio.sleep(min(self.retry.max_backoff_s, self.retry.initial_backoff_s * 2**attempt))
            if await self.flush_outbox() == 0:
                attempt = min(attempt + 1, 10)
            else:
                attempt = 0

    async def watch(self, cart_id: str, *, after_version: int = 0) -> AsyncIterator[types.CartEvent]:
        """Every change of the cart, in order; reconnects (failing over) and resumes after the last version seen."""
        last = after_version
        attempt = 0
        while True:
            request = cart_pb2.WatchCartRequest(cart_id=cart_id, after_version=last)
            call = self._replica().carts.WatchCart(request, metadata=self._metadata())
            try:
                async for message in call:
                    if message.cart.version <= last and last:
                        continue
                    last = message.cart.version
                    attempt = 0
                    yield convert.cart_event(message)
            except grpc.aio.AioRpcError as exc:
                if not is_retryable(exc):
                    raise from_rpc_error(exc) from exc
                _LOGGER.info("watch of %s on %s broke (%s); resuming after v%d", cart_id, self.target, exc.code().name, last)
            finally:
                call.cancel()
            self._fail_over()
            await asyncio.sleep(self.retry.backoff(attempt))
            attempt = min(attempt + 1, 10)

    # --- handoff and profiles --------------------------------------------------------------
    async def create_pairing_code(self, cart_id: str) -> types.PairingCode:
        request = pairing_pb2.CreatePairingCodeRequest(cart_id=cart_id)
        return convert.pairing_code(await self._call("pairing", "CreatePairingCode", request))

    async def claim_pairing_code(self, code: str) -> tuple[types.Cart, types.FitProfile]:
        # Not retried blindly: a code is single-use, so a lost answer must not burn a second claim.
        response = await self._call("pairing", "ClaimPairingCode", pairing_pb2.ClaimPairingCodeRequest(code=code), retry=False)
        return convert.cart(response.cart), convert.fit_profile(response.profile)

    async def put_fit_profile(
        self,
        *,
        cart_id: str = "",
        left_foot: dict[str, float] | None = None,
        right_foot: dict[str, float] | None = None,
        body: dict[str, float] | None = None,
    ) -> types.FitProfile:
        profile = profile_pb2.FitProfile()
        for name, values in (("left_foot", left_foot), ("right_foot", right_foot), ("body", body)):
            if values:
                getattr(profile, name).CopyFrom(_measurement_message(name, values))
        request = profile_pb2.PutFitProfileRequest(cart_id=cart_id, idempotency_key=_new_key(), profile=profile)
        return convert.fit_profile(await self._call("profiles", "PutFitProfile", request))

    async def get_fit_profile(self, *, cart_id: str = "") -> types.FitProfile:
        request = profile_pb2.GetFitProfileRequest(cart_id=cart_id)
        return convert.fit_profile(await self._call("profiles", "GetFitProfile", request))

    # --- face pay ----------------------------------------------------------------------------
    async def enroll_face(
        self,
        embedding: Sequence[float],
        *,
        consent: types.FaceConsent,
        payment_token: str,
        cart_id: str = "",
        idempotency_key: str | None = None,
    ) -> types.FaceEnrollment:
        """Enroll a face for face pay; only the embedding travels, never the image.

        embedding : (128,) floats from :func:`payments.face.capture.compute_embedding` on a
            capture that passed the quality gate.
        consent : what the shopper agreed to on screen (purpose, retention, when).
        payment_token : the gateway's opaque payment-method token (``tok_...``), never a card number.
        cart_id : from a kiosk, the cart of the signed-in shopper who enrolls (the paired
            cart); from the app leave it empty: shoppers enroll themselves.

        The phone digits checked at checkout are the last 4 of the account's phone number.
        Raises ClientError: FAILED_PRECONDITION (already enrolled, the cart has no owner,
        consent too old, face pay not configured on the server), INVALID_ARGUMENT (bad
        embedding, token that looks like a card number), PERMISSION_DENIED (staff, or a
        cart this kiosk may not see).
        """
        request = face_pb2.EnrollFaceRequest(
            idempotency_key=idempotency_key or _new_key(), cart_id=cart_id, embedding=_floats(embedding),
            consent=face_pb2.FaceConsent(purpose=consent.purpose, granted_at_ms=consent.granted_at_ms or _now_ms(),
                                         retention_days=consent.retention_days, text_version=consent.text_version),
            payment_token=payment_token,
        )
        return convert.face_enrollment(await self._call("faces", "EnrollFace", request))

    async def identify_face(self, embedding: Sequence[float], phone_last4: str) -> types.FaceMatch:
        """Kiosk only: who is this live face among the shoppers whose phone ends in ``phone_last4``.

        Run the quality gate and liveness on the kiosk first. A miss (``matched`` False)
        names nobody. Failed attempts are limited per kiosk: after too many the call
        raises ClientError RESOURCE_EXHAUSTED for a while (``attempts_left`` counts down).
        """
        request = face_pb2.IdentifyFaceRequest(embedding=_floats(embedding), phone_last4=phone_last4)
        # Not retried: each attempt is audited and counted against the kiosk's limit.
        return convert.face_match(await self._call("faces", "IdentifyFace", request, retry=False))

    async def delete_face_data(self, *, shopper_id: str = "", idempotency_key: str | None = None) -> types.FaceDataDeletion:
        """Delete a face template now: a shopper their own (``shopper_id`` empty), staff anyone's (audited).

        Deleting what is not there is not an error: ``deleted`` is then False.
        """
        request = face_pb2.DeleteFaceDataRequest(idempotency_key=idempotency_key or _new_key(), shopper_id=shopper_id)
        return convert.face_data_deletion(await self._call("faces", "DeleteFaceData", request))

    async def delete_fit_profile(self, *, idempotency_key: str | None = None) -> bool:
        """Delete the signed-in shopper's fit profile (audited by the cloud); False when there was none.

        Kiosks and staff: ClientError PERMISSION_DENIED.
        """
        request = privacy_pb2.DeleteFitProfileRequest(idempotency_key=idempotency_key or _new_key())
        return bool((await self._call("privacy", "DeleteFitProfile", request)).deleted)

    # --- a store's stock (staff, their own store) ------------------------------------------------
    async def list_low_stock(self, store_id: str) -> list[LowStockItem]:
        """The store's SKUs below their safety stock, emptiest first, each with its open request if any."""
        response = await self._call("stock", "ListLowStock", stock_pb2.ListLowStockRequest(store_id=store_id))
        return [stock.low_stock_item(item) for item in response.items]

    async def list_replenishments(self, store_id: str, *, open_only: bool = False) -> list[Replenishment]:
        """The store's replenishment requests, newest first."""
        request = stock_pb2.ListReplenishmentsRequest(store_id=store_id, open_only=open_only)
        response = await self._call("stock", "ListReplenishments", request)
        return [stock.replenishment(item) for item in response.requests]

    async def raise_replenishment(self, store_id: str, sku: str, quantity: int = 0, *,
                                  idempotency_key: str | None = None) -> Replenishment:
        """Ask for more of ``sku`` (``quantity`` 0: its reorder quantity); refused while one is open."""
        request = stock_pb2.RaiseReplenishmentRequest(store_id=store_id, sku=sku, quantity=quantity,
                                                      idempotency_key=idempotency_key or _new_key())
        return stock.replenishment(await self._call("stock", "RaiseReplenishment", request))

    async def receive_replenishment(self, request_id: str, *, idempotency_key: str | None = None) -> Replenishment:
        """The delivery arrived: the stock goes up by the request's quantity."""
        request = stock_pb2.ReplenishmentActionRequest(request_id=request_id, idempotency_key=idempotency_key or _new_key())
        return stock.replenishment(await self._call("stock", "ReceiveReplenishment", request))

    async def cancel_replenishment(self, request_id: str, *, idempotency_key: str | None = None) -> Replenishment:
        request = stock_pb2.ReplenishmentActionRequest(request_id=request_id, idempotency_key=idempotency_key or _new_key())
        return stock.replenishment(await self._call("stock", "CancelReplenishment", request))

    async def record_stock_count(self, store_id: str, sku: str, counted: int, *,
                                 idempotency_key: str | None = None) -> StockCount:
        """What staff counted on the shelf becomes the stock; below the safety stock opens a request."""
        request = stock_pb2.RecordStockCountRequest(store_id=store_id, sku=sku, counted=counted,
                                                    idempotency_key=idempotency_key or _new_key())
        return stock.stock_count(await self._call("stock", "RecordStockCount", request))

    async def get_face_enrollment(self, *, shopper_id: str = "", email: str = "") -> types.FaceEnrollmentStatus:
        """Whether a shopper is enrolled (a shopper: themselves; staff: anyone, for the kiosk's admin mode).

        Staff may name the shopper by account ``email`` instead of ``shopper_id``; the answer
        carries the shopper id to delete with :meth:`delete_face_data`.
        """
        request = face_pb2.GetFaceEnrollmentRequest(shopper_id=shopper_id, email=email)
        return convert.face_enrollment_status(await self._call("faces", "GetFaceEnrollment", request))

    # --- payments (never queued) -----------------------------------------------------------
    async def set_payment_pin(self, pin: str, *, password: str) -> types.PaymentPinStatus:
        """Set or change the signed-in shopper's payment PIN (4-8 digits); the account password again.

        Wrong password: ClientError UNAUTHENTICATED. Setting the PIN also lifts a lock from wrong PINs.
        """
        request = profile_pb2.SetPaymentPinRequest(password=password, pin=pin)
        return convert.payment_pin_status(await self._call("accounts", "SetPaymentPin", request))

    async def create_payment_intent(
        self,
        cart_id: str,
        amount: types.Money,
        *,
        payment_token: str = "",
        face_match: types.FaceMatch | None = None,
        shopper_id: str = "",
        gateway: str = "",
        idempotency_key: str | None = None,
    ) -> types.PaymentIntent:
        """A payment intent for an open cart at ``amount``, which must be the cart's subtotal as shown.

        Pay by face: pass the :class:`FaceMatch` from :meth:`identify_face` (the payer and
        the payment method are the matched shopper's; a close match makes the PIN required).
        Pay by card: pass the ``payment_token`` the card reader's vault gave. A shopper's
        app pays as itself. A cart changed since it was shown: FAILED_PRECONDITION.
        """
        if face_match is not None and not face_match.matched:
            raise ValueError("face_match did not match anyone; identify again or pay by card")
        request = payment_pb2.CreateIntentRequest(
            idempotency_key=idempotency_key or _new_key(), cart_id=cart_id,
            amount=common_pb2.Money(minor_units=amount.minor, currency=amount.currency),
            payment_token=payment_token, shopper_id=shopper_id, gateway=gateway,
            face_match_token=face_match.match_token if face_match is not None else "",
        )
        return convert.payment_intent(await self._call("payments", "CreateIntent", request))

    async def confirm_payment_intent(
        self, intent_id: str, pin: str | None = None, face_match_close: bool = False, *, idempotency_key: str | None = None
    ) -> types.PaymentIntent:
        """Authorise the payment. ``pin`` when step-up asks for it (above the limit, a close match, the issuer).

        No PIN when one is needed: ClientError FAILED_PRECONDITION (ask for it, confirm again
        with a new key). A wrong PIN: PERMISSION_DENIED saying how many attempts are left;
        after the last the intent fails, and too many across payments lock the PIN until
        the shopper sets it again. A decline: FAILED_PRECONDITION with the decline code.
        """
        request = payment_pb2.ConfirmIntentRequest(
            intent_id=intent_id, idempotency_key=idempotency_key or _new_key(), face_match_close=face_match_close
        )
        if pin is not None:
            request.pin = pin
        return convert.payment_intent(await self._call("payments", "ConfirmIntent", request))

    async def capture_payment_intent(self, intent_id: str, *, idempotency_key: str | None = None) -> types.PaymentIntent:
        """Take the authorised money; creates the order (store stock or ship-to-home) and the receipt."""
        request = payment_pb2.CaptureIntentRequest(intent_id=intent_id, idempotency_key=idempotency_key or _new_key())
        return convert.payment_intent(await self._call("payments", "CaptureIntent", request))

    async def cancel_payment_intent(self, intent_id: str, *, idempotency_key: str | None = None) -> types.PaymentIntent:
        """Cancel before capture (voids an authorisation)."""
        request = payment_pb2.CancelIntentRequest(intent_id=intent_id, idempotency_key=idempotency_key or _new_key())
        return convert.payment_intent(await self._call("payments", "CancelIntent", request))

    async def refund_payment_intent(
        self, intent_id: str, amount: types.Money, *, idempotency_key: str | None = None
    ) -> types.PaymentIntent:
        """Staff only: give ``amount`` back (full or partial) of a captured payment; audited."""
        request = payment_pb2.RefundIntentRequest(
            intent_id=intent_id, idempotency_key=idempotency_key or _new_key(),
            amount=common_pb2.Money(minor_units=amount.minor, currency=amount.currency),
        )
        return convert.payment_intent(await self._call("payments", "RefundIntent", request))

    async def get_payment_intent(self, intent_id: str) -> types.PaymentIntent:
        return convert.payment_intent(await self._call("payments", "GetIntent", payment_pb2.GetIntentRequest(intent_id=intent_id)))

    async def list_store_payments(self, store_id: str, *, page_size: int = 20,
                                  page_token: str = "") -> tuple[list[types.PaymentIntent], str]:
        """A store's payments, newest first (staff of that store): (this page, the next page's token or "")."""
        request = payment_pb2.ListStorePaymentsRequest(
            store_id=store_id, page=common_pb2.PageRequest(page_size=page_size, page_token=page_token))
        response = await self._call("payments", "ListStorePayments", request)
        return [convert.payment_intent(intent) for intent in response.intents], response.page.next_page_token

    async def list_orders(self, *, page_size: int = 20, page_token: str = "") -> types.OrderPage:
        """The signed-in shopper's own orders, newest first (``page_size`` 1..50). Kiosks and staff: PERMISSION_DENIED."""
        request = order_pb2.ListOrdersRequest(page=common_pb2.PageRequest(page_size=page_size, page_token=page_token))
        return convert.order_page(await self._call("orders", "ListOrders", request))

    async def get_receipt(self, intent_id: str, *, paper_mm: int = 0) -> types.Receipt:
        """The receipt of a captured intent; ``paper_mm`` 58 or 80 also renders the printable image."""
        request = payment_pb2.GetReceiptRequest(intent_id=intent_id, paper_mm=paper_mm)
        return convert.receipt(await self._call("payments", "GetReceipt", request))


def _measurement_message(name: str, values: dict[str, float]) -> common_pb2.BodyMeasurements | common_pb2.FootMeasurements:
    message = common_pb2.BodyMeasurements() if name == "body" else common_pb2.FootMeasurements()
    known = {field.name for field in message.DESCRIPTOR.fields}
    for key, value in values.items():
        field = key if key.endswith("_mm") else f"{key}_mm"
        if field not in known:
            raise ValueError(f"unknown {name} measurement {key!r}; expected one of {sorted(known)}")
        setattr(message, field, float(value))
    return message


def _floats(values: Sequence[float]) -> list[float]:
    return [float(value) for value in values]


def _now_ms() -> int:
    return int(time.time() * 1000)


def system_ca_file() -> Path | None:
    """The system's CA bundle (``SSL_CERT_FILE``, else OpenSSL's default file), or None when there is none."""
    paths = ssl.get_default_verify_paths()
    for candidate in (os.environ.get("SSL_CERT_FILE"), paths.cafile, paths.openssl_cafile,
                      "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def system_root_certificates() -> bytes | None:
    """The system's trusted CAs as PEM for gRPC (which otherwise trusts only the roots it ships with);
    None, meaning gRPC's own, where the system has no bundle."""
    found = system_ca_file()
    return found.read_bytes() if found is not None else None


def device_token_due(token: str) -> bool:
    """Whether a kiosk device token should be renewed now: past half its lifetime, or from before key ids.

    The payload is read, not verified (the server verifies); anything unreadable is not ours to renew.
    """
    try:
        body = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))
        if body.get("k") != "device":
            return False
        if "kid" not in body or "i" not in body:
            return True
        issued, expires = int(body["i"]), int(body["x"])
        return _now_ms() >= issued + (expires - issued) // 2
    except (IndexError, ValueError, TypeError, AttributeError, KeyError):
        return False


def _new_key() -> str:
    return f"{int(time.time() * 1000):x}-{uuid.uuid4().hex}"
