"""The "synthetic_clinical" generator: a made-up 30-day readmission problem with known truth.

Every number of the generating model lives in the constants below and is documented in
``docs/synthetic_data.md``; change both together. The generator works in fixed-size chunks with
vectorised numpy so that a million rows take a few seconds and bounded memory.

Public functions
----------------
generate
    The training / development data set plus its ground truth.
generate_batch
    A "production" batch with optional covariate, prior and concept drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

# ----------------------------------------------------------------------------------------------
# Documented generating model (see docs/synthetic_data.md)
# ----------------------------------------------------------------------------------------------

TARGET = "readmitted"
ID_COLUMN = "patient_id"
TIME_COLUMN = "admission_date"
GROUP_COLUMN = "site"
NUMERIC_FEATURES = (
    "age",
    "bmi",
    "systolic_bp",
    "creatinine",
    "hba1c",
    "prior_admissions",
    "length_of_stay",
)
CATEGORICAL_FEATURES = ("sex", "insurance", "smoker", "admission_type")
SENSITIVE_ATTRIBUTES = ("sex", "insurance")
TRUTH_COLUMNS = (
    "patient_id",
    "true_risk",
    "label_flipped",
    "clean_label",
    "weak_signal_subgroup",
)

SITES = tuple(f"site_{i:02d}" for i in range(1, 9))
SITE_PROBS = np.array([0.20, 0.16, 0.14, 0.12, 0.11, 0.10, 0.09, 0.08])
SITE_AGE_OFFSET = np.array([0.0, 2.0, -2.0, 4.0, -3.0, 1.0, 5.0, -4.0])  # case mix, years
SITE_LOGIT_EFFECT = np.array([0.00, 0.15, -0.10, 0.25, -0.20, 0.05, 0.30, -0.15])

SEX_LEVELS = ("F", "M")
P_FEMALE = 0.52
INSURANCE_LEVELS = ("private", "public", "none")
# P(insurance) for patients aged < 65 and >= 65 (rows sum to 1).
INSURANCE_PROBS_UNDER_65 = np.array([0.60, 0.25, 0.15])
INSURANCE_PROBS_65_PLUS = np.array([0.18, 0.80, 0.02])
INSURANCE_LOGIT_EFFECT = np.array([0.00, 0.10, 0.30])
SMOKER_LEVELS = ("never", "former", "current")
SMOKER_PROBS = np.array([0.50, 0.30, 0.20])
ADMISSION_LEVELS = ("elective", "urgent", "emergency")
ADMISSION_PROBS = np.array([0.30, 0.30, 0.40])

AGE_MEAN, AGE_SD, AGE_RANGE = 62.0, 16.0, (18.0, 95.0)
BMI_MEAN, BMI_SD, BMI_RANGE = 28.5, 5.5, (15.0, 60.0)
SBP_MEAN, SBP_SD, SBP_RANGE = 130.0, 18.0, (80.0, 220.0)
LOG_CREATININE_SD, CREATININE_RANGE = 0.35, (0.3, 12.0)
HBA1C_MEAN, HBA1C_SD, HBA1C_RANGE = 5.9, 1.0, (4.0, 14.0)
LOS_MEDIAN, LOS_LOG_SD, LOS_RANGE = 3.0, 0.55, (1.0, 60.0)

# Coefficients of the clinical signal f(x) on the logit scale.
COEFFICIENTS: dict[str, float] = {
    "age_per_16y": 0.40,  # (age - 62) / 16
    "bmi_u_shape": 0.35,  # ((bmi - 27) / 6) ** 2
    "systolic_bp_per_18": 0.15,  # (systolic_bp - 130) / 18
    "log_creatinine": 0.70,  # ln(creatinine)
    "hba1c": 0.25,  # hba1c - 6
    "log1p_prior_admissions": 0.45,  # ln(1 + prior_admissions)
    "log_length_of_stay": 0.30,  # ln(length_of_stay)
    "sex_M": 0.10,
    "smoker_former": 0.15,
    "smoker_current": 0.40,
    "admission_urgent": 0.30,
    "admission_emergency": 0.60,
}
# Coefficients that concept drift moves to at concept_shift = 1 (linear in between).
# Story: a new discharge programme follows up elderly and emergency patients, while a
# diabetes-care gap makes glycaemic control matter more.
CONCEPT_DRIFT_COEFFICIENTS: dict[str, float] = {
    "age_per_16y": 0.0,
    "log_creatinine": 0.0,
    "hba1c": 0.75,
    "admission_emergency": -0.30,
}
# The clinical signal is shrunk for uninsured patients (weak-signal subgroup).
WEAK_SIGNAL_COLUMN, WEAK_SIGNAL_LEVEL = "insurance", "none"
WEAK_SIGNAL_MULTIPLIER = 0.35

# Missing values (not at random).
HBA1C_MISSING_SCALE, HBA1C_MISSING_POWER = 0.5, 3  # P(missing) = 0.5 * (1 - reference risk) ** 3
BMI_MISSING_SITES = ("site_03", "site_07")
BMI_MISSING_RATE_LISTED_SITES, BMI_MISSING_RATE_OTHER_SITES = 0.60, 0.03

# Covariate drift: numeric features moved by covariate_shift standard deviations.
COVARIATE_SHIFT_FEATURES = ("age", "bmi", "creatinine")
EMERGENCY_SHARE_SHIFT = 0.15  # per unit covariate_shift, taken from elective admissions

TRAIN_START, TRAIN_DAYS = np.datetime64("2022-01-01"), 730
BATCH_START, BATCH_DAYS = np.datetime64("2024-01-01"), 90
BATCH_ID_OFFSET = 10**12  # batch ids: BATCH_ID_OFFSET + seed * MAX_BATCH_ROWS + row
MAX_BATCH_ROWS = 10**9
MAX_BATCH_SEED = 9_000_000

CHUNK_ROWS = 250_000
_CALIBRATION_ROWS = 200_000
_CALIBRATION_SEED = 2_147_483_647
_STREAM_TRAIN, _STREAM_BATCH, _STREAM_CALIBRATION = 0, 1, 2


@dataclass
class _Chunk:
    """Feature values of one chunk before missingness, as plain numpy arrays."""

    site: np.ndarray  # int codes into SITES
    days: np.ndarray  # day offset from the period start
    age: np.ndarray
    sex: np.ndarray
    insurance: np.ndarray
    smoker: np.ndarray
    admission: np.ndarray
    bmi: np.ndarray
    systolic_bp: np.ndarray
    creatinine: np.ndarray
    hba1c: np.ndarray
    prior_admissions: np.ndarray
    length_of_stay: np.ndarray


def _draw_codes(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Draw one category code per row from row-wise probabilities.

    Args:
        rng: Random generator.
        probs: Array of shape (n_rows, n_levels); each row sums to 1.
    """
    cum = np.cumsum(probs, axis=1)[:, :-1]
    u = rng.random(int(probs.shape[0]))
    return (u[:, None] >= cum).sum(axis=1).astype(np.int8)


