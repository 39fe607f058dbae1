"""Batch scoring with the champion model.

    python -m {{ cookiecutter.package_name }}.score INPUT.csv|.parquet --output OUT.csv|.parquet

Writes the input's id column (if present), P(positive), the decision at the operating threshold
(chosen by the error analysis and stored on the model version), the model version, the threshold
and a timestamp. Bad input (a missing feature column, a non-numeric value in a numeric column) is
a clear error naming the file and column; nothing is written then.
"""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime
from pathlib import Path

from .config import load_params
from .errors import UserError, run_stage
from .io import write_table

log = logging.getLogger(__name__)


def read_input(path: Path, data_cfg: dict | None = None):
    """Read a file to score or monitor as the training file is read (``data.encoding``,
    ``separator``, ``decimal``, ``na_values`` apply), with errors that name it."""
    from .data.sources import read_options, read_table

    return read_table(path, config_key="the file given on the command line",
                      **read_options(data_cfg or {}))


def check_columns(frame, schema: dict, source: Path):
    """Model inputs in the served types, or a clear error naming the missing/bad column."""
    import pandas as pd

    from .dataset import feature_columns, model_inputs

    missing = [c for c in feature_columns(schema) if c not in frame]
    if missing:
        raise UserError(f"{source}: missing feature column(s) {missing}; the model needs "
                        f"{feature_columns(schema)}.")
    for column in schema["numeric"]:
        bad = pd.to_numeric(frame[column], errors="coerce").isna() & frame[column].notna()
        if bad.any():
            examples = frame.loc[bad, column].astype(str).head(3).tolist()
            raise UserError(f"{source}: column '{column}' must be numeric; found {examples}.")
    return model_inputs(frame, schema)


def main() -> None:
    """Score a file with the champion and write the predictions."""
    parser = argparse.ArgumentParser(description="Score a file with the champion model.")
    parser.add_argument("input", type=Path, help="CSV or Parquet file with the feature columns")
    parser.add_argument("--output", type=Path, required=True, help="CSV or Parquet to write")
    args = parser.parse_args()

    from .dataset import load_schema
    from .registry import CHAMPION, alias_version, champion_uri, model_name

    params = load_params()
    schema = load_schema()
    frame = read_input(args.input, params.get("data"))
    inputs = check_columns(frame, schema, args.input)
    # Imported only now: importing MLflow takes seconds, and bad input should fail at once.
    import mlflow
    from mlflow import MlflowClient

    uri = champion_uri(params)
    version = alias_version(MlflowClient(), model_name(params), CHAMPION)
    # The operating threshold travels with the version (set by deploy), not the latest evaluation.
    threshold = float(version.tags.get("threshold", "0.5"))
    log.info("scoring %d rows with %s (version %s)", len(frame), uri, version.version)
    model = mlflow.sklearn.load_model(uri)
    p = model.predict_proba(inputs)[:, 1]
    out = frame[[schema["id_column"]]].copy() if schema["id_column"] in frame else frame.iloc[:, :0]
    out["probability"] = p
    out["decision"] = (p >= threshold).astype(int)
    out["threshold"] = threshold
    out["model_version"] = int(version.version)
    out["scored_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_table(args.output, out)
    log.info("wrote %s", args.output)


if __name__ == "__main__":
    run_stage(main, "score")
