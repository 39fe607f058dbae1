"""The rules the deploy gate and the error-analysis report share: one verdict, one set of words.

Pure functions, no I/O. ``deploy.gate`` decides with them and ``report`` words its findings and
next actions with them, so the log, ``decision.md`` and ``report.md`` never disagree.

**Comparisons** (``baselines`` and ``champion`` in ``conf/deploy/default.yaml``). The estimate
is the paired DeLong AUC difference ``model - reference`` on the same test rows
(``metrics.compare.paired_delong``) with its two-sided interval ``[lo, hi]`` at level
``1 - evaluate.alpha``. With a margin ``m >= 0`` the interval reads:

===============================  =====================================================
words                            when
===============================  =====================================================
"better than"                    ``lo > +m``: clearly higher, by more than the margin
"not worse than"                 ``-m < lo <= +m``: any loss is smaller than the margin
"worse than"                     ``hi < 0`` (and ``lo <= -m``): clearly lower
"no clear difference from"       otherwise: the interval allows a loss above the margin
"cannot be compared with"        no interval (e.g. constant predictions)
===============================  =====================================================

Rule ``superiority`` passes on "better than" only; ``non_inferiority`` on "better than" or
"not worse than"; ``none`` reports and never blocks. Judging the lower bound of a two-sided
95% interval is a one-sided test at 2.5%, the usual level of a non-inferiority trial.

**Charter criteria** (``deploy.judge_on``): on the estimate (``point``) or on the interval's
unfavourable bound (``lower_bound``: the lower bound against a ``min``, the upper one against a
``max``); the words say which.

**Bias flags**: :func:`bias_flags` is the one reader of the evaluation's fairness section;
:func:`bias_verdicts` says, per audited attribute, whether a flag blocks the gate (the
charter's ``bias_flags_block``) and where the gap's interval lies against the tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.config import shipped_group
from ..core.errors import ConfigError
from .charter import bias_flag_blocks

if TYPE_CHECKING:
    from ..core.settings import DeploySettings

RULES = ("superiority", "non_inferiority", "none")
# The level of hand-made evaluations that do not record theirs (``evaluate_binary`` always does).
DEFAULT_ALPHA = 0.05

PHRASES = {
    "better": "better than",
    "not_worse": "not worse than",
    "worse_within_margin": "worse, but within the margin, than",
    "worse": "worse than",
    "no_clear_difference": "no clear difference from",
    "undefined": "cannot be compared with",
}
VERBS = {"no_clear_difference": "shows", "undefined": ""}  # "The model <verb> <words>"
PASSING = {
    "superiority": ("better",),
    "non_inferiority": ("better", "not_worse", "worse_within_margin"),
}


def signed(value: float | None) -> str:
    """``+0.012``, or "undefined" for a statistic that could not be computed."""
    return "undefined" if value is None else f"{value:+.3f}"


def _level(alpha: float) -> str:
    """``95%`` from ``alpha = 0.05``."""
    return f"{1 - alpha:.0%}"


def evaluation_alpha(evaluation: dict[str, Any]) -> float:
    """The miss rate of the evaluation's intervals (``evaluate.alpha``)."""
    return float((evaluation.get("settings") or {}).get("alpha", DEFAULT_ALPHA))


@dataclass(frozen=True)
class Rule:
    """How a comparison is judged: ``superiority``, ``non_inferiority`` or ``none``."""

    name: str
    margin: float

    def requirement(self, alpha: float = DEFAULT_ALPHA) -> str:
        """What the rule asks of the interval, in words."""
        if self.name == "none":
            return "rule none: reported, never blocks"
        bound = self.margin if self.name == "superiority" else -self.margin
        return f"rule {self.name}: lower bound of the {_level(alpha)} interval above {bound:+g}"


