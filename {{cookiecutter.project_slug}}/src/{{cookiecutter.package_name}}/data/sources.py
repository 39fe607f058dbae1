"""Data sources: scikit-learn's bundled breast-cancer table, the synthetic generator, own files.

Nothing here downloads anything: breast cancer ships inside scikit-learn, the synthetic data is
generated, and own files are read from disk (CSV or Parquet).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from ..core.errors import ConfigError, UserError
from ..core.settings import DATA_SOURCES, OwnFileData
from . import synthetic

if TYPE_CHECKING:
    import pandas as pd

    from ..core.settings import DataSettings

SOURCES = DATA_SOURCES
# A file at least this large gets a line before reading it (its size) and one after (rows,
# columns, seconds): reading takes long enough then that silence reads as a hang.
PROGRESS_BYTES = 20 * 2**20

log = logging.getLogger(__name__)

BREAST_CANCER_ID = "sample_id"
BREAST_CANCER_TARGET = "malignant"
_BREAST_CANCER_RAW = (
    "mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness",
    "mean compactness", "mean concavity", "mean concave points", "mean symmetry",
    "mean fractal dimension", "radius error", "texture error", "perimeter error", "area error",
    "smoothness error", "compactness error", "concavity error", "concave points error",
    "symmetry error", "fractal dimension error", "worst radius", "worst texture",
    "worst perimeter", "worst area", "worst smoothness", "worst compactness", "worst concavity",
    "worst concave points", "worst symmetry", "worst fractal dimension",
)  # fmt: skip


def snake_case(name: str) -> str:
    """Turn a column name like ``'mean concave points'`` or ``'MeanRadius'`` into snake_case.

    Args:
        name: Original column name.
    """
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name).strip())
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


BREAST_CANCER_FEATURES = tuple(snake_case(c) for c in _BREAST_CANCER_RAW)
# Texture is what a change of imaging device would move first (documented batch drift).
BREAST_CANCER_SHIFT_FEATURES = tuple(c for c in BREAST_CANCER_FEATURES if "texture" in c)


class DataSourceError(UserError, ValueError):
    """A data source could not be read; the message names the file and what to do."""


class DataFileNotFoundError(DataSourceError, FileNotFoundError):
    """The configured data file does not exist."""


SUPPORTED_SUFFIXES = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet", ".pq": "parquet"}


def load_breast_cancer() -> pd.DataFrame:
    """Load the Wisconsin breast-cancer table bundled with scikit-learn (offline).

    Returns:
        569 rows: ``sample_id`` (0..568), 30 snake_case numeric features and ``malignant`` (1 =
        malignant, 212 rows; scikit-learn's own target codes malignant as 0).
    """
    import pandas as pd
    from sklearn.datasets import load_breast_cancer as sk_load

    bunch = sk_load(as_frame=True)
    features = bunch.data.rename(columns=snake_case)
    frame = pd.concat(
        [
            pd.DataFrame({BREAST_CANCER_ID: np.arange(len(features), dtype=np.int64)}),
            features,
            pd.DataFrame({BREAST_CANCER_TARGET: (bunch.target.to_numpy() == 0).astype(np.int64)}),
        ],
        axis=1,
    )
    return frame


def breast_cancer_batch(
    n: int, seed: int, covariate_shift: float = 0.0, prior_shift: float = 0.0
) -> pd.DataFrame:
    """A "production" batch resampled from the breast-cancer table.

    Rows are drawn with replacement (malignant rows weighted by ``exp(prior_shift)``), every
    feature gets Gaussian jitter of 5% of its standard deviation so rows are not exact copies,
    and the texture features are moved by ``covariate_shift`` standard deviations. Ids follow
    the synthetic batch scheme and never collide with the table's ids.

    Args:
        n: Number of rows.
        seed: Random seed.
        covariate_shift: Shift of the texture features in standard deviations.
        prior_shift: Log-odds change of the share of malignant rows.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ConfigError(f"n must be a positive integer (got {n!r}); set data.batch.n_rows")
    base = load_breast_cancer()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7]))
    weights = np.where(base[BREAST_CANCER_TARGET].to_numpy() == 1, np.exp(prior_shift), 1.0)
    rows = rng.choice(len(base), size=n, replace=True, p=weights / weights.sum())
    batch = base.iloc[rows].reset_index(drop=True)
    sd = base[list(BREAST_CANCER_FEATURES)].std().to_numpy()
    values = batch[list(BREAST_CANCER_FEATURES)].to_numpy()
    values = values + 0.05 * sd * rng.standard_normal(values.shape)
    shift_idx = [BREAST_CANCER_FEATURES.index(c) for c in BREAST_CANCER_SHIFT_FEATURES]
    values[:, shift_idx] += covariate_shift * sd[shift_idx]
    batch[list(BREAST_CANCER_FEATURES)] = np.clip(values, 0.0, None)  # all features are >= 0
    batch[BREAST_CANCER_ID] = (
        synthetic.BATCH_ID_OFFSET + int(seed) * synthetic.MAX_BATCH_ROWS + np.arange(1, n + 1)
    )
    return batch


