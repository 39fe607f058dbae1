"""The pre-generation hook rejects bad answers with one clear line and leaves nothing behind;
free text that passes it is written so that every generated file stays valid."""

from __future__ import annotations

import ast
import email.policy
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from helpers import TEMPLATE

BAD_ANSWERS = [  # (answers, the field the message must name, the rule it must state)
    ({"project_slug": "My Project"}, "project_slug", "lowercase"),
    ({"project_slug": "my-project\n"}, "project_slug", "lowercase"),
    ({"package_name": "class"}, "package_name", "Python keyword"),
    ({"package_name": "mlflow"}, "package_name", "shadow"),
    ({"package_name": "sklearn"}, "package_name", "shadow"),
    ({"package_name": "test"}, "package_name", "shadow"),
    ({"package_name": "1model"}, "package_name", "valid lowercase Python identifier"),
    ({"package_name": "my-model"}, "package_name", "valid lowercase Python identifier"),
    ({"project_name": " "}, "project_name", "must not be empty"),
    ({"project_name": "Risk\rModel"}, "project_name", "one line"),
    ({"description": "Predicts risk.\nAnd more."}, "description", "one line"),
    ({"description": "Predicts\trisk"}, "description", "one line"),
    ({"description": "Costs ${oops}"}, "description", "interpolation"),
    ({"author_name": "Ada\nLovelace"}, "author_name", "one line"),
    ({"author_name": "Ada\u2028Lovelace"}, "author_name", "one line"),
    ({"author_email": "ds-team"}, "author_email", "e-mail address"),
    ({"author_email": "ds team@example.com"}, "author_email", "e-mail address"),
    ({"author_email": "ds@localhost"}, "author_email", "e-mail address"),
    ({"author_email": "ds@example..com"}, "author_email", "e-mail address"),
    ({"author_email": "zoë@example.com"}, "author_email", "e-mail address"),
    ({"python_version": "3.9"}, "python_version", "not supported"),
    ({"example_data": "own_file", "own_file_path": "data.xlsx"}, "own_file_path", ".csv"),
    ({"example_data": "own_file", "own_file_path": "data/raw/x.csv"}, "own_file_path", "rewrites"),
    ({"example_data": "own_file", "own_file_path": "data/../models/x.csv"},
     "own_file_path", "rewrites"),
    ({"example_data": "own_file", "own_file_path": ".\\reports\\x.parquet"},
     "own_file_path", "rewrites"),
    ({"example_data": "own_file", "own_file_path": "/abs/x.csv"}, "own_file_path", "absolute"),
    ({"example_data": "own_file", "own_file_path": "C:\\data\\x.csv"},
     "own_file_path", "absolute"),
    ({"example_data": "own_file", "own_file_path": "../outside.csv"},
     "own_file_path", "outside the project"),
    ({"example_data": "own_file", "own_file_path": "data/external/../../../outside.csv"},
     "own_file_path", "outside the project"),
    ({"example_data": "own_file", "own_file_path": "data/x.csv\nmore.csv"},
     "own_file_path", "one line"),
    ({"example_data": "own_file", "own_file_path": "my_data.csv"},
     "own_file_path", "must lie under data/external/"),
    ({"example_data": "own_file", "own_file_path": "Data/Raw/x.csv"},
     "own_file_path", "rewrites"),
    ({"example_data": "own_file", "own_file_target": "label\nother"},
     "own_file_target", "one line"),
    ({"mlflow_tracking": "server", "mlflow_server_url": "localhost"}, "mlflow_server_url", "URL"),
    ({"mlflow_tracking": "server", "mlflow_server_url": "http://host:5000/a b"},
     "mlflow_server_url", "URL"),
    ({"mlflow_tracking": "server", "mlflow_server_url": 'http://host:5000/"x"'},
     "mlflow_server_url", "URL"),
    ({"mlflow_tracking": "server", "mlflow_server_url": "http://host:port"},
     "mlflow_server_url", "URL"),
]

