"""The signed-in shopper kept across restarts: the token in a file only the user can read.

The file holds the session token, the shopper's id and e-mail, the cart the app follows and
the chosen store and language. It is written to a temporary file created with mode 0600 and
renamed into place, so a crash never leaves half a token and no other user can read it.
"""
from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import asdict, dataclass, replace
from pathlib import Path

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class SavedSession:
    token: str = ""
    shopper_id: str = ""
    email: str = ""
    expires_at_ms: int = 0
    cart_id: str = ""
    store_id: str = ""
    lang: str = ""

    @property
    def signed_in(self) -> bool:
        return bool(self.token)

    def signed_out(self) -> SavedSession:
        """What stays after signing out: the store and language, not the account or its cart."""
        return SavedSession(store_id=self.store_id, lang=self.lang)

    def with_(self, **changes: object) -> SavedSession:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_session(path: Path, *, now_ms: int) -> SavedSession:
    """The saved session; an unreadable, foreign or expired file gives a signed-out one (and says why in the log)."""
    try:
        mode = path.stat().st_mode
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return SavedSession()
    except (OSError, ValueError) as exc:
        _LOGGER.warning("ignoring the saved session %s: %s", path, exc)
        return SavedSession()
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        _LOGGER.warning("ignoring the saved session %s: others may read it (mode %o)", path, stat.S_IMODE(mode))
        return SavedSession()
    fields = {name: type(value) for name, value in asdict(SavedSession()).items()}
    if not isinstance(raw, dict) or any(name in raw and type(raw[name]) is not kind for name, kind in fields.items()):
        _LOGGER.warning("ignoring the saved session %s: not the app's session file", path)
        return SavedSession()
    session = SavedSession(**{name: raw[name] for name in fields if name in raw})
    if session.expires_at_ms and session.expires_at_ms <= now_ms:
        return session.signed_out()
    return session


def save_session(path: Path, session: SavedSession) -> None:
    """Write ``session`` readable by the user only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older file left with other bits keeps them through O_CREAT
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(session), handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
