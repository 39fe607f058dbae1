"""The served model's row checks, its knowledge of categories and ranges, and the app wrapper.

Small hand-made frames; the ASGI middleware is driven in-process with a stand-in for MLflow's
app (no server, no MLflow model). The serving pipeline (light transform, one thread) is compared
with the fitted pipeline on generated rows, through a model saved and loaded with MLflow and
MLflow's own scoring app in-process. The real server is tested end to end by the template.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.errors import ConfigError
from {{ cookiecutter.package_name }}.core.settings import ModelSettings, ServeSettings
from {{ cookiecutter.package_name }}.data.validation import check_rows
from {{ cookiecutter.package_name }}.modelling.models import build_pipeline
from {{ cookiecutter.package_name }}.serving.app import (
    RANGES_KEY,
    CheckedModel,
    LightPipeline,
    ModelKnowledge,
    ServingMiddleware,
    build_app,
    encoder_categories,
    light_model,
    logged_ranges,
    with_overrides,
)

FEATURES = ("age", "bmi", "sex")
RANGES = {"age": (0.0, 120.0), "bmi": (10.0, None)}
CATEGORIES = {"sex": ("F", "M")}


def rows(*records: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(list(records), columns=list(FEATURES))


def found(frame: pd.DataFrame) -> list[tuple]:
    findings = check_rows(frame, features=FEATURES, ranges=RANGES, known_categories=CATEGORIES)
    return [(f.row, f.column, f.rule) for f in findings]


# ------------------------------------------------------------------------------ check_rows


def test_rows_within_what_the_model_knows_have_no_finding():
    # given rows inside the ranges, with known levels and some (not all) values missing
    frame = rows([40.0, 25.0, "F"], [None, 31.5, "M"], [70.0, None, None])
    # then nothing is found
    assert found(frame) == []


def test_an_unseen_category_is_named_by_row_and_column():
    # given a level the encoder never saw, and one that differs only by a trailing space
    frame = rows([40.0, 25.0, "F"], [41.0, 26.0, "X"], [42.0, 27.0, "M "])
    # when checked
    findings = check_rows(frame, features=FEATURES, known_categories=CATEGORIES)
    # then both are found: the encoder compares the exact text
    assert [(f.row, f.column, f.rule, f.value) for f in findings] == [
        (1, "sex", "unseen_category", "X"), (2, "sex", "unseen_category", "M ")]
    assert "row 1, column 'sex'" in findings[0].detail and "F, M" in findings[0].detail


def test_a_value_outside_its_range_is_found_and_open_bounds_are_open():
    # given an age over 120, a bmi under 10, a huge bmi (no upper bound) and a missing age
    frame = rows([121.0, 25.0, "F"], [40.0, 9.5, "F"], [40.0, 1e6, "M"], [np.nan, 25.0, "M"])
    # when checked
    findings = check_rows(frame, features=FEATURES, ranges=RANGES)
    # then only the two values outside a bound are found, with the value and the range
    assert [(f.row, f.column, f.value) for f in findings] == [(0, "age", 121.0), (1, "bmi", 9.5)]
    assert "[0, 120]" in findings[0].detail and "[10, inf)" in findings[1].detail


def test_a_column_without_a_range_is_not_range_checked():
    # given an extreme value of a column that has no configured range
    frame = rows([40.0, 25.0, "F"]).assign(bmi=[1e9])
    # then it is not flagged
    assert check_rows(frame, features=FEATURES, ranges={"age": (0.0, 120.0)}) == []


def test_a_row_with_every_feature_missing_is_found_once():
    # given a row with every feature missing, and one with all but one missing
    frame = rows([None, None, None], [None, None, "F"])
    # when checked
    findings = check_rows(frame, features=FEATURES, ranges=RANGES, known_categories=CATEGORIES)
    # then the first is one finding for the whole row (no column), the second none
    assert [(f.row, f.column, f.rule, f.value) for f in findings] == [
        (0, None, "all_missing", None)]
    assert "row 0" in findings[0].detail


def test_findings_are_sorted_by_row_then_by_column_and_are_json():
    # given several problems in two rows, the later row first in feature order
    frame = rows([40.0, 25.0, "F"], [200.0, 5.0, "Z"], [None, None, None])
    # then they come row by row, in the feature order, and serialise to JSON
    assert found(frame) == [(1, "age", "range"), (1, "bmi", "range"),
                            (1, "sex", "unseen_category"), (2, None, "all_missing")]
    findings = check_rows(frame, features=FEATURES, ranges=RANGES, known_categories=CATEGORIES)
    json.dumps([f.to_dict() for f in findings], allow_nan=False)


def test_an_infinite_value_is_out_of_range_and_still_json():
    frame = rows([np.inf, 25.0, "F"])
    (finding,) = check_rows(frame, features=FEATURES, ranges=RANGES)
    assert finding.to_dict()["value"] == "inf"


def test_columns_absent_or_not_numbers_are_left_to_the_signature():
    # given a frame without 'sex' and with text in 'age'
    frame = pd.DataFrame({"age": ["not-a-number"], "bmi": [25.0]})
    # then nothing is found here (the model's signature refuses them with its own message)
    assert found(frame) == []


# -------------------------------------------------------------- what the champion knows


@pytest.fixture(scope="module")
def fitted(settings):
    """A small pipeline of the project's own preprocessing, fitted on hand-made rows."""
    frame = pd.DataFrame({
        "age": [30.0, 40.0, 50.0, 60.0, 35.0, 45.0, 55.0, 65.0],
        "smoker": ["never", "former", "current", "never", "never", "former", "current", None],
    })
    y = np.array([0, 1, 0, 1, 0, 1, 1, 0])
    # three copies: enough rows of each class for the calibrator's cross-validation
    frame, y = pd.concat([frame] * 3, ignore_index=True), np.tile(y, 3)
    pipeline = build_pipeline(["age"], ["smoker"], settings.prepare.preprocessing,
                              ModelSettings(name="logistic_regression", params={}), seed=0)
    return pipeline.fit(frame, y), frame, y


