"""Serving and batch scoring of a baked project's champion, end to end.

One project is baked, installed and run (`dvc repro`) once; its champion is then served with
`python -m <pkg>.serve` (MLflow's scoring server on a loopback port) and scored in batch with
`python -m <pkg>.score`. Predictions must equal the offline ones; bad requests and bad files must
be refused with a message that says what is wrong, without bringing the server down or leaving a
partial output behind.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib
import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import bake_and_install, project_env, run, stop_process_group

pytestmark = pytest.mark.slow

PROJECT_NAME = "Serve Check"
PACKAGE = "serve_check"
STARTUP_SECONDS = 120
STOP_SECONDS = 30
TOLERANCE = 1e-9


# --------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project baked, installed and run through the whole pipeline once."""
    path = bake_and_install(tmp_path_factory.mktemp("serving"), project_name=PROJECT_NAME)
    run(["dvc", "repro"], path)
    return path


@pytest.fixture(scope="module")
def decision(project: Path) -> dict:
    return json.loads((project / "reports/deploy/decision.json").read_text())


@pytest.fixture(scope="module")
def package(project: Path):
    """The baked package's ``dataset`` and ``paths`` modules, imported from its src/."""
    sys.path.insert(0, str(project / "src"))
    try:
        dataset = importlib.import_module(f"{PACKAGE}.dataset")
        paths = importlib.import_module(f"{PACKAGE}.paths")
    finally:
        sys.path.remove(str(project / "src"))
    return dataset, paths


@pytest.fixture(scope="module")
def schema(project: Path, package) -> dict:
    _, paths = package
    return json.loads((project / paths.SCHEMA).read_text())


@pytest.fixture(scope="module")
def offline(project: Path, package) -> pd.Series:
    """P(class 1) the train stage wrote for the test rows, by id."""
    _, paths = package
    predictions = pd.read_parquet(project / paths.MODEL_PREDICTIONS)
    return predictions[predictions["split"] == "test"].set_index("id")["p"]


@pytest.fixture(scope="module")
def sample(project: Path, schema: dict, package) -> pd.DataFrame:
    """Test rows with missing numeric values and complete ones (both must serve)."""
    _, paths = package
    test = pd.read_parquet(project / paths.split_path("test"))
    incomplete = test[schema["numeric"]].isna().any(axis=1)
    assert incomplete.any(), "the sample must exercise JSON nulls"
    return pd.concat([test[incomplete].head(20), test[~incomplete].head(20)])


@pytest.fixture(scope="module")
def server(project: Path, decision: dict):
    """``python -m <pkg>.serve`` on a free loopback port; yields the port; always stopped."""
    assert decision["passed"], f"no champion to serve: {decision['reasons']}"
    port = free_port()
    log_path = project / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", f"{PACKAGE}.serve", "--port", str(port)], cwd=project,
            env=project_env(project), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: MLflow spawns uvicorn under it
        )
    try:
        wait_until_up(process, port, log_path)
        yield port
    finally:
        stop(process)


# ---------------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None,
            timeout: float = 30) -> tuple[int, bytes]:
    """One HTTP request to the server; (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_up(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited ({process.returncode}):\n{log_path.read_text()}")
        for path in ("/ping", "/health"):
            with contextlib.suppress(OSError):
                if request(port, "GET", path, timeout=2)[0] == 200:
                    return
        time.sleep(1)
    pytest.fail(f"no answer on /ping within {STARTUP_SECONDS} s:\n{log_path.read_text()}")


def stop(process: subprocess.Popen) -> None:
    """Stop the server and everything it started."""
    stop_process_group(process, STOP_SECONDS)


def payload(inputs: pd.DataFrame) -> bytes:
    """MLflow's ``dataframe_split`` body; missing values as JSON null (NaN is not JSON)."""
    rows = inputs.astype(object).where(inputs.notna(), None).to_numpy().tolist()
    body = {"dataframe_split": {"columns": list(inputs.columns), "data": rows}}
    return json.dumps(body, allow_nan=False).encode()


def served_p(port: int, inputs: pd.DataFrame) -> np.ndarray:
    status, body = request(port, "POST", "/invocations", payload(inputs))
    assert status == 200, body[:2000]
    predictions = np.asarray(json.loads(body)["predictions"], dtype=float)
    assert predictions.shape == (len(inputs), 2)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, atol=1e-12)
    return predictions[:, 1]


def model_inputs(sample: pd.DataFrame, schema: dict, package) -> pd.DataFrame:
    dataset, _ = package
    return dataset.model_inputs(sample, schema)[dataset.feature_columns(schema)]


def most_missing_numeric(sample: pd.DataFrame, schema: dict) -> str:
    """The numeric feature with most missing values: the one a signature inferred from a
    sample would mark optional (and so let a request omit it)."""
    return max(schema["numeric"], key=lambda c: sample[c].isna().sum())


# ------------------------------------------------------------------------------------ tests


def test_pipeline_promotes_a_champion(decision):
    # given one `dvc repro` of a fresh project, then the deploy gate passed: a champion exists
    assert decision["passed"] is True, decision["reasons"]
    assert decision["champion_version"] == decision["version"]


def test_served_predictions_equal_the_offline_ones(server, sample, schema, package, offline):
    # given test rows (some with missing values sent as null)
    inputs = model_inputs(sample, schema, package)
    # when they are posted to the served champion
    p = served_p(server, inputs)
    # then P(class 1) is what the train stage computed for those rows
    expected = offline.loc[sample[schema["id_column"]].to_numpy()].to_numpy()
    np.testing.assert_allclose(p, expected, rtol=0, atol=TOLERANCE)


