"""The payments error tree: one root (:class:`PaymentsError`) for face pay and the money side.

Every error carries a stable :class:`proto.errors.ErrorCode` and its details as
keyword-only attributes (``FaceQualityError(..., reason=FaceQualityReason.BLUR)``
exposes ``exc.reason``). Messages say what was expected and what was got.
"""
from __future__ import annotations

import enum

from proto.errors import ErrorCode, OmnifitError


class PaymentsError(OmnifitError):
    """Root of every error raised by ``payments``."""


class AuditError(PaymentsError):
    """The audit log could not record an entry (bad details, storage failure)."""

    code = ErrorCode.INTERNAL


# --------------------------------------------------------------------------- face pay


class FaceError(PaymentsError):
    """Root of the biometric (face pay) errors."""


class FaceImageError(FaceError):
    """An image file is missing, corrupt, or in a format we cannot read."""

    code = ErrorCode.INVALID_ARGUMENT


class FaceQualityReason(str, enum.Enum):
    """Why a capture failed the quality gate; stable values the kiosk shows hints for."""

    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    FACE_CUT_OFF = "face_cut_off"
    POSE = "pose"
    BLUR = "blur"
    UNDEREXPOSED = "underexposed"
    OVEREXPOSED = "overexposed"


class FaceQualityError(FaceError):
    """The capture holds no usable face; ``reason`` is a :class:`FaceQualityReason`."""

    code = ErrorCode.INVALID_ARGUMENT


class ConsentError(FaceError):
    """Enrollment without explicit, valid consent, or consent that has lapsed."""

    code = ErrorCode.FAILED_PRECONDITION


class EnrollmentError(FaceError):
    """Enrollment input is invalid (phone number, payment token, shopper id)."""

    code = ErrorCode.INVALID_ARGUMENT


class TemplateNotFoundError(FaceError):
    """No face template is stored for the shopper."""

    code = ErrorCode.NOT_FOUND


class KeyManagementError(FaceError):
    """A key-encryption key is missing, unknown, malformed, or does not open a data key."""

    code = ErrorCode.FAILED_PRECONDITION


class LivenessInputError(FaceError):
    """A depth frame or landmark sequence handed to liveness is malformed."""

    code = ErrorCode.INVALID_ARGUMENT