def test_the_categories_are_read_from_the_fitted_encoder(fitted):
    pipeline, _, _ = fitted
    # the imputer's "missing" is a level the encoder saw (a None in training)
    assert encoder_categories(pipeline) == {"smoker": ("current", "former", "missing", "never")}


def test_the_categories_are_found_through_a_calibration_wrapper(fitted):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    pipeline, frame, y = fitted
    # given the pipeline recalibrated as train does (frozen, then calibrated)
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid").fit(frame, y)
    # then its encoder's categories are still found
    assert encoder_categories(calibrated) == encoder_categories(pipeline)


def test_the_ranges_are_read_from_the_model_metadata():
    metadata = {RANGES_KEY: {"age": [0, 120], "bmi": [10, None]}}
    assert logged_ranges(metadata) == {"age": (0.0, 120.0), "bmi": (10.0, None)}
    # a model logged before the ranges were recorded: no range checks
    assert logged_ranges(None) == {} and logged_ranges({"other": 1}) == {}


# ---------------------------------------------------------------------------- settings


def test_settings_come_from_conf_serve(settings):
    # given conf/serve/default.yaml as shipped, then a bad row is refused, bodies up to 10 MB
    assert settings.serve == ServeSettings(on_bad_row="reject", max_request_mb=10.0)
    assert settings.serve.max_bytes == 10 * 1024 * 1024


def test_the_command_line_wins_over_conf_serve():
    serve = ServeSettings(on_bad_row="warn", max_request_mb=2)
    assert with_overrides(serve) == serve
    assert with_overrides(serve, "reject", 0.5) == ServeSettings(on_bad_row="reject",
                                                                 max_request_mb=0.5)
    assert with_overrides(serve, max_request_mb=3).on_bad_row == "warn"


