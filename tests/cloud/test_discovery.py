"""Any generic gRPC client finds and calls the services: reflection, health, and TLS."""
from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from cloud.server import SERVICE_NAMES, ServerConfig
from tests.cloud.conftest import ServerThread


def test_reflection_lists_every_service_and_health_says_serving(server: ServerThread) -> None:
    with grpc.insecure_channel(server.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
        listed = {s.name for s in responses[0].list_services_response.service}
        assert set(SERVICE_NAMES) | {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= listed
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", *SERVICE_NAMES):
            assert health.Check(health_pb2.HealthCheckRequest(service=name)).status == health_pb2.HealthCheckResponse.SERVING


def test_a_generic_client_calls_a_method_it_learned_by_reflection(server: ServerThread) -> None:
    with grpc.insecure_channel(server.address) as channel:
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        method = pool.FindServiceByName("omnifit.v1.CatalogService").FindMethodByName("ListStores")
        request_class, response_class = GetMessageClass(method.input_type), GetMessageClass(method.output_type)
        call = channel.unary_unary(
            "/omnifit.v1.CatalogService/ListStores",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        stores = call(request_class(), timeout=10).stores
    assert len(stores) == 3 and all(s.store_id and s.city for s in stores)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[ServerThread, bytes]]:
    cert, key = _self_signed(tmp_path)
    running = ServerThread(ServerConfig(listen="127.0.0.1:0", db_url=sqlite_url, tls_cert=cert, tls_key=key)).start()
    yield running, cert.read_bytes()
    running.stop()


def test_tls_serves_trusting_clients_and_refuses_plaintext(tls_server: tuple[ServerThread, bytes]) -> None:
    server, cert = tls_server
    credentials = grpc.ssl_channel_credentials(root_certificates=cert)
    with grpc.secure_channel(server.address, credentials, options=[("grpc.ssl_target_name_override", "localhost")]) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with grpc.insecure_channel(server.address) as channel:
        with pytest.raises(grpc.RpcError) as err:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"listen": "nonsense"}, "HOST:PORT"),
        ({"listen": "127.0.0.1:70000"}, "HOST:PORT"),
        ({"tls_cert": Path("/etc/hostname")}, "tls_key"),
        ({"tls_cert": Path("/nope.crt"), "tls_key": Path("/nope.key")}, "tls_cert"),
        ({"db_url": "mysql://db/omnifit"}, "db_url"),
    ],
)
def test_server_config_says_what_is_wrong(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        ServerConfig(**kwargs)
