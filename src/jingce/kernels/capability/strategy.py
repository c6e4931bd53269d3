"""Evaluation strategies: every convention of a capability / SPC evaluation as one explicit record.

Q-DAS calls the set of conventions an evaluation strategy; jingce records it with every result so
that two numbers are only compared when they were computed the same way.

Presets (as we read the named documents; where a document leaves a choice open the preset says
which choice it makes):

``"aiag"``
    AIAG SPC manual, 2nd ed. (2005): within-subgroup sigma from R-bar/d2 (MR-bar/d2 for individuals),
    tabled constants, 3-sigma limits, normal distribution, Western Electric tests as the manual
    lists them, no confidence intervals printed by default (we still compute them at 95 %).
``"vda"`` (VDA Volume 4 / ISO 22514-2)
    Time-dependent distribution model chosen from the data (ISO 22514-2:2017 clause 5), indices by
    the percentile method from the fitted distribution when the model is not A1/C1, within sigma
    from s-bar/c4, exact constants, Nelson tests, 95 % intervals.
``"bosch"`` (Robert Bosch GmbH, Booklet 7 "Statistical Process Control" and Booklet 9 "Machine and
    Process Capability", 2016)
    Control limits at the 99 % probability (k = 2.576, Booklet 7), sigma from s-bar/c4, distribution
    model chosen from the data as in ISO 22514-2, tests "beyond limits", "run of 7" and "trend of 7".

References
----------
.. [1] AIAG, Statistical Process Control (SPC) Reference Manual, 2nd ed., 2005, chapter IV.
.. [2] ISO 22514-2:2017, Statistical methods in process management - Capability and performance -
       Part 2: Process capability and performance of time-dependent process models.
.. [3] VDA Band 4, Sicherung der Qualität in der Prozesslandschaft, 2011, ch. "Prozessfähigkeit".
.. [4] Robert Bosch GmbH, Booklet No. 7 (SPC) and No. 9 (Machine and process capability), 2016.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from jingce.kernels._validation import as_float, fail, one_of

__all__ = ["PRESETS", "EvaluationStrategy", "strategy"]

SIGMA_WITHIN = ("auto", "rbar", "sbar", "pooled", "mr")
DISTRIBUTIONS = ("normal", "auto", "box-cox", "johnson", "percentile")
FAMILIES = ("best", "normal", "lognormal", "weibull", "gamma", "loglogistic", "folded_normal")


@dataclass(frozen=True, slots=True)
class EvaluationStrategy:
    """All conventions of one evaluation.

    Attributes
    ----------
    name : str
    sigma_within : {"auto", "rbar", "sbar", "pooled", "mr"}
        Within-subgroup (short-term) sigma estimator; ``auto``: MR-bar/d2 for individuals, R-bar/d2
        for subgroups of 2..9, s-bar/c4 above.
    constants : {"exact", "tabled"}
    limit_k : float
        Control limit width in standard errors (3; 2.576 for 99 % limits).
    ci_level : float
        Confidence level of the intervals (two-sided).
    cp_ci, cpk_ci : str
        ``"chi2"`` for Cp/Pp; ``"bissell"`` (normal approximation, Bissell 1990) for Cpk/Ppk.
    rules : str or tuple
        Rule set for the run rules (see :func:`jingce.kernels.spc.rule_set`).
    rule_flag : {"last", "window"}
        How a broken rule marks its window.
    distribution : {"normal", "auto", "box-cox", "johnson", "percentile"}
        ``auto`` chooses the ISO 22514-2 distribution model from the data.
    family : str
        Distribution family for the percentile method (``"best"``: the best of the candidates by the
        Anderson-Darling statistic).
    normality_alpha : float
        Significance level of the normality and stability tests.
    """

    name: str = "custom"
    sigma_within: str = "auto"
    constants: str = "exact"
    limit_k: float = 3.0
    ci_level: float = 0.95
    cp_ci: str = "chi2"
    cpk_ci: str = "bissell"
    rules: object = "nelson"
    rule_flag: str = "last"
    distribution: str = "normal"
    family: str = "best"
    normality_alpha: float = 0.05


_BOSCH_RULES = (
    {"name": "bosch_beyond", "kind": "beyond", "m": 1, "k": 1, "zone": 3.0},
    {"name": "bosch_run7", "kind": "run_same_side", "m": 7},
    {"name": "bosch_trend7", "kind": "trend", "m": 7},
)

PRESETS: dict[str, EvaluationStrategy] = {
    "aiag": EvaluationStrategy(
        name="aiag", sigma_within="auto", constants="tabled", limit_k=3.0, rules="western_electric",
        distribution="normal",
    ),
    "vda": EvaluationStrategy(
        name="vda", sigma_within="sbar", constants="exact", limit_k=3.0, rules="nelson", distribution="auto",
    ),
    "bosch": EvaluationStrategy(
        name="bosch", sigma_within="sbar", constants="exact", limit_k=2.576, rules=_BOSCH_RULES,
        distribution="auto",
    ),
    "normal": EvaluationStrategy(name="normal"),
}


def strategy(value=None, **overrides) -> EvaluationStrategy:
    """Normalise a strategy: ``None`` (the plain normal default), a preset name, a mapping or an
    :class:`EvaluationStrategy`, with field overrides (``None`` overrides are ignored)."""
    if value is None:
        base = PRESETS["normal"]
    elif isinstance(value, EvaluationStrategy):
        base = value
    elif isinstance(value, str):
        one_of(value, "strategy", tuple(PRESETS))
        base = PRESETS[value]
    elif isinstance(value, Mapping):
        known = {f.name for f in fields(EvaluationStrategy)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise fail("strategy", f"has unknown field(s) {unknown}; known: {sorted(known)}")
        preset = value.get("preset")
        base = replace(PRESETS["normal"], **dict(value))
        del preset
    else:
        raise fail("strategy", f"must be a preset name, a mapping or an EvaluationStrategy, got {type(value).__name__}")
    ov = {k: v for k, v in overrides.items() if v is not None}
    if ov:
        base = replace(base, **ov, name=base.name if base.name.endswith("*") else base.name + "*")
    one_of(base.sigma_within, "sigma_within", SIGMA_WITHIN)
    one_of(base.constants, "constants", ("exact", "tabled"))
    one_of(base.distribution, "distribution", DISTRIBUTIONS)
    one_of(base.family, "family", FAMILIES)
    one_of(base.cp_ci, "cp_ci", ("chi2",))
    one_of(base.cpk_ci, "cpk_ci", ("bissell",))
    one_of(base.rule_flag, "rule_flag", ("last", "window"))
    lvl = as_float(base.ci_level, "ci_level")
    if not 0 < lvl < 1:
        raise fail("ci_level", f"must be strictly between 0 and 1, got {lvl}")
    as_float(base.limit_k, "limit_k", positive=True)
    a = as_float(base.normality_alpha, "normality_alpha")
    if not 0 < a < 1:
        raise fail("normality_alpha", f"must be strictly between 0 and 1, got {a}")
    return base