def deploy_settings(deploy: DeploySettings | Mapping[str, Any] | None) -> DeploySettings:
    """The typed ``deploy`` settings: as given, or a mapping merged over the shipped group.

    Stages pass :class:`~..core.settings.DeploySettings`. A complete mapping (``params.yaml``'s
    group) is validated as it is; a partial one, or None, is read over
    ``conf/deploy/default.yaml``, the one place the defaults are written, key by key.

    Raises:
        ConfigError: a key the schema does not know or a bad value (an unknown rule, a
            negative margin), naming the key.
    """
    from pydantic import ValidationError

    from ..core.settings import DeploySettings

    if isinstance(deploy, DeploySettings):
        return deploy
    given = dict(deploy or {})
    required = {k for k, f in DeploySettings.model_fields.items() if f.is_required()}
    merged = given if required <= set(given) else _merged(shipped_group("deploy"), given)
    try:
        return DeploySettings.model_validate(merged)
    except ValidationError as error:
        problems = "; ".join(
            f"config key 'deploy.{'.'.join(map(str, e['loc']))}' is {e.get('input')!r}: {e['msg']}"
            for e in error.errors())
        raise ConfigError(f"{problems} (set it in conf/deploy/).") from None


def _merged(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def baseline_rule(deploy: DeploySettings | Mapping[str, Any] | None, baseline: str) -> Rule:
    """The rule for one baseline: ``deploy.baselines.per_baseline.<name>`` over the group's.

    Args:
        deploy: the ``deploy`` settings (:func:`deploy_settings`).
        baseline: the baseline's name (``prior``, ``logistic``, ``legacy``).

    Returns:
        The baseline's own rule and margin; a key its entry leaves out (None) is the group's.
    """
    group = deploy_settings(deploy).baselines
    own = group.per_baseline.get(baseline)  # type: ignore[call-overload]
    if own is None:
        return Rule(group.rule, group.margin)
    return Rule(own.rule or group.rule, group.margin if own.margin is None else own.margin)


def champion_rule(deploy: DeploySettings | Mapping[str, Any] | None) -> Rule:
    """The rule for the challenger against the current champion (``deploy.champion``)."""
    champion = deploy_settings(deploy).champion
    return Rule(champion.rule, champion.margin)


def classify(diff: dict[str, Any], margin: float) -> str:
    """Where an AUC difference's interval lies against 0 and the margin (module docstring).

    A bound equal to the margin (or to 0) is not beyond it: ``better`` needs ``lo > +m``,
    ``not_worse`` ``lo > -m``, ``worse`` ``hi < 0``.

    Args:
        diff: ``{estimate, lo, hi}`` of ``model - reference`` (higher favours the model).
        margin: the margin ``m >= 0``.

    Returns:
        ``better``, ``not_worse``, ``worse_within_margin`` (the whole interval below 0 but above
        ``-m``: non-inferior, and still said to be worse), ``worse``, ``no_clear_difference``
        or ``undefined`` (no interval).
    """
    lo, hi = diff.get("lo"), diff.get("hi")
    if diff.get("estimate") is None or lo is None or hi is None:
        return "undefined"
    if lo > margin:
        return "better"
    if lo > -margin:
        return "worse_within_margin" if hi < 0 else "not_worse"
    if hi < 0:
        return "worse"
    return "no_clear_difference"


@dataclass(frozen=True)
class Verdict:
    """A comparison judged: its outcome, whether the rule passes it, and the words."""

    outcome: str
    passed: bool
    words: str        # "not worse than baseline `logistic` (AUC difference ..., margin 0.01)"
    requirement: str  # "rule non_inferiority: lower bound of the 95% interval above -0.01"
    rule: Rule

    @property
    def status(self) -> str:
        """``PASS``/``FAIL`` for the gate; ``NOTE`` under rule ``none``."""
        if self.rule.name == "none":
            return "NOTE"
        return "PASS" if self.passed else "FAIL"

    def line(self) -> str:
        """The gate's line: status, words, requirement."""
        return f"{self.status} {self.words}; {self.requirement}"

    def sentence(self, subject: str = "The model") -> str:
        """The words as a sentence's start, e.g. "The model is not worse than ..."."""
        verb = VERBS.get(self.outcome, "is")
        return f"{subject} {verb} {self.words}".replace("  ", " ")


def judge(diff: dict[str, Any], rule: Rule, reference: str,
          alpha: float = DEFAULT_ALPHA) -> Verdict:
    """Judge an AUC difference with its interval by a rule.

    Args:
        diff: ``{estimate, lo, hi}`` of ``model - reference``.
        rule: the rule (:func:`baseline_rule`, :func:`champion_rule`).
        reference: how to name the reference, e.g. ``baseline `logistic``` or ``champion v3``.
        alpha: the interval's miss rate (its level is said in the requirement).
    """
    outcome = classify(diff, rule.margin)
    passed = rule.name == "none" or outcome in PASSING[rule.name]
    words = (f"{PHRASES[outcome]} {reference} (AUC difference {signed(diff.get('estimate'))} "
             f"[{signed(diff.get('lo'))}, {signed(diff.get('hi'))}], margin {rule.margin:g})")
    return Verdict(outcome, passed, words, rule.requirement(alpha), rule)


def baseline_verdicts(evaluation: dict[str, Any],
                      deploy: DeploySettings | Mapping[str, Any] | None) -> dict[str, Verdict]:
    """Every baseline comparison of the evaluation judged by its rule.

    Args:
        evaluation: the evaluation (its ``comparisons`` and ``settings.alpha``).
        deploy: the ``deploy`` settings (:func:`deploy_settings`).

    Returns:
        Baseline name -> its :class:`Verdict`, in the evaluation's order.
    """
    alpha = evaluation_alpha(evaluation)
    deploy = deploy_settings(deploy)
    return {
        name: judge(comparison["auc_difference"], baseline_rule(deploy, name),
                    f"baseline `{name}`", alpha)
        for name, comparison in (evaluation.get("comparisons") or {}).items()
    }


def champion_verdict(champion: dict[str, Any],
                     deploy: DeploySettings | Mapping[str, Any] | None,
                     alpha: float = DEFAULT_ALPHA) -> Verdict:
    """The challenger against the champion judged by ``deploy.champion``.

    Args:
        champion: ``gate.champion_comparison``'s result (``version``, ``auc_difference``).
        deploy: the ``deploy`` settings (:func:`deploy_settings`).
        alpha: the interval's miss rate.
    """
    return judge(champion["auc_difference"], champion_rule(deploy),
                 f"champion v{champion['version']}", alpha)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def criterion_check(criterion: dict[str, Any], judge_on: str = "point",
                    constant: bool = False) -> tuple[bool, str]:
    """A judged charter criterion (``evaluate.judge_criteria``): passed, and its value in words.

    ``point``: "0.668 (estimate; interval [0.648, 0.688])". ``lower_bound``: "lower bound 0.648
    (estimate 0.668)" against a ``min``, "upper bound ..." against a ``max``, "interval [a, b]"
    against both; a metric without an interval is judged on its estimate, and says so.

    Args:
        criterion: ``{rule, estimate, lo, hi, met, met_on_bound}``.
        judge_on: ``point`` or ``lower_bound`` (``deploy.judge_on``).
        constant: the model predicts a constant (an undefined value is said so).
    """
    on_bound = judge_on == "lower_bound"
    ok = bool(criterion["met_on_bound"] if on_bound else criterion["met"])
    estimate, lo, hi = criterion["estimate"], criterion.get("lo"), criterion.get("hi")
    if estimate is None:
        return ok, "undefined (constant predictions)" if constant else "not computable"
    if lo is None or hi is None:
        return ok, f"{estimate:.3f} (estimate; no interval)"
    if not on_bound:
        return ok, f"{estimate:.3f} (estimate; interval [{lo:.3f}, {hi:.3f}])"
    has_min, has_max = criterion.get("min") is not None, criterion.get("max") is not None
    if has_min == has_max:  # both bounds (or, in an older evaluation, bounds not recorded)
        return ok, f"interval [{lo:.3f}, {hi:.3f}] (estimate {estimate:.3f})"
    if has_max:
        return ok, f"upper bound {hi:.3f} (estimate {estimate:.3f})"
    return ok, f"lower bound {lo:.3f} (estimate {estimate:.3f})"


GAP_LABELS = {
    "equalized_odds_difference": "equalized-odds difference",
    "demographic_parity_difference": "demographic-parity difference",
    "tpr_difference": "TPR difference",
    "fpr_difference": "FPR difference",
}


def bias_flags(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """The bias audit of every sensitive attribute, read from the evaluation's fairness section.

    The one place that knows the section's keys (``metrics.fairness.fairness_gaps``).

    Returns:
        One dict per attribute: ``attribute``, ``flagged``, ``tolerance``, ``judged`` (whether
        at least two groups were large enough to judge), ``min_group_size``, ``small_groups``,
        and ``gaps``: every gap judged against the tolerance, ``{name, label, estimate, lo,
        hi, exceeds}``, the numbers of the large-enough groups the flag is based on.
    """
    out = []
    for attribute, fairness in (evaluation.get("fairness") or {}).items():
        judged_numbers = fairness.get("large_groups") or {}
        gaps = []
        for name, label in GAP_LABELS.items():
            entry = fairness.get(name)
            if not isinstance(entry, dict):
                continue
            numbers = judged_numbers.get(name) or entry
            gaps.append({"name": name, "label": label, "estimate": numbers.get("estimate"),
                         "lo": numbers.get("lo"), "hi": numbers.get("hi"),
                         "exceeds": bool(entry.get("exceeds_tolerance"))})
        out.append({
            "attribute": attribute, "flagged": bool(fairness.get("flagged")),
            "tolerance": fairness.get("tolerance"),
            "judged": bool(fairness.get("reportable", True)),
            "min_group_size": fairness.get("min_group_size"),
            "small_groups": list(fairness.get("small_groups") or []), "gaps": gaps,
        })
    return out


def _gap(gap: dict[str, Any], digits: int = 2) -> str:
    text = f"{gap['label']} " + ("-" if gap["estimate"] is None else
                                 f"{gap['estimate']:.{digits}f}")
    if gap["lo"] is not None and gap["hi"] is not None:
        text += f" [{gap['lo']:.{digits}f}, {gap['hi']:.{digits}f}]"
    return text


def _against_tolerance(gap: dict[str, Any], tolerance: float) -> str:
    if gap["lo"] is None:
        return "no interval"
    if gap["lo"] > tolerance:
        return "its whole interval is above the tolerance"
    return "its interval reaches below the tolerance, so the gap may be within it"


@dataclass(frozen=True)
class BiasVerdict:
    """One attribute's bias audit as the gate reads it."""

    attribute: str
    flagged: bool
    blocks: bool
    judged: bool  # False: fewer than two groups were large enough to judge
    words: str    # the finding, e.g. "bias audit flags `insurance`: equalized-odds ..."
    why: str      # e.g. "blocks: the charter's `bias_flags_block` is true for `insurance`"

    @property
    def status(self) -> str:
        """``FAIL`` (a flag that blocks), ``WARN`` (a flag that does not, or not judged), PASS."""
        if self.flagged:
            return "FAIL" if self.blocks else "WARN"
        return "PASS" if self.judged else "WARN"

    def line(self) -> str:
        """The gate's line."""
        return f"{self.status} {self.words}; {self.why}"

    def as_dict(self) -> dict[str, Any]:
        """For ``decision.json``."""
        return {"attribute": self.attribute, "flagged": self.flagged, "blocks": self.blocks,
                "judged": self.judged, "status": self.status, "words": self.words,
                "why": self.why}


def _small_groups(flag: dict[str, Any]) -> str:
    if not flag["small_groups"]:
        return ""
    return (f"; groups under {flag['min_group_size']} rows are reported, not judged: "
            + ", ".join(f"`{g}`" for g in flag["small_groups"]))


def flagged_verdict(flag: dict[str, Any], blocks_setting: bool) -> BiasVerdict:
    """A flagged attribute: it blocks if the charter says so and the evidence is certain.

    The estimate raises the flag; only a flagged gap whose whole interval lies above the
    tolerance is evidence enough to block a deployment.

    Args:
        flag: one attribute of :func:`bias_flags`, flagged.
        blocks_setting: the charter's ``bias_flags_block`` for the attribute.
    """
    attribute, tolerance = flag["attribute"], flag["tolerance"] or 0.0
    setting = _block_setting(attribute, blocks_setting)
    over = [g for g in flag["gaps"] if g["exceeds"]]
    if any(g["name"] == "equalized_odds_difference" for g in over):
        # the TPR and FPR gaps are its parts: said once, by the larger of them
        over = [g for g in over if g["name"] not in ("tpr_difference", "fpr_difference")]
    words = (f"bias audit flags `{attribute}`: " + "; ".join(
        f"{_gap(g)} above the tolerance {tolerance:g} ({_against_tolerance(g, tolerance)})"
        for g in over) + _small_groups(flag))
    certain = any(g["lo"] is not None and g["lo"] > tolerance for g in over)
    blocks = blocks_setting and certain
    if blocks:
        why = f"blocks: {setting}"
    elif blocks_setting:
        why = (f"does not block: {setting}, but no flagged gap's interval lies wholly "
               "above the tolerance (reported; collect more rows to settle it)")
    else:
        why = f"does not block: {setting} (reported only)"
    return BiasVerdict(attribute, True, blocks, True, words, why)


def not_judged_verdict(flag: dict[str, Any]) -> BiasVerdict:
    """An attribute with fewer than two groups large enough to judge: reported, not judged."""
    attribute = flag["attribute"]
    return BiasVerdict(
        attribute, False, False, False, f"bias audit `{attribute}`{_small_groups(flag)}",
        f"not judged: fewer than two groups have {flag['min_group_size']} rows or more")


def unflagged_verdict(flag: dict[str, Any], blocks_setting: bool) -> BiasVerdict:
    """An attribute judged and not flagged: its largest gap, and whether a flag would block."""
    attribute, tolerance = flag["attribute"], flag["tolerance"] or 0.0
    setting = _block_setting(attribute, blocks_setting)
    largest = next((g for g in flag["gaps"] if g["name"] == "equalized_odds_difference"), None)
    shown = f" ({_gap(largest)})" if largest else ""
    return BiasVerdict(
        attribute, False, False, True,
        f"bias audit `{attribute}`: no gap above the tolerance {tolerance:g}{shown}"
        f"{_small_groups(flag)}",
        f"a flag would block: {setting}" if blocks_setting else
        f"a flag would not block: {setting}")


def _block_setting(attribute: str, blocks: bool) -> str:
    return f"the charter's `bias_flags_block` is {str(blocks).lower()} for `{attribute}`"


def bias_verdicts(evaluation: dict[str, Any],
                  charter: dict[str, Any] | None = None) -> list[BiasVerdict]:
    """Per audited attribute: the flag, whether it blocks the gate, and why.

    Args:
        evaluation: the evaluation (its fairness section, via :func:`bias_flags`).
        charter: the validated charter (``bias_flags_block``); None, or a charter without the
            key: the setting the evaluate stage recorded from it
            (``evaluation["bias_flags_block"]``), else the default (a flag blocks).

    Returns:
        One verdict per attribute (:func:`flagged_verdict`, :func:`not_judged_verdict`,
        :func:`unflagged_verdict`), in the evaluation's order.
    """
    if charter is None or "bias_flags_block" not in charter:
        charter = ({"bias_flags_block": evaluation["bias_flags_block"]}
                   if "bias_flags_block" in evaluation else {})
    verdicts = []
    for flag in bias_flags(evaluation):
        blocks_setting = bias_flag_blocks(charter or {}, flag["attribute"])
        if flag["flagged"]:
            verdicts.append(flagged_verdict(flag, blocks_setting))
        elif not flag["judged"]:
            verdicts.append(not_judged_verdict(flag))
        else:
            verdicts.append(unflagged_verdict(flag, blocks_setting))
    return verdicts
