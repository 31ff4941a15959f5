"""Tokens and passwords, without a server."""
from __future__ import annotations

import time

import pytest

from cloud.domain.auth import TokenSigner, hash_password, verify_password
from cloud.domain.types import Principal, PrincipalKind
from cloud.errors import Unauthenticated


def test_tokens_verify_expire_and_refuse_forgeries_even_after_caching() -> None:
    signer = TokenSigner(b"k" * 32)
    kiosk = Principal(PrincipalKind.DEVICE, "dev_1", "sh-jingan")
    token, expires = signer.issue(kiosk, lifetime_ms=300)
    assert signer.verify(token) == kiosk and signer.verify(token) == kiosk  # second answer from the cache
    head, payload, signature = token.split(".")
    with pytest.raises(Unauthenticated, match="signature"):
        signer.verify(f"{head}.{payload}.{signature[:-2]}AA")
    with pytest.raises(Unauthenticated, match="signature"):
        TokenSigner(b"z" * 32).verify(token)
    time.sleep(max(0.0, (expires - time.time() * 1000) / 1000) + 0.05)
    with pytest.raises(Unauthenticated, match="expired"):
        signer.verify(token)


def test_passwords_hash_with_salt_and_verify() -> None:
    first, second = hash_password("correct horse 1"), hash_password("correct horse 1")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("correct horse 1", first) and not verify_password("correct horse 2", first)
