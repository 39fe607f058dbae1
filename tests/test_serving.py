"""Serving and batch scoring of a baked project's champion, end to end.

One project is baked, installed and run (`dvc repro`) once; its champion is then served with
`<pkg> serve` (MLflow's scoring app under uvicorn, in-process, on a loopback port) and
scored in batch with `<pkg> score`. Predictions must equal the offline ones; bad
requests and bad files must be refused with a message that says what is wrong, without bringing
the server down or leaving a partial output behind. Rows the champion was not validated for
(an unseen category, a value out of the validated range, every feature missing) are refused
naming the row and column (`serve.on_bad_row: reject`, the default) or scored with a per-row
warning (`--on-bad-row warn`); a body over `serve.max_request_mb` gets a small 413 at once.
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
from helpers import BIN, bake_and_install, project_env, run, stop_process_group

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
        dataset = importlib.import_module(f"{PACKAGE}.data.dataset")
        paths = importlib.import_module(f"{PACKAGE}.core.paths")
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
    """``<pkg> serve`` (default settings) on a free loopback port; yields the port."""
    yield from serve(project, decision, "serve.log", env=project_env(project))


# Without the venv's bin directory: nothing may need an executable from it (`uvicorn`...).
BARE_PATH = "/usr/bin:/bin"


@pytest.fixture(scope="module")
def warn_server(project: Path, decision: dict):
    """The other mode, ``--on-bad-row warn``, started as a user without an activated venv
    starts it: the venv's own ``bin/<pkg>``, with PATH stripped to ``BARE_PATH``."""
    script = BIN / PACKAGE
    assert script.exists(), f"the install made no {script}"
    yield from serve(project, decision, "serve-warn.log", "--on-bad-row", "warn",
                     env=project_env(project, PATH=BARE_PATH), command=[str(script)])


def serve(project: Path, decision: dict, log_name: str, *args: str, env: dict[str, str],
          command: list[str] | None = None):
    """Start the server (``command``, by default ``python -m <pkg>``), yield its port once
    /ping answers, always stop it."""
    assert decision["passed"], f"no champion to serve: {decision['reasons']}"
    port = free_port()
    log_path = project / log_name
    head = command or [sys.executable, "-m", PACKAGE]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [*head, "serve", "--port", str(port), *args], cwd=project,
            env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
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


def still_serves(port: int, sample: pd.DataFrame, schema: dict, package, offline) -> None:
    """The server answers a valid request, correctly."""
    p = served_p(port, model_inputs(sample.head(5), schema, package))
    expected = offline.loc[sample[schema["id_column"]].head(5).to_numpy()].to_numpy()
    np.testing.assert_allclose(p, expected, rtol=0, atol=TOLERANCE)


# ------------------------------------------------- rows the champion was not validated for

BAD_ROW = 1  # position of the bad row in the request; the other rows are fine test rows
BAD_ROW_CASES = ["unseen category", "out of range", "all missing"]


def bad_row_request(sample: pd.DataFrame, schema: dict, package,
                    case: str) -> tuple[pd.DataFrame, str | None, str]:
    """Four test rows, the second made bad; (inputs, the column to be named or None, rule)."""
    inputs = model_inputs(sample.head(4), schema, package).reset_index(drop=True)
    inputs = inputs.astype(object).where(inputs.notna(), None)
    if case == "unseen category":
        column = schema["categorical"][0]
        inputs.loc[BAD_ROW, column] = "a-level-never-seen"
        return inputs, column, "unseen_category"
    if case == "out of range":
        # a bound of data.ranges, stored in the schema by validate and logged with the model
        column, (_, high) = next((c, b) for c, b in schema["ranges"].items() if b[1] is not None)
        inputs.loc[BAD_ROW, column] = high * 10 + 1  # a unit error
        return inputs, column, "range"
    for column in inputs.columns:
        inputs.loc[BAD_ROW, column] = None
    return inputs, None, "all_missing"


@pytest.mark.parametrize("case", BAD_ROW_CASES)
def test_a_bad_row_is_refused_naming_its_row_and_column(
        case, server, sample, schema, package, offline):
    # given four test rows, the second one a row the champion was not validated for
    inputs, column, rule = bad_row_request(sample, schema, package, case)
    # when they are posted with the default settings (serve.on_bad_row: reject)
    status, answer = request(server, "POST", "/invocations", payload(inputs))
    # then the request is refused as the client's fault, naming the row and the column
    assert status == 422, (status, answer[:2000])
    body = json.loads(answer)
    assert [(p["row"], p["column"], p["rule"]) for p in body["problems"]] == [
        (BAD_ROW, column, rule)]
    assert f"row {BAD_ROW}" in body["message"], body["message"]
    if column is not None:
        assert f"column '{column}'" in body["message"], body["message"]
    assert "predictions" not in body
    # and the server still answers a valid request, correctly
    still_serves(server, sample, schema, package, offline)