@pytest.mark.parametrize(("override", "option"), [
    ({"on_bad_row": "ignore"}, "--on-bad-row"),
    ({"max_request_mb": 0}, "--max-request-mb"),
    ({"max_request_mb": -1.5}, "--max-request-mb"),
])
def test_bad_overrides_are_refused_naming_the_option(override, option):
    serve = ServeSettings(on_bad_row="reject", max_request_mb=10)
    with pytest.raises(ConfigError, match=option):
        with_overrides(serve, **override)


# ------------------------------------------------------- the app wrapper, driven in-process


class StandIn:
    """A pyfunc-like model: P(class 1) = 0.25 for every row."""

    metadata = None

    def predict(self, data, params=None):
        return np.tile([0.75, 0.25], (len(data), 1))


def mlflow_like_app(model):
    """What MLflow's app does with a request: read it, predict in a thread, answer JSON."""

    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            split = json.loads(body)["dataframe_split"]
            frame = pd.DataFrame(split["data"], columns=split["columns"])
            p = await asyncio.to_thread(model.predict, frame)
            status, answer = 200, {"predictions": p.tolist()}
        except Exception as error:  # MLflow answers 400 and quotes the input
            status, answer = 400, {"error_code": "BAD_REQUEST",
                                   "message": f"Failed on input {body!r}: {error}"}
        data = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    return app


