"""The cloud gRPC server: configuration, start-up and shutdown.

``start_server(ServerConfig(...))`` opens (migrates, seeds) the database, wires
the domain services into the servicers, adds the standard health service (every
service SERVING) and, when asked, server reflection, binds the address (port 0 picks a free
port) and, with PostgreSQL, starts the LISTEN thread that wakes watchers when
another replica commits, and the notifier thread that tells the others. A task deletes
face templates whose retention has ended, at start and then every hour; another compacts
the cart change log (``cloud.domain.retention.compact_changes``) every hour, the first time
a random half to whole hour after start.
With ``fanout="nats://…"`` a NATS bus (``cloud.fanout_nats``) carries the wake-ups instead
of LISTEN/NOTIFY.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from cloud.api.faces import FaceAccess, FaceServicer
from cloud.api.orders import OrderServicer
from cloud.api.payments import PaymentServicer, open_payments
from cloud.api.privacy import PrivacyServicer
from cloud.api.servicers import (
    AccountServicer,
    CartServicer,
    CatalogServicer,
    PairingServicer,
    ProfileServicer,
    Services,
)
from cloud.api.stock import StockServicer
from cloud.domain.accounts import AccountService
from cloud.domain.auth import Authenticator, signer_for
from cloud.domain.cart_repository import CartRepository
from cloud.domain.carts import CartService
from cloud.domain.catalog import CatalogService
from cloud.domain.lockout import LockoutPolicy, Network, open_guard
from cloud.domain.pairing import PairingService
from cloud.domain.pins import PaymentPins
from cloud.domain.profiles import ProfileService
from cloud.domain.retention import compact_changes
from cloud.domain.stock import StockService
from cloud.errors import InvalidArgument
from cloud.fanout import CartHub, Notifier, PgListener, PgNotifier
from cloud.fanout_nats import NatsFanout
from cloud.storage import DEFAULT_POOL_SIZE, Database, normalise_url, open_database
from cloud.storage.seeding import CATALOG_CURRENCY_KEY
from payments.errors import KeyManagementError
from payments.face.keys import resolve_keyring
from payments.face.store import FaceTemplateStore
from payments.service import PaymentService
from proto.omnifit.v1 import (
    cart_pb2,
    cart_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
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
DEFAULT_DB_URL = "sqlite:///./var/omnifit.sqlite"
DB_URL_ENV = "OMNIFIT_DB_URL"
LISTENER_APPLICATION_NAME = "omnifit-listen-{port}"  # how a replica's LISTEN connection shows in pg_stat_activity
SERVICE_NAMES = (
    catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name,
    cart_pb2.DESCRIPTOR.services_by_name["CartService"].full_name,
    pairing_pb2.DESCRIPTOR.services_by_name["PairingService"].full_name,
    profile_pb2.DESCRIPTOR.services_by_name["AccountService"].full_name,
    profile_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name,
    payment_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name,
    face_pb2.DESCRIPTOR.services_by_name["FaceService"].full_name,
    order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name,
    privacy_pb2.DESCRIPTOR.services_by_name["PrivacyService"].full_name,
    stock_pb2.DESCRIPTOR.services_by_name["StockService"].full_name,
)


# No port sharing (a second server on a taken port must fail, not split traffic);
# keepalive pings find phones that vanished mid-WatchCart.
_SERVER_OPTIONS = (
    ("grpc.so_reuseport", 0),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
)


def default_db_url() -> str:
    """``OMNIFIT_DB_URL`` when set, else the embedded SQLite file under ./var."""
    return os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL


@dataclass
class ServerConfig:
    """Where to listen, which database, optional TLS (both files or neither), and the face-pay key.

    ``retention_sweep_s``: how often face templates past their retention are deleted (also at start).

    ``change_window_hours``: cart versions older than this are compacted away (each cart keeps its
    newest), every ``compact_every_s`` seconds; a watch resuming from before the window gets a SNAPSHOT.

    ``lockout``: how many wrong passwords an account or a client address gets before it waits.

    ``trusted_proxies``: networks (CIDR) of the load balancers in front; a call from one of them is
    counted by the client address it writes in ``x-forwarded-for``. Without them behind a proxy
    every client has the proxy's address, and wrong passwords from anyone lock everyone's sign-in.

    ``fanout``: ``nats://HOST:PORT`` to announce committed cart versions on NATS (subject per cart
    shard) instead of PostgreSQL NOTIFY; empty: NOTIFY on PostgreSQL, in-process only on SQLite.

    ``token_key_file``: the keys that sign tokens (:mod:`cloud.domain.token_keys`). None:
    ``OMNIFIT_TOKEN_KEY``, else ``OMNIFIT_TOKEN_KEY_FILE``, else ``<database>.token-keys.json``
    beside a SQLite database (created 0600); a PostgreSQL server with none of them keeps the key in
    the database and warns at start. Every replica must hold the same keys.

    ``reflection``: serve gRPC server reflection (generic clients list and call the methods). Off
    unless asked for (``--reflection``, ``--dev``, the demo): it hands an attacker the whole API.

    ``face_key_file``: the key-encryption keys that seal face templates (JSON key ring, as
    ``omnifit face`` writes it). None: ``OMNIFIT_FACE_KEK``, else ``OMNIFIT_FACE_KEY_FILE``,
    else ``face-kek.json`` beside a SQLite database (created with a warning, for
    development) — the same key ``omnifit face`` uses on that database. A PostgreSQL
    server with none of them serves everything but face pay (``FAILED_PRECONDITION``).
    """

    listen: str = "127.0.0.1:50051"
    db_url: str = DEFAULT_DB_URL
    tls_cert: Path | None = None
    tls_key: Path | None = None
    pool_size: int = DEFAULT_POOL_SIZE
    face_key_file: Path | None = None
    token_key_file: Path | None = None
    reflection: bool = False
    retention_sweep_s: float = 3600.0
    change_window_hours: float = 24.0
    compact_every_s: float = 3600.0
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    trusted_proxies: tuple[str, ...] = ()
    fanout: str = ""

    def __post_init__(self) -> None:
        self.trusted_proxies = tuple(self.trusted_proxies)
        try:
            self._proxy_networks = tuple(ipaddress.ip_network(cidr, strict=False) for cidr in self.trusted_proxies)
        except ValueError as exc:
            raise ValueError(f"trusted_proxies {list(self.trusted_proxies)!r}: {exc}") from exc
        host, sep, port = self.listen.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"listen {self.listen!r}; expected HOST:PORT with PORT 0..65535 (0 picks a free port)")
        try:
            normalise_url(self.db_url)
        except InvalidArgument as exc:
            raise ValueError(str(exc)) from exc
        if self.fanout and not self.fanout.startswith(("nats://", "tls://")):
            raise ValueError(f"fanout {self.fanout!r}; expected nats://HOST:PORT, or nothing for the database's own")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together; give both or neither")
        for name in ("tls_cert", "tls_key"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, Path(value))
                if not Path(value).is_file():
                    raise ValueError(f"{name} {value} is not a readable file")
        if not 1 <= self.pool_size <= 64:
            raise ValueError(f"pool_size must be 1..64; got {self.pool_size}")
        if self.retention_sweep_s <= 0:
            raise ValueError(f"retention_sweep_s must be > 0 seconds; got {self.retention_sweep_s}")
        if not self.change_window_hours > 0 or not self.compact_every_s > 0:
            raise ValueError(f"change_window_hours and compact_every_s must be > 0; got "
                             f"{self.change_window_hours} h, {self.compact_every_s} s")
        if self.token_key_file is not None:
            self.token_key_file = Path(self.token_key_file)
            if self.token_key_file.is_dir():
                raise ValueError(f"token_key_file {self.token_key_file} is a folder; expected a key file (created if absent)")
        if self.face_key_file is not None:
            self.face_key_file = Path(self.face_key_file)
            if self.face_key_file.is_dir():
                raise ValueError(f"face_key_file {self.face_key_file} is a folder; expected a key file (created if absent)")

    @property
    def proxy_networks(self) -> tuple[Network, ...]:
        return self._proxy_networks

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0]


class RunningServer:
    """A started server; ``port`` is the bound port (the real one when 0 was asked for)."""

    def __init__(
        self,
        server: grpc.aio.Server,
        port: int,
        host: str,
        database: Database,
        listener: PgListener | None,
        services: Services,
        health_servicer: health.aio.HealthServicer,
        payments: PaymentService,
        faces: FaceAccess,
    ) -> None:
        self.server = server
        self.faces = faces
        self._sweeper: asyncio.Task[None] | None = None
        self._compactor: asyncio.Task[None] | None = None
        self._health = health_servicer
        self.port = port
        self.address = f"{host}:{port}"
        self.database = database
        self.services = services
        self.listener = listener
        self.payments = payments

    async def stop(self, grace: float = 1.0) -> None:
        """Report NOT_SERVING, let calls in flight finish for ``grace`` seconds, then close everything."""
        await self._health.enter_graceful_shutdown()
        for task in (self._sweeper, self._compactor):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.server.stop(grace)
        if self.listener is not None:
            await asyncio.to_thread(self.listener.stop)
        if isinstance(self.services.notifier, NatsFanout):
            await self.services.notifier.stop()
        elif isinstance(self.services.notifier, PgNotifier):
            await asyncio.to_thread(self.services.notifier.stop)
        await asyncio.to_thread(self.database.close)

    def start_retention_sweep(self, interval_s: float) -> None:
        """Delete expired face templates now and every ``interval_s`` seconds, on the database pool."""
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_every(interval_s))

    async def _sweep_every(self, interval_s: float) -> None:
        while True:
            try:
                removed = await self.database.run(self.faces.sweep_expired)
            except Exception as exc:  # noqa: BLE001 - a failed sweep is retried at the next interval
                _LOGGER.error("face retention sweep failed: %s", exc)
            else:
                if removed:
                    _LOGGER.info("deleted %d face templates past their retention", len(removed))
            await asyncio.sleep(interval_s)

    def start_change_compaction(self, window_hours: float, interval_s: float) -> None:
        """Compact the cart change log every ``interval_s`` seconds, on the database pool.

        The first run comes after a random half to whole interval, not at start: replicas that
        start together do not all compact at once, and a start does not hold a second connection.
        """
        self._compactor = asyncio.get_running_loop().create_task(self._compact_every(window_hours, interval_s))

    async def _compact_every(self, window_hours: float, interval_s: float) -> None:
        await asyncio.sleep(interval_s * random.uniform(0.5, 1.0))
        while True:
            try:
                removed = await self.database.run(compact_changes, self.database, window_hours)
            except Exception as exc:  # noqa: BLE001 - a failed compaction is retried at the next interval
                _LOGGER.error("cart change compaction failed: %s", exc)
            else:
                if removed:
                    _LOGGER.info("compacted %d cart versions older than %g h", removed, window_hours)
            await asyncio.sleep(interval_s)

    async def wait_for_termination(self) -> None:
        await self.server.wait_for_termination()


def _conninfo(database: Database, application_name: str) -> str:
    """A libpq URL for a psycopg connection of our own to ``database``, named in pg_stat_activity."""
    url = database.url.set(drivername="postgresql").update_query_dict({"application_name": application_name})
    return url.render_as_string(hide_password=False)


def build_services(database: Database, hub: CartHub, notifier: Notifier | None = None,
                   lockout: LockoutPolicy = LockoutPolicy(), trusted_proxies: tuple[Network, ...] = (),
                   token_key_file: Path | None = None) -> Services:
    repository = CartRepository(database, database.setting(CATALOG_CURRENCY_KEY))
    signer = signer_for(database, token_key_file)
    guard = open_guard(database, lockout)
    authenticator = Authenticator(database, signer)
    hub.revocation_listeners.append(authenticator.forget)
    return Services(
        database=database,
        hub=hub,
        authenticator=authenticator,
        catalog=CatalogService(database),
        carts=CartService(repository),
        pairing=PairingService(database, repository),
        profiles=ProfileService(database, repository),
        accounts=AccountService(database, signer, guard),
        pins=PaymentPins(database, guard),
        notifier=notifier,
        trusted_proxies=trusted_proxies,
    )


def open_faces(services: Services, payments: PaymentService, key_file: Path | None) -> FaceAccess:
    """Face pay over the payments engine, sealed with the configured KEK; disabled (with the reason) without one."""
    db_url = services.database.url.render_as_string(hide_password=False)
    try:
        ring, _ = resolve_keyring(db_url, key_file)
        store = FaceTemplateStore(payments.engine, ring)
    except KeyManagementError as exc:
        _LOGGER.warning("face pay is off: %s", exc)
        return FaceAccess(services, None, describe_card=payments.describe_token,
                          unavailable=f"face pay is not configured on this server: {exc}")
    return FaceAccess(services, store, describe_card=payments.describe_token)


async def _add_health(server: grpc.aio.Server) -> health.aio.HealthServicer:
    servicer = health.aio.HealthServicer()
    for name in ("", *SERVICE_NAMES):
        await servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    return servicer


def _warn_if_plaintext_in_the_open(config: ServerConfig) -> None:
    """Say loudly (log and stderr) when tokens and passwords would cross a network in the clear."""
    if config.tls_cert is not None or is_loopback(config.host):
        return
    message = (f"WARNING: serving WITHOUT TLS on {config.listen}, which is not a loopback address: tokens, "
               f"passwords and PINs cross the network in plain text. Give --tls-cert and --tls-key, or "
               f"listen on 127.0.0.1 behind a TLS-terminating proxy.")
    _LOGGER.warning("%s", message)
    print(message, file=sys.stderr, flush=True)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address, ``localhost`` or ``[::1]``) is reachable only from this machine."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name (or 0.0.0.0-like wildcard spelled otherwise) may resolve to anything


def _bind(server: grpc.aio.Server, config: ServerConfig) -> int:
    if config.tls_cert is None:
        return server.add_insecure_port(config.listen)
    if config.tls_key is None:
        raise ValueError("a TLS certificate needs its key (--tls-key)")
    credentials = grpc.ssl_server_credentials([(config.tls_key.read_bytes(), config.tls_cert.read_bytes())])
    return server.add_secure_port(config.listen, credentials)


async def start_server(config: ServerConfig) -> RunningServer:
    """Open the database and serve every Omnifit service on ``config.listen``."""
    database = await asyncio.to_thread(open_database, config.db_url, pool_size=config.pool_size)
    hub = CartHub()
    notifier: Notifier | None = None
    if config.fanout:
        notifier = NatsFanout(config.fanout, hub)
    elif database.is_postgres:
        notifier = PgNotifier(_conninfo(database, "omnifit-notify"))
    services = await asyncio.to_thread(build_services, database, hub, notifier, config.lockout,
                                      config.proxy_networks, config.token_key_file)
    payments = await asyncio.to_thread(open_payments, database, services.pins.verify)
    faces = await asyncio.to_thread(open_faces, services, payments, config.face_key_file)
    server = grpc.aio.server(options=_SERVER_OPTIONS)
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(CatalogServicer(services), server)
    cart_pb2_grpc.add_CartServiceServicer_to_server(CartServicer(services), server)
    pairing_pb2_grpc.add_PairingServiceServicer_to_server(PairingServicer(services), server)
    profile_pb2_grpc.add_AccountServiceServicer_to_server(AccountServicer(services), server)
    profile_pb2_grpc.add_ProfileServiceServicer_to_server(ProfileServicer(services), server)
    payment_pb2_grpc.add_PaymentServiceServicer_to_server(PaymentServicer(services, payments, faces), server)
    face_pb2_grpc.add_FaceServiceServicer_to_server(FaceServicer(services, faces), server)
    order_pb2_grpc.add_OrderServiceServicer_to_server(OrderServicer(services), server)
    privacy_pb2_grpc.add_PrivacyServiceServicer_to_server(PrivacyServicer(services), server)
    stock_pb2_grpc.add_StockServiceServicer_to_server(StockServicer(services, StockService(database)), server)
    health_servicer = await _add_health(server)
    if config.reflection:
        reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    _warn_if_plaintext_in_the_open(config)
    try:
        port = _bind(server, config)
    except RuntimeError as exc:
        database.close()
        raise OSError(f"cannot listen on {config.listen}: {exc}") from exc
    listener = None
    if isinstance(notifier, NatsFanout):
        await notifier.start()
    if database.is_postgres:
        # With the bus too: the channel also carries what is not a cart change (revocations), and
        # with the bus carrying the carts it stays quiet.
        listener = PgListener(_conninfo(database, LISTENER_APPLICATION_NAME.format(port=port)), hub, asyncio.get_running_loop())
        listener.start()
    if isinstance(notifier, PgNotifier):
        notifier.start()
    await server.start()
    _LOGGER.info("serving %d services on %s:%d (%s)", len(SERVICE_NAMES), config.host, port, database.url.get_backend_name())
    running = RunningServer(server, port, config.host, database, listener, services, health_servicer, payments, faces)
    running.start_retention_sweep(config.retention_sweep_s)
    running.start_change_compaction(config.change_window_hours, config.compact_every_s)
    return running
