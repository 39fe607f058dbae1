"""Stage ``labels`` (step 3): audit label quality, for people to review.

* conflicting duplicates: identical features, different labels;
* suspected label errors: confident learning (``label_quality``, numpy) on out-of-fold
  probabilities of a regularised logistic regression on the project's preprocessing;
* agreement between two label columns (Cohen's kappa) when the data has a second label.

Nothing is relabelled here. A reviewer copies confirmed ids into ``data/corrections.csv``
(``id,action,label,reason``; action ``relabel`` or ``exclude``), which ``prepare`` applies:
relabelling is versioned and reproducible. On the synthetic data the stage also scores the
detection against the generator's recorded flipped labels.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..core.config import project_root
from ..core.errors import ConfigError, run_stage
from ..core.io import write_json, write_table, write_text
from ..core.paths import LABEL_SUSPECTS, RAW_TRUTH, metrics_path
from ..core.settings import ModelSettings, load_settings
from ..core.tracking import check_store
from ..data.dataset import feature_columns, load_schema, model_inputs

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
OUT_DIR = "reports/labels"


def audit_sample(frame: pd.DataFrame, target: str, max_rows: int, seed: int) -> pd.DataFrame:
    """A stratified sample of at most ``max_rows`` rows (the audit's cost grows with n)."""
    if len(frame) <= max_rows:
        return frame
    share = max_rows / len(frame)
    return frame.groupby(target, group_keys=False).sample(frac=share, random_state=seed)


def check_folds(y: Any, folds: int, target: str) -> None:
    """Each of the audit's stratified folds needs a row of every class; say so when it cannot.

    Args:
        y: the audited labels (0/1).
        folds: ``prepare.label_quality.cv_folds``.
        target: the target column, named in the message.
    """
    import numpy as np

    counts = np.bincount(np.asarray(y, dtype=int), minlength=2)
    rarest = int(counts.min())
    if rarest >= max(folds, 2):
        return
    if rarest < 2:
        raise ConfigError(
            f"the label audit needs at least 2 rows of each class of '{target}'; the rarest has "
            f"{rarest}: collect more rows of that class."
        )
    raise ConfigError(
        f"prepare.label_quality.cv_folds is {folds}, but the rarest class of '{target}' has "
        f"{rarest} rows in the audited sample and each fold needs one: set cv_folds to at most "
        f"{rarest} in conf/prepare/default.yaml (or `-S prepare.label_quality.cv_folds="
        f"{rarest}`), or collect more rows of that class."
    )


def main() -> None:
    """Find conflicting duplicates and suspected label errors; write the review files."""
    import pandas as pd

    from ..modelling.models import build_pipeline
    from ..preparation.label_quality import (
        conflicting_duplicates,
        detection_scores,
        error_probability,
        label_agreement,
        label_quality_report,
        load_corrected,
        noise_model,
        out_of_fold_probabilities,
        review_first,
        suspected_label_errors,
        write_suspects_csv,
    )
    from ..reporting.label_report import render_label_report, review_sentence

    settings = load_settings()
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    schema = load_schema()
    cfg = settings.prepare.label_quality
    target, id_col = schema["target"], schema["id_column"]
    frame, applied = load_corrected(settings, schema)
    sample = audit_sample(frame, target, cfg.max_rows, cfg.seed)
    n_rows = len(frame)
    del frame  # the audit reads the sample only: the full table is not held through the folds
    y = sample[target].to_numpy(dtype="int8")
    check_folds(y, cfg.cv_folds, target)
    if len(sample) < n_rows:
        log.info("auditing labels of a stratified sample of %d of the %d rows "
                 "(prepare.label_quality.max_rows %d): rows outside it are not audited",
                 len(sample), n_rows, cfg.max_rows)
    log.info("auditing labels of %d rows (%d-fold out-of-fold probabilities)",
             len(sample), cfg.cv_folds)

    conflicts = conflicting_duplicates(sample, feature_columns(schema), target, id_col)

    def make_pipeline():
        return build_pipeline(
            schema["numeric"], schema["categorical"], settings.prepare.preprocessing,
            ModelSettings(name="logistic_regression", params={"max_iter": 1000}),
        )

    proba = out_of_fold_probabilities(
        model_inputs(sample, schema), y, make_pipeline,
        n_splits=cfg.cv_folds, seed=cfg.seed,
    )
    suspects = suspected_label_errors(y, proba, sample[id_col].to_numpy())
    # the ranked suspects' chance of being real errors, and how many to review first
    noise = noise_model(y, proba)
    position = pd.Series(range(len(sample)), index=sample[id_col].to_numpy())
    p_wrong = error_probability(y, proba, noise)[position.loc[suspects["id"]].to_numpy()]
    suspects.insert(list(suspects.columns).index("p_given_label") + 1, "p_label_wrong", p_wrong)
    review = review_first(p_wrong, rho=noise["rho"])
    detection = None
    truth_path = project_root() / RAW_TRUTH
    if truth_path.exists():
        truth = pd.read_parquet(truth_path)
        flipped = truth.loc[truth["label_flipped"].astype(bool), id_col]
        flipped = flipped[flipped.isin(sample[id_col])]
        detection = detection_scores(suspects["id"], flipped)
        review["observed_share_if_known"] = float(
            suspects["id"].head(review["k"]).isin(flipped).mean()) if review["k"] else None
        log.info("detection vs recorded flips: precision %.2f, recall %.2f",
                 detection["precision"], detection["recall"])
    report = label_quality_report(
        y, suspects, conflicts=conflicts, corrections=applied, detection=detection
    )
    # what was audited: the suspects, conflicts and detection scores cover these rows only
    report["audited"] = {"rows": len(sample), "of_rows": n_rows,
                         "sampled": len(sample) < n_rows, "max_rows": cfg.max_rows}
    report["review_first"] = review
    if schema.get("second_label"):
        second = sample[schema["second_label"]]
        known = second.notna()
        report["agreement"] = label_agreement(y[known.to_numpy()], second[known].astype(int))

    out = project_root() / OUT_DIR
    write_suspects_csv(suspects, project_root() / LABEL_SUSPECTS)
    write_table(out / "conflicting_duplicates.csv", conflicts)
    write_json(out / "summary.json", report)
    write_text(out / "summary.md", render_label_report(report, suspects))
    metrics: dict[str, float] = {"n_audited": len(sample), "n_suspected": len(suspects),
                                 "n_conflicting_rows": len(conflicts)}
    if detection:
        metrics.update(detection_precision=detection["precision"],
                       detection_recall=detection["recall"])
    write_json(project_root() / metrics_path("labels"), metrics)
    log.info("%d suspected label errors -> %s (review, then data/corrections.csv)",
             len(suspects), LABEL_SUSPECTS)
    log.info(review_sentence(review, len(suspects)))

    from ..core.tracking import stage_run

    with stage_run("labels", settings, groups=("prepare",)) as run:
        run.log_metrics({k: float(v) for k, v in metrics.items()})
        run.log_artifacts(out, "labels")


if __name__ == "__main__":
    run_stage(main, "labels")
