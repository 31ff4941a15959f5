"""My data: what the store holds about me, and deleting it (each deletion confirmed here, audited by the cloud)."""
from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from cloud.client import FaceDataDeletion, FaceEnrollmentStatus
from mobile.i18n import tr
from mobile.screens.base import AppScreen


class MyDataScreen(AppScreen):
    face_text = StringProperty("")
    face_enrolled = BooleanProperty(False)
    confirming = BooleanProperty(False)
    confirming_fit = BooleanProperty(False)
    fit_done_text = StringProperty("")
    fit_text = StringProperty("")
    orders_text = StringProperty("")
    done_text = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        self.app.bind(lang=lambda *_: self.show(), fit_profile=lambda *_: self._draw_fit())

    def show(self, **params: Any) -> None:
        super().show()
        self.confirming, self.done_text = False, ""
        self.confirming_fit, self.fit_done_text = False, ""
        self.face_text = tr._("Loading…")
        self.app.call(lambda client: client.get_face_enrollment(), done=self._face, failed=self.fail)
        self.app.call(lambda client: client.list_orders(page_size=1), done=self._orders, failed=self.fail)
        self._draw_fit()

    def _face(self, status: FaceEnrollmentStatus) -> None:
        self.face_enrolled = status.enrolled
        enrollment = status.enrollment
        if not status.enrolled or enrollment is None:
            self.face_text = tr._("No face template is stored.")
            return
        self.face_text = tr._("A face template is stored for face pay with {card}, with your consent, until {date}.",
                              card=enrollment.payment_method, date=tr.day(enrollment.expires_at_ms))

    def _orders(self, page: Any) -> None:
        self.orders_text = tr._("Orders placed: {count}", count=page.total_size)

    def _draw_fit(self) -> None:
        profile = self.app.fit_profile
        if profile is None:
            self.fit_text = tr._("No fit profile is stored.")
        else:
            sides = [tr._("left foot")] * bool(profile.left_foot) + [tr._("right foot")] * bool(profile.right_foot)
            sides += [tr._("body")] * bool(profile.body)
            self.fit_text = tr._("Measurements of your {parts} from a store scan.", parts=", ".join(sides))

    def delete_face(self) -> None:
        if not self.confirming:
            self.confirming = True
            return
        self.working, self.confirming = True, False
        self.app.call(lambda client: client.delete_face_data(), done=self._deleted, failed=self.fail)

    def delete_fit(self) -> None:
        if not self.confirming_fit:
            self.confirming_fit = True
            return
        self.working, self.confirming_fit = True, False
        self.app.call(lambda client: client.delete_fit_profile(), done=self._fit_deleted, failed=self.fail)

    def _fit_deleted(self, deleted: bool) -> None:
        self.working = False
        self.app.fit_profile = None
        self.fit_done_text = tr._("Your fit profile is deleted.") if deleted else tr._("There was no fit profile to delete.")

    def _deleted(self, deletion: FaceDataDeletion) -> None:
        self.working = False
        self.face_enrolled = False
        self.face_text = tr._("No face template is stored.")
        self.done_text = tr._("Your face data is deleted and face pay is off.") if deletion.deleted else \
            tr._("There was no face data to delete.")
