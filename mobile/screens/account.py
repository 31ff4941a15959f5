"""Sign in and sign up. Both end where the shopper was going (``then``), the catalog otherwise."""
from __future__ import annotations

from typing import Any

from kivy.properties import DictProperty, StringProperty

from cloud.client import ClientError, Session
from mobile.i18n import tr
from mobile.screens.base import AppScreen
from omnifit.errors import ErrorCode

MIN_PASSWORD = 8


class _AccountScreen(AppScreen):
    then = StringProperty("catalog")
    then_params = DictProperty({})

    def show(self, **params: Any) -> None:
        super().show()
        self.then = params.get("then", "catalog")
        self.then_params = params.get("then_params", {})

    def _signed_in(self, email: str, session: Session) -> None:
        self.working = False
        self.app.signed_in_as(email, session)
        self.app.go(self.then, **self.then_params)


class SignInScreen(_AccountScreen):
    def sign_in(self, email: str, password: str) -> None:
        email = email.strip()
        if "@" not in email or not password:
            self.error = tr._("Enter your e-mail and password.")
            return
        self.working = True
        self.app.call(lambda client: client.sign_in(email, password),
                      done=lambda session: self._signed_in(email, session), failed=self._refused)

    def _refused(self, error: Exception) -> None:
        if isinstance(error, ClientError) and error.code is ErrorCode.UNAUTHENTICATED:
            self.working = False
            self.error = tr._("Wrong e-mail or password.")
        else:
            self.fail(error)


class SignUpScreen(_AccountScreen):
    def sign_up(self, email: str, password: str, phone: str) -> None:
        email, phone = email.strip(), phone.strip().replace(" ", "")
        if "@" not in email:
            self.error = tr._("Enter a valid e-mail address.")
            return
        if len(password) < MIN_PASSWORD:
            self.error = tr._("The password needs at least {count} characters.", count=MIN_PASSWORD)
            return
        if not phone.lstrip("+").isdigit() or len(phone.lstrip("+")) < 7:
            self.error = tr._("Enter your mobile number with its country code, e.g. +8613800138000.")
            return
        self.working = True
        self.app.call(lambda client: client.register(email, password, phone),
                      done=lambda session: self._signed_in(email, session), failed=self._refused)

    def _refused(self, error: Exception) -> None:
        # The cloud answers a taken e-mail like a free one, then the sign-in that follows fails.
        if isinstance(error, ClientError) and error.code is ErrorCode.UNAUTHENTICATED:
            self.working = False
            self.error = tr._("Could not create the account. If this e-mail already has one, sign in with it.")
        else:
            self.fail(error)