def _table_kind(path: Path) -> str | None:
    """``'csv'`` / ``'parquet'`` from the file name, or None when unsupported."""
    name = path.name.lower()
    for suffix, kind in SUPPORTED_SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    return None


CSV_SEPARATORS = ",;\t| "  # the sniffer prefers , then tab, ; and space when several fit
SNIFF_BYTES = 64 * 1024


def _open_text(p: Path, encoding: str) -> TextIO:
    """The CSV as text, gzipped (``.csv.gz``) or not."""
    if p.name.lower().endswith(".gz"):
        import gzip

        return gzip.open(p, "rt", encoding=encoding, newline="")
    return open(p, encoding=encoding, newline="")


def _csv_encoding(p: Path, encoding: str | None) -> str:
    """The configured encoding, else UTF-8 (a BOM is skipped) when the file decodes as such,
    else Latin-1 (every byte is a character in it, so it never fails: the usual export of
    older spreadsheet tools)."""
    if encoding:
        return encoding
    try:
        with _open_text(p, "utf-8-sig") as handle:
            while handle.read(1 << 20):
                pass
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8-sig"


def _csv_dialect(p: Path, encoding: str, separator: str | None) -> tuple[str, str]:
    """The separator (configured, else sniffed from the first lines) and the quote character
    (sniffed: some exports quote every name with ')."""
    import csv

    with _open_text(p, encoding) as handle:
        sample = handle.read(SNIFF_BYTES)
    if "\n" in sample:  # a cut last line would mislead the sniffer
        sample = sample[: sample.rindex("\n")]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=separator or CSV_SEPARATORS)
    except csv.Error:
        return separator or ",", '"'
    found = dialect.delimiter
    # columns aligned with runs of spaces (R and statsmodels exports) split on any whitespace
    return separator or (r"\s+" if found == " " else found), dialect.quotechar or '"'


DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
DECIMAL_POINT = re.compile(r"^[-+]?\d*\.\d+$")


def _csv_decimal(p: Path, encoding: str, separator: str, quote: str, decimal: str | None) -> str:
    """The configured decimal mark, else "," when the first lines' fields (apart from a comma
    separator) hold more numbers like 14,23 than like 14.23: the usual ;-separated export of a
    European spreadsheet."""
    if decimal:
        return decimal
    if separator == ",":
        return "."
    with _open_text(p, encoding) as handle:
        lines = handle.read(SNIFF_BYTES).splitlines()[1:-1]
    pattern = separator if separator == r"\s+" else re.escape(separator)
    fields = [f.strip().strip(quote) for line in lines for f in re.split(pattern, line)]
    commas = sum(1 for f in fields if DECIMAL_COMMA.match(f))
    points = sum(1 for f in fields if DECIMAL_POINT.match(f))
    return "," if commas > points else "."