def test_a_single_row_is_served(server, sample, schema, package, offline):
    inputs = model_inputs(sample.head(1), schema, package)
    expected = offline.loc[sample[schema["id_column"]].iloc[0]]
    np.testing.assert_allclose(served_p(server, inputs), [expected], rtol=0, atol=TOLERANCE)


def malformed_bodies(inputs: pd.DataFrame, missing: str, numeric: str) -> dict[str, tuple]:
    """name -> (body, words the error message must contain)."""
    without = inputs.drop(columns=[missing])
    wrong = inputs.astype(object).where(inputs.notna(), None)
    wrong[numeric] = "not-a-number"
    return {
        # the schema listed in MLflow's message names every column: look for "missing" too
        "missing column": (payload(without), ["missing", missing]),
        "string in a numeric column": (payload(wrong), [numeric]),
        "empty body": (b"", ["JSON"]),
        "garbage JSON": (b'{"dataframe_split": [1, 2,', ["JSON"]),
    }


@pytest.mark.parametrize("case", ["missing column", "string in a numeric column", "empty body",
                                  "garbage JSON"])
def test_malformed_requests_get_a_4xx_and_the_server_keeps_serving(
        case, server, sample, schema, package, offline):
    inputs = model_inputs(sample, schema, package)
    body, words = malformed_bodies(inputs, most_missing_numeric(sample, schema),
                                   schema["numeric"][0])[case]
    # when the malformed request is posted
    status, answer = request(server, "POST", "/invocations", body)
    # then it is refused as the client's fault, with a message saying what is wrong
    assert 400 <= status < 500, (status, answer[:2000])
    message = json.loads(answer)["message"]
    for word in words:
        assert word.lower() in message.lower(), message[-2000:]
    # and the server still answers a valid request, correctly
    p = served_p(server, inputs.head(5))
    expected = offline.loc[sample[schema["id_column"]].head(5).to_numpy()].to_numpy()
    np.testing.assert_allclose(p, expected, rtol=0, atol=TOLERANCE)


def champion_probabilities(project: Path, name: str, inputs: pd.DataFrame) -> np.ndarray:
    """P(class 1) of ``models:/<name>@champion`` loaded here with mlflow.sklearn."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    mlflow.set_registry_uri(f"sqlite:///{project / 'mlflow.db'}")
    model = mlflow.sklearn.load_model(f"models:/{name}@champion")
    return model.predict_proba(inputs)[:, 1]


def test_batch_scoring_writes_one_row_per_input(project, decision, schema, package):
    # given the pipeline's production batch
    batch = pd.read_parquet(project / "data/raw/batch.parquet")
    started = datetime.now(UTC).replace(microsecond=0)
    # when it is scored
    run([sys.executable, "-m", f"{PACKAGE}.score", "data/raw/batch.parquet", "--output",
         "scored/out.csv"], project)
    # then there is one row per input, in order, with every documented column
    out = pd.read_csv(project / "scored/out.csv")
    id_column = schema["id_column"]
    assert list(out.columns) == [id_column, "probability", "decision", "threshold",
                                 "model_version", "scored_at"]
    assert out[id_column].tolist() == batch[id_column].tolist()
    # and the probabilities are the champion's
    expected = champion_probabilities(project, decision["model_name"],
                                      model_inputs(batch, schema, package))
    np.testing.assert_allclose(out["probability"], expected, rtol=0, atol=TOLERANCE)
    # and the decision applies the threshold stored on the champion's version
    assert out["threshold"].nunique() == 1
    threshold = out["threshold"].iloc[0]
    assert threshold == pytest.approx(decision["threshold"], abs=1e-6)
    assert (out["decision"] == (out["probability"] >= threshold).astype(int)).all()
    assert 0 < out["decision"].mean() < 1
    assert set(out["model_version"]) == {decision["champion_version"]}
    scored_at = pd.to_datetime(out["scored_at"], utc=True)
    assert scored_at.nunique() == 1
    assert started <= scored_at.iloc[0] <= datetime.now(UTC)


def bad_files(directory: Path, batch: pd.DataFrame, numeric: str, missing: str) -> dict:
    """name -> (path, the column its message must name, or None)."""
    directory.mkdir(parents=True, exist_ok=True)
    without = directory / "missing_column.csv"
    batch.drop(columns=[missing]).head(50).to_csv(without, index=False)
    text = batch.head(50).astype({numeric: object})
    text.loc[text.index[3], numeric] = "twelve"
    non_numeric = directory / "non_numeric.csv"
    text.to_csv(non_numeric, index=False)
    empty = directory / "empty.csv"
    empty.write_text("")
    return {"missing column": (without, missing), "non-numeric value": (non_numeric, numeric),
            "empty file": (empty, None)}


@pytest.mark.parametrize("case", ["missing column", "non-numeric value", "empty file"])
def test_bad_batch_files_fail_with_one_line_and_write_nothing(case, project, schema, tmp_path):
    # given a file that cannot be scored
    batch = pd.read_parquet(project / "data/raw/batch.parquet")
    numeric = schema["numeric"][0]
    path, column = bad_files(tmp_path / "in", batch, numeric, schema["numeric"][-1])[case]
    output = tmp_path / "out" / "scored.csv"
    # when it is scored
    done = run([sys.executable, "-m", f"{PACKAGE}.score", str(path), "--output", str(output)],
               project, check=False)
    # then the command fails with one line naming the file (and the column)
    assert done.returncode != 0, done.stdout
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, done.stderr
    assert str(path) in errors[0], errors[0]
    if column is not None:
        assert f"'{column}'" in errors[0], errors[0]
    assert "Traceback" not in done.stderr, done.stderr
    # and nothing is written, not even a temporary file
    assert not output.parent.exists() or not any(output.parent.iterdir())
