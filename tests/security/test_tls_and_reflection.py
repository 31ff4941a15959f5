"""What a network attacker sees: reflection is off unless asked for, plaintext on an open address is
announced loudly, and a client asked for TLS without a root file verifies against the system's CAs.

(From reading the code in issue 12: reflection was always on, nothing said a production server spoke
plaintext, and `--tls` needed a root file.)
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from cloud.client import SyncClient
from cloud.client.errors import CloudUnavailable
from cloud.server import SERVICE_NAMES, is_loopback
from tests.cloud.test_discovery import _self_signed
from tests.security.conftest import ServerFactory


def _list_services(address: str) -> set[str]:
    with grpc.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
        return {s.name for s in next(iter(responses)).list_services_response.service}


def test_reflection_is_off_by_default(start: ServerFactory) -> None:
    with pytest.raises(grpc.RpcError) as err:
        _list_services(start().address)
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_reflection_when_asked_for(start: ServerFactory) -> None:
    assert set(SERVICE_NAMES) <= _list_services(start(reflection=True).address)


def test_the_cli_turns_reflection_on_only_with_reflection_or_dev() -> None:
    import argparse

    from cloud import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    assert not parser.parse_args(["serve"]).reflection and not parser.parse_args(["serve"]).dev
    assert parser.parse_args(["serve", "--reflection"]).reflection
    assert parser.parse_args(["serve", "--dev"]).dev


def test_plaintext_on_an_open_address_is_announced(start: ServerFactory, caplog: pytest.LogCaptureFixture,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    with caplog.at_level(logging.WARNING, logger="cloud.server"):
        start()  # 127.0.0.1: nothing to say
        assert "WITHOUT TLS" not in capfd.readouterr().err
        start(listen="0.0.0.0:0")
    assert "WITHOUT TLS" in capfd.readouterr().err
    assert any("WITHOUT TLS" in record.getMessage() for record in caplog.records)
    assert is_loopback("127.0.0.1") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5") and not is_loopback("shop.example.com")


def _stores(target: str, **client: object) -> int:
    async def run() -> int:
        async with SyncClient(target, **client) as app:  # type: ignore[arg-type]
            return len(await app.list_stores())
    return asyncio.run(run())


def test_a_tls_client_without_a_root_file_trusts_the_system_store(start: ServerFactory, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = _self_signed(tmp_path)  # a CA-flagged certificate for localhost / 127.0.0.1
    server = start(tls_cert=cert, tls_key=key)
    target = f"localhost:{server.running.port}"
    # The machine's CA store holds the server's CA: `--tls` alone connects.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert _stores(target, tls=True) == 3
    # A store without it: refused (the server is not trusted), never a silent plaintext fallback.
    other_folder = tmp_path / "other"
    other_folder.mkdir()
    other, _ = _self_signed(other_folder)
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    with pytest.raises(CloudUnavailable):
        _stores(target, tls=True, retry=_one_try())


def _one_try():  # type: ignore[no-untyped-def]
    from cloud.client.client import RetryPolicy

    return RetryPolicy(attempts=1, call_timeout_s=3.0)
