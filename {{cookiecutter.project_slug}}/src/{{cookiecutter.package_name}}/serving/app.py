"""Serving the champion over HTTP: MLflow's scoring app, a cap on request bodies, row checks.

``{{ cookiecutter.package_name }} serve`` builds the app here and runs it under uvicorn
in its own process. The app is MLflow's (``mlflow.pyfunc.scoring_server.init``), so the protocol
is MLflow's: ``POST /invocations`` (``dataframe_split`` / ``dataframe_records`` JSON, CSV or
Parquet), ``GET /ping``, ``/health`` and ``/version``. Around it:

* **a cap on the body** (``serve.max_request_mb``): a larger body gets 413 at once, judged from
  its ``Content-Length`` (a chunked body as soon as it passes the cap), without being read whole
  or echoed back. MLflow's error messages quote the request; they are cut to a few kilobytes.
* **row checks** against what the champion knows (:class:`ModelKnowledge`): a category its
  encoder never saw, a number outside the range its training data was validated against, a row
  with every feature missing (:func:`..data.validation.check_rows`). ``serve.on_bad_row``
  decides: ``reject`` answers 422 naming each row and column and scores nothing; ``warn`` scores
  every row and adds ``"warnings": [{"row", "column", "rule", "value", "detail"}]`` to the answer
  (always present in that mode, empty when all rows are fine).
* **a light scoring path** (:func:`light_model`): MLflow's pyfunc wrapper, signature enforcement
  included, around the same fitted pipeline, whose preprocessing runs through
  :class:`..modelling.features.LightTransform` and whose small frames are scored on one thread.
  The probabilities are the pipeline's own; a request costs its parsing and checks, not the
  preprocessing's fixed cost of about 4 ms whatever the number of rows.

What the checks know comes from the model being served, never from the workspace: the categories
from the fitted encoders inside its pipeline, the ranges from its MLmodel metadata (written by
``train``, key :data:`RANGES_KEY`). A champion logged before the ranges were recorded is served
without range checks (a warning says so at start-up).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..core.errors import ConfigError
from ..core.paths import PACKAGE, RANGES_KEY
from ..core.settings import ServeSettings

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel

    from ..data.validation import RowFinding

log = logging.getLogger(__name__)

# ASGI's callables (the spec's names): the server's scope, the messages, receive and send.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = Sequence[tuple[bytes, bytes]]

#: Findings listed in a refusal (its message quotes the first few); warnings are all listed.
MAX_LISTED = 100
MAX_QUOTED = 5
#: Characters of an error message kept: MLflow's messages quote the whole request.
ECHO_LIMIT = 4000
#: Environment variable handing the settings to uvicorn's worker processes (``--workers``).
SETTINGS_ENV = "MODEL_SERVE_SETTINGS"
REJECTED_STATUS = 422


# ------------------------------------------------------------------------------ settings


def with_overrides(serve: ServeSettings, on_bad_row: str | None = None,
                   max_request_mb: float | None = None) -> ServeSettings:
    """The ``serve`` settings with the command line's overrides, checked like ``conf/serve/``.

    Args:
        serve: the validated ``serve`` settings (``conf/serve/default.yaml``).
        on_bad_row: ``reject`` or ``warn``, instead of ``serve.on_bad_row``.
        max_request_mb: instead of ``serve.max_request_mb``.

    Raises:
        ConfigError: an override the schema refuses, naming its option.
    """
    from pydantic import ValidationError

    given = {"on_bad_row": on_bad_row, "max_request_mb": max_request_mb}
    changes = {key: value for key, value in given.items() if value is not None}
    if not changes:
        return serve
    try:
        return ServeSettings.model_validate({**serve.model_dump(), **changes})
    except ValidationError as error:
        problem = error.errors()[0]
        option = "--" + str(problem["loc"][0]).replace("_", "-")
        raise ConfigError(f"{option} {problem['input']!r}: {problem['msg']}") from None


# ------------------------------------------------------------------ what the model knows


@dataclass(frozen=True)
class ModelKnowledge:
    """What a served model was fitted and validated on, for checking request rows.

    Attributes:
        features: its input columns (the signature's), in order.
        categories: the levels each categorical column's fitted encoder knows.
        ranges: ``(min, max)`` per numeric column, the range its training data was validated
            against (either bound None: open); columns without one are not checked.
    """

    features: tuple[str, ...] = ()
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the start-up log."""
        cats = ", ".join(self.categories) or "none"
        ranges = ", ".join(self.ranges) or "none"
        return (f"checks: unseen categories of [{cats}], ranges of [{ranges}], rows with all "
                f"{len(self.features)} features missing")


def knowledge_of(model: PyFuncModel) -> ModelKnowledge:
    """What the loaded pyfunc ``model`` itself says: signature, fitted encoders, metadata."""
    metadata = model.metadata
    schema = metadata.get_input_schema()
    features = tuple(schema.input_names()) if schema is not None and schema.has_input_names() \
        else ()
    try:
        raw = model.get_raw_model()
    except Exception:  # not a flavour with a raw model: no categories to read
        raw = None
    return ModelKnowledge(features, encoder_categories(raw) if raw is not None else {},
                          logged_ranges(metadata.metadata))


def encoder_categories(estimator: Any) -> dict[str, tuple[str, ...]]:
    """The ``categories_`` of every fitted encoder inside ``estimator``'s column transformers.

    Looks through pipelines, column transformers and wrappers (``CalibratedClassifierCV``,
    ``FrozenEstimator``): ``{column: levels}`` for each column an encoder was fitted on.

    Args:
        estimator: a fitted scikit-learn estimator.
    """
    found: dict[str, tuple[str, ...]] = {}
    for est in _estimators(estimator):
        for _, transformer, columns in getattr(est, "transformers_", []):
            if isinstance(transformer, str) or not _are_names(columns):
                continue
            for step in _estimators(transformer):
                levels = getattr(step, "categories_", None)
                if levels is not None and len(levels) == len(columns):
                    for column, values in zip(columns, levels, strict=True):
                        found[str(column)] = tuple(str(v) for v in values)
    return found


def _estimators(estimator: Any) -> Iterable[Any]:
    """``estimator`` and every estimator nested inside it (each once)."""
    stack, seen = [estimator], set[int]()
    while stack:
        est = stack.pop()
        if est is None or isinstance(est, str) or id(est) in seen:
            continue
        seen.add(id(est))
        yield est
        stack.extend(step for _, step in getattr(est, "steps", []))
        stack.extend(t for _, t, _ in getattr(est, "transformers_", []))
        stack.extend(getattr(est, attr, None) for attr in ("estimator", "base_estimator"))
        stack.extend(getattr(c, "estimator", None)
                     for c in getattr(est, "calibrated_classifiers_", []))


def _are_names(columns: object) -> bool:
    return isinstance(columns, list | tuple) and all(isinstance(c, str) for c in columns)


def logged_ranges(
    metadata: Mapping[str, Any] | None,
) -> dict[str, tuple[float | None, float | None]]:
    """``{column: (min, max)}`` from a logged model's metadata (empty when it has none)."""
    raw = (metadata or {}).get(RANGES_KEY) or {}
    return {str(column): (_bound(low), _bound(high)) for column, (low, high) in raw.items()}


def _bound(value: Any) -> float | None:
    return None if value is None else float(value)


# ------------------------------------------------------------------- checking each request


class BadRows(Exception):
    """Raised by :class:`CheckedModel` to refuse a request; the app answers 422."""

    def __init__(self, findings: list[RowFinding]) -> None:
        self.findings = findings
        super().__init__(f"{len(findings)} bad row finding(s)")


@dataclass
class _Request:
    """What the model wrapper tells the middleware about the request being answered."""

    checked: bool = False
    findings: list[RowFinding] = field(default_factory=list)
    rejected: bool = False


# Set by the middleware for each request; MLflow runs predict in a thread with a copy of the
# context, which still holds this same object.
_CURRENT: ContextVar[_Request | None] = ContextVar("serving_request", default=None)


class Predictor(Protocol):
    """What :class:`CheckedModel` calls on the model it wraps (a ``PyFuncModel`` has it)."""

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...


class CheckedModel:
    """A pyfunc model whose ``predict`` checks the rows first; otherwise the model itself.

    Args:
        model: the loaded ``PyFuncModel`` (or anything with its ``predict``).
        knowledge: what it was fitted and validated on.
        on_bad_row: ``reject`` (raise :class:`BadRows`) or ``warn`` (score, report findings).
    """

    def __init__(self, model: Predictor, knowledge: ModelKnowledge, on_bad_row: str) -> None:
        self._model = model
        self.knowledge = knowledge
        self.on_bad_row = on_bad_row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def check(self, data: Any) -> list[RowFinding]:
        """The findings of :func:`check_rows` for the rows of ``data`` (a frame or records)."""
        import pandas as pd

        from ..data.validation import check_rows

        if not isinstance(data, pd.DataFrame):
            try:
                data = pd.DataFrame(data)
            except (ValueError, TypeError):
                return []  # not tabular: the model's own checks answer
        k = self.knowledge
        return check_rows(data, features=k.features or tuple(map(str, data.columns)),
                          ranges=k.ranges, known_categories=k.categories)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Check, then refuse (``reject``) or score (``warn``) the rows."""
        findings = self.check(data)
        request = _CURRENT.get()
        if request is not None:
            request.checked, request.findings = True, findings
        if findings:
            what = "refused" if self.on_bad_row == "reject" else "scored with a warning"
            log.warning("%d row(s) %s, first: %s", len({f.row for f in findings}), what,
                        findings[0].detail)
            if self.on_bad_row == "reject":
                if request is not None:
                    request.rejected = True
                raise BadRows(findings)
        return self._model.predict(data, params=params)


# --------------------------------------------------------------------------- the ASGI app


class ServingMiddleware:
    """ASGI middleware: the body cap, and the answers for refused and flagged rows.

    Args:
        app: MLflow's scoring app, built on a :class:`CheckedModel`.
        settings: the serve settings.
    """

    def __init__(self, app: ASGIApp, settings: ServeSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._too_large(send, f"{declared} bytes")
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await self._too_large(send, f"chunked, over {limit} bytes so far")
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # waits for the client to disconnect

        request = _Request()
        token = _CURRENT.set(request)
        try:
            await self.app(scope, replay, _Answer(send, request, self.settings).send)
        finally:
            _CURRENT.reset(token)

    async def _too_large(self, send: Send, size: str) -> None:
        mb = f"{self.settings.max_request_mb:g}"
        body = {"error_code": "REQUEST_TOO_LARGE",
                "message": f"the request body ({size}) is larger than this server accepts, "
                           f"{mb} MB (serve.max_request_mb); send fewer rows per request, or "
                           f"score the file with `{PACKAGE} score`"}
        # connection: close - the rest of the body is never read
        await _respond(send, 413, body, [(b"connection", b"close")])


class _Answer:
    """Wraps ``send``: replaces a refusal by the 422, adds warnings, cuts echoing errors."""

    def __init__(self, send: Send, request: _Request, settings: ServeSettings) -> None:
        self._send = send
        self._request = request
        self._settings = settings
        self._start: Message | None = None
        self._chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            status = message["status"]
            rewrite = (self._request.rejected or status >= 400
                       or (status == 200 and self._request.checked
                           and self._settings.on_bad_row == "warn"))
            if not rewrite:
                await self._send(message)
                return
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        self._chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(self._chunks)
        start, self._start = self._start, None
        if self._request.rejected:
            await _respond(self._send, REJECTED_STATUS, refusal(self._request.findings))
        elif start["status"] >= 400:
            await _respond(self._send, start["status"], _cut_body(body), start["headers"])
        else:
            await _respond(self._send, 200, _with_warnings(body, self._request.findings),
                           start["headers"])


def refusal(findings: list[RowFinding]) -> dict[str, Any]:
    """The 422 body: a message quoting the first findings, and the findings themselves."""
    rows = len({f.row for f in findings})
    quoted = "; ".join(f.detail for f in findings[:MAX_QUOTED])
    more = f"; and {len(findings) - MAX_QUOTED} more" if len(findings) > MAX_QUOTED else ""
    return {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": f"{rows} row(s) the model was not validated for, nothing scored "
                   f"(serve.on_bad_row: reject): {quoted}{more}",
        "problems": [f.to_dict() for f in findings[:MAX_LISTED]],
        "n_problems": len(findings),
    }


def _with_warnings(body: bytes, findings: list[RowFinding]) -> bytes | dict[str, Any]:
    """MLflow's ``{"predictions": ...}`` with the ``warnings`` list added."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    if not isinstance(answer, dict):
        return body
    answer["warnings"] = [f.to_dict() for f in findings]
    return answer


def _cut(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` with its middle cut out when longer than ``limit`` (the end says what failed)."""
    if len(text) <= limit:
        return text
    head = limit // 3
    tail = limit - head
    return f"{text[:head]} ... [{len(text) - limit} characters cut] ... {text[-tail:]}"


def _cut_body(body: bytes) -> bytes | dict[str, Any]:
    """An error answer with each long text field cut (it may quote the whole request)."""
    if len(body) <= ECHO_LIMIT:
        return body
    try:
        answer = json.loads(body)
    except ValueError:
        return _cut(body.decode("utf-8", errors="replace")).encode()
    if not isinstance(answer, dict):
        return _cut(body.decode("utf-8", errors="replace")).encode()
    return {k: _cut(v) if isinstance(v, str) else v for k, v in answer.items()}


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _respond(send: Send, status: int, body: bytes | dict[str, Any],
                   headers: Headers = ()) -> None:
    """Send a whole answer; a dict is sent as JSON. ``content-length`` is recomputed."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
    content_type = next((v for k, v in headers if k.lower() == b"content-type"),
                        b"application/json")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()), *kept]})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- building it


def load_champion(model_uri: str) -> PyFuncModel:
    """The pyfunc model at ``model_uri`` (e.g. ``models:/name@champion``)."""
    import mlflow

    return mlflow.pyfunc.load_model(model_uri)


class LightPipeline:
    """A fitted pipeline's ``predict_proba`` for serving: light transform, one thread when small.

    The same probabilities as ``pipeline.predict_proba``, at a small frame's cost: the
    preprocessor runs through :class:`..modelling.features.LightTransform` (the full path for
    frames it does not know), and a frame of up to ``LIGHT_MAX_ROWS`` rows is scored on one
    OpenMP thread. Gradient boosting otherwise spreads even one row over every core, each tree a
    parallel region: on a busy machine a thread waiting for a core stalls the request (a p99 of
    53 ms measured on a loaded 2-core machine, against 4 ms on one thread).

    Args:
        pipeline: a fitted ``Pipeline`` whose first step :class:`LightTransform` supports.
    """

    def __init__(self, pipeline: Any) -> None:
        from threadpoolctl import ThreadpoolController

        from ..modelling.features import LightTransform

        self.pipeline = pipeline
        self._transform = LightTransform(pipeline[0])
        self._rest = pipeline[1:]
        self._threads = ThreadpoolController()

    def predict_proba(self, data: Any) -> Any:
        """``pipeline.predict_proba(data)``."""
        from ..modelling.features import LIGHT_MAX_ROWS

        if len(data) > LIGHT_MAX_ROWS:
            return self._rest.predict_proba(self._transform(data))
        with self._threads.limit(limits=1, user_api="openmp"):
            return self._rest.predict_proba(self._transform(data))

    def get_raw_model(self) -> Any:
        """The pipeline itself (what ``PyFuncModel.get_raw_model`` gives)."""
        return self.pipeline


def light_model(model: PyFuncModel) -> PyFuncModel:
    """``model`` scoring through :class:`LightPipeline` when it is a scikit-learn pipeline
    logged with ``predict_proba`` as its pyfunc method (as ``train`` logs it); else ``model``.

    The pyfunc wrapper is MLflow's own (``PyFuncModel``): the signature is enforced on every
    request as before, only the call it ends in is lighter.
    """
    from mlflow.pyfunc import PyFuncModel
    from sklearn.pipeline import Pipeline

    from ..modelling.features import LightTransform

    if not isinstance(model, PyFuncModel):
        return model
    flavour = model.metadata.flavors.get("python_function", {})
    if flavour.get("loader_module") != "mlflow.sklearn" \
            or flavour.get("predict_fn") != "predict_proba":
        return model
    raw = model.get_raw_model()
    if not isinstance(raw, Pipeline) or len(raw) < 2 or not LightTransform.supports(raw[0]):
        log.info("the champion is not a pipeline the light transform path knows: the full "
                 "scikit-learn path scores every request")
        return model
    return PyFuncModel(model_meta=model.metadata, model_impl=LightPipeline(raw),
                       predict_fn="predict_proba", model_id=model.model_id)


def build_app(model: PyFuncModel, settings: ServeSettings,
              knowledge: ModelKnowledge | None = None) -> ServingMiddleware:
    """MLflow's scoring app for ``model``, with the row checks and the body cap.

    Args:
        model: the loaded pyfunc model.
        settings: the serve settings.
        knowledge: what the checks use; by default read from ``model`` itself.
    """
    from mlflow.pyfunc import scoring_server

    knowledge = knowledge if knowledge is not None else knowledge_of(model)
    log.info("%s; bad rows: %s; bodies up to %g MB", knowledge.summary(), settings.on_bad_row,
             settings.max_request_mb)
    if not knowledge.ranges:
        log.warning("the model carries no validated ranges (%s in its metadata): values are not "
                    "range-checked; set data.ranges and retrain (`dvc repro`) to check them",
                    RANGES_KEY)
    checked = CheckedModel(light_model(model), knowledge, settings.on_bad_row)
    # a PyFuncModel by delegation (__getattr__), which the checker cannot see
    return ServingMiddleware(scoring_server.init(checked), settings)  # type: ignore[arg-type]


def settings_to_environment(model_uri: str, settings: ServeSettings) -> None:
    """Hand the model and settings to uvicorn's worker processes (see :func:`app_from_env`)."""
    os.environ[SETTINGS_ENV] = json.dumps({"model_uri": model_uri,
                                           "on_bad_row": settings.on_bad_row,
                                           "max_request_mb": settings.max_request_mb})


def app_from_env() -> ServingMiddleware:
    """The app of one uvicorn worker process (``--workers`` > 1), from the environment."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [serve] %(message)s",
                        datefmt="%H:%M:%S")
    cfg = json.loads(os.environ[SETTINGS_ENV])
    settings = ServeSettings(on_bad_row=cfg["on_bad_row"], max_request_mb=cfg["max_request_mb"])
    return build_app(load_champion(cfg["model_uri"]), settings)
