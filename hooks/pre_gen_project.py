"""Validate the cookiecutter answers before anything is generated.

Cookiecutter renders this file with the answers, runs it inside the new (still empty) project
directory and, when it exits non-zero, deletes that directory: a bad answer leaves nothing behind.
Each rejection is one line naming the field and the rule.

Free text (names, description, e-mail, own-file path and target, server URL) may hold quotes,
backslashes, ``#``, ``:`` and any non-ASCII letter: the template writes it into TOML, YAML and
Python as a double-quoted string with only ``\\`` and ``"`` escaped, which all three read back
unchanged. What none of them can hold inside one such string is a line break or a control
character, so those are refused here; and as most of these answers land in Hydra's ``conf/``,
where ``${`` starts an interpolation, that is refused too.
"""

from __future__ import annotations

import keyword
import posixpath
import re
import sys
import unicodedata
from urllib.parse import urlsplit


def _text(literal: str) -> str:
    """The answer as typed: ``tojson`` writes a character beyond U+FFFF as a pair of UTF-16
    surrogate escapes, which Python reads as two code points; join them again."""
    return literal.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


# tojson renders each answer as a valid string literal, whatever characters it holds. Before
# rendering, each Jinja expression reads to linters as names they do not know:
# ruff: noqa: F821
ANSWERS = {field: _text(value) for field, value in {
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
}.items()}

SUPPORTED_PYTHON = ("3.11", "3.12", "3.13")
# Answers written inside one double-quoted TOML/YAML/Python string (and into Markdown and the
# licence as one line of text).
SINGLE_LINE = ("project_name", "author_name", "author_email", "description", "own_file_path",
               "own_file_target", "mlflow_server_url")
# Unicode categories no single-line string may hold: control characters (C0, DEL, C1 including
# NEL, tab), surrogates, and the line and paragraph separators (YAML folds them into spaces).
UNPRINTABLE = {"Cc", "Cs", "Zl", "Zp"}
CHARACTER_NAMES = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}
# Starts an OmegaConf interpolation in the Hydra configs under conf/.
INTERPOLATION = "${"
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
# File types the project's reader understands (matched case-insensitively, as the reader does).
TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
SLUG_RULE = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
# E-mail: the common name@domain.tld form. The part before @ is dot-separated words of ASCII
# letters, digits and _ % + -; the domain is at least two dot-separated labels of letters, digits
# and inner hyphens. Every such address passes setuptools' checks (its idn-email pattern and
# email.headerregistry.Address, which it uses to write Author-email).
EMAIL_RULE = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
)
# URL: http(s)://host[:port][/path...] made of the characters RFC 3986 allows (percent-encode
# anything else); spaces, double quotes, backslashes and <>{}|^` are not among them.
URL_RULE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# A Windows drive (C:/ or C:) or a home directory (~) at the start of a path.
ROOTED = re.compile(r"[A-Za-z]:|~")


def _noncharacter(char: str) -> bool:
    """U+FDD0..U+FDEF and the last two code points of every plane (YAML refuses U+FFFE/F)."""
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def single_line_problem(value: str) -> str | None:
    """Why ``value`` cannot be written as one line of text, or None when it can."""
    for char in value:
        if unicodedata.category(char) in UNPRINTABLE or _noncharacter(char):
            name = CHARACTER_NAMES.get(char) or unicodedata.name(char, "a control character")
            return (f"must be one line of printable text; it holds {name} (U+{ord(char):04X}); "
                    "line breaks, tabs and other control characters are refused.")
    return None


def normalised_path(path: str) -> str:
    """``path`` with backslashes turned into slashes and ``.``, ``..`` and ``//`` resolved.

    The template renders the same form into ``conf/data/own_file.yaml``.
    """
    return posixpath.normpath(path.strip().replace("\\", "/"))


