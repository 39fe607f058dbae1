#!/usr/bin/env bash
# Bake a demo project from this template and run its whole lifecycle.
# Usage: bash scripts/demo.sh [output-dir]   (default ./demo)
set -euo pipefail
TEMPLATE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(mkdir -p "${1:-demo}" && cd "${1:-demo}" && pwd)"

python3 -m venv "$OUT/.venv"
. "$OUT/.venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q "cookiecutter>=2.6,<3"

rm -rf "$OUT/readmission-risk"
cookiecutter --no-input -o "$OUT" "$TEMPLATE"
cd "$OUT/readmission-risk"
python -m pip install -q -e ".[dev]"
dvc repro

cat <<EOM

Demo finished in $OUT/readmission-risk
  Project card         reports/define/project_card.md
  Data profile         reports/data/
  Label audit          reports/labels/suspects.csv
  Error analysis       reports/evaluate/report.md  (figures in reports/evaluate/figures/)
  Deploy decision      reports/deploy/decision.md
  Monitoring verdict   reports/monitor/latest/report.md
  Metrics              cd $OUT/readmission-risk && . ../.venv/bin/activate && dvc metrics show

MLflow UI:
  cd $OUT/readmission-risk && . ../.venv/bin/activate
  mlflow ui --backend-store-uri sqlite:///mlflow.db      # then open http://127.0.0.1:5000
EOM