def _draw_codes_n(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    """Draw ``n`` category codes from one probability vector ``probs``."""
    cum = np.cumsum(probs)[:-1]
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int8)


def _draw_features(rng: np.random.Generator, n: int, covariate_shift: float, n_days: int) -> _Chunk:
    """Draw the complete (not yet missing) features of ``n`` patients.

    Args:
        rng: Random generator for this chunk's features.
        n: Number of rows.
        covariate_shift: Drift strength in standard deviations of the affected features (0 =
            training).
        n_days: Length of the admission period in days.
    """
    site = _draw_codes_n(rng, SITE_PROBS, n)
    days = rng.integers(0, n_days, size=n, dtype=np.int32)
    age_mean = AGE_MEAN + SITE_AGE_OFFSET[site] + covariate_shift * AGE_SD
    age = np.round(np.clip(age_mean + AGE_SD * rng.standard_normal(n), *AGE_RANGE))
    sex = (rng.random(n) >= P_FEMALE).astype(np.int8)  # 0 = F, 1 = M
    ins_probs = np.where((age >= 65)[:, None], INSURANCE_PROBS_65_PLUS, INSURANCE_PROBS_UNDER_65)
    insurance = _draw_codes(rng, ins_probs)
    smoker = _draw_codes_n(rng, SMOKER_PROBS, n)
    adm_probs = ADMISSION_PROBS.copy()
    moved = min(EMERGENCY_SHARE_SHIFT * covariate_shift, adm_probs[0] - 0.02)
    moved = max(moved, -(adm_probs[2] - 0.02))  # negative shifts reduce emergencies
    adm_probs[0] -= moved
    adm_probs[2] += moved
    admission = _draw_codes_n(rng, adm_probs, n)
    bmi = np.round(
        np.clip(BMI_MEAN + BMI_SD * (rng.standard_normal(n) + covariate_shift), *BMI_RANGE), 1
    )
    sbp = np.round(
        np.clip(SBP_MEAN + 0.3 * (age - AGE_MEAN) + SBP_SD * rng.standard_normal(n), *SBP_RANGE)
    )
    log_creat = 0.006 * (age - AGE_MEAN) + LOG_CREATININE_SD * (
        rng.standard_normal(n) + covariate_shift
    )
    creatinine = np.round(np.clip(np.exp(log_creat), *CREATININE_RANGE), 2)
    hba1c = np.round(
        np.clip(
            HBA1C_MEAN + 0.06 * (bmi - BMI_MEAN) + HBA1C_SD * rng.standard_normal(n),
            *HBA1C_RANGE,
        ),
        1,
    )
    log_rate = -0.6 + 0.02 * (age - AGE_MEAN) + 0.5 * (smoker == 2) + 0.3 * (admission == 2)
    prior = rng.poisson(np.exp(log_rate)).astype(np.int16)
    log_los = (
        np.log(LOS_MEDIAN)
        + 0.35 * (admission == 2)
        + 0.15 * (admission == 1)
        + 0.004 * (age - AGE_MEAN)
        + LOS_LOG_SD * rng.standard_normal(n)
    )
    los = np.clip(np.round(np.exp(log_los)), *LOS_RANGE).astype(np.int16)
    return _Chunk(
        site, days, age, sex, insurance, smoker, admission, bmi, sbp, creatinine, hba1c, prior, los
    )


