"""Payment gateway plugins: one interface (:class:`PaymentGateway`), a registry, and the sandbox.

``GATEWAYS`` maps a plugin name to its factory; :func:`create_gateway` builds one by
name and says which names exist when it is wrong. A real acquirer plugs in by adding
its factory to the dict.
"""
from __future__ import annotations

from collections.abc import Callable

from payments.errors import UnknownGatewayError
from payments.gateways.base import CardDescription, DeclineCode, GatewayOperation, GatewayResult, PaymentGateway
from payments.gateways.sandbox import SandboxGateway

GATEWAYS: dict[str, Callable[..., PaymentGateway]] = {
    "sandbox": SandboxGateway,
}


def create_gateway(name: str, **options: object) -> PaymentGateway:
    """The gateway plugin registered as ``name``, built with ``options``."""
    try:
        factory = GATEWAYS[name]
    except KeyError as exc:
        raise UnknownGatewayError(
            f"gateway {name!r} is not registered; expected one of {sorted(GATEWAYS)}", field="gateway", gateway=name
        ) from exc
    return factory(**options)


__all__ = [
    "GATEWAYS", "CardDescription", "DeclineCode", "GatewayOperation", "GatewayResult", "PaymentGateway", "SandboxGateway", "create_gateway",
]