# One hostile value per free-text answer: quotes of both kinds (also tripled), backslashes (one at
# the end), Jinja braces, YAML/TOML punctuation, a YAML list marker, non-ASCII letters and a
# character beyond U+FFFF (which JSON, and so Jinja's tojson, would write as a surrogate pair).
HOSTILE = {
    "project_name": "Zoë \"Q\" ''' \\ {{ x }} # : - x 数据 😀",
    "author_name": "O'Brien \"Bob\", Zoë Ünïcødé 数据 {{ x }} # : <x> \\",
    "author_email": "o.brien+ml_team@data-science.example.org",
    "description": "- x: \"quoted\" \"\"\" \\back\\slash {{ x }} {% if %} # not a comment; "
                   "Zoë Ünïcødé 数据 😀 'single' key: value, $HOME {x} \\\\",
    "own_file_path": "./data\\external/sub/../my \"odd\" file #1: 数据.CSV",
    "own_file_target": "- \"label\" \\ {{ y }} # : Zoë",
    "mlflow_server_url": "http://127.0.0.1:5000/a?x='1'&y=%22#frag",
}
HOSTILE_PATH = "data/external/my \"odd\" file #1: 数据.CSV"  # as normalised by the hook


def bake_cli(answers: dict[str, str], out: Path) -> subprocess.CompletedProcess[str]:
    """Run the cookiecutter command line, as a user would, with answers on the command line."""
    args = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(out), str(TEMPLATE)]
    args += [f"{key}={value}" for key, value in answers.items()]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def as_typed(value: str) -> str:
    """A command-line answer that reaches the template exactly as written.

    Cookiecutter renders answers given on the command line (or with --no-input) once, as Jinja;
    an answer typed at the prompt is not rendered. Wrapping it in raw makes the two the same.
    """
    return "{% raw %}" + value + "{% endraw %}"


def parse_every_file(project: Path) -> dict[str, object]:
    """Parse each TOML, YAML, JSON and Python file of a project; return the data by path."""
    parsed: dict[str, object] = {}
    for path in sorted(project.rglob("*")):
        if not path.is_file() or ".git" in path.parts:
            continue
        name = str(path.relative_to(project))
        text = path.read_text(encoding="utf-8") if path.suffix in {
            ".toml", ".yaml", ".yml", ".json", ".py"} else None
        if path.suffix == ".toml":
            parsed[name] = tomllib.loads(text)
        elif path.suffix in {".yaml", ".yml"}:
            parsed[name] = yaml.safe_load(text)
        elif path.suffix == ".json":
            parsed[name] = json.loads(text)
        elif path.suffix == ".py":
            compile(text, name, "exec")
            parsed[name] = ast.parse(text)
    return parsed


def constants(module: ast.Module) -> dict[str, object]:
    """The module-level ``NAME = <literal>`` assignments of a parsed module."""
    found = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


@pytest.mark.parametrize(("answers", "field", "rule"), BAD_ANSWERS)
def test_bad_answer_is_rejected_and_nothing_is_left(answers, field, rule, tmp_path):
    # given a bad answer
    out = tmp_path / "out"
    out.mkdir()
    # when the template is baked
    done = bake_cli(answers, out)
    # then cookiecutter fails, the hook's message names the field and rule, no directory is left
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert lines, done.stderr
    assert any(line.startswith(f"ERROR: {field}:") and rule in line for line in lines), lines
    assert list(out.iterdir()) == []


def test_answers_that_follow_the_rules_pass_the_hook(tmp_path):
    # given unusual but valid answers, when baked without git, then the project exists
    out = tmp_path / "out"
    out.mkdir()
    done = bake_cli(
        {"project_name": "Sepsis Early Warning 2", "package_name": "sepsis_ews2",
         "description": 'Predicts "risk" of C:\\sepsis', "init_git": "no"}, out,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "sepsis-early-warning-2" / "src" / "sepsis_ews2" / "stages" / "train.py").exists()


