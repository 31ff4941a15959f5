"""The payments error tree: one root (:class:`PaymentsError`) for face pay and the money side.

Every error carries a stable :class:`omnifit.errors.ErrorCode` and its details as
keyword-only attributes (``FaceQualityError(..., reason=FaceQualityReason.BLUR)``
exposes ``exc.reason``). Messages say what was expected and what was got.
"""
from __future__ import annotations

import enum

from omnifit.errors import ErrorCode, OmnifitError


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
    reason: FaceQualityReason  # set from the keyword detail every raise gives


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


# --------------------------------------------------------------------------- money side


class MoneyError(PaymentsError):
    """Root of the money-side errors: amounts, intents, gateways, ledger, refunds."""


class InvalidAmountError(MoneyError):
    """An amount that is not a decimal number, has too many decimals, or is not above zero."""

    code = ErrorCode.INVALID_ARGUMENT


class UnknownCurrencyError(MoneyError):
    """A currency code we do not know (not in :data:`payments.money.CURRENCY_EXPONENTS`)."""

    code = ErrorCode.INVALID_ARGUMENT


class CurrencyMismatchError(MoneyError):
    """Two amounts of different currencies were combined or compared."""

    code = ErrorCode.INVALID_ARGUMENT


class InvalidPaymentRequestError(MoneyError):
    """A malformed request field: a payment token that looks like a card number, an empty id, a bad line."""

    code = ErrorCode.INVALID_ARGUMENT


class PaymentTokenError(InvalidPaymentRequestError, EnrollmentError):
    """A payment-method token that is a card number or not a token; one rule for intents and enrollment."""

    code = ErrorCode.INVALID_ARGUMENT


class IntentNotFoundError(MoneyError):
    """No payment intent has the given id."""

    code = ErrorCode.NOT_FOUND


class IllegalTransitionError(MoneyError):
    """The intent's state forbids the action (capturing a cancelled intent, refunding an authorised one)."""

    code = ErrorCode.CONFLICT


class IdempotencyKeyReusedError(MoneyError):
    """An idempotency key came back with different parameters than its first use.

    INVALID_ARGUMENT, as for cart mutations: the caller must use a fresh key (retrying cannot help).
    """

    code = ErrorCode.INVALID_ARGUMENT


class IntentBusyError(MoneyError):
    """Another request is acting on the intent right now; retry shortly with the same key."""

    code = ErrorCode.CONFLICT


class StepUpRequiredError(MoneyError):
    """Confirmation needs the shopper's PIN (amount above the limit, a close face match, or the issuer asked)."""

    code = ErrorCode.FAILED_PRECONDITION


class PinRejectedError(MoneyError):
    """The PIN did not match; ``attempts_left`` says how many tries remain.

    PERMISSION_DENIED, not UNAUTHENTICATED: the caller's token is fine, the shopper's
    second factor is not (UNAUTHENTICATED would tell an app to sign in again).
    """

    code = ErrorCode.PERMISSION_DENIED


class PinLockedError(MoneyError):
    """Too many wrong PINs in a row: the shopper's PIN is locked until they set it again."""

    code = ErrorCode.PERMISSION_DENIED


class PaymentDeclinedError(MoneyError):
    """The gateway declined; ``decline_code`` is a :class:`payments.gateways.DeclineCode` value."""

    code = ErrorCode.FAILED_PRECONDITION


class GatewayTimeoutError(MoneyError):
    """The gateway did not answer in time; the outcome is unknown until reconciled (retry with the same key)."""

    code = ErrorCode.UNAVAILABLE


class UnknownGatewayError(MoneyError):
    """No gateway plugin is registered under the name."""

    code = ErrorCode.INVALID_ARGUMENT


class RefundExceedsCaptureError(MoneyError):
    """A refund would take the refunded total above the captured amount."""

    code = ErrorCode.INVALID_ARGUMENT


class StaffNotAuthorizedError(MoneyError):
    """The staff id is unknown, malformed, or may not issue refunds."""

    code = ErrorCode.PERMISSION_DENIED


class LedgerError(MoneyError):
    """A journal entry that does not balance, reuses a reversed entry, or names an unknown entry."""

    code = ErrorCode.INVALID_ARGUMENT


class ReceiptNotFoundError(MoneyError):
    """No receipt exists for the given id or intent."""

    code = ErrorCode.NOT_FOUND


class OrderStockError(MoneyError):
    """The database has no ``stock`` table to take store stock from (the cloud schema is missing)."""

    code = ErrorCode.FAILED_PRECONDITION
