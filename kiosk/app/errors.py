"""Errors as the person at the kiosk reads them: what went wrong, in words, and what still works."""
from __future__ import annotations

import logging
from concurrent.futures.process import BrokenProcessPool

from cloud.client import ClientError, CloudUnavailable, VersionConflict
from kiosk.app.text import N_, _
from omnifit.errors import ErrorCode, OmnifitError

_LOGGER = logging.getLogger(__name__)

# What a refusal of the cloud means to the person at the kiosk; the cloud's own message (internal ids,
# field names) goes to the log, and to staff after these words.
_BY_CODE = {
    ErrorCode.UNAUTHENTICATED: N_("the sign-in was refused"),
    ErrorCode.PERMISSION_DENIED: N_("this needs a staff member's permission"),
    ErrorCode.RESOURCE_EXHAUSTED: N_("too many tries; please wait before trying again"),
    ErrorCode.NOT_FOUND: N_("the store's system does not know that item any more; please start again"),
    ErrorCode.INVALID_ARGUMENT: N_("the store's system could not accept that; please check it and try again"),
    ErrorCode.CONFLICT: N_("that changed a moment ago on another device; please try again"),
    ErrorCode.FAILED_PRECONDITION: N_("that cannot be done at this point; please ask a member of staff"),
    ErrorCode.UNAVAILABLE: N_("the store's system cannot be reached right now; please try again in a moment."),
    ErrorCode.INTERNAL: N_("the store's system had a problem; please try again or ask a member of staff"),
}


def is_offline(error: BaseException | None) -> bool:
    """Whether ``error`` means no replica of the cloud answered."""
    return isinstance(error, CloudUnavailable)


def describe_error(error: BaseException, *, staff: bool = False) -> str:
    """One sentence for the screen, in the kiosk's language and in plain words.

    Shoppers get the meaning only; ``staff`` (admin mode) also get the cloud's own message. Our
    local errors (a scan that could not run) carry clear messages of their own.
    """
    if isinstance(error, CloudUnavailable):
        return _("the store's system cannot be reached right now; please try again in a moment.")
    if isinstance(error, VersionConflict):
        return _("the cart was changed on another device a moment ago; it has been reloaded.")
    if isinstance(error, ClientError):
        _LOGGER.info("cloud refused: %s: %s", error.code, error)
        reason = _(_BY_CODE.get(error.code, _BY_CODE[ErrorCode.INTERNAL]))
        return f"{reason} ({error})" if staff else reason
    if isinstance(error, BrokenProcessPool):
        return _("the scanner stopped unexpectedly (it has been restarted); please try again.")
    if isinstance(error, (OmnifitError, PermissionError)):
        return _(str(error))
    _LOGGER.error("unexpected error shown to the kiosk user", exc_info=error)
    return _("an unexpected problem; please ask a member of staff.")


DECLINED = N_("The payment was declined \u2014 try another card or pay by face.")
# Why a card network said no, as the shopper reads it (payments.gateways.base.DeclineCode values).
DECLINES = {
    "insufficient_funds": N_("Your bank declined this card \u2014 try another card or pay by face."),
    "do_not_honour": N_("Your bank declined this card \u2014 try another card or pay by face."),
    "invalid_token": N_("The card could not be read \u2014 please present it again or use another card."),
    "pin_attempts_exceeded": N_("Too many wrong PINs \u2014 please use another card or pay by face."),
}


def describe_decline(failure_code: str) -> str:
    """A decline as the shopper reads it; the network's code goes to the log only."""
    _LOGGER.info("payment declined: %s", failure_code)
    return _(DECLINES.get(failure_code, DECLINED))
