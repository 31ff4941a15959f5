"""Face matching: 1:few within a phone-digit bucket, 1:N over every template, with a step-up signal.

Decrypted embeddings live only in :class:`CandidateCache`, in memory: a float32
matrix (one row per template) for vectorised 1:N search, and an index from phone
bucket to rows for 1:few. Deleting a shopper evicts their row at once; the cache is
never written anywhere.

Distances are Euclidean between dlib's 128-d embeddings. A probe matches when the
nearest candidate is within ``threshold``; when that distance falls within
``step_up_margin`` below the threshold the result asks for a step-up (PIN).
"""
from __future__ import annotations

import dataclasses
import enum
import logging
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from payments.face.store import EMBEDDING_DIM, StoredTemplate

_LOGGER = logging.getLogger(__name__)

# Chosen from the distances on ../shared/data/faces (benchmarks/face_pay.py prints them):
# genuine pairs of independent photos lie at 0.32-0.51; impostor pairs at 0.69 and up,
# mean 0.857, sd 0.078. The 1:few bucket multiplies the pair FMR by the candidates in it
# (about 10 at 100k enrolled), so the pair FMR must stay near 1e-5 for 1e-4 per attempt:
# a normal fit to the impostor distances puts that at 0.857 - 4.26 * 0.078 = 0.525.
# We take 0.52, which still keeps every genuine pair there. Matches in the last 0.07
# below the threshold ask for a PIN.
DEFAULT_THRESHOLD = 0.52
DEFAULT_STEP_UP_MARGIN = 0.07


class MatchMode(str, enum.Enum):
    ONE_TO_FEW = "one_to_few"
    ONE_TO_N = "one_to_n"


@dataclasses.dataclass(frozen=True)
class MatchPolicy:
    """Decision thresholds on embedding distance (unitless, dlib's 128-d space)."""

    threshold: float = DEFAULT_THRESHOLD
    step_up_margin: float = DEFAULT_STEP_UP_MARGIN

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 2.0:
            raise ValueError(f"threshold must be in (0, 2); got {self.threshold}")
        if not 0.0 <= self.step_up_margin < self.threshold:
            raise ValueError(f"step_up_margin must be in [0, threshold); got {self.step_up_margin}")


@dataclasses.dataclass(frozen=True)
class MatchResult:
    """The outcome of one match attempt. ``shopper_id`` is None when nothing matched."""

    matched: bool
    mode: MatchMode
    candidates: int
    distance: float | None
    threshold: float
    needs_step_up: bool
    shopper_id: str | None = None
    template_id: str | None = None
    payment_token: str | None = None

    def audit_details(self) -> dict[str, object]:
        """What the audit log keeps about an attempt: the result, never the face."""
        return {
            "matched": self.matched,
            "mode": self.mode.value,
            "candidates": self.candidates,
            "distance": None if self.distance is None else round(self.distance, 4),
            "threshold": self.threshold,
            "needs_step_up": self.needs_step_up,
            "template_id": self.template_id,
        }


def squared_distances(matrix: NDArray[Any], probe: NDArray[Any], row_sqnorms: NDArray[Any] | None = None) -> NDArray[Any]:
    """Squared Euclidean distances from ``probe`` (128,) to each row of ``matrix`` (n, 128) -> (n,).

    Uses ``|m|² - 2 m·p + |p|²`` (one matrix-vector product); pass the rows' squared
    norms ``row_sqnorms`` (n,) when they are cached.
    """
    probe = probe.astype(matrix.dtype)
    if row_sqnorms is None:
        row_sqnorms = np.einsum("ij,ij->i", matrix, matrix)
    squared: NDArray[Any] = row_sqnorms - 2.0 * (matrix @ probe) + float(probe @ probe)
    return squared


def embedding_distances(matrix: NDArray[Any], probe: NDArray[Any], row_sqnorms: NDArray[Any] | None = None) -> NDArray[Any]:
    """Euclidean distances from ``probe`` (128,) to each row of ``matrix`` (n, 128) -> (n,)."""
    distances: NDArray[Any] = np.sqrt(np.maximum(squared_distances(matrix, probe, row_sqnorms), 0.0))
    return distances


