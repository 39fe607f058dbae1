"""Sort the scores once and keep the counts per distinct score ("level") that most metrics need.

Sorting is the only O(n log n) step of an evaluation; every curve, rate and AUC afterwards is an
O(number of levels) pass over these counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SortedScores:
    """Scores sorted ascending with per-level label counts.

    Attributes:
        order: indices that sort the original arrays (``p[order]`` is ascending).
        scores: the sorted scores.
        labels: the labels in sorted order (int8, 0/1).
        level_starts: index in the sorted arrays where each distinct score starts.
        pos: number of positives at each level (int32: a level never holds 2^31 rows here).
        neg: number of negatives at each level.
    """

    order: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    level_starts: np.ndarray
    pos: np.ndarray
    neg: np.ndarray

    @classmethod
    def build(cls, y: np.ndarray, p: np.ndarray) -> SortedScores:
        """Sort ``p`` (with ``y`` alongside) and count positives/negatives per distinct score.

        Args:
            y: 0/1 labels (validated).
            p: scores of the same length (validated).
        """
        # Unstable (introsort) is ~30% faster than stable; tied rows' order does not matter.
        order = np.argsort(p)
        scores = p[order]
        labels = y[order]
        return cls.from_sorted(scores, labels, order)

    @classmethod
    def from_sorted(
        cls, scores: np.ndarray, labels: np.ndarray, order: np.ndarray | None = None
    ) -> SortedScores:
        """Build from arrays already sorted ascending by score (e.g. one group's rows).

        Args:
            scores: ascending scores.
            labels: 0/1 labels aligned with ``scores``.
            order: original positions of the rows, if known (else ``arange``).
        """
        n = scores.shape[0]
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, scores, labels, empty, empty, empty)
        # A level starts at row 0 and wherever the score changes (a 1-byte mask, not int64
        # index temporaries: per-level arrays are as long as the data for continuous scores).
        change = np.empty(n, dtype=bool)
        change[0] = True
        np.not_equal(scores[1:], scores[:-1], out=change[1:])
        starts = np.flatnonzero(change)
        del change
        # int32 counts; the sizes buffer becomes the negatives in place.
        neg = np.empty(starts.shape[0], dtype=np.int32)
        np.subtract(starts[1:], starts[:-1], out=neg[:-1], casting="same_kind")
        neg[-1] = n - starts[-1]
        pos = np.add.reduceat(labels, starts, dtype=np.int32)
        neg -= pos
        if order is None:
            order = np.arange(n)
        return cls(order, scores, labels, starts, pos, neg)

    @property
    def level_values(self) -> np.ndarray:
        """The distinct scores, ascending (computed on demand to save memory)."""
        return self.scores[self.level_starts]

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.scores.shape[0])

    @property
    def n_pos(self) -> int:
        """Number of positives."""
        return int(self.pos.sum(dtype=np.int64))

    @property
    def n_neg(self) -> int:
        """Number of negatives."""
        return int(self.neg.sum(dtype=np.int64))

    def counts_at_or_above(self, thresholds: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Positives and negatives with score ``>= threshold`` (predicted positive), vectorised.

        Args:
            thresholds: one threshold or an array of thresholds.

        Returns:
            ``(tp, fp)`` integer arrays shaped like ``thresholds``.
        """
        # The first row at or above a threshold starts a level (levels never split a score).
        first_row = np.searchsorted(self.scores, thresholds, side="left")
        first = np.searchsorted(self.level_starts, first_row, side="left")
        if np.ndim(first) == 0:  # one threshold: two tail sums, no cumulative arrays
            return self.pos[first:].sum(dtype=np.int64), self.neg[first:].sum(dtype=np.int64)
        pos_ge = np.concatenate((np.cumsum(self.pos[::-1], dtype=np.int64)[::-1], [0]))
        neg_ge = np.concatenate((np.cumsum(self.neg[::-1], dtype=np.int64)[::-1], [0]))
        return pos_ge[first], neg_ge[first]