def _coefficients(concept_shift: float) -> dict[str, float]:
    """Return the clinical-signal coefficients after ``concept_shift`` (0 = reference model)."""
    coef = dict(COEFFICIENTS)
    for name, drifted in CONCEPT_DRIFT_COEFFICIENTS.items():
        coef[name] = coef[name] + concept_shift * (drifted - coef[name])
    return coef


def _logit_without_intercept(x: _Chunk, concept_shift: float) -> np.ndarray:
    """Site and insurance effects plus the (possibly shrunk) clinical signal f(x).

    Args:
        x: Complete features of a chunk.
        concept_shift: Concept-drift strength applied to the coefficients.
    """
    c = _coefficients(concept_shift)
    signal = (
        c["age_per_16y"] * (x.age - AGE_MEAN) / 16.0
        + c["bmi_u_shape"] * ((x.bmi - 27.0) / 6.0) ** 2
        + c["systolic_bp_per_18"] * (x.systolic_bp - 130.0) / 18.0
        + c["log_creatinine"] * np.log(x.creatinine)
        + c["hba1c"] * (x.hba1c - 6.0)
        + c["log1p_prior_admissions"] * np.log1p(x.prior_admissions)
        + c["log_length_of_stay"] * np.log(x.length_of_stay)
        + c["sex_M"] * (x.sex == 1)
        + c["smoker_former"] * (x.smoker == 1)
        + c["smoker_current"] * (x.smoker == 2)
        + c["admission_urgent"] * (x.admission == 1)
        + c["admission_emergency"] * (x.admission == 2)
    )
    weak = x.insurance == INSURANCE_LEVELS.index(WEAK_SIGNAL_LEVEL)
    multiplier = np.where(weak, WEAK_SIGNAL_MULTIPLIER, 1.0)
    return SITE_LOGIT_EFFECT[x.site] + INSURANCE_LOGIT_EFFECT[x.insurance] + multiplier * signal


def _expit(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=32)
def intercept_for(prevalence: float, concept_shift: float = 0.0) -> float:
    """Intercept that makes the mean true risk equal ``prevalence`` on the training distribution.

    Solved once on a fixed calibration sample, so it does not depend on ``n`` or ``seed``.

    Args:
        prevalence: Wanted expected share of clean positive labels, in (0, 1).
        concept_shift: Concept-drift strength of the coefficients the intercept is solved for.
    """
    from scipy.optimize import brentq

    rng = np.random.default_rng(np.random.SeedSequence([_CALIBRATION_SEED, _STREAM_CALIBRATION]))
    eta = _logit_without_intercept(
        _draw_features(rng, _CALIBRATION_ROWS, 0.0, TRAIN_DAYS), concept_shift
    )
    return float(brentq(lambda b: _expit(b + eta).mean() - prevalence, -30.0, 30.0, xtol=1e-10))


