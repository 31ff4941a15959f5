"""Fixtures of the security suite: real servers on the ``db_url`` database (a SQLite file or a PostgreSQL
schema), started with the configuration a test names, and the client steps an attacker takes.

Every test here plays an attack end to end as a client would, against ``start_server`` in process
(``ServerThread``) or a real ``omnifit serve`` (``cloud.testing.ServerProcess``); nothing of ours is mocked.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from cloud.server import ServerConfig
from proto.omnifit.v1 import profile_pb2
from tests.cloud.conftest import ServerThread, Stubs, stubs_for

PASSWORD = "correct horse 1"
PHONE = "+8613800138000"


def failure(call, *args, **kwargs) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    """The status code and details of a call that must fail."""
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return err.value.code(), err.value.details()


ServerFactory = Callable[..., ServerThread]


@pytest.fixture
def start(db_url: str, tmp_path: Path) -> Iterator[ServerFactory]:
    """``start(**config)``: a server on the test's database with those ``ServerConfig`` fields (its token keys
    in a file under ``tmp_path`` unless named); every server started is stopped at the end."""
    started: list[ServerThread] = []

    def _start(**config: object) -> ServerThread:
        config = {"listen": "127.0.0.1:0", "pool_size": 4, "token_key_file": tmp_path / "token-keys.json", **config}
        server = ServerThread(ServerConfig(db_url=db_url, **config)).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


@pytest.fixture
def channel_to() -> Iterator[Callable[[ServerThread], Stubs]]:
    """``channel_to(server)``: blocking stubs on a channel to ``server``, closed at the end."""
    channels: list[grpc.Channel] = []

    def _open(server: ServerThread) -> Stubs:
        channel = grpc.insecure_channel(server.address)
        channels.append(channel)
        return stubs_for(channel)

    yield _open
    for channel in channels:
        channel.close()


def register_and_sign_in(stubs: Stubs, email: str, password: str = PASSWORD) -> profile_pb2.Session:
    """A shopper account as the app makes one: register, then sign in."""
    stubs.accounts.RegisterShopper(profile_pb2.RegisterShopperRequest(
        email=email, password=password, phone=PHONE, display_name=email.split("@")[0]))
    return stubs.accounts.SignIn(profile_pb2.SignInRequest(email=email, password=password))