def _csv_header(p: Path, encoding: str, separator: str, quote: str) -> list[str]:
    import csv

    with _open_text(p, encoding) as handle:
        line = handle.readline()
    if separator == r"\s+":  # quoted names may hold spaces: 'mean radius'  'y'
        names = next(csv.reader([line.strip()], delimiter=" ", quotechar=quote,
                                skipinitialspace=True), [])
        return [name for name in names if name]
    return next(csv.reader([line], delimiter=separator, quotechar=quote), [])


def _repeated(names: list[str]) -> list[str]:
    """Column names that occur more than once."""
    from collections import Counter

    return sorted(name for name, count in Counter(names).items() if count > 1)


def read_table(
    path: str | Path,
    *,
    config_key: str = "data.path",
    na_values: list[str] | None = None,
    encoding: str | None = None,
    separator: str | None = None,
    decimal: str | None = None,
) -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``) file as users have
    them: a CSV's encoding (UTF-8 with or without a BOM, else Latin-1) and separator (``,``,
    ``;``, tab or ``|``) are detected unless given.

    Args:
        path: File to read.
        config_key: Config key that set ``path``, named in error messages so the user knows what to
            fix.
        na_values: Extra values that mean "missing" (``data.na_values``), beyond pandas' own
            (``NA``, ``n/a``, ``null``, empty...).
        encoding: ``data.encoding``; None detects it.
        separator: ``data.separator``; None detects it.
        decimal: ``data.decimal``; None detects it.

    Raises:
        DataFileNotFoundError: The file does not exist (also a FileNotFoundError).
        DataSourceError: Unsupported suffix, empty file (no bytes or no data rows), repeated column
            names or unreadable content.
    """
    import pandas as pd

    p = Path(path)
    where = f"{p} (set by config key '{config_key}')"
    if not p.exists():
        raise DataFileNotFoundError(
            f"Data file not found: {p} (looked in {p.resolve()}). It is set by config key "
            f"'{config_key}': correct it in the data config or on the command line, e.g. "
            f"{config_key}=data/external/my_table.csv (never under data/raw: DVC rewrites it)"
        )
    kind = _table_kind(p)
    if kind is None:
        raise DataSourceError(
            f"Unsupported file type for {where}: use one of "
            f"{', '.join(SUPPORTED_SUFFIXES)} (convert the file, or rename it if it already "
            "is CSV or Parquet)"
        )
    if p.is_dir():
        raise DataSourceError(f"{where} is a directory; point '{config_key}' at a file")
    if p.stat().st_size == 0:
        raise DataSourceError(f"Data file is empty (0 bytes): {where}; export the data again")
    extra_na = [str(v) for v in (na_values or [])]
    size, started = p.stat().st_size, time.monotonic()
    if size >= PROGRESS_BYTES:
        log.info("reading %s (%.0f MB)...", p, size / 2**20)
    try:
        if kind == "csv":
            encoding = _csv_encoding(p, encoding)
            separator, quote = _csv_dialect(p, encoding, separator)
            header = _csv_header(p, encoding, separator, quote)
            decimal = _csv_decimal(p, encoding, separator, quote, decimal)
        else:
            header, quote = [], '"'

        repeated = _repeated(header)
        if repeated:
            raise DataSourceError(
                f"{where} has repeated column names {repeated}: rename or drop the repeats in "
                "the file (pandas would silently rename them, e.g. 'bmi' and 'bmi.1')"
            )
        if kind == "csv":
            frame = pd.read_csv(
                p, sep=separator or ",", quotechar=quote, encoding=encoding or "utf-8-sig",
                decimal=decimal or ".",
                na_values=extra_na or None, low_memory=False,
            )
        else:
            frame = pd.read_parquet(p)
            if extra_na:
                text = frame.select_dtypes(include=["object", "string"]).columns
                frame[text] = frame[text].mask(frame[text].isin(extra_na))
    except DataSourceError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataSourceError(
            f"Data file is empty (no header, no rows): {where}; export the data again"
        ) from exc
    except Exception as exc:  # parser, decoding, arrow and permission errors all land here
        raise DataSourceError(
            f"Could not read {where} as {kind}: {type(exc).__name__}: {exc}. Check that the "
            f"file really is {kind} (not e.g. an Excel file renamed) and is readable; set "
            "data.separator or data.encoding if the detected ones are wrong"
        ) from exc
    repeated = _repeated([str(c) for c in frame.columns])
    if repeated:
        raise DataSourceError(f"{where} has repeated column names {repeated}: rename them")
    if len(frame) == 0:
        raise DataSourceError(
            f"Data file has a header but no data rows: {where} (columns: "
            f"{', '.join(map(str, frame.columns[:20]))}); export the data again"
        )
    if size >= PROGRESS_BYTES:
        log.info("read %s: %d rows x %d columns in %.1f s", p.name, len(frame), frame.shape[1],
                 time.monotonic() - started)
    return frame


def read_options(cfg: DataSettings | None) -> dict[str, Any]:
    """The ``data`` keys that say how to read a user's file (``own_file``'s; a built-in source
    has none, and a file given for it is read with the detected encoding and separator)."""
    if isinstance(cfg, OwnFileData):
        return {"na_values": cfg.na_values, "encoding": cfg.encoding,
                "separator": cfg.separator, "decimal": cfg.decimal}
    return {"na_values": None, "encoding": None, "separator": None, "decimal": None}


def load_dataset(cfg: DataSettings) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Load the configured training data set.

    Args:
        cfg: The ``data`` settings: ``source`` plus the source's keys (``n_rows``, ``seed``,
            ``label_noise``, ``prevalence`` for synthetic_clinical; ``path`` for own_file).

    Returns:
        ``(data, truth)``: ``truth`` is the ground-truth frame of the synthetic source and None
        otherwise.
    """
    if cfg.source == "synthetic_clinical":
        return synthetic.generate(n=cfg.n_rows, seed=cfg.seed, label_noise=cfg.label_noise,
                                  prevalence=cfg.prevalence)
    if cfg.source == "breast_cancer":
        return load_breast_cancer(), None
    if cfg.source == "own_file":
        return read_table(cfg.path, config_key="data.path", **read_options(cfg)), None
    raise ConfigError(f"unknown data.source {cfg.source!r}: use one of {', '.join(SOURCES)}")