@pytest.mark.parametrize("case", BAD_ROW_CASES)
def test_in_warn_mode_a_bad_row_is_scored_with_a_warning_naming_it(
        case, warn_server, sample, schema, package, offline):
    # given the same four rows, and a server started with --on-bad-row warn
    inputs, column, rule = bad_row_request(sample, schema, package, case)
    # when they are posted
    status, answer = request(warn_server, "POST", "/invocations", payload(inputs))
    # then every row is scored, the bad one with a warning naming its row and column
    assert status == 200, (status, answer[:2000])
    body = json.loads(answer)
    assert [(w["row"], w["column"], w["rule"]) for w in body["warnings"]] == [
        (BAD_ROW, column, rule)]
    assert f"row {BAD_ROW}" in body["warnings"][0]["detail"]
    p = np.asarray(body["predictions"], dtype=float)
    assert p.shape == (4, 2) and np.isfinite(p).all()
    # and the good rows get the offline predictions
    good = [i for i in range(4) if i != BAD_ROW]
    expected = offline.loc[sample[schema["id_column"]].head(4).to_numpy()[good]].to_numpy()
    np.testing.assert_allclose(p[good, 1], expected, rtol=0, atol=TOLERANCE)


def test_serve_needs_nothing_from_the_venv_on_path(warn_server, sample, schema, package, offline):
    # given the venv's `bin/<pkg> serve` started with PATH=/usr/bin:/bin (warn_server): no
    # `uvicorn` nor anything else from the venv on PATH
    inputs = model_inputs(sample, schema, package)
    # when valid rows are posted
    status, answer = request(warn_server, "POST", "/invocations", payload(inputs))
    # then they are scored as offline, with an empty warnings list
    assert status == 200, answer[:2000]
    body = json.loads(answer)
    assert body["warnings"] == []
    expected = offline.loc[sample[schema["id_column"]].to_numpy()].to_numpy()
    np.testing.assert_allclose(np.asarray(body["predictions"])[:, 1], expected, rtol=0,
                               atol=TOLERANCE)
    # and the rest of MLflow's protocol answers
    for path in ("/ping", "/health", "/version"):
        assert request(warn_server, "GET", path)[0] == 200, path


# ------------------------------------------------------------------------- request bodies


def head_and_start(port: int, size: int, start: bytes) -> bytes:
    """POST a request announcing a ``size``-byte body, send only ``start`` of it, and read
    the answer until the server closes the connection (at most 1 MB)."""
    head = (f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n").encode()
    chunks: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head + start)
        while sum(map(len, chunks)) < 1_000_000 and (chunk := connection.recv(65536)):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_body_over_the_cap_gets_a_small_413_before_it_is_sent(
        server, sample, schema, package, offline):
    # given a request announcing 100 MB (serve.max_request_mb is 10), of which 64 kB are sent
    answer = head_and_start(server, 100 * 1024 * 1024, b"[" * 65536)
    # then the answer is a 413, without the server waiting for the rest, and it is small
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413", answer[:2000]
    assert len(answer) < 2000
    # and it names the limit and its key, without echoing the body
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert "serve.max_request_mb" in body["message"] and "[[[" not in body["message"]
    # and the server still answers a valid request, correctly
    still_serves(server, sample, schema, package, offline)


def test_an_error_quotes_at_most_a_few_kilobytes_of_the_request(server):
    # given an 8 MB body under the cap that is not JSON (MLflow's message quotes the input)
    body = b'{"dataframe_split": [' + b"1," * (4 * 1024 * 1024)
    # when it is posted
    status, answer = request(server, "POST", "/invocations", body)
    # then the answer is a 400 of a few kilobytes that still says what is wrong
    assert status == 400, answer[:2000]
    assert len(answer) < 10_000
    assert "JSON" in json.loads(answer)["message"]


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
    run([PACKAGE, "score", "data/raw/batch.parquet", "--output",
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
    done = run([PACKAGE, "score", str(path), "--output", str(output)],
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