def test_hostile_free_text_yields_valid_files_that_keep_it_exactly(tmp_path):
    # given a hostile value in every free-text answer, with the own file and a tracking server
    # chosen so that their answers are written too, and the licence the post-generation hook
    # writes itself
    out = tmp_path / "out"
    out.mkdir()
    answers = {field: as_typed(value) for field, value in HOSTILE.items()}
    answers |= {"project_slug": "hostile-project", "package_name": "hostile_pkg",
                "example_data": "own_file", "mlflow_tracking": "server",
                "license": "Proprietary", "init_git": "no"}
    # when the template is baked through the command line
    done = bake_cli(answers, out)
    # then it succeeds and every TOML, YAML, JSON and Python file parses
    assert done.returncode == 0, done.stderr
    project = out / "hostile-project"
    parsed = parse_every_file(project)
    assert {"pyproject.toml", "conf/data/own_file.yaml", "conf/mlflow/server.yaml",
            "conf/project/charter.yaml", "src/hostile_pkg/commands/repair.py"} <= parsed.keys()
    # and each answer reads back exactly where it is data
    name, author, mail = HOSTILE["project_name"], HOSTILE["author_name"], HOSTILE["author_email"]
    description, target = HOSTILE["description"], HOSTILE["own_file_target"]
    meta = parsed["pyproject.toml"]["project"]
    assert meta["description"] == description
    assert meta["authors"] == [{"name": author, "email": mail}]
    own_file = parsed["conf/data/own_file.yaml"]
    assert (own_file["path"], own_file["target"]) == (HOSTILE_PATH, target)
    assert parsed["conf/mlflow/server.yaml"]["tracking_uri"] == HOSTILE["mlflow_server_url"]
    charter = parsed["conf/project/charter.yaml"]
    assert (charter["name"], charter["owner"], charter["problem"]) == (
        name, f"{author} <{mail}>", description)
    assert charter["target_description"].startswith(f"{target} (1 = ")
    boot = constants(parsed["src/hostile_pkg/commands/repair.py"])
    assert (boot["FALLBACK_NAME"], boot["FALLBACK_EMAIL"]) == (author, mail)
    docstring = ast.get_docstring(parsed["src/hostile_pkg/__init__.py"])
    assert docstring.splitlines()[0] == f"{name}: {description}"
    # and Hydra, composing conf/ as DVC does, reads them back unchanged too
    from dvc.utils.hydra import compose_and_dump

    compose_and_dump(project / "params.yaml", str(project / "conf"), None, "config",
                     str(project), [])
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    assert (params["project"]["name"], params["project"]["problem"]) == (name, description)
    assert (params["data"]["path"], params["data"]["target"]) == (HOSTILE_PATH, target)
    assert params["mlflow"]["tracking_uri"] == HOSTILE["mlflow_server_url"]
    # and the plain-text files hold them verbatim
    readme = (project / "README.md").read_text(encoding="utf-8").splitlines()
    assert readme[0] == f"# {name}" and readme[2] == description
    licence = (project / "LICENSE").read_text(encoding="utf-8")
    assert licence == f"Copyright (c) {author}. All rights reserved.\n"


def test_hostile_free_text_makes_metadata_that_packaging_tools_accept(tmp_path):
    # given a project baked with hostile description, author and e-mail
    out = tmp_path / "out"
    out.mkdir()
    fields = ("author_name", "author_email", "description")
    answers = {field: as_typed(HOSTILE[field]) for field in fields}
    done = bake_cli(answers | {"project_slug": "hostile-meta", "init_git": "no"}, out)
    assert done.returncode == 0, done.stderr
    # when pip prepares its metadata with the build backend the project declares
    prepared = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--dry-run", "--quiet",
         "--report", "-", "-e", str(out / "hostile-meta")],
        capture_output=True, text=True, timeout=300,
    )
    # then setuptools accepts it, and the summary and Author-email carry the answers unchanged
    assert prepared.returncode == 0, prepared.stderr
    metadata = json.loads(prepared.stdout)["install"][0]["metadata"]
    assert metadata["summary"] == HOSTILE["description"]
    # (Author-email is an RFC 5322 address list, as in a To: header)
    (address,) = email.policy.default.header_factory("To", metadata["author_email"]).addresses
    assert (address.display_name, address.addr_spec) == (
        HOSTILE["author_name"], HOSTILE["author_email"])
    # and packaging validates the core fields
    from packaging.metadata import Metadata

    core = ("metadata_version", "name", "version", "summary", "author_email", "requires_python")
    Metadata.from_raw({key: metadata[key] for key in core}, validate=True)


