"""The exception tree of the payments package, rooted in :class:`proto.errors.OmnifitError`."""
from __future__ import annotations

from proto.errors import OmnifitError


class PaymentsError(OmnifitError):
    """Root of every error raised by ``payments``."""
