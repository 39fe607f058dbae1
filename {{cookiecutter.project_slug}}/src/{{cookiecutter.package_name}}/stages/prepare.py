"""Stage ``prepare`` (step 3): apply reviewed label corrections, split, check for leakage.

Splits (``conf/prepare/``) are stable (by a hash of the row id: stratified in expectation,
and no row ever changes split when batches are appended), stratified, grouped (no group in
two splits) or time-based (no future rows in training). The leakage check fails the stage
loudly. Imputation, encoding and scaling are *not* done here: they are fitted inside the model
pipeline.
"""

from __future__ import annotations

import logging

from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import write_json, write_table
from ..core.paths import SPLITS, metrics_path, split_path
from ..core.settings import load_settings
from ..data.dataset import feature_columns, load_schema

log = logging.getLogger(__name__)


def main() -> None:
    """Correct, split and check; write ``data/processed/{train,valid,test}.parquet``."""
    from ..preparation.label_quality import load_corrected
    from ..preparation.splits import check_leakage, split

    settings = load_settings()
    schema = load_schema()
    cfg = settings.prepare.split
    frame, applied = load_corrected(settings, schema)
    if applied.get("relabelled") or applied.get("excluded"):
        log.info("corrections applied: %s", applied)
    strategy = cfg.strategy
    # prepare.split names the columns; for its own strategy the data's schema
    # (data.group_column, data.time_column) is the fallback, so declaring them once is enough
    group_col = cfg.group_column or (
        schema.get("group_column") if strategy == "grouped" else None)
    time_col = cfg.time_column or (schema.get("time_column") if strategy == "time" else None)
    splits = split(
        frame, strategy=strategy, target=schema["target"],
        test_size=cfg.test_size, valid_size=cfg.valid_size,
        seed=cfg.seed, group_col=group_col, time_col=time_col,
        id_col=schema["id_column"],
    )
    leakage = check_leakage(
        splits, id_col=schema["id_column"], group_col=group_col, time_col=time_col,
        target=schema["target"], feature_cols=feature_columns(schema),
    )
    for warning in leakage.get("warnings", []):
        log.warning(warning)
    metrics = {"corrections": applied}
    for name in SPLITS:
        part = splits[name]
        write_table(project_root() / split_path(name), part)
        prevalence = round(float(part[schema["target"]].mean()), 6)
        metrics[name] = {"rows": len(part), "prevalence": prevalence}
        log.info("%-5s %7d rows, prevalence %.3f", name, len(part), metrics[name]["prevalence"])
    write_json(project_root() / metrics_path("prepare"), metrics)


if __name__ == "__main__":
    run_stage(main, "prepare")
