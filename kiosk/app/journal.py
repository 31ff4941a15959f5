"""The kiosk's payment journal: the intents this kiosk started, so staff can find them for refunds.

One JSON object per line, appended and flushed as each intent is created; a torn last
line (power cut mid-write) is skipped when read. It holds ids and amounts only: the
cloud stays the record of what each intent's state is.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class JournalEntry:
    intent_id: str
    cart_id: str
    amount_minor: int
    currency: str
    method: str  # "face" or "card"
    created_at_ms: int


class PaymentJournal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, intent_id: str, cart_id: str, amount_minor: int, currency: str, method: str) -> JournalEntry:
        entry = JournalEntry(intent_id, cart_id, amount_minor, currency, method, int(time.time() * 1000))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(asdict(entry), separators=(",", ":")) + "\n")
            file.flush()
            os.fsync(file.fileno())
        return entry

    def recent(self, limit: int = 20) -> list[JournalEntry]:
        """The newest ``limit`` entries, newest first (one entry per intent)."""
        if not self.path.exists():
            return []
        entries: dict[str, JournalEntry] = {}
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                entry = JournalEntry(**json.loads(line))
            except (ValueError, TypeError) as exc:
                _LOGGER.warning("payment journal %s line %d unreadable (%s); skipped", self.path, number, exc)
                continue
            entries[entry.intent_id] = entry
        # Later lines first among equal times: the file is in the order the intents were made.
        return sorted(reversed(entries.values()), key=lambda e: e.created_at_ms, reverse=True)[:limit]