class CandidateCache:
    """Decrypted templates in memory: a (capacity, 128) float32 matrix with free-row reuse.

    Thread-safe. ``evict`` removes a shopper immediately; ``clear`` drops everything.
    """

    def __init__(self, templates: Iterable[StoredTemplate] = ()) -> None:
        self._lock = threading.Lock()
        self.clear()
        self.add_all(templates)

    def clear(self) -> None:
        with self._lock:
            self._matrix = np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
            self._live = np.zeros(0, dtype=bool)
            self._sqnorms = np.zeros(0, dtype=np.float32)
            self._rows: dict[str, int] = {}
            self._meta: dict[int, StoredTemplate] = {}
            self._buckets: dict[str, set[int]] = {}
            self._free: list[int] = []
            self._high = 0  # one past the highest row ever handed out

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, shopper_id: object) -> bool:
        return shopper_id in self._rows

    def add_all(self, templates: Iterable[StoredTemplate]) -> None:
        with self._lock:
            for template in templates:
                self._add(template)

    def add(self, template: StoredTemplate) -> None:
        with self._lock:
            self._add(template)

    def _add(self, template: StoredTemplate) -> None:
        if template.shopper_id in self._rows:
            self._remove(template.shopper_id)
        if not self._free:
            self._grow()
        row = self._free.pop()
        self._high = max(self._high, row + 1)
        self._matrix[row] = template.embedding
        self._sqnorms[row] = self._matrix[row] @ self._matrix[row]
        self._live[row] = True
        self._rows[template.shopper_id] = row
        self._meta[row] = dataclasses.replace(template, embedding=self._matrix[row])
        self._buckets.setdefault(template.phone_bucket, set()).add(row)

    def _grow(self) -> None:
        old = len(self._matrix)
        new = max(64, old * 2)
        self._matrix = np.concatenate([self._matrix, np.zeros((new - old, EMBEDDING_DIM), np.float32)])
        self._live = np.concatenate([self._live, np.zeros(new - old, bool)])
        self._sqnorms = np.concatenate([self._sqnorms, np.full(new - old, np.inf, np.float32)])
        self._free.extend(range(new - 1, old - 1, -1))

    def evict(self, shopper_id: str) -> bool:
        """Forget a shopper's embedding (its row is zeroed). Returns whether it was cached."""
        with self._lock:
            return self._remove(shopper_id)

    def _remove(self, shopper_id: str) -> bool:
        row = self._rows.pop(shopper_id, None)
        if row is None:
            return False
        template = self._meta.pop(row)
        self._buckets[template.phone_bucket].discard(row)
        if not self._buckets[template.phone_bucket]:
            del self._buckets[template.phone_bucket]
        self._matrix[row] = 0.0
        self._sqnorms[row] = np.inf
        self._live[row] = False
        self._free.append(row)
        return True

    def nearest(self, probe: NDArray[Any], bucket: str | None) -> tuple[StoredTemplate | None, float | None, int]:
        """The nearest template (in ``bucket``, or among all when None), its distance, and the candidate count."""
        probe = np.asarray(probe, dtype=np.float32).reshape(EMBEDDING_DIM)
        with self._lock:
            if bucket is None:
                # Rows are handed out lowest first, so the used ones sit below _high; free
                # rows among them carry an infinite norm and never come out nearest.
                rows, count = None, len(self._rows)
                squared = squared_distances(self._matrix[:self._high], probe, self._sqnorms[:self._high])
            else:
                rows = np.fromiter(self._buckets.get(bucket, ()), dtype=np.int64)
                count = len(rows)
                squared = squared_distances(self._matrix[rows], probe, self._sqnorms[rows])
            if count == 0:
                return None, None, 0
            best = int(np.argmin(squared))
            row = best if rows is None else int(rows[best])
            return self._meta[row], float(np.sqrt(max(float(squared[best]), 0.0))), count


def decide(
    nearest: StoredTemplate | None, distance: float | None, candidates: int, mode: MatchMode, policy: MatchPolicy
) -> MatchResult:
    """Turn the nearest candidate into a decision with the step-up signal."""
    if nearest is None or distance is None or not distance <= policy.threshold:  # NaN never matches
        return MatchResult(False, mode, candidates, distance, policy.threshold, False)
    needs_step_up = distance > policy.threshold - policy.step_up_margin
    return MatchResult(
        True, mode, candidates, distance, policy.threshold, needs_step_up,
        nearest.shopper_id, nearest.template_id, nearest.payment_token,
    )