def _check_args(n: int, seed: int, label_noise: float, prevalence: float) -> None:
    """Raise ``ValueError`` naming the first bad argument."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ConfigError(
            f"n must be a positive integer (got {n!r}); set data.n_rows or data.batch.n_rows"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer (got {seed!r}); set data.seed")
    if not 0.0 <= label_noise < 0.5:
        raise ConfigError(
            f"label_noise must be in [0, 0.5) (got {label_noise!r}); it is the share of flipped "
            "labels, set data.label_noise"
        )
    if not 0.001 <= prevalence <= 0.999:
        raise ConfigError(
            f"prevalence must be in [0.001, 0.999] (got {prevalence!r}); set data.prevalence"
        )


def _generate(
    n: int,
    seed: int,
    stream: int,
    label_noise: float,
    prevalence: float,
    covariate_shift: float = 0.0,
    prior_shift: float = 0.0,
    concept_shift: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shared chunked generator behind :func:`generate` and :func:`generate_batch`."""
    import pandas as pd

    _check_args(n, seed, label_noise, prevalence)
    for name, value in (
        ("covariate_shift", covariate_shift),
        ("prior_shift", prior_shift),
        ("concept_shift", concept_shift),
    ):
        if not np.isfinite(value):
            raise ConfigError(f"{name} must be a finite number (got {value!r}); set batch.{name}")
    is_batch = stream == _STREAM_BATCH
    if is_batch and n > MAX_BATCH_ROWS:
        raise ConfigError(f"a batch has at most {MAX_BATCH_ROWS} rows (got n={n})")
    if is_batch and seed >= MAX_BATCH_SEED:  # keeps batch ids inside int64
        raise ConfigError(
            f"a batch seed must be below {MAX_BATCH_SEED} (got {seed}); set batch.seed"
        )

    b0_reference = intercept_for(float(prevalence), 0.0)
    b0 = intercept_for(float(prevalence), float(concept_shift)) + prior_shift
    n_days = BATCH_DAYS if is_batch else TRAIN_DAYS

    # Preallocated outputs keep peak memory at ~ final size + one chunk of float64 work arrays.
    float_names = ("age", "bmi", "systolic_bp", "creatinine", "hba1c")
    code_names = ("site", "sex", "insurance", "smoker", "admission_type")
    out_f32 = {name: np.empty(n, np.float32) for name in float_names}
    out_i16 = {name: np.empty(n, np.int16) for name in ("prior_admissions", "length_of_stay")}
    out_codes = {name: np.empty(n, np.int8) for name in code_names}
    days = np.empty(n, np.int32)
    true_risk = np.empty(n, np.float64)
    clean = np.empty(n, np.int8)
    flipped = np.empty(n, bool)

    for chunk_index, start in enumerate(range(0, n, CHUNK_ROWS)):
        stop = min(start + CHUNK_ROWS, n)
        m = stop - start
        # Independent streams: features, labels and missingness. Labels drawn from their own
        # stream keep X identical between batches that differ only in prior/concept drift.
        feat_ss, label_ss, miss_ss = np.random.SeedSequence([seed, stream, chunk_index]).spawn(3)
        x = _draw_features(np.random.default_rng(feat_ss), m, covariate_shift, n_days)
        eta = _logit_without_intercept(x, concept_shift)
        risk = _expit(b0 + eta)
        if concept_shift == 0 and prior_shift == 0:
            reference_risk = risk
        else:
            reference_risk = _expit(b0_reference + _logit_without_intercept(x, 0.0))
        label_rng = np.random.default_rng(label_ss)
        y_clean = label_rng.random(m) < risk
        flip = label_rng.random(m) < label_noise

        miss_rng = np.random.default_rng(miss_ss)
        # MNAR: low-risk patients are tested for hba1c less often (risk under the reference
        # model, so prior/concept drift leave X unchanged).
        hba1c_missing = (
            miss_rng.random(m) < HBA1C_MISSING_SCALE * (1.0 - reference_risk) ** HBA1C_MISSING_POWER
        )
        bmi_site_rate = np.where(
            np.isin(x.site, [SITES.index(s) for s in BMI_MISSING_SITES]),
            BMI_MISSING_RATE_LISTED_SITES,
            BMI_MISSING_RATE_OTHER_SITES,
        )
        bmi_missing = miss_rng.random(m) < bmi_site_rate

        sl = slice(start, stop)
        out_f32["age"][sl] = x.age
        out_f32["bmi"][sl] = np.where(bmi_missing, np.nan, x.bmi)
        out_f32["systolic_bp"][sl] = x.systolic_bp
        out_f32["creatinine"][sl] = x.creatinine
        out_f32["hba1c"][sl] = np.where(hba1c_missing, np.nan, x.hba1c)
        out_i16["prior_admissions"][sl] = x.prior_admissions
        out_i16["length_of_stay"][sl] = x.length_of_stay
        out_codes["site"][sl] = x.site
        out_codes["sex"][sl] = x.sex
        out_codes["insurance"][sl] = x.insurance
        out_codes["smoker"][sl] = x.smoker
        out_codes["admission_type"][sl] = x.admission
        days[sl] = x.days
        true_risk[sl] = risk
        clean[sl] = y_clean
        flipped[sl] = flip

    ids = np.arange(1, n + 1, dtype=np.int64)
    if is_batch:
        ids += BATCH_ID_OFFSET + int(seed) * MAX_BATCH_ROWS
    period_start = BATCH_START if is_batch else TRAIN_START
    dates = (period_start + days.astype("timedelta64[D]")).astype("datetime64[us]")

    def cat(codes: np.ndarray, levels: tuple[str, ...]) -> pd.Categorical[str]:
        return pd.Categorical.from_codes(codes, categories=pd.Index(list(levels)))

    label = (clean ^ flipped).astype(np.int8)
    data = pd.DataFrame(
        {
            ID_COLUMN: ids,
            GROUP_COLUMN: cat(out_codes["site"], SITES),
            TIME_COLUMN: dates,
            "age": out_f32["age"],
            "bmi": out_f32["bmi"],
            "systolic_bp": out_f32["systolic_bp"],
            "creatinine": out_f32["creatinine"],
            "hba1c": out_f32["hba1c"],
            "prior_admissions": out_i16["prior_admissions"],
            "length_of_stay": out_i16["length_of_stay"],
            "sex": cat(out_codes["sex"], SEX_LEVELS),
            "insurance": cat(out_codes["insurance"], INSURANCE_LEVELS),
            "smoker": cat(out_codes["smoker"], SMOKER_LEVELS),
            "admission_type": cat(out_codes["admission_type"], ADMISSION_LEVELS),
            TARGET: label,
        },
        copy=False,
    )
    truth = pd.DataFrame(
        {
            ID_COLUMN: ids,
            "true_risk": true_risk,
            "label_flipped": flipped,
            "clean_label": clean,
            "weak_signal_subgroup": out_codes["insurance"]
            == INSURANCE_LEVELS.index(WEAK_SIGNAL_LEVEL),
        },
        copy=False,
    )
    return data, truth


