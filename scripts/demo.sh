#!/usr/bin/env bash
# Bake a demo project from this template and run its whole lifecycle.
# Usage: bash scripts/demo.sh [output-dir]   (default ./demo)
set -euo pipefail
TEMPLATE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(mkdir -p "${1:-demo}" && cd "${1:-demo}" && pwd)"
STARTED=$SECONDS
step() { printf '\n[%s, %ds] %s\n' "$1" "$((SECONDS - STARTED))" "$2"; }

step "1/4" "a venv in $OUT/.venv with cookiecutter and uv (pip, a few seconds)"
python3 -m venv "$OUT/.venv"
. "$OUT/.venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q "cookiecutter>=2.6,<3" uv

step "2/4" "baking $OUT/readmission-risk (git initialised with a first commit)"
rm -rf "$OUT/readmission-risk"
# the hook's closing lines tell a person what to run next; this script runs it
cookiecutter --no-input -o "$OUT" "$TEMPLATE" >"$OUT/bake.log"
cd "$OUT/readmission-risk"

step "3/4" "installing the project and its dev tools with uv (under a minute, less when cached)"
uv pip install -q --python "$OUT/.venv/bin/python" -e ".[dev]"

step "4/4" "dvc repro: the whole lifecycle, define -> monitor (a few minutes on 2 cores)"
dvc repro

cat <<EOM

Demo finished in $OUT/readmission-risk ($((SECONDS - STARTED)) s)
  The whole report     reports/index.html  (one page, offline: xdg-open or open it)
  On one screen        cd $OUT/readmission-risk && . ../.venv/bin/activate && readmission_risk summary
  Project card         reports/define/project_card.md
  Data profile         reports/data/
  Label audit          reports/labels/suspects.csv
  Error analysis       reports/evaluate/report.md  (figures in reports/evaluate/figures/)
  Deploy decision      reports/deploy/decision.md
  Monitoring verdict   reports/monitor/latest/report.md
  Metrics              cd $OUT/readmission-risk && . ../.venv/bin/activate && dvc metrics show

"Use \`dvc push\`" above is DVC's hint for a remote; none is needed here (README: Remote storage).

MLflow UI:
  cd $OUT/readmission-risk && . ../.venv/bin/activate
  mlflow ui --backend-store-uri sqlite:///mlflow.db      # then open http://127.0.0.1:5000
EOM
