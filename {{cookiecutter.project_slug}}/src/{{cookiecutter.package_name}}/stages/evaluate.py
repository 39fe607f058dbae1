"""Stage ``evaluate`` (step 5): error analysis of the model on the held-out test split.

The operating threshold is chosen on the validation split (``conf/evaluate/``), never on test.
Every statistic comes from ``metrics.evaluate_binary`` (checked against scikit-learn, fairlearn
and direct computations in the tests). Outputs, all in ``reports/evaluate/``:

* ``evaluation.json``: every number with its interval, the charter's criteria judged, the
  comparisons with the baselines (paired, same rows);
* ``plots/*.csv`` (DVC plots: ROC, PR, calibration, confusion) and ``figures/*.png``;
* ``report.md``: the readable report, starting with next actions; the comparisons with the
  baselines and the charter's criteria are worded by the deploy gate's rules (``judgement``,
  ``deploy.judge_on``, ``deploy.baselines``), so the report and the gate say the same;
* ``reports/metrics/evaluate.json``: the headline numbers, flat, each with its interval;
* ``reports/metrics/headline.json``: six of them, the file ``dvc metrics show`` reads.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..core.config import project_root
from ..core.errors import run_stage
from ..core.io import read_json, read_parquet, write_json, write_table, write_text
from ..core.paths import (
    BASELINE_PREDICTIONS,
    CHARTER,
    EVALUATION,
    HEADLINE_METRICS,
    LABEL_SUSPECTS,
    MODEL_INFO,
    MODEL_PREDICTIONS,
    metrics_path,
    split_path,
)
from ..core.settings import ThresholdSettings, load_settings
from ..core.tracking import check_store
from ..decisions.charter import bias_flag_blocks
from ..decisions.criteria import constant_finding, judge_criteria, mark_constant

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)
OUT_DIR = "reports/evaluate"


def choose_operating_threshold(cfg: ThresholdSettings, y_valid: np.ndarray,
                               p_valid: np.ndarray) -> dict[str, Any]:
    """The threshold from ``evaluate.threshold``, chosen on the validation split."""
    from ..metrics.threshold import choose_threshold

    value = choose_threshold(
        y_valid, p_valid, cfg.method, fixed=cfg.fixed,
        cost_fp=cfg.cost_false_positive, cost_fn=cfg.cost_false_negative,
    )
    return {"method": cfg.method, "value": float(value), "chosen_on": "valid"}


def load_inputs(schema: dict[str, Any]) -> tuple[
    pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, np.ndarray], np.ndarray | None
]:
    """Test and validation predictions, test rows (features, groups) and baselines, aligned."""
    import pandas as pd

    root = project_root()
    predictions = read_parquet(root / MODEL_PREDICTIONS)
    valid = predictions[predictions["split"] == "valid"]
    test = predictions[predictions["split"] == "test"].reset_index(drop=True)
    rows = read_parquet(root / split_path("test")).set_index(schema["id_column"])
    rows = rows.loc[test["id"].to_numpy()].reset_index()
    baselines = read_parquet(root / BASELINE_PREDICTIONS)
    baselines = baselines[baselines["split"] == "test"].set_index("id").loc[test["id"]]
    references = {c: baselines[c].to_numpy() for c in baselines.columns if c not in ("split", "y")}
    suspects = pd.read_csv(root / LABEL_SUSPECTS) if (root / LABEL_SUSPECTS).exists() else None
    suspected = None
    if suspects is not None:
        suspected = test["id"].astype(str).isin(set(suspects["id"].astype(str))).to_numpy()
    return valid, test, rows, references, suspected


def plot_tables(evaluation: dict[str, Any], y: np.ndarray, p: np.ndarray,
                threshold: float) -> dict[str, Any]:
    """The CSV tables behind ``dvc plots``: ROC, PR, calibration, confusion."""
    import pandas as pd

    curves = evaluation["curves"]
    roc = pd.DataFrame({"fpr": curves["roc"]["fpr"], "tpr": curves["roc"]["tpr"]})
    pr = pd.DataFrame({"recall": curves["pr"]["recall"], "precision": curves["pr"]["precision"]})
    bins = curves["reliability"]["bins"]
    calibration = pd.DataFrame([
        {"mean_predicted": b["mean_predicted"], "observed": b["observed"],
         "observed_lo": b["observed_lo"], "observed_hi": b["observed_hi"], "count": b["count"]}
        for b in bins if b["count"]
    ])
    confusion = pd.DataFrame({"actual": y.astype(int), "predicted": (p >= threshold).astype(int)})
    return {"roc": roc, "pr": pr, "calibration": calibration, "confusion": confusion}


def main() -> None:
    """Evaluate, judge the charter, write the report and plots, log to MLflow."""
    from ..data.dataset import load_schema
    from ..decisions.advice import next_actions
    from ..metrics.summary import evaluate_binary, headline, short_headline
    from ..reporting.evaluation_report import render_report
    from ..reporting.figures import plot_curves, plot_groups

    settings = load_settings()
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    cfg = settings.evaluate
    root = project_root()
    schema = load_schema()
    charter = read_json(root / CHARTER)
    model_info = read_json(root / MODEL_INFO)
    valid, test, rows, references, suspected = load_inputs(schema)
    threshold = choose_operating_threshold(cfg.threshold, valid["y"].to_numpy(),
                                           valid["p"].to_numpy())
    log.info("threshold %.3f (%s, chosen on validation)", threshold["value"], threshold["method"])

    y, p = test["y"].to_numpy(), test["p"].to_numpy()
    audited = [a for a in charter["sensitive_attributes"] if a in rows]
    features = rows[[c for c in schema["numeric"] + schema["categorical"]]]
    log.info("evaluating %d test rows (%d bootstrap resamples)", len(y), cfg.n_bootstrap)
    evaluation = evaluate_binary(
        y, p, threshold=threshold["value"],
        groups={a: rows[a].astype(str).to_numpy() for a in audited},
        features=features, ids=test["id"].to_numpy(), suspected=suspected,
        references=references, n_bootstrap=cfg.n_bootstrap, seed=cfg.seed,
        alpha=cfg.alpha, n_bins=cfg.calibration_bins,
        gap_tolerance=float(charter["subgroup_gap_tolerance"]),
        min_group_size=cfg.bias.min_group_size,
        slice_min_size=cfg.slices.min_size,
        slice_quantiles=cfg.slices.numeric_bins,
    )
    evaluation["threshold"] = threshold
    finding = constant_finding(valid["p"].to_numpy(), p)
    mark_constant(evaluation, finding)
    if finding["constant"]:
        log.warning(finding["message"])
    evaluation["criteria"] = judge_criteria(evaluation, charter["success_criteria"])
    evaluation["model"] = {k: model_info.get(k) for k in ("run_id", "model_id", "model_name")}
    # settings train adapted to the data size (models.adapt_to_size), for the report
    evaluation["model"]["n_train_rows"] = model_info.get("n_train_rows")
    evaluation["model"]["adapted"] = model_info.get("adapted", [])
    # what the advice needs to know: recalibration already on, rows to fit it on
    evaluation["model"]["recalibration"] = settings.train.recalibration
    evaluation["model"]["n_valid_rows"] = int(len(valid))
    evaluation["human_level_auc"] = charter.get("human_level_auc")
    # the charter's say on bias flags, next to the flags the gate judges (judgement.bias_verdicts)
    evaluation["bias_flags_block"] = {a: bias_flag_blocks(charter, a) for a in audited}
    deploy_cfg = settings.deploy
    evaluation["next_actions"] = next_actions(evaluation, charter, cfg, deploy_cfg)

    out = root / OUT_DIR
    write_json(root / EVALUATION, evaluation)
    for name, table in plot_tables(evaluation, y, p, threshold["value"]).items():
        write_table(out / "plots" / f"{name}.csv", table)
    figures = plot_curves(evaluation, out / "figures")
    figures += plot_groups(evaluation, out / "figures")
    write_text(out / "report.md", render_report(evaluation, charter, figures, out, deploy_cfg))
    metrics = headline(evaluation)
    metrics["criteria_met"] = float(sum(c["met"] for c in evaluation["criteria"]))
    metrics["criteria_total"] = float(len(evaluation["criteria"]))
    metrics["constant_predictions"] = float(finding["constant"])
    write_json(root / metrics_path("evaluate"), metrics)
    write_json(root / HEADLINE_METRICS, short_headline(metrics))
    for criterion in evaluation["criteria"]:
        log.info("criterion %-40s %s", criterion["rule"], "met" if criterion["met"] else "NOT met")

    from ..core.tracking import stage_run

    with stage_run("evaluate", settings, groups=("evaluate",),
                   extra_tags={"train_run_id": model_info["run_id"],
                               "model_id": model_info.get("model_id", "")}) as run:
        # the headline numbers on the pipeline's parent run too: pipelines compare there
        run.log_metrics(metrics, to_parent=True)
        run.log_artifacts(out, "evaluate")
        run.link_tag(model_info["run_id"], "evaluate_run_id")


if __name__ == "__main__":
    run_stage(main, "evaluate")
