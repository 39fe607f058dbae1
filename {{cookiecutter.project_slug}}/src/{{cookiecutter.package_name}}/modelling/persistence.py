"""Saving and loading the fitted pipeline (skops: no pickle), and its positive-class probability."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.io import atomic_path

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray


def positive_probability(model: Any, X: pd.DataFrame) -> NDArray[np.float64]:
    """P(y = 1) for each row of ``X``."""
    return model.predict_proba(X)[:, 1]


def save_skops(model: Any, path: Path) -> list[str]:
    """Save with skops atomically; return the types a loader must trust (our own functions).

    Args:
        model: the fitted estimator.
        path: the destination ``.skops`` file.
    """
    import skops.io as sio

    with atomic_path(path) as tmp:
        sio.dump(model, tmp)
    return sio.get_untrusted_types(file=path)


def load_skops(path: Path, trusted: list[str]) -> Any:
    """Load a model this project saved, trusting only the types recorded when it was saved.

    Args:
        path: the ``.skops`` file.
        trusted: the types ``save_skops`` returned (kept in ``model_info.json``).
    """
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    from ..core.errors import UserError

    if not path.exists():
        raise UserError(f"{path} does not exist: run `dvc repro train`.")
    try:  # load audits the file's types itself: list them only to say which were unexpected
        return sio.load(path, trusted=trusted)
    except UntrustedTypesFoundException:
        unexpected = sorted(set(sio.get_untrusted_types(file=path)) - set(trusted))
        raise UserError(f"{path} holds types its training run did not record: {unexpected}; "
                        "retrain with `dvc repro train`.") from None
