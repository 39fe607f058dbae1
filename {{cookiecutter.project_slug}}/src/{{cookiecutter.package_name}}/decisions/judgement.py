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

from dataclasses import dataclass
from typing import Any

from ..core.errors import ConfigError
from .charter import bias_flag_blocks

RULES = ("superiority", "non_inferiority", "none")
# The documented defaults of conf/deploy/default.yaml (a test keeps the two equal); used when a
# configuration predates the keys.
DEFAULT_BASELINES: dict[str, Any] = {
    "rule": "non_inferiority", "margin": 0.01,
    "per_baseline": {"prior": {"rule": "superiority", "margin": 0.0}},
}
DEFAULT_CHAMPION: dict[str, Any] = {"rule": "non_inferiority", "margin": 0.01}
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


def rule_from(section: dict[str, Any] | None, where: str, default: dict[str, Any]) -> Rule:
    """A validated :class:`Rule` from a config mapping ``{rule, margin}``.

    Args:
        section: the mapping (missing keys take ``default``'s).
        where: the key's path, for error messages (e.g. ``deploy.champion``).
        default: the documented default mapping.

    Raises:
        ConfigError: an unknown rule or a negative or non-numeric margin.
    """
    section = section or {}
    name = section.get("rule", default["rule"])
    margin = section.get("margin", default["margin"])
    if name not in RULES:
        raise ConfigError(f"config key '{where}.rule' is {name!r}; allowed: {', '.join(RULES)} "
                          "(set it in conf/deploy/).")
    if isinstance(margin, bool) or not isinstance(margin, int | float) or margin < 0:
        raise ConfigError(f"config key '{where}.margin' is {margin!r}: give a number >= 0, the "
                          "largest AUC difference the rule treats as no difference "
                          "(set it in conf/deploy/).")
    return Rule(str(name), float(margin))


def baseline_rule(deploy_cfg: dict[str, Any] | None, baseline: str) -> Rule:
    """The rule for one baseline: ``deploy.baselines.per_baseline.<name>`` over the group's."""
    deploy_cfg = deploy_cfg.model_dump(exclude_none=True) if hasattr(deploy_cfg, "model_dump") else deploy_cfg  # noqa: E501 - typed settings until judgement reads them
    section = (deploy_cfg or {}).get("baselines")
    section = DEFAULT_BASELINES if section is None else section
    general = rule_from(section, "deploy.baselines", DEFAULT_BASELINES)
    own = (section.get("per_baseline") or {}).get(baseline)
    if own is None:
        return general
    return rule_from(own, f"deploy.baselines.per_baseline.{baseline}",
                     {"rule": general.name, "margin": general.margin})


def champion_rule(deploy_cfg: dict[str, Any] | None) -> Rule:
    """The rule for the challenger against the current champion (``deploy.champion``)."""
    deploy_cfg = deploy_cfg.model_dump(exclude_none=True) if hasattr(deploy_cfg, "model_dump") else deploy_cfg  # noqa: E501 - typed settings until judgement reads them
    return rule_from((deploy_cfg or {}).get("champion"), "deploy.champion", DEFAULT_CHAMPION)


def classify(diff: dict[str, Any], margin: float) -> str:
    """``better``, ``not_worse``, ``worse_within_margin`` (the whole interval below 0 but above
    the margin: non-inferior, and still said to be worse), ``worse``, ``no_clear_difference`` or
    ``undefined``.

    Args:
        diff: ``{estimate, lo, hi}`` of ``model - reference`` (higher favours the model).
        margin: the margin ``m >= 0`` (module docstring).
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
                      deploy_cfg: dict[str, Any] | None) -> dict[str, Verdict]:
    """Every baseline comparison of the evaluation judged by its rule, by baseline name."""
    alpha = evaluation_alpha(evaluation)
    return {
        name: judge(comparison["auc_difference"], baseline_rule(deploy_cfg, name),
                    f"baseline `{name}`", alpha)
        for name, comparison in (evaluation.get("comparisons") or {}).items()
    }


def champion_verdict(champion: dict[str, Any], deploy_cfg: dict[str, Any] | None,
                     alpha: float = DEFAULT_ALPHA) -> Verdict:
    """The challenger against the champion (``deploy.champion_comparison``) judged."""
    return judge(champion["auc_difference"], champion_rule(deploy_cfg),
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


def bias_verdicts(evaluation: dict[str, Any],
                  charter: dict[str, Any] | None = None) -> list[BiasVerdict]:
    """Per audited attribute: the flag, whether it blocks the gate, and why.

    Args:
        evaluation: the evaluation (its fairness section, via :func:`bias_flags`).
        charter: the validated charter (``bias_flags_block``); None, or a charter without the
            key: the setting the evaluate stage recorded from it
            (``evaluation["bias_flags_block"]``), else the default (a flag blocks).
    """
    if charter is None or "bias_flags_block" not in charter:
        charter = ({"bias_flags_block": evaluation["bias_flags_block"]}
                   if "bias_flags_block" in evaluation else {})
    verdicts = []
    for flag in bias_flags(evaluation):
        attribute, tolerance = flag["attribute"], flag["tolerance"] or 0.0
        small = ""
        if flag["small_groups"]:
            small = (f"; groups under {flag['min_group_size']} rows are reported, not judged: "
                     + ", ".join(f"`{g}`" for g in flag["small_groups"]))
        blocks_setting = bias_flag_blocks(charter or {}, attribute)
        setting = (f"the charter's `bias_flags_block` is {str(blocks_setting).lower()} for "
                   f"`{attribute}`")
        if flag["flagged"]:
            over = [g for g in flag["gaps"] if g["exceeds"]]
            if any(g["name"] == "equalized_odds_difference" for g in over):
                # the TPR and FPR gaps are its parts: said once, by the larger of them
                over = [g for g in over if g["name"] not in ("tpr_difference", "fpr_difference")]
            words = (f"bias audit flags `{attribute}`: " + "; ".join(
                f"{_gap(g)} above the tolerance {tolerance:g} ({_against_tolerance(g, tolerance)})"
                for g in over) + small)
            # the estimate raises the flag; only a gap whose whole interval is above the
            # tolerance is evidence enough to block a deployment
            certain = any(g["lo"] is not None and g["lo"] > tolerance for g in over)
            blocks = blocks_setting and certain
            if blocks:
                why = f"blocks: {setting}"
            elif blocks_setting:
                why = (f"does not block: {setting}, but no flagged gap's interval lies wholly "
                       "above the tolerance (reported; collect more rows to settle it)")
            else:
                why = f"does not block: {setting} (reported only)"
            verdicts.append(BiasVerdict(attribute, True, blocks, True, words, why))
        elif not flag["judged"]:
            verdicts.append(BiasVerdict(
                attribute, False, False, False, f"bias audit `{attribute}`{small}",
                f"not judged: fewer than two groups have {flag['min_group_size']} rows or more"))
        else:
            largest = next((g for g in flag["gaps"] if g["name"] == "equalized_odds_difference"),
                           None)
            shown = f" ({_gap(largest)})" if largest else ""
            verdicts.append(BiasVerdict(
                attribute, False, False, True,
                f"bias audit `{attribute}`: no gap above the tolerance {tolerance:g}{shown}{small}",
                f"a flag would block: {setting}" if blocks_setting else
                f"a flag would not block: {setting}"))
    return verdicts
