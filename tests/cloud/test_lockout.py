"""Wrong-password lockout over gRPC on both databases: shopper and staff sign-in and the password that
SetPaymentPin asks for share one count per account, a client address has its own, the lock holds for
the right password too, survives a restart, lifts when the window passes and is audited."""
from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
import sqlalchemy as sa

from cloud.domain.lockout import LOCKED_EVENT, LockoutPolicy, peer_address
from cloud.server import ServerConfig
from cloud.storage import schema
from payments.audit import AuditLog
from proto.omnifit.v1 import profile_pb2
from tests.cloud.conftest import ServerThread, Stubs, bearer, stubs_for

PASSWORD = "correct horse 1"
WRONG = "not the password"
POLICY = LockoutPolicy(max_per_account=3, max_per_peer=8, window_ms=60_000)


def _code(call, *args, **kwargs) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return err.value.code(), err.value.details()


def _start(db_url: str, policy: LockoutPolicy = POLICY) -> ServerThread:
    return ServerThread(ServerConfig(listen="127.0.0.1:0", db_url=db_url, pool_size=4, lockout=policy)).start()


@pytest.fixture
def server(db_url: str) -> Iterator[ServerThread]:
    """The server under a small policy (conftest's ``stubs`` connects to it)."""
    running = _start(db_url)
    yield running
    running.stop()


def _register(stubs: Stubs, email: str) -> profile_pb2.Session:
    stubs.accounts.RegisterShopper(profile_pb2.RegisterShopperRequest(
        email=email, password=PASSWORD, phone="+8613800138000", display_name="T"))
    return stubs.accounts.SignIn(profile_pb2.SignInRequest(email=email, password=PASSWORD))


def _sign_in(stubs: Stubs, email: str, password: str) -> profile_pb2.Session:
    return stubs.accounts.SignIn(profile_pb2.SignInRequest(email=email, password=password))


def _staff_sign_in(stubs: Stubs, staff_id: str, password: str) -> profile_pb2.Session:
    return stubs.accounts.StaffSignIn(profile_pb2.StaffSignInRequest(staff_id=staff_id, password=password))


def _set_pin(stubs: Stubs, token: str, password: str) -> profile_pb2.PaymentPinStatus:
    return stubs.accounts.SetPaymentPin(profile_pb2.SetPaymentPinRequest(password=password, pin="4821"),
                                        metadata=bearer(token))


def _locks(server: ServerThread) -> list:
    log = AuditLog(server.running.database.write_engine())
    assert log.verify().ok
    return list(log.entries(event=LOCKED_EVENT))


def _age_failures(server: ServerThread, by_ms: int) -> None:
    failures = schema.password_failures
    with server.running.database.write() as conn:
        conn.execute(failures.update().values(at_ms=failures.c.at_ms - by_ms))


