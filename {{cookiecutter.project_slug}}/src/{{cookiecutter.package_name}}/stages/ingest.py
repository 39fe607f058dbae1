"""Stage ``ingest`` (step 2): bring the configured data source into ``data/raw/``.

Writes the training population (``dataset.parquet``) and a "production" batch
(``batch.parquet``) for the monitor step; for the synthetic source also the generator's ground
truth (``truth.parquet``, ``batch_truth.parquet``: true risk, flipped labels), which no model
ever sees and the tests and label audit use to check what the lifecycle finds.
Labelled batches accepted into ``data/incoming/`` (see ``incoming.py``) are appended to the
training data. ``data/raw/`` is immutable: later stages read it and write elsewhere.
"""

from __future__ import annotations

import logging

from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import write_table
from ..core.paths import RAW_BATCH, RAW_BATCH_TRUTH, RAW_DATA, RAW_TRUTH
from ..core.settings import load_settings

log = logging.getLogger(__name__)


def main() -> None:
    """Load (or generate) the data and its batch; write them to ``data/raw/``."""
    from ..data.sources import load_batch, load_dataset

    cfg = load_settings().data
    root = project_root()
    log.info("ingesting source %s", cfg.source)
    data, truth = load_dataset(cfg)
    if cfg.source == "own_file" and not cfg.batch_path:
        # No production file yet: monitor a sample of the training file, a smoke check that
        # must come out "ok". Point data.batch_path at real new rows when they arrive.
        log.info("no data.batch_path: the monitored batch is a 10% sample of data.path")
        batch, batch_truth = data.sample(frac=0.1, random_state=0), None
    else:
        batch, batch_truth = load_batch(cfg)
    from ..data.incoming import append_accepted
    from ..data.spec import get_spec

    data, truth = append_accepted(data, truth, root, get_spec(cfg).target)
    write_table(root / RAW_DATA, data)
    write_table(root / RAW_BATCH, batch)
    for path, frame in ((RAW_TRUTH, truth), (RAW_BATCH_TRUTH, batch_truth)):
        if frame is not None:
            write_table(root / path, frame)
        elif (root / path).exists():
            (root / path).unlink()  # a truth file from another source would mislead
    log.info("wrote %d rows and a batch of %d rows", len(data), len(batch))


if __name__ == "__main__":
    run_stage(main, "ingest")
