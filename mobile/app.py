"""The shopper's app: a phone-shaped Kivy window over the cloud, one ``SyncClient`` on Kivy's asyncio loop.

Kivy runs inside asyncio (``App.async_run``), so every cloud call is a task on the same
loop as the UI: the screen keeps drawing while a call waits, and answers land on the
UI's own thread (no locks around Kivy properties). Work that holds the CPU (the fit
engine, decoding a QR picture, a face embedding) goes to a thread with
:meth:`ShopperApp.run_blocking`.

App-wide state lives in Kivy properties here (the cart, the store, online or not, the
outbox count); screens are built from ``mobile.registry`` on first use and reached
with :meth:`ShopperApp.go`.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, SlideTransition

from cloud.client import Cart, ClientError, CloudUnavailable, FitProfile, QueuedMutation, RetryPolicy, SyncClient
from mobile import pictures, registry, theme
from mobile.config import MobileConfig
from mobile.i18n import tr
from mobile.session import SavedSession, load_session, save_session
from omnifit.errors import ErrorCode, OmnifitError

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
SHELL_KV = registry.KV_DIR / "shell.kv"
WIDGETS_KV = registry.KV_DIR / "widgets.kv"
NOTICE_S = 5.0
PROBE_EVERY_S = 1.0


def _now_ms() -> int:
    return int(time.time() * 1000)


class ShopperApp(App):
    """The app. ``mobile`` is its :class:`MobileConfig`; ``client`` the cloud, once started."""

    lang = StringProperty("zh_CN")
    offline = BooleanProperty(False)
    pending_changes = NumericProperty(0)
    signed_in = BooleanProperty(False)
    shopper_email = StringProperty("")
    cart = ObjectProperty(None, allownone=True)
    cart_count = NumericProperty(0)
    store_id = StringProperty("")
    store_name = StringProperty("")
    stores = ListProperty([])
    fit_profile = ObjectProperty(None, allownone=True)
    notice = StringProperty("")
    busy = NumericProperty(0)
    current_screen = StringProperty("")

    def __init__(self, config: MobileConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mobile = config
        self.title = "Omnifit"
        self.client: SyncClient | None = None
        self.session = SavedSession()
        self.first_frame_at: float | None = None  # time.monotonic() when the first screen was drawn
        self._history: list[tuple[str, dict[str, Any]]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watch_task: asyncio.Task[None] | None = None
        self._probe: asyncio.Task[None] | None = None
        self._clear_notice: Any = None
        self.on_started: list[Callable[[ShopperApp], None]] = []  # the script runner, benchmarks

    # --- start and stop ------------------------------------------------------------------
    def build(self) -> Any:
        theme.register_fonts()
        Builder.load_file(str(WIDGETS_KV))
        root = Builder.load_file(str(SHELL_KV))
        self.sm = root.ids.screens
        self.sm.transition = NoTransition() if self.mobile.headless else SlideTransition(duration=0.18)
        return root

    def on_start(self) -> None:
        from kivy.core.window import Window

        Window.clearcolor = theme.PAGE
        Window.bind(on_flip=self._first_flip, on_keyboard=self._on_keyboard)
        self.session = load_session(self.mobile.session_path, now_ms=_now_ms())
        self.switch_language(self.mobile.lang or self.session.lang or "zh_CN", save=False)
        self.client = SyncClient(
            list(self.mobile.targets), token=self.session.token or None, store_path=self.mobile.outbox_path,
            tls_root_cert=self.mobile.tls_root_cert.read_bytes() if self.mobile.tls_root_cert else None,
            retry=RetryPolicy(attempts=3, call_timeout_s=5.0),
        )
        self.signed_in = self.session.signed_in
        self.shopper_email = self.session.email
        self.store_id = self.session.store_id
        self.go("catalog")
        self.call(lambda client: client.list_stores(), done=self._stores_loaded)
        if self.session.signed_in:
            self._after_sign_in()
        Clock.schedule_interval(self._tick, 0.5)
        for hook in self.on_started:
            hook(self)

    def _first_flip(self, *_args: Any) -> None:
        if self.first_frame_at is None and self.current_screen:
            self.first_frame_at = time.monotonic()

    def on_stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def close(self) -> None:
        """Cancel what is in flight and close the cloud client (after the window has closed)."""
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.client is not None:
            await self.client.close()

    # --- navigation ----------------------------------------------------------------------
    def screen(self, name: str) -> Any:
        """The screen called ``name``, built on first use."""
        if not self.sm.has_screen(name):
            cls = registry.screen_class(name)
            kv = str(registry.kv_file(name))
            if kv not in Builder.files:  # each screen's layout is read when it is first shown (a faster start)
                Builder.load_file(kv)
            self.sm.add_widget(cls(name=name))
        return self.sm.get_screen(name)

    def go(self, name: str, *, remember: bool = True, **params: Any) -> None:
        """Show screen ``name`` with ``params``; screens needing an account ask for one first."""
        if name not in registry.ROUTES:
            raise LookupError(f"no app screen called {name!r}; known screens: {sorted(registry.ROUTES)}")
        if name in registry.NEEDS_ACCOUNT and not self.signed_in:
            params, name = {"then": name, "then_params": params}, "sign_in"
        screen = self.screen(name)
        if name != self.current_screen:
            self.notice = ""  # a notice belongs to the screen it was raised on
        screen.show(**params)
        if remember and (not self._history or self._history[-1][0] != name):
            self._history.append((name, params))
        self.sm.current = name
        self.current_screen = name

    def back(self) -> None:
        if len(self._history) > 1:
            self._history.pop()
            name, params = self._history[-1]
            self.go(name, remember=False, **params)

    def _on_keyboard(self, _window: Any, key: int, *_args: Any) -> bool:
        if key == 27 and len(self._history) > 1:  # escape / Android back: one screen back, not quit
            self.back()
            return True
        return False

    # --- jobs ----------------------------------------------------------------------------
    def _spawn(self, coroutine: Awaitable[T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def call(self, work: Callable[[SyncClient], Awaitable[T]], *, done: Callable[[T], None] | None = None,
             failed: Callable[[Exception], None] | None = None) -> asyncio.Task[None]:
        """Run ``work(client)`` on the loop; ``done(value)`` or ``failed(error)`` (default: the notice bar).

        A cloud that does not answer turns the offline banner on; any answer turns it off.
        """

        async def run() -> None:
            self.busy += 1
            try:
                assert self.client is not None, "call() before on_start"
                value = await work(self.client)
            except CloudUnavailable as exc:
                self.offline = True
                (failed or self.show_error)(exc)
            except (OmnifitError, ValueError) as exc:
                self._heard_from_cloud(exc)
                (failed or self.show_error)(exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug: logged in full, and the shopper is told, not left waiting
                _LOGGER.exception("job failed")
                (failed or self.show_error)(exc)
            else:
                self._heard_from_cloud(value)
                if done is not None:
                    done(value)
            finally:
                self.busy -= 1
                self._count_pending()

        return self._spawn(run())

    def _heard_from_cloud(self, outcome: object) -> None:
        if isinstance(outcome, QueuedMutation) or getattr(outcome, "stale", False):
            self.offline = True
        elif not isinstance(outcome, (ValueError, OmnifitError)) or isinstance(outcome, ClientError):
            self.offline = False

    async def run_blocking(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args)`` on a worker thread: the UI keeps drawing while it computes."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(function, *args, **kwargs))

    def render_pictures(self, products: Any, done: Callable[[], None]) -> None:
        """Render the shoes' missing pictures (once per machine), then ``done()``."""
        missing = pictures.missing_shoe_pictures(products)
        if missing:
            self.render_in_process(pictures.render_shoe_pictures, missing, done=done)

    def render_in_process(self, render: Callable[..., object], *args: Any, done: Callable[[], None]) -> None:
        """``render(*args)`` in a spawned process (its own GL context, off the UI's GIL), then ``done()``."""

        async def run() -> None:
            loop = asyncio.get_running_loop()
            try:
                with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                    await loop.run_in_executor(pool, render, *args)
            except Exception:  # a picture that cannot be drawn leaves its placeholder, and says why in the log
                _LOGGER.exception("rendering pictures failed")
                return
            done()

        self._spawn(run())

    def show_error(self, error: Exception) -> None:
        self.say(describe_error(error))

    def say(self, text: str) -> None:
        self.notice = text
        if self._clear_notice is not None:
            self._clear_notice.cancel()
        self._clear_notice = Clock.schedule_once(lambda _dt: setattr(self, "notice", ""), NOTICE_S)

    def _tick(self, _dt: float) -> None:
        self._count_pending()
        if self.offline and (self._probe is None or self._probe.done()):
            self._probe = self._spawn(self._probe_cloud())

    def _count_pending(self) -> None:
        if self.client is not None:
            self.pending_changes = self.client.pending_mutations

    async def _probe_cloud(self) -> None:
        """While offline: is the cloud back? Then send what waits and catch the cart up."""
        assert self.client is not None
        try:
            stores = await self.client.list_stores()
        except CloudUnavailable:
            await asyncio.sleep(PROBE_EVERY_S)
            return
        self.offline = False
        self._stores_loaded(stores)
        await self.client.flush_outbox()
        self._count_pending()
        if self.session.cart_id and self.signed_in:
            self._accept_cart(await self.client.get_cart(self.session.cart_id))

    # --- stores, language ---------------------------------------------------------------
    def _stores_loaded(self, stores: Any) -> None:
        self.stores = list(stores)
        known = {store.store_id: store for store in self.stores}
        if self.store_id not in known and self.stores:
            self.choose_store(self.stores[0].store_id)
        elif self.store_id in known:
            self.store_name = known[self.store_id].name

    def choose_store(self, store_id: str) -> None:
        store = next((s for s in self.stores if s.store_id == store_id), None)
        if store is None:
            raise ValueError(f"unknown store {store_id!r}")
        self.store_id, self.store_name = store.store_id, store.name
        self._save(store_id=store_id)

    def switch_language(self, lang: str, *, save: bool = True) -> None:
        tr.switch(lang)
        self.lang = tr.lang
        if save:
            self._save(lang=self.lang)

    def _save(self, **changes: Any) -> None:
        self.session = self.session.with_(**changes)
        save_session(self.mobile.session_path, self.session)

    # --- account -------------------------------------------------------------------------
    def signed_in_as(self, email: str, session: Any) -> None:
        """A sign-in or sign-up answered: keep the token (0600) and load the shopper's things."""
        assert self.client is not None
        fresh = self.session.email != email
        self._save(token=session.token, shopper_id=session.subject_id, email=email, expires_at_ms=session.expires_at_ms,
                   cart_id="" if fresh else self.session.cart_id)
        self.signed_in, self.shopper_email = True, email
        self._after_sign_in()

    def _after_sign_in(self) -> None:
        self.call(lambda client: client.get_fit_profile(), done=self._profile_loaded, failed=self._no_profile)
        if self.session.cart_id:
            self.follow_cart(self.session.cart_id)

    def _profile_loaded(self, profile: FitProfile) -> None:
        self.fit_profile = profile if (profile.left_foot or profile.right_foot or profile.body) else None

    def _no_profile(self, error: Exception) -> None:
        if isinstance(error, ClientError) and error.code is ErrorCode.NOT_FOUND:
            self.fit_profile = None
        elif isinstance(error, ClientError) and error.code is ErrorCode.UNAUTHENTICATED:
            self.say(tr._("Your session has ended. Please sign in again."))
            self.sign_out()
        else:
            self.show_error(error)

    def sign_out(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
        self._save(**{name: getattr(self.session.signed_out(), name) for name in ("token", "shopper_id", "email",
                                                                                  "expires_at_ms", "cart_id")})
        if self.client is not None:
            self.client.token = None
        self.signed_in, self.shopper_email, self.cart, self.fit_profile = False, "", None, None
        self._history.clear()
        self.go("catalog")

    # --- the cart, live ------------------------------------------------------------------
    def follow_cart(self, cart_id: str) -> None:
        """Show ``cart_id`` and follow its every change (``watch``), wherever it is made."""
        if self._watch_task is not None:
            self._watch_task.cancel()
        if self.session.cart_id != cart_id:
            self._save(cart_id=cart_id)
        self._watch_task = self._spawn(self._watch(cart_id))

    async def _watch(self, cart_id: str) -> None:
        assert self.client is not None
        try:
            async for event in self.client.watch(cart_id):
                self._accept_cart(event.cart)
        except ClientError as exc:  # NOT_FOUND / PERMISSION_DENIED: not a cart of ours any more
            _LOGGER.warning("cart %s: %s; starting a new one on the next add", cart_id, exc)
            if self.session.cart_id == cart_id:
                self._save(cart_id="")
                self.cart = None

    def _accept_cart(self, cart: Cart) -> None:
        """A newer version of the followed cart (from a watch or an answer; older ones are ignored)."""
        if cart.cart_id != self.session.cart_id:
            return
        if self.cart is None or self.cart.cart_id != cart.cart_id or cart.version > self.cart.version:
            self.cart = cart

    def on_cart(self, _app: Any, cart: Cart | None) -> None:
        self.cart_count = sum(line.quantity for line in cart.lines) if cart is not None else 0

    async def _cart_id(self, client: SyncClient) -> str:
        if not self.session.cart_id or (self.cart is not None and self.cart.status.value != "open"):
            cart = await client.create_cart(self.store_id)
            self.follow_cart(cart.cart_id)
            self._accept_cart(cart)
        return self.session.cart_id

    def change_cart(self, change: Callable[[SyncClient, str], Awaitable[Cart | QueuedMutation]],
                    done: Callable[[Cart | QueuedMutation], None] | None = None) -> None:
        """Apply ``change(client, cart_id)``; offline it waits in the outbox and the banner counts it."""

        async def work(client: SyncClient) -> Cart | QueuedMutation:
            result = await change(client, await self._cart_id(client))
            if isinstance(result, Cart):
                self._accept_cart(result)
            return result

        self.call(work, done=done)

    def add_to_cart(self, sku: str, done: Callable[[Cart | QueuedMutation], None] | None = None) -> None:
        self.change_cart(lambda client, cart_id: client.add_line(cart_id, sku), done)

    def set_quantity(self, line_id: str, quantity: int) -> None:
        if quantity <= 0:
            self.change_cart(lambda client, cart_id: client.remove_line(cart_id, line_id))
        else:
            self.change_cart(lambda client, cart_id: client.update_line(cart_id, line_id, quantity))

    def adopt_cart(self, cart: Cart, profile: FitProfile) -> None:
        """A kiosk's cart claimed with its code: it is the shopper's cart now, with the scan."""
        self._save(store_id=cart.store_id or self.store_id)
        self.store_id = self.session.store_id
        self._stores_loaded(self.stores)
        self.cart = None
        self.follow_cart(cart.cart_id)
        self._accept_cart(cart)
        self._profile_loaded(profile)

    def cart_paid(self) -> None:
        """After checkout the next add starts a new cart."""
        if self._watch_task is not None:
            self._watch_task.cancel()
        self._save(cart_id="")
        self.cart = None


def describe_error(error: Exception) -> str:
    """What went wrong, in the shopper's language, with the cloud's own words after it."""
    if isinstance(error, CloudUnavailable):
        return tr._("No connection to the store. Try again when you are back online.")
    if isinstance(error, ClientError):
        headline = {
            ErrorCode.UNAUTHENTICATED: tr._("Please sign in again."),
            ErrorCode.PERMISSION_DENIED: tr._("That is not allowed."),
            ErrorCode.NOT_FOUND: tr._("Not found."),
            ErrorCode.FAILED_PRECONDITION: tr._("That cannot be done now."),
            ErrorCode.INVALID_ARGUMENT: tr._("Please check what you entered."),
            ErrorCode.RESOURCE_EXHAUSTED: tr._("Too many tries. Please wait a minute."),
            ErrorCode.CONFLICT: tr._("Something changed meanwhile. Please try again."),
        }.get(error.code, tr._("Something went wrong."))
        return f"{headline} {error}"
    if isinstance(error, OmnifitError):  # the app's own refusals are written for the shopper already
        return error.message
    return f"{tr._('Something went wrong.')} {error}"

