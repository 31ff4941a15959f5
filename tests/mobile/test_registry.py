"""Every screen name leads to its class and its own ``.kv`` file, which lays that class out."""
from __future__ import annotations

import pytest

from mobile import registry


@pytest.mark.parametrize("name", sorted(registry.ROUTES))
def test_each_screen_has_its_class_and_kv_file(name: str) -> None:
    cls = registry.screen_class(name)
    kv = registry.kv_file(name)
    assert kv.is_file(), kv
    assert f"<{cls.__name__}>:" in kv.read_text(encoding="utf-8")


def test_unknown_screens_are_named_in_the_error() -> None:
    with pytest.raises(LookupError, match="known screens"):
        registry.screen_class("basket")


def test_the_issue_screen_names_are_all_there() -> None:
    assert set(registry.ROUTES) == {"catalog", "product", "cart", "handoff", "checkout", "receipt", "orders", "my_fit",
                                    "my_data", "sign_in", "sign_up", "settings"}
