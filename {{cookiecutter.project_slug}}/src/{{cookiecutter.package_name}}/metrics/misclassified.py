"""The most confident mistakes: what to look at first in an error analysis."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import check_length
from ._format import jsonable
from .sorting import SortedScores


def confident_errors(
    scores: SortedScores,
    threshold: float,
    k: int = 10,
    ids: Any = None,
    suspected: Any = None,
) -> dict[str, Any]:
    """The ``k`` highest-scored false positives and the ``k`` lowest-scored false negatives.

    Args:
        scores: all rows sorted by score.
        threshold: decision threshold (``p >= threshold`` is predicted positive).
        k: rows listed per error type.
        ids: optional row identifiers (one per prediction, original order); default positions.
        suspected: optional boolean mask of rows whose label is suspected wrong (e.g. from a
            label-quality step), carried into each listed row and counted per error type.

    Returns:
        ``{"threshold", "k", "n_false_positive", "n_false_negative", "false_positives",
        "false_negatives"}`` where each list item is ``{"index", "id", "p", "y",
        "suspected"}`` (``index`` is the row position, ``suspected`` is None without a mask);
        with a mask also ``n_suspected_false_positive`` and ``n_suspected_false_negative``
        (all errors, not only the listed ones).
    """
    n = scores.n
    id_values = None if ids is None else check_length(ids, n, "ids")
    mask = None
    if suspected is not None:
        mask = check_length(suspected, n, "suspected").astype(bool)
    first_positive = int(np.searchsorted(scores.scores, threshold, side="left"))
    # Sorted ascending: false positives sit at or above the threshold, most confident last.
    fp_positions = np.flatnonzero(scores.labels[first_positive:] == 0) + first_positive
    fn_positions = np.flatnonzero(scores.labels[:first_positive] == 1)

    def describe(positions: np.ndarray) -> list[dict[str, Any]]:
        rows = []
        for position in positions:
            index = int(scores.order[position])
            rows.append(
                {
                    "index": index,
                    "id": jsonable(id_values[index]) if id_values is not None else index,
                    "p": float(scores.scores[position]),
                    "y": int(scores.labels[position]),
                    "suspected": None if mask is None else bool(mask[index]),
                }
            )
        return rows

    result: dict[str, Any] = {
        "threshold": float(threshold),
        "k": int(k),
        "n_false_positive": int(fp_positions.shape[0]),
        "n_false_negative": int(fn_positions.shape[0]),
        "false_positives": describe(fp_positions[::-1][:k]),
        "false_negatives": describe(fn_positions[:k]),
    }
    if mask is not None:
        result["n_suspected_false_positive"] = int(mask[scores.order[fp_positions]].sum())
        result["n_suspected_false_negative"] = int(mask[scores.order[fn_positions]].sum())
    return result
