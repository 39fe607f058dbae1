"""Validate the cookiecutter answers before anything is generated.

Cookiecutter renders this file with the answers, runs it inside the new (still empty) project
directory and, when it exits non-zero, deletes that directory: a bad answer leaves nothing behind.
Each rejection is one line naming the field and the rule.
"""

from __future__ import annotations

import keyword
import re
import sys

# tojson renders each answer as a valid string literal, whatever characters it holds.
ANSWERS = {
    "author_name": {{ cookiecutter.author_name | tojson }},
    "author_email": {{ cookiecutter.author_email | tojson }},
    "description": {{ cookiecutter.description | tojson }},
    "project_name": {{ cookiecutter.project_name | tojson }},
    "project_slug": {{ cookiecutter.project_slug | tojson }},
    "package_name": {{ cookiecutter.package_name | tojson }},
    "python_version": {{ cookiecutter.python_version | tojson }},
    "example_data": {{ cookiecutter.example_data | tojson }},
    "own_file_path": {{ cookiecutter.own_file_path | tojson }},
    "own_file_target": {{ cookiecutter.own_file_target | tojson }},
    "mlflow_tracking": {{ cookiecutter.mlflow_tracking | tojson }},
    "mlflow_server_url": {{ cookiecutter.mlflow_server_url | tojson }},
}

SUPPORTED_PYTHON = ("3.11", "3.12", "3.13")
FREE_TEXT = ("project_name", "author_name", "author_email", "description")
# Top-level modules the generated project imports (or that pytest/tooling claim): a package
# with one of these names would shadow it and break every stage.
SHADOWED = {
    "mlflow", "dvc", "hydra", "omegaconf", "sklearn", "scikit_learn", "pandas", "numpy", "scipy",
    "matplotlib", "pandera", "cleanlab", "skops", "pyarrow", "psutil", "test", "tests", "pytest",
    "conf", "data", "models", "reports", "src", "setuptools", "pip", "site", "typing", "json",
    "logging", "random", "statistics", "math", "string", "types", "abc", "io", "os", "sys",
}
# Folders that are DVC stage outputs in the generated project: a user's file there is deleted.
STAGE_OUTPUTS = ("data/raw/", "data/interim/", "data/processed/", "data/predictions/",
                 "models/", "reports/")
SLUG_RULE = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
URL_RULE = re.compile(r"^https?://[^\s/]+(:\d+)?(/.*)?$")


def problems(answers: dict[str, str]) -> list[str]:
    """Return one message per rule the answers break (empty when all is well).

    Args:
        answers: the rendered cookiecutter answers, by field name.
    """
    found: list[str] = []
    if not answers["project_name"].strip():
        found.append("project_name: must not be empty.")
    for field in FREE_TEXT:
        if any(char in answers[field] for char in '"\\'):
            found.append(f"{field}: must not contain double quotes or backslashes "
                         "(it is written into TOML and YAML files).")
    slug = answers["project_slug"]
    if not SLUG_RULE.match(slug):
        found.append(
            f"project_slug: '{slug}' must start with a letter and contain only lowercase "
            "letters, digits and single dashes or underscores (e.g. 'readmission-risk')."
        )
    package = answers["package_name"]
    if not package.isidentifier() or package != package.lower():
        found.append(
            f"package_name: '{package}' is not a valid lowercase Python identifier "
            "(letters, digits, underscores; not starting with a digit)."
        )
    elif keyword.iskeyword(package) or keyword.issoftkeyword(package):
        found.append(f"package_name: '{package}' is a Python keyword; choose another name.")
    elif package in SHADOWED or package.startswith("_"):
        found.append(
            f"package_name: '{package}' would shadow a module the project depends on "
            "(or is private); choose a name specific to your project."
        )
    if answers["python_version"] not in SUPPORTED_PYTHON:
        found.append(
            f"python_version: '{answers['python_version']}' is not supported; "
            f"choose one of {', '.join(SUPPORTED_PYTHON)}."
        )
    if answers["example_data"] == "own_file":
        path = answers["own_file_path"].strip()
        if not path or not path.lower().endswith((".csv", ".parquet", ".pq")):
            found.append(
                f"own_file_path: '{path}' must name a .csv or .parquet file "
                "(relative to the project, e.g. data/external/my_data.csv)."
            )
        elif path.replace("\\", "/").lstrip("./").startswith(STAGE_OUTPUTS):
            found.append(
                f"own_file_path: '{path}' lies in a folder the pipeline rewrites (DVC deletes a "
                "stage's outputs before running it); put it under data/external/."
            )
        if not answers["own_file_target"].strip():
            found.append("own_file_target: must name the target column of your file.")
    if answers["mlflow_tracking"] == "server" and not URL_RULE.match(
        answers["mlflow_server_url"].strip()
    ):
        found.append(
            f"mlflow_server_url: '{answers['mlflow_server_url']}' must be an http(s) URL "
            "such as http://127.0.0.1:5000."
        )
    return found


def main() -> int:
    """Print every problem on stderr, one line each, and exit non-zero if there is any."""
    found = problems(ANSWERS)
    for message in found:
        print(f"ERROR: {message}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