def test_wrong_passwords_lock_the_account_for_the_right_one_too_across_a_restart(db_url: str) -> None:
    server = _start(db_url)
    try:
        with grpc.insecure_channel(server.address) as channel:
            stubs = stubs_for(channel)
            shopper_id = _register(stubs, "ada@example.com").subject_id
            for _ in range(POLICY.max_per_account):
                assert _code(_sign_in, stubs, "ada@example.com", WRONG)[0] == grpc.StatusCode.UNAUTHENTICATED
            status, details = _code(_sign_in, stubs, "ada@example.com", PASSWORD)
            assert status == grpc.StatusCode.RESOURCE_EXHAUSTED and "too many wrong passwords" in details
    finally:
        server.stop()
    server = _start(db_url)  # the count is in the database, not in the process
    try:
        with grpc.insecure_channel(server.address) as channel:
            stubs = stubs_for(channel)
            assert _code(_sign_in, stubs, "ada@example.com", PASSWORD)[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
            [entry] = _locks(server)
            assert entry.subject == f"shopper:{shopper_id}"
            assert (entry.details["door"], entry.details["failures"], entry.details["locked"]) == ("SignIn", 3, "account")
            _age_failures(server, POLICY.window_ms)
            assert _sign_in(stubs, "ada@example.com", PASSWORD).subject_id == shopper_id
    finally:
        server.stop()


def test_the_right_password_clears_the_count_and_unknown_emails_lock_like_real_ones(
    server: ServerThread, stubs: Stubs
) -> None:
    _register(stubs, "bo@example.com")
    for _ in range(POLICY.max_per_account - 1):
        _code(_sign_in, stubs, "bo@example.com", WRONG)
    _sign_in(stubs, "bo@example.com", PASSWORD)
    for _ in range(POLICY.max_per_account - 1):
        assert _code(_sign_in, stubs, "bo@example.com", WRONG)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert _sign_in(stubs, "bo@example.com", PASSWORD).token
    for _ in range(POLICY.max_per_account):
        assert _code(_sign_in, stubs, "nobody@example.com", WRONG)[0] == grpc.StatusCode.UNAUTHENTICATED
    status, details = _code(_sign_in, stubs, "nobody@example.com", WRONG)
    assert status == grpc.StatusCode.RESOURCE_EXHAUSTED and "account" in details
    assert "nobody@example.com" not in {entry.subject for entry in _locks(server)}  # hashed, not the typed email
    with server.running.database.read() as conn:
        accounts = set(conn.execute(sa.select(schema.password_failures.c.account)).scalars())
    assert not any("nobody" in account for account in accounts)


def test_staff_sign_in_locks_per_staff_id(server: ServerThread, stubs: Stubs) -> None:
    server.services.accounts.create_staff("ops-kim", PASSWORD)
    for _ in range(POLICY.max_per_account):
        assert _code(_staff_sign_in, stubs, "ops-kim", WRONG)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert _code(_staff_sign_in, stubs, "ops-kim", PASSWORD)[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
    server.services.accounts.create_staff("ops-lee", PASSWORD)
    assert _staff_sign_in(stubs, "ops-lee", PASSWORD).subject_id == "ops-lee"
    assert [(entry.subject, entry.details["door"]) for entry in _locks(server)] == [("staff:ops-kim", "StaffSignIn")]


def test_set_payment_pin_shares_the_accounts_count_and_changes_nothing_while_locked(
    server: ServerThread, stubs: Stubs
) -> None:
    session = _register(stubs, "cy@example.com")
    for _ in range(POLICY.max_per_account - 1):
        assert _code(_set_pin, stubs, session.token, WRONG)[0] == grpc.StatusCode.PERMISSION_DENIED
    assert _code(_sign_in, stubs, "cy@example.com", WRONG)[0] == grpc.StatusCode.UNAUTHENTICATED
    status, details = _code(_set_pin, stubs, session.token, PASSWORD)
    assert status == grpc.StatusCode.RESOURCE_EXHAUSTED and "try again in" in details
    assert not server.services.pins.status(session.subject_id).pin_set
    assert [entry.details["door"] for entry in _locks(server)] == ["SignIn"]


def test_one_address_guessing_at_many_accounts_is_stopped(db_url: str) -> None:
    server = _start(db_url, LockoutPolicy(max_per_account=3, max_per_peer=4, window_ms=60_000))
    try:
        with grpc.insecure_channel(server.address) as channel:
            stubs = stubs_for(channel)
            _register(stubs, "dee@example.com")
            for n in range(4):
                assert _code(_sign_in, stubs, f"guess{n}@example.com", WRONG)[0] == grpc.StatusCode.UNAUTHENTICATED
            status, details = _code(_sign_in, stubs, "dee@example.com", PASSWORD)
            assert status == grpc.StatusCode.RESOURCE_EXHAUSTED and "network address" in details
            [entry] = _locks(server)
            assert entry.details["locked"] == "network address" and entry.subject == "ipv4:127.0.0.1"
    finally:
        server.stop()


@pytest.mark.parametrize(("peer", "address"), [
    ("ipv4:10.0.0.7:53211", "ipv4:10.0.0.7"),
    ("ipv6:[2001:db8:1:2::1]:40000", "ipv6:2001:db8:1:2::/64"),
    ("ipv6:%5B2001:db8:1:2:aaaa:bbbb:cccc:dddd%5D:40001", "ipv6:2001:db8:1:2::/64"),  # as gRPC writes it
    ("ipv6:%5B::ffff:10.0.0.7%5D:40002", "ipv4:10.0.0.7"),
    ("unix:/run/omnifit.sock", "unix:/run/omnifit.sock"),
    ("", ""),
])
def test_a_peer_is_counted_by_its_address_not_its_port(peer: str, address: str) -> None:
    """An IPv6 client is counted by its /64: one home or phone gets a whole /64, and an address per guess
    would make the per-address limit count nothing."""
    assert peer_address(peer) == address


def test_a_policy_that_allows_no_try_is_refused() -> None:
    with pytest.raises(ValueError, match="max_per_account"):
        LockoutPolicy(max_per_account=0)


def test_concurrent_wrong_passwords_get_no_more_guesses_than_the_limit(server: ServerThread, stubs: Stubs) -> None:
    """Guesses sent at once must not all pass the check before any is counted (check, then verify, then count)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    _register(stubs, "eve@example.com")
    tries = 4 * POLICY.max_per_account
    start = Barrier(tries)

    def guess(n: int) -> grpc.StatusCode:
        start.wait()
        return _code(_sign_in, stubs, "eve@example.com", f"{WRONG} {n}")[0]

    with ThreadPoolExecutor(tries) as pool:
        codes = list(pool.map(guess, range(tries)))
    verified = codes.count(grpc.StatusCode.UNAUTHENTICATED)
    assert verified <= POLICY.max_per_account, codes
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == tries - verified
    assert len(_locks(server)) == 1


def _guess_from(stubs: Stubs, email: str, forwarded_for: str) -> tuple[grpc.StatusCode, str]:
    return _code(stubs.accounts.SignIn, profile_pb2.SignInRequest(email=email, password=WRONG),
                 metadata=(("x-forwarded-for", forwarded_for),))


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_forwarded_address(db_url: str) -> None:
    """Behind the load balancer every call comes from its address: counted by that, 50 guesses from anyone
    locked everyone's sign-in. A proxy named trusted says who the client is in ``x-forwarded-for``."""
    policy = LockoutPolicy(max_per_account=3, max_per_peer=4, window_ms=60_000)
    server = ServerThread(ServerConfig(listen="127.0.0.1:0", db_url=db_url, pool_size=4, lockout=policy,
                                       trusted_proxies=("127.0.0.0/8",))).start()
    try:
        with grpc.insecure_channel(server.address) as channel:
            stubs = stubs_for(channel)
            _register(stubs, "fay@example.com")
            for n in range(4):  # the client's own left-most entry is its word, not the proxy's
                code, _ = _guess_from(stubs, f"guess{n}@example.com", f"10.9.9.{n}, 203.0.113.9")
                assert code == grpc.StatusCode.UNAUTHENTICATED
            status, details = _guess_from(stubs, "guess9@example.com", "203.0.113.9")
            assert status == grpc.StatusCode.RESOURCE_EXHAUSTED and "network address" in details
            assert _code(_sign_in, stubs, "other@example.com", WRONG)[0] == grpc.StatusCode.UNAUTHENTICATED
            assert _sign_in(stubs, "fay@example.com", PASSWORD).subject_id
            [entry] = _locks(server)
            assert entry.subject == "ipv4:203.0.113.9"
    finally:
        server.stop()


def test_x_forwarded_for_from_a_peer_not_trusted_is_ignored(db_url: str) -> None:
    server = _start(db_url, LockoutPolicy(max_per_account=3, max_per_peer=4, window_ms=60_000))
    try:
        with grpc.insecure_channel(server.address) as channel:
            stubs = stubs_for(channel)
            for n in range(4):
                assert _guess_from(stubs, f"guess{n}@example.com", f"198.51.100.{n}")[0] == grpc.StatusCode.UNAUTHENTICATED
            status, details = _guess_from(stubs, "guess9@example.com", "198.51.100.200")
            assert status == grpc.StatusCode.RESOURCE_EXHAUSTED and "network address" in details
    finally:
        server.stop()


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("ipv4:10.0.0.2:5000", "203.0.113.9", "ipv4:203.0.113.9"),
    ("ipv4:10.0.0.2:5000", "203.0.113.9, 10.0.0.3", "ipv4:203.0.113.9"),       # through two proxies
    ("ipv4:10.0.0.2:5000", "not-an-ip, 203.0.113.9:4431", "ipv4:203.0.113.9"),
    ("ipv4:10.0.0.2:5000", "[2001:db8:1:2::7]:443", "ipv6:2001:db8:1:2::/64"),
    ("ipv4:10.0.0.2:5000", "10.0.0.3, not-an-ip", "ipv4:10.0.0.2"),           # the proxy wrote nothing usable
    ("ipv4:192.0.2.1:5000", "203.0.113.9", "ipv4:192.0.2.1"),                  # not a trusted proxy
    ("ipv4:10.0.0.2:5000", "", "ipv4:10.0.0.2"),
])
def test_the_client_is_the_right_most_forwarded_address_no_trusted_proxy_added(
    peer: str, forwarded: str, client: str
) -> None:
    import ipaddress

    from cloud.domain.lockout import client_address

    assert client_address(peer, forwarded, (ipaddress.ip_network("10.0.0.0/8"),)) == client


def test_a_trusted_proxy_must_be_a_network() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        ServerConfig(trusted_proxies=("not a network",))
