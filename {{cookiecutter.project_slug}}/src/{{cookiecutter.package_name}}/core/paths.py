"""The files stages hand to each other, in one place (relative to the project root).

``dvc.yaml`` declares the same paths as deps and outs; ``tests/test_pipeline_contract.py``
checks that the two agree.
"""

PACKAGE = __name__.partition(".")[0]   # the package (and command-line) name

RAW_DIR = "data/raw"
RAW_DATA = f"{RAW_DIR}/dataset.parquet"       # the training population, as ingested
RAW_TRUTH = f"{RAW_DIR}/truth.parquet"        # generator ground truth (synthetic data only)
RAW_BATCH = f"{RAW_DIR}/batch.parquet"        # a "production" batch for the monitor step
RAW_BATCH_TRUTH = f"{RAW_DIR}/batch_truth.parquet"

INTERIM_DIR = "data/interim"
VALIDATED = f"{INTERIM_DIR}/validated.parquet"  # typed, validated, target mapped to 0/1
SCHEMA = f"{INTERIM_DIR}/schema.json"           # feature lists and key columns (the DataSpec)

PROCESSED_DIR = "data/processed"                # train / valid / test splits
SPLITS = ("train", "valid", "test")

PREDICTIONS_DIR = "data/predictions"
MODEL_PREDICTIONS = f"{PREDICTIONS_DIR}/model.parquet"        # id, split, y, p (valid + test)
BASELINE_PREDICTIONS = f"{PREDICTIONS_DIR}/baselines.parquet"  # id, split, y, one column each

CORRECTIONS = "data/corrections.csv"            # reviewed relabel/exclude decisions (git)
CHARTER = "reports/define/charter.json"
LABEL_SUSPECTS = "reports/labels/suspects.csv"
MODEL_DIR = "models/train"
MODEL_FILE = f"{MODEL_DIR}/model.skops"
MODEL_INFO = f"{MODEL_DIR}/model_info.json"      # MLflow run id, model id and URI
REFERENCE_PROFILE = f"{MODEL_DIR}/reference.json"  # monitoring reference (test split)
EVALUATION = "reports/evaluate/evaluation.json"  # the full error analysis
DECISION = "reports/deploy/decision.json"
IMPORTANCE = "reports/train/importance.csv"    # permutation importance with its interval
MONITOR_DIR = "reports/monitor/latest"          # the latest batch: verdict, report, figure
MONITORING = f"{MONITOR_DIR}/monitoring.json"   # the latest batch's verdict
MONITOR_HISTORY = "reports/monitor/history.csv"  # one row per monitored batch
# Key of the logged model's metadata holding ``{column: [min, max]}``: train writes it, the
# server checks request rows against it.
RANGES_KEY = "validated_ranges"


def split_path(name: str) -> str:
    """Path of one split (``train``, ``valid`` or ``test``)."""
    return f"{PROCESSED_DIR}/{name}.parquet"


def metrics_path(stage: str) -> str:
    """Path of a stage's metrics file (small, flat, git-tracked)."""
    return f"reports/metrics/{stage}.json"


# The one file DVC declares as metrics (`dvc metrics show`, `dvc exp show`): a few of
# evaluate's numbers, so that the terminal views fit; the stages' own files are plain outputs.
HEADLINE_METRICS = metrics_path("headline")
