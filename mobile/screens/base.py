"""What every screen has: the running app, ``show(**params)`` when opened, and an error line."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile.app import describe_error

if TYPE_CHECKING:
    from mobile.app import ShopperApp


class AppScreen(Screen):
    error = StringProperty("")
    working = BooleanProperty(False)

    @property
    def app(self) -> ShopperApp:
        return cast("ShopperApp", App.get_running_app())

    def show(self, **params: Any) -> None:
        """Called each time the screen is opened, with what the opener passed."""
        self.error = ""

    def fail(self, error: Exception) -> None:
        self.working = False
        self.error = describe_error(error)


def build(kind: str, **values: Any) -> Any:
    """A widget of the ``.kv`` dynamic class ``kind`` with its own properties set (Kivy refuses them in the constructor)."""
    widget = Factory.get(kind)()
    for name, value in values.items():
        setattr(widget, name, value)
    return widget