def call(app: ServingMiddleware, body: bytes, chunks: int = 1,
         content_length: int | None = None) -> tuple[int, dict[bytes, bytes], Any, int]:
    """One POST through ``app``: (status, headers, parsed JSON body, messages received)."""
    pieces = [body[len(body) * i // chunks:len(body) * (i + 1) // chunks] for i in range(chunks)]
    size = len(body) if content_length is None else content_length
    headers = [(b"content-type", b"application/json")]
    if chunks == 1:
        headers.append((b"content-length", str(size).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/invocations",
             "raw_path": b"/invocations", "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 5001)}
    received: list[bytes] = []
    sent: list[dict[str, Any]] = []

    async def receive():
        if len(received) < len(pieces):
            received.append(pieces[len(received)])
            return {"type": "http.request", "body": received[-1],
                    "more_body": len(received) < len(pieces)}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, body_messages = sent[0], sent[1:]
    answer = b"".join(m.get("body", b"") for m in body_messages)
    return start["status"], dict(start["headers"]), json.loads(answer), len(received)


def served(on_bad_row: str = "reject", max_request_mb: float = 1.0) -> ServingMiddleware:
    knowledge = ModelKnowledge(FEATURES, CATEGORIES, RANGES)
    settings = ServeSettings(on_bad_row=on_bad_row, max_request_mb=max_request_mb)
    return ServingMiddleware(mlflow_like_app(CheckedModel(StandIn(), knowledge, on_bad_row)),
                             settings)


def request_body(frame: pd.DataFrame) -> bytes:
    frame = frame.astype(object).where(frame.notna(), None)
    return json.dumps({"dataframe_split": {"columns": list(frame.columns),
                                           "data": frame.to_numpy().tolist()}}).encode()


def test_good_rows_pass_through_unchanged():
    status, _, answer, _ = call(served(), request_body(rows([40.0, 25.0, "F"])))
    assert (status, answer) == (200, {"predictions": [[0.75, 0.25]]})


def test_in_reject_mode_a_bad_row_gets_a_422_naming_it_and_nothing_is_scored():
    # given a request whose second row has an unseen level
    body = request_body(rows([40.0, 25.0, "F"], [40.0, 25.0, "X"]))
    # when it goes through the app in reject mode
    status, headers, answer, _ = call(served("reject"), body)
    # then the answer is a 422 naming row 1 and column 'sex', without predictions
    assert status == 422
    assert [(p["row"], p["column"]) for p in answer["problems"]] == [(1, "sex")]
    assert "row 1, column 'sex'" in answer["message"] and "predictions" not in answer
    assert int(headers[b"content-length"]) == len(json.dumps(answer).encode())


def test_in_warn_mode_every_row_is_scored_and_the_bad_one_is_warned_about():
    # given the same request, in warn mode
    body = request_body(rows([40.0, 25.0, "F"], [40.0, 25.0, "X"]))
    status, _, answer, _ = call(served("warn"), body)
    # then both rows are scored and the warning names row 1 and column 'sex'
    assert status == 200 and len(answer["predictions"]) == 2
    assert [(w["row"], w["column"], w["rule"]) for w in answer["warnings"]] == [
        (1, "sex", "unseen_category")]
    # and a clean request in warn mode has an empty list
    assert call(served("warn"), request_body(rows([40.0, 25.0, "F"])))[2]["warnings"] == []


def test_a_declared_body_over_the_cap_gets_413_before_any_of_it_is_read():
    # given a request that announces 5 MB to a server that takes 1 MB
    status, headers, answer, received = call(served(max_request_mb=1.0), b"x" * 10,
                                             content_length=5 * 1024 * 1024)
    # then it is a 413 naming the key, nothing was read, and the connection is to be closed
    assert (status, received) == (413, 0)
    assert "serve.max_request_mb" in answer["message"]
    assert headers[b"connection"] == b"close"


def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_cap():
    # given a 3 MB body sent in 30 chunks without a Content-Length, to a 1 MB server
    status, _, answer, received = call(served(max_request_mb=1.0), b"x" * (3 * 1024 * 1024),
                                       chunks=30)
    # then it is refused after about a third of the chunks
    assert status == 413 and received < 15
    assert "x" * 100 not in answer["message"]


def test_an_error_that_quotes_a_large_request_is_cut_to_a_few_kilobytes():
    # given a 600 kB body that is not JSON (the stand-in quotes its input, as MLflow does)
    status, _, answer, _ = call(served(), b"{" + b"7," * 300_000)
    # then the message keeps its start and end and drops the middle
    assert status == 400
    assert len(answer["message"]) < 5000 and "characters cut" in answer["message"]
    assert answer["message"].startswith("Failed on input")


# ------------------------------------------- the serving pipeline: light transform, one thread

NUMERIC = ["age", "bmi", "systolic_bp", "creatinine", "hba1c", "prior_admissions",
           "length_of_stay"]
CATEGORICAL = ["sex", "insurance", "smoker", "admission_type"]


def generated(n: int, seed: int) -> pd.DataFrame:
    """Model inputs of generated rows (missing numbers among them), a few categories missing."""
    from {{ cookiecutter.package_name }}.data.dataset import model_inputs
    from {{ cookiecutter.package_name }}.data.synthetic import generate

    data, _ = generate(n, seed=seed)
    inputs = model_inputs(data, {"numeric": NUMERIC, "categorical": CATEGORICAL})
    inputs.loc[inputs.index[::17], "smoker"] = None
    return inputs.reset_index(drop=True)


@pytest.fixture(scope="module")
def boosted(settings):
    """The shipped model (settings.model) fitted as train fits it, on generated rows."""
    from {{ cookiecutter.package_name }}.data.synthetic import generate

    data, _ = generate(3000, seed=4)
    pipeline = build_pipeline(NUMERIC, CATEGORICAL, settings.prepare.preprocessing,
                              settings.model, seed=0)
    return pipeline.fit(generated(3000, seed=4), data["readmitted"].to_numpy())


def save_and_load(model, path, **how):
    """``model`` saved with MLflow (as a local model directory) and loaded as pyfunc."""
    import mlflow
    from mlflow.models import infer_signature

    inputs = generated(200, seed=8)
    mlflow.sklearn.save_model(model, path, serialization_format="cloudpickle",
                              signature=infer_signature(inputs, model.predict_proba(inputs)),
                              **how)
    return mlflow.pyfunc.load_model(str(path))


@pytest.fixture(scope="module")
def logged(boosted, tmp_path_factory):
    """``boosted`` saved as train logs it (predict_proba as its pyfunc method) and loaded."""
    return save_and_load(boosted, tmp_path_factory.mktemp("model") / "model",
                         pyfunc_predict_fn="predict_proba")


@pytest.mark.parametrize("size", [1, 7, 100])
def test_the_serving_pipeline_gives_predict_probas_numbers(boosted, size):
    # given held-out rows, some with missing values
    rows = generated(300, seed=9)
    light = LightPipeline(boosted)
    for start in range(0, 300, max(size, 30)):
        frame = rows.iloc[start:start + size]
        # then the serving pipeline's probabilities are the pipeline's, exactly
        np.testing.assert_array_equal(light.predict_proba(frame), boosted.predict_proba(frame))


def test_the_logged_model_serves_through_the_light_path_with_the_same_answers(logged):
    # given the model as MLflow loads it
    served = light_model(logged)
    # then it is MLflow's pyfunc wrapper around the serving pipeline, with the same metadata
    assert isinstance(served._model_impl, LightPipeline)
    assert served.metadata is logged.metadata
    assert served.get_raw_model() is logged.get_raw_model()
    # and it answers as the loaded model does, the signature enforced as before
    rows = generated(120, seed=10)
    for frame in (rows.head(1), rows.iloc[1:3], rows):
        np.testing.assert_array_equal(served.predict(frame), logged.predict(frame))
    with pytest.raises(Exception, match="bmi"):
        served.predict(rows.drop(columns=["bmi"]))


def test_a_model_the_light_path_does_not_know_is_served_as_it_is(boosted, tmp_path):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    # given a stand-in that is not an MLflow model
    stand_in: Any = StandIn()
    assert light_model(stand_in) is stand_in
    # and a recalibrated pipeline (train.recalibration), and one logged with predict
    rows = generated(200, seed=12)
    y = (rows["age"].fillna(50) > 60).to_numpy().astype(int)
    calibrated = CalibratedClassifierCV(FrozenEstimator(boosted), method="sigmoid").fit(rows, y)
    others = [save_and_load(calibrated, tmp_path / "calibrated",
                            pyfunc_predict_fn="predict_proba"),
              save_and_load(boosted, tmp_path / "labels")]
    # then they are served by MLflow's own wrapper, untouched
    for model in others:
        assert light_model(model) is model


def test_mlflows_own_scoring_app_answers_as_it_did_without_the_light_path(logged, boosted):
    from mlflow.pyfunc import scoring_server

    from {{ cookiecutter.package_name }}.serving.app import knowledge_of

    # given MLflow's scoring app built on the logged model as `serve` builds it, and the same
    # app around the model as MLflow loads it (the full scikit-learn path)
    settings = ServeSettings(on_bad_row="warn", max_request_mb=1.0)
    app = build_app(logged, settings)
    checked: Any = CheckedModel(logged, knowledge_of(logged), "warn")  # a PyFuncModel by proxy
    full = ServingMiddleware(scoring_server.init(checked), settings)
    rows = generated(40, seed=13)
    complete = rows[rows[CATEGORICAL].notna().all(axis=1)]
    for frame in (rows.head(1), rows.iloc[16:18], rows, complete.head(1), complete):
        # when rows (missing values as null) are posted to both
        status, _, answer, _ = call(app, request_body(frame))
        # then the answers are the same, number for number
        assert status == 200, answer
        assert answer == call(full, request_body(frame))[2]
    # and rows without a missing category get the pipeline's own probabilities (a null
    # category is parsed by MLflow as None or NaN depending on the other rows)
    _, _, answer, _ = call(app, request_body(complete))
    np.testing.assert_array_equal(np.asarray(answer["predictions"]),
                                  boosted.predict_proba(complete))
