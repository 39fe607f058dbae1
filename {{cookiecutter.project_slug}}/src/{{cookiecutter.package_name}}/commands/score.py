"""Batch scoring with the champion model.

    {{ cookiecutter.package_name }} score INPUT.csv|.parquet --output OUT.csv|.parquet

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

from ..core.errors import UserError
from ..core.io import write_table
from ..core.paths import PACKAGE
from ..core.settings import load_settings

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    """Score a file with the champion and write the predictions."""
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} score",
                                     description="Score a file with the champion model.")
    parser.add_argument("input", type=Path, help="CSV or Parquet file with the feature columns")
    parser.add_argument("--output", type=Path, required=True, help="CSV or Parquet to write")
    args = parser.parse_args(argv)

    from ..core.registry import CHAMPION, alias_version, champion_uri, model_name
    from ..data.dataset import check_columns, load_schema
    from ..data.sources import read_input

    settings = load_settings()
    schema = load_schema()
    frame = read_input(args.input, settings.data)
    inputs = check_columns(frame, schema, args.input)
    # Imported only now: importing MLflow takes seconds, and bad input should fail at once.
    import mlflow
    from mlflow import MlflowClient

    uri = champion_uri(settings)
    version = alias_version(MlflowClient(), model_name(settings.deploy), CHAMPION)
    if version is None:  # champion_uri found one: the alias was removed since
        raise UserError(f"the '{CHAMPION}' alias was removed just now; run `dvc repro` until "
                        f"deploy passes, or `{PACKAGE} promote` a version.")
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
