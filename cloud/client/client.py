"""``SyncClient``: replicas, retries, the offline outbox, the catalog cache and live cart watches."""
from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

from cloud.client import convert, types
from cloud.client.errors import RETRYABLE, ClientError, CloudUnavailable, from_rpc_error
from cloud.client.outbox import LocalStore, OutboxEntry
from proto.omnifit.v1 import (
    cart_pb2,
    cart_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    pairing_pb2,
    pairing_pb2_grpc,
    profile_pb2,
    profile_pb2_grpc,
)

_LOGGER = logging.getLogger(__name__)

# Outbox methods: the request type to parse a stored mutation back into.
_MUTATIONS = {
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


class SyncClient:
    """Typed client of the cloud; use ``async with SyncClient([...]) as client``.

    targets : one or several ``host:port`` replicas; calls fail over between them.
    store_path : the local SQLite file for the outbox and catalog cache (``:memory:`` keeps nothing).
    """

    def __init__(
        self,
        targets: Sequence[str] | str,
        *,
        token: str | None = None,
        store_path: Path | str = ":memory:",
        tls_root_cert: bytes | None = None,
        retry: RetryPolicy | None = None,
        catalog_ttl_s: float = 300.0,
    ) -> None:
        targets = [targets] if isinstance(targets, str) else list(targets)
        if not targets or not all(isinstance(t, str) and ":" in t for t in targets):
            raise ValueError(f"targets must be host:port strings, got {targets!r}")
        self._credentials = grpc.ssl_channel_credentials(root_certificates=tls_root_cert) if tls_root_cert else None
        self._targets = targets
        self._replicas: dict[str, _Replica] = {}
        self._current = 0
        self.token = token
        self.retry = retry or RetryPolicy()
        self.catalog_ttl_s = catalog_ttl_s
        self.store = LocalStore(store_path)
        self._flush_lock = asyncio.Lock()
        self._sync_task: asyncio.Task | None = None

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

    async def _call(self, service: str, method: str, request, *, retry: bool = True):
        """One unary call with failover; only retryable statuses are tried again."""
        attempts = self.retry.attempts if retry else 1
        last_error: grpc.aio.AioRpcError | None = None
        for attempt in range(attempts):
            stub_method = getattr(getattr(self._replica(), service), method)
            try:
                return await stub_method(request, metadata=self._metadata(), timeout=self.retry.call_timeout_s)
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in RETRYABLE:
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

    # --- accounts --------------------------------------------------------------------------
    async def register(self, email: str, password: str, phone: str, display_name: str = "") -> types.Session:
        request = profile_pb2.RegisterShopperRequest(email=email, password=password, phone=phone, display_name=display_name)
        session = convert.session(await self._call("accounts", "RegisterShopper", request, retry=False))
        self.token = session.token
        return session

    async def sign_in(self, email: str, password: str) -> types.Session:
        session = convert.session(await self._call("accounts", "SignIn", profile_pb2.SignInRequest(email=email, password=password)))
        self.token = session.token
        return session

    # --- catalog (cached) ------------------------------------------------------------------
    async def _cached(self, key: str, service_method: str, request, message_type):
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
            category=convert.CATEGORY_VALUES.get(category, 0),
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

    async def _mutate(self, method: str, request) -> types.Cart | types.QueuedMutation:
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
                if exc.code() not in RETRYABLE:
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


def _measurement_message(name: str, values: dict[str, float]):
    message = common_pb2.BodyMeasurements() if name == "body" else common_pb2.FootMeasurements()
    known = {field.name for field in message.DESCRIPTOR.fields}
    for key, value in values.items():
        field = key if key.endswith("_mm") else f"{key}_mm"
        if field not in known:
            raise ValueError(f"unknown {name} measurement {key!r}; expected one of {sorted(known)}")
        setattr(message, field, float(value))
    return message


def _new_key() -> str:
    return f"{int(time.time() * 1000):x}-{uuid.uuid4().hex}"