def load_batch(cfg: DataSettings) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Load the configured "production" batch (for scoring and monitoring).

    Args:
        cfg: The ``data`` settings: ``batch`` (``n_rows``, ``seed``, ``covariate_shift``,
            ``prior_shift``, ``concept_shift``) for the built-in sources, ``batch_path`` for
            own_file.

    Returns:
        ``(data, truth)``: ``truth`` is the ground-truth frame of the synthetic source and None
        otherwise.
    """
    if cfg.source == "own_file":
        if not cfg.batch_path:
            raise ConfigError(
                "data.batch_path is not set: give a CSV/Parquet file of new rows to score "
                "(same columns as data.path; the target may be missing)"
            )
        return read_table(
            cfg.batch_path, config_key="data.batch_path", **read_options(cfg)
        ), None
    if cfg.source == "breast_cancer":
        # its schema allows concept_shift 0 only: no known generating model to drift
        batch = cfg.batch
        return breast_cancer_batch(batch.n_rows, batch.seed, batch.covariate_shift,
                                   batch.prior_shift), None
    if cfg.source == "synthetic_clinical":
        shifted = cfg.batch
        return synthetic.generate_batch(
            shifted.n_rows, shifted.seed, shifted.covariate_shift, shifted.prior_shift,
            shifted.concept_shift, label_noise=cfg.label_noise, prevalence=cfg.prevalence,
        )
    raise ConfigError(f"unknown data.source {cfg.source!r}: use one of {', '.join(SOURCES)}")


def read_input(path: Path, data_cfg: DataSettings | None = None) -> pd.DataFrame:
    """Read a file to score or monitor as the training file is read (``data.encoding``,
    ``separator``, ``decimal``, ``na_values`` apply), with errors that name it."""
    return read_table(path, config_key="the file given on the command line",
                      **read_options(data_cfg))