def own_file_path_problem(path: str) -> str | None:
    """Why the own-file path is unusable, or None when it is fine."""
    example = "e.g. data/external/my_data.csv"
    norm = normalised_path(path)
    if not path.strip() or not norm.lower().endswith(TABLE_SUFFIXES):
        return (f"{path!r} must name a .csv, .csv.gz, .parquet or .pq file "
                f"(a path inside the new project's folder, {example}).")
    if norm.startswith("/") or ROOTED.match(norm):
        return (f"{path!r} is absolute; give a path inside the new project's folder "
                f"({example}).")
    if norm == ".." or norm.startswith("../"):
        return (f"{path!r} lies outside the project; give the path inside the new project's "
                f"folder ({example}) and copy the file there after baking.")
    if norm.lower().startswith(STAGE_OUTPUTS):
        return (f"{path!r} (that is {norm!r}) lies in a folder the pipeline rewrites (DVC "
                "deletes a stage's outputs before running it); put it under data/external/.")
    if not norm.startswith("data/external/"):
        # the ingest stage depends on data/external/: an edit elsewhere would go unseen
        return (f"{path!r} must lie under data/external/, the folder whose changes `dvc repro` "
                f"sees ({example}).")
    return None


def url_problem(url: str) -> str | None:
    """Why the tracking server URL is unusable, or None when it is fine."""
    rule = ("must be an http(s) URL such as http://127.0.0.1:5000 (no spaces, double quotes, "
            "backslashes or <>{}|^`: percent-encode them).")
    if not URL_RULE.fullmatch(url):
        return f"{url!r} {rule}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return f"{url!r} {rule}"
    if not parts.hostname:
        return f"{url!r} {rule}"
    return None


def problems(answers: dict[str, str]) -> list[str]:
    """Return one message per rule the answers break (empty when all is well).

    Args:
        answers: the rendered cookiecutter answers, by field name.
    """
    found: list[str] = []
    for field in SINGLE_LINE:
        problem = single_line_problem(answers[field])
        if problem:
            found.append(f"{field}: {problem}")
        elif INTERPOLATION in answers[field]:
            found.append(f"{field}: must not contain {INTERPOLATION!r} (it is written into "
                         "conf/, where Hydra reads it as an interpolation).")
    if not answers["project_name"].strip():
        found.append("project_name: must not be empty.")
    email = answers["author_email"]
    if not EMAIL_RULE.fullmatch(email):
        found.append(
            f"author_email: {email!r} is not an e-mail address of the form name@example.org "
            "(ASCII letters, digits, . _ % + - before the @; a domain with a dot after it)."
        )
    slug = answers["project_slug"]
    if not SLUG_RULE.fullmatch(slug):
        found.append(
            f"project_slug: {slug!r} must start with a letter and contain only lowercase "
            "letters, digits and single dashes or underscores (e.g. 'readmission-risk')."
        )
    package = answers["package_name"]
    if not package.isidentifier() or package != package.lower():
        found.append(
            f"package_name: {package!r} is not a valid lowercase Python identifier "
            "(letters, digits, underscores; not starting with a digit)."
        )
    elif keyword.iskeyword(package) or keyword.issoftkeyword(package):
        found.append(f"package_name: {package!r} is a Python keyword; choose another name.")
    elif package in SHADOWED or package.startswith("_"):
        found.append(
            f"package_name: {package!r} would shadow a module the project depends on "
            "(or is private); choose a name specific to your project."
        )
    if answers["python_version"] not in SUPPORTED_PYTHON:
        found.append(
            f"python_version: {answers['python_version']!r} is not supported; "
            f"choose one of {', '.join(SUPPORTED_PYTHON)}."
        )
    if answers["example_data"] == "own_file":
        problem = own_file_path_problem(answers["own_file_path"])
        if problem:
            found.append(f"own_file_path: {problem}")
        if not answers["own_file_target"].strip():
            found.append("own_file_target: must name the target column of your file.")
    if answers["mlflow_tracking"] == "server":
        problem = url_problem(answers["mlflow_server_url"])
        if problem:
            found.append(f"mlflow_server_url: {problem}")
    return found


def main() -> int:
    """Print every problem on stderr, one line each, and exit non-zero if there is any."""
    found = problems(ANSWERS)
    for message in found:
        print(f"ERROR: {message}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