@pytest.mark.parametrize(("typed", "rendered"), [
    ("./data/external/x.csv", "data/external/x.csv"),
    ("data\\external\\x.csv.gz", "data/external/x.csv.gz"),
    ("data//external/./tmp/../x.parquet", "data/external/x.parquet"),
    ("data/external/models_v2/x.pq", "data/external/models_v2/x.pq"),
])
def test_own_file_path_is_written_normalised(typed, rendered, tmp_path):
    # given an own-file path written with ./, backslashes, // or a .. that stays inside
    out = tmp_path / "out"
    out.mkdir()
    # when baked
    done = bake_cli({"example_data": "own_file", "own_file_path": typed, "init_git": "no"}, out)
    # then the hook accepts it and the data config holds the normalised path it checked
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load((out / "readmission-risk" / "conf" / "data" / "own_file.yaml")
                            .read_text(encoding="utf-8"))
    assert config["path"] == rendered


def test_unrenderable_command_line_answer_stops_before_anything_is_written(tmp_path):
    # given an answer on the command line with a Jinja expression cookiecutter cannot render
    out = tmp_path / "out"
    out.mkdir()
    # when baked
    done = bake_cli({"description": "Uses {{ x }}", "init_git": "no"}, out)
    # then cookiecutter itself stops, naming the field, and leaves nothing behind
    assert done.returncode != 0
    assert "Unable to render variable 'description'" in done.stdout + done.stderr
    assert list(out.iterdir()) == []


def test_closing_message_says_what_was_done_and_the_readme_route_next(tmp_path):
    # given the default answers (git initialised)
    out = tmp_path / "out"
    out.mkdir()
    # when baked
    done = bake_cli({}, out)
    # then the hook says what it did, claims nothing is left to initialise, and gives the same
    # install command and first run as the project README's Quick start
    assert done.returncode == 0, done.stderr
    message = done.stdout
    assert "git initialised (branch main) with a first commit." in message
    assert "not initialised" not in message and "cp <your table>" not in message
    readme = (out / "readmission-risk" / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    for command in ("uv venv", "uv pip install -e '.[dev]'", "make setup", "dvc repro"):
        assert command in message, message
        assert command.replace("'", '"') in quick_start, command


def test_closing_message_names_what_only_the_user_can_do_first(tmp_path):
    # given the user's own file and a tracking server, without git
    out = tmp_path / "out"
    out.mkdir()
    answers = {"example_data": "own_file", "own_file_path": "./data\\external/x/../my file.csv",
               "mlflow_tracking": "server", "mlflow_server_url": "http://mlflow.internal:5000",
               "init_git": "no"}
    # when baked
    done = bake_cli(answers, out)
    # then the message says git was not initialised, where to copy the table (the path the data
    # config reads) and which server must be running
    assert done.returncode == 0, done.stderr
    assert "git was not initialised (init_git=no)" in done.stdout
    assert "cp <your table> 'data/external/my file.csv'" in done.stdout
    config = yaml.safe_load((out / "readmission-risk" / "conf" / "data" / "own_file.yaml")
                            .read_text(encoding="utf-8"))
    assert config["path"] == "data/external/my file.csv"
    assert "MLflow server at http://mlflow.internal:5000" in done.stdout


def test_questions_that_depend_on_an_earlier_answer_say_when_they_apply():
    # given the questions' texts (cookiecutter 2.x cannot skip a question conditionally)
    prompts = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    prompts = prompts["__prompts__"]
    # then each conditional one starts by saying when it applies and that Enter skips it
    for field, choice in (("own_file_path", "own_file"), ("own_file_target", "own_file"),
                          ("mlflow_server_url", "server")):
        assert prompts[field].startswith(f"Only if you chose {choice}, else press Enter"), field
    # and the path question speaks of the project to be created, not of one that exists
    assert "new project" in prompts["own_file_path"]
