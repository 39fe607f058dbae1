"""Stage ``validate`` (step 2): check the raw data against its schema and profile it.

Each failure names the column, the rule and a few offending rows; the stage then fails and the
previous outputs stay as they were. On success it writes the typed table
(``data/interim/validated.parquet``, target mapped to 0/1), the schema every later stage reads
(``data/interim/schema.json``), and the profile with figures (``reports/data/``).
"""

from __future__ import annotations

import logging
from collections.abc import Container

from ..core.config import project_root
from ..core.errors import ConfigError, UserError, run_stage
from ..core.io import read_parquet, write_json, write_table
from ..core.paths import RAW_DATA, SCHEMA, VALIDATED, metrics_path
from ..core.settings import load_settings
from ..core.tracking import check_store

log = logging.getLogger(__name__)
OUT_DIR = "reports/data"
# Fewer labelled rows leave validation and test splits of a handful of rows, whose every
# interval is undefined or useless: the lifecycle refuses rather than report noise.
MIN_ROWS = 100
# The id the pipeline numbers rows with when the table has none: a name no column of the table
# holds (the user's columns and ours never share a name).
GENERATED_ID = "__row__"


def free_name(base: str, taken: Container[str]) -> str:
    """``base``, or ``base`` with the smallest numeric suffix that no column in ``taken`` has."""
    name, i = base, 1
    while name in taken:
        name, i = f"{base}{i}", i + 1
    return name


def main() -> None:
    """Validate, write the typed table and schema, profile, log to MLflow."""
    from ..data.profile import leak_suspects, plot_profile, profile
    from ..data.spec import get_spec
    from ..data.validation import label_texts, validate

    settings = load_settings()
    check_store(settings.mlflow)  # a read-only MLflow store stops the stage before any work
    cfg = settings.data
    root = project_root()
    raw = read_parquet(root / RAW_DATA)
    spec = get_spec(cfg, raw)
    audited = settings.project.sensitive_attributes
    missing = [c for c in audited if c not in raw]
    if missing:
        raise ConfigError(
            f"project.sensitive_attributes names {missing}, which are not columns of the data "
            f"({RAW_DATA}); fix conf/project/charter.yaml."
        )
    source = cfg.path if cfg.source == "own_file" else cfg.source  # named in messages
    unlabelled = raw[spec.target].isna() if spec.target in raw else None
    notes = list(spec.notes)
    if unlabelled is not None and unlabelled.any() and not unlabelled.all():
        raw = raw[~unlabelled]
        notes.append(f"{int(unlabelled.sum())} row(s) without a value of the target "
                     f"'{spec.target}' left out: nothing to learn from them")
    for note in notes:
        log.info("note: %s", note)
    if len(raw) < MIN_ROWS:
        raise UserError(
            f"{source}: {len(raw)} labelled rows, fewer than the {MIN_ROWS} that a train, "
            "validation and test split needs for its intervals to mean anything; collect more "
            "labelled rows (for a first look at so few, cross-validate outside the pipeline)"
        )
    validated = validate(raw, spec, source=source)
    for warning in leak_suspects(validated, spec):
        log.warning("possible target leak: %s", warning)
        notes.append(f"possible target leak: {warning}")
    schema = spec.to_dict()
    schema["notes"] = notes
    schema["target_labels"] = label_texts(raw[spec.target])  # the monitor refuses others
    if not schema.get("id_column"):
        # Rows need stable names for label corrections and error lists.
        id_column = free_name(GENERATED_ID, validated.columns)
        validated.insert(0, id_column, range(len(validated)))
        schema["id_column"] = id_column
        schema["id_generated"] = True  # positions: not stable if the file is re-exported
    schema["audited"] = list(audited)
    write_table(root / VALIDATED, validated)
    write_json(root / SCHEMA, schema)

    summary = {**profile(validated, spec), "notes": notes}
    out = root / OUT_DIR
    write_json(out / "profile.json", summary)
    figures = plot_profile(summary, spec, out)
    metrics = {"rows": len(validated), "features": len(spec.features),
               "prevalence": round(float(validated[spec.target].mean()), 6)}
    write_json(root / metrics_path("data"), metrics)
    log.info("%d rows valid, %d features, prevalence %.3f", metrics["rows"],
             metrics["features"], metrics["prevalence"])

    from ..core.tracking import stage_run

    with stage_run("validate", settings, groups=("data",),
                   extra_tags={"data.rows": str(len(validated))}) as run:
        run.log_metrics(metrics)
        run.log_dict(summary, "profile.json")
        for figure in figures:
            run.log_artifact(figure, "figures")


if __name__ == "__main__":
    run_stage(main, "validate")