def generate(
    n: int = 20000, seed: int = 0, label_noise: float = 0.05, prevalence: float = 0.2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate the synthetic_clinical training data and its ground truth.

    Args:
        n: Number of patients (rows).
        seed: Random seed; the same ``(n, seed, label_noise, prevalence)`` gives the same frames.
        label_noise: Probability that a row's label is flipped (symmetric noise), in [0, 0.5).
        prevalence: Expected share of *clean* positive labels (mean true risk). The observed label
            prevalence is ``prevalence * (1 - 2 * label_noise) + label_noise``.

    Returns:
        ``(data, truth)``: ``data`` has the id, site, admission_date, features and the target
        ``readmitted`` (0/1); ``truth`` has ``patient_id``, ``true_risk``, ``label_flipped``,
        ``clean_label`` and ``weak_signal_subgroup``, row-aligned with ``data``.
    """
    return _generate(n, seed, _STREAM_TRAIN, label_noise, prevalence)


def generate_batch(
    n: int,
    seed: int,
    covariate_shift: float = 0.0,
    prior_shift: float = 0.0,
    concept_shift: float = 0.0,
    *,
    label_noise: float = 0.05,
    prevalence: float = 0.2,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate a "production" batch (admissions in 2024-Q1) with optional drift.

    Ids are ``10**12 + seed * 10**9 + row`` and never collide with training ids (1..n).

    Args:
        n: Number of rows (at most 10**9).
        seed: Random seed of the batch (independent of the training stream for the same number).
        covariate_shift: Moves the generating means of age, bmi and log-creatinine by this many
            standard deviations and a share ``0.15 * covariate_shift`` of admissions from elective
            to emergency; features that depend on age or bmi follow. P(y | x) is unchanged.
        prior_shift: Added to the intercept of the true logit (log-odds), changing prevalence only.
        concept_shift: Moves the coefficients toward ``CONCEPT_DRIFT_COEFFICIENTS`` (1 = fully
            drifted); the intercept is re-solved so prevalence stays near ``prevalence``; X is
            unchanged.
        label_noise: Share of flipped labels, as in :func:`generate`.
        prevalence: Clean-label prevalence of the reference model, as in :func:`generate`.

    Returns:
        ``(data, truth)``: Same columns as :func:`generate`.
    """
    return _generate(
        n,
        seed,
        _STREAM_BATCH,
        label_noise,
        prevalence,
        covariate_shift=float(covariate_shift),
        prior_shift=float(prior_shift),
        concept_shift=float(concept_shift),
    )
