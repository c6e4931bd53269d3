"""Pictures of measurement system analyses: the Gage R&R six-pack, the type-1 run chart, the bias
and linearity chart, the stability chart, attribute agreement and the VDA 5 budget.

Labels are English (the machine has no CJK font). The format follows the file suffix (.png, .svg).

The six-pack follows the usual layout (AIAG MSA 4th ed., chapter III-B graphical analysis):
components of variation, R chart by appraiser, X-bar chart by appraiser, readings by part, readings
by appraiser, and the appraiser x part interaction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from jingce.errors import InvalidInputError
from jingce.kernels.msa.attribute import AttributeAgreementResult
from jingce.kernels.msa.constants import d2, d3
from jingce.kernels.msa.grr import GrrResult
from jingce.kernels.msa.linearity import LinearityResult
from jingce.kernels.msa.stability import StabilityResult
from jingce.kernels.msa.type1 import Type1Result
from jingce.kernels.msa.vda5 import MeasurementProcessCapability

__all__ = ["plot_attribute", "plot_capability", "plot_grr_sixpack", "plot_linearity", "plot_stability", "plot_type1"]

_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _save(fig: Figure, path: str) -> None:
    suffix = Path(path).suffix.lower().lstrip(".") or "png"
    if suffix not in ("png", "svg", "pdf"):
        raise InvalidInputError("the picture must be a .png, .svg or .pdf file", argument="--plot")
    fig.savefig(path, format=suffix, dpi=110, bbox_inches="tight")


def _cells(result: GrrResult) -> np.ndarray:
    """Readings as parts x appraisers x trials (a gage factor is folded into the trials)."""
    y = np.asarray(result.readings, float)
    if y.ndim == 4:
        y = y.reshape(y.shape[0], y.shape[1], -1)
    return y


def plot_grr_sixpack(result: GrrResult, path: str) -> None:
    """The Gage R&R six-pack of a crossed (or nested) study."""
    y = _cells(result)
    p, o, r = y.shape
    apps = [str(a) for a in result.appraiser_labels]
    parts = [str(x) for x in result.part_labels]
    fig = Figure(figsize=(13, 11))
    axes = fig.subplots(3, 2)
    fig.suptitle(f"Gage R&R ({result.method}, {result.design}): %GRR = {result.pct_study_variation['grr']:.1f} % "
                 f"of study variation, ndc = {result.ndc:g}", fontsize=12)

    ax = axes[0, 0]
    labels = ["Gage R&R", "Repeat", "Reprod", "Part-to-part"]
    keys = ["grr", "ev", None, "pv"]
    repro_c = result.pct_contribution["av"] + result.pct_contribution["interaction"]
    repro_sv = float(np.hypot(result.pct_study_variation["av"], result.pct_study_variation["interaction"]))
    contrib = [result.pct_contribution[k] if k else repro_c for k in keys]
    study = [result.pct_study_variation[k] if k else repro_sv for k in keys]
    series = [("% Contribution", contrib), ("% Study Var", study)]
    if result.pct_tolerance:
        tol = [result.pct_tolerance[k] if k else float(np.hypot(result.pct_tolerance["av"],
                                                                result.pct_tolerance["interaction"])) for k in keys]
        series.append(("% Tolerance", tol))
    width = 0.8 / len(series)
    xs = np.arange(len(labels))
    for i, (name, vals) in enumerate(series):
        ax.bar(xs + (i - (len(series) - 1) / 2) * width, vals, width, label=name, color=_COLORS[i])
    ax.set_xticks(xs, labels)
    ax.set_ylabel("percent")
    ax.set_title("Components of variation")
    ax.legend(fontsize=8)

    with np.errstate(invalid="ignore"):
        ranges = np.nanmax(y, axis=2) - np.nanmin(y, axis=2)
        means = np.nanmean(y, axis=2)
    n_eff = max(int(np.nanmax(np.sum(~np.isnan(y), axis=2))), 2)
    r_bar = float(np.nanmean(ranges))
    ucl_r = (1 + 3 * d3(n_eff) / d2(n_eff)) * r_bar
    lcl_r = max((1 - 3 * d3(n_eff) / d2(n_eff)) * r_bar, 0.0)
    grand = float(np.nanmean(means))
    a2 = 3.0 / (d2(n_eff) * np.sqrt(n_eff))
    for ax, stat, centre, lo, hi, title in (
        (axes[0, 1], ranges, r_bar, lcl_r, ucl_r, "R chart by appraiser"),
        (axes[1, 0], means, grand, grand - a2 * r_bar, grand + a2 * r_bar, "X-bar chart by appraiser"),
    ):
        for j in range(o):
            xs = np.arange(p) + j * p
            ax.plot(xs, stat[:, j], "o-", ms=3, color=_COLORS[j % len(_COLORS)], label=apps[j])
            if j:
                ax.axvline(j * p - 0.5, color="0.6", lw=0.8)
        ax.axhline(centre, color="green", lw=1)
        ax.axhline(hi, color="red", lw=1, ls="--")
        ax.axhline(lo, color="red", lw=1, ls="--")
        ax.set_title(title)
        ax.set_xticks([j * p + (p - 1) / 2 for j in range(o)], apps)
        ax.set_xlabel("appraiser")

    ax = axes[1, 1]
    part_idx = np.repeat(np.arange(p), o * r)
    ax.plot(part_idx, y.reshape(p, -1).ravel(), "o", ms=3, color="0.55")
    ax.plot(np.arange(p), np.nanmean(y, axis=(1, 2)), "o-", color=_COLORS[0])
    ax.set_xticks(np.arange(p), parts, fontsize=7)
    ax.set_xlabel("part")
    ax.set_title("Readings by part")

    ax = axes[2, 0]
    data = [y[:, j, :].ravel()[~np.isnan(y[:, j, :].ravel())] for j in range(o)]
    ax.boxplot(data)
    ax.set_xticks(np.arange(1, o + 1), apps)
    ax.plot(np.arange(1, o + 1), [d.mean() for d in data], "o-", color=_COLORS[0])
    ax.set_xlabel("appraiser")
    ax.set_title("Readings by appraiser")

    ax = axes[2, 1]
    if result.design == "nested":
        ax.text(0.5, 0.5, "nested design: parts differ per appraiser,\nno part x appraiser interaction",
                ha="center", va="center", transform=ax.transAxes)
    else:
        for j in range(o):
            ax.plot(np.arange(p), means[:, j], "o-", ms=3, color=_COLORS[j % len(_COLORS)], label=apps[j])
        ax.set_xticks(np.arange(p), parts, fontsize=7)
        ax.legend(fontsize=8, title="appraiser")
        ax.set_xlabel("part")
    ax.set_title(f"Part x appraiser interaction (p = {result.interaction_p:.3g})")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    _save(fig, path)


def plot_type1(result: Type1Result, path: str) -> None:
    """Run chart of a type-1 study with the reference and the +/- K/2 % of tolerance lines."""
    fig = Figure(figsize=(9, 4.5))
    ax = fig.add_subplot()
    x = np.arange(1, result.n + 1)
    ax.plot(x, result.readings, "o-", ms=3, color=_COLORS[0], label="readings")
    ax.axhline(result.reference, color="green", label=f"reference {result.reference:g}")
    ax.axhline(result.mean, color=_COLORS[1], ls=":", label=f"mean {result.mean:.6g}")
    for lim in (result.limit_low, result.limit_high):
        if np.isfinite(lim):
            ax.axhline(lim, color="red", ls="--", lw=1)
    ax.set_xlabel("reading number")
    ax.set_ylabel("value")
    ax.set_title(f"Type-1 study: Cg = {result.cg:.2f}, Cgk = {result.cgk:.2f} "
                 f"({result.percentage:g} % of T over {result.span:g} s); bias p = {result.bias_p:.3g}")
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_linearity(result: LinearityResult, path: str) -> None:
    """Bias against reference with the regression line and its confidence band (AIAG Figure III-B 13)."""
    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot()
    ax.plot(result.references, result.bias, "o", ms=3, color="0.55", label="bias of each reading")
    ax.plot(result.reference_values, result.bias_means, "s", color="red", label="average bias")
    ax.plot(result.band_x, result.intercept + result.slope * result.band_x, color=_COLORS[0],
            label=f"fit: bias = {result.intercept:.4g} + {result.slope:.4g} x")
    ax.fill_between(result.band_x, result.band_low, result.band_high, color=_COLORS[0], alpha=0.15,
                    label=f"{result.confidence:.0%} confidence band")
    ax.axhline(0, color="black", lw=1)
    ax.set_xlabel("reference value")
    ax.set_ylabel("bias")
    verdict = "acceptable" if result.linearity_acceptable else "not acceptable (bias = 0 leaves the band)"
    ax.set_title(f"Gage linearity and bias: {verdict}")
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_stability(result: StabilityResult, path: str) -> None:
    """The two panels of the stability control chart with the signalling points marked."""
    c = result.chart
    if result.chart_type == "imr":
        panels = (c.i, c.mr)
    else:
        panels = (c.xbar, c.r if result.chart_type == "xbar_r" else c.s)
    fig = Figure(figsize=(9, 6))
    axes = fig.subplots(2, 1, sharex=True)
    signals = set(result.beyond_limits.tolist()) | set(result.rule_signals.tolist())
    for ax, pan in zip(axes, panels, strict=True):
        x = np.arange(1, pan.statistic.size + 1)
        ax.plot(x, pan.statistic, "o-", ms=3, color=_COLORS[0])
        ax.plot(x, pan.center, color="green", lw=1)
        ax.plot(x, pan.ucl, color="red", ls="--", lw=1)
        if np.any(np.isfinite(pan.lcl)):
            ax.plot(x, pan.lcl, color="red", ls="--", lw=1)
        bad = sorted(i for i in signals if i < pan.statistic.size)
        ax.plot(np.array(bad) + 1, pan.statistic[bad], "o", color="red", ms=6, mfc="none")
        ax.set_ylabel(pan.name)
    axes[-1].set_xlabel("subgroup (time order)")
    title = "Stability: " + ("stable" if result.stable else f"{len(signals)} signal(s)")
    if result.bias is not None:
        title += f"; bias {result.bias.bias:.4g} (p = {result.bias.p:.3g})"
    axes[0].set_title(title)
    _save(fig, path)


def plot_attribute(result: AttributeAgreementResult, path: str) -> None:
    """Agreement percentages with their exact intervals, within appraisers and against the standard."""
    fig = Figure(figsize=(9, 4.5))
    axes = fig.subplots(1, 2 if result.each_vs_standard else 1, squeeze=False)[0]
    sets = [("Within appraisers", result.within_appraiser)]
    if result.each_vs_standard:
        sets.append(("Appraiser vs standard", result.each_vs_standard))
    for ax, (title, rates) in zip(axes, sets, strict=True):
        names = list(rates)
        pct = np.array([rates[n].pct for n in names])
        lo = np.array([rates[n].ci[0] for n in names])
        hi = np.array([rates[n].ci[1] for n in names])
        xs = np.arange(len(names))
        ax.errorbar(xs, pct, yerr=[pct - lo, hi - pct], fmt="o", capsize=4, color=_COLORS[0])
        ax.set_xticks(xs, [str(n) for n in names])
        ax.set_ylim(0, 105)
        ax.set_ylabel("percent matched")
        ax.set_title(f"{title} ({result.confidence:.0%} CI)")
    _save(fig, path)


def plot_capability(result: MeasurementProcessCapability, path: str) -> None:
    """Uncertainty budgets of the measuring system and of the measurement process (VDA 5)."""
    fig = Figure(figsize=(10, 4.5))
    axes = fig.subplots(1, 2)
    for ax, budget, title in ((axes[0], result.budget_ms, f"MS: Q_MS = {result.q_ms:.1f} %"),
                              (axes[1], result.budget_mp, f"MP: Q_MP = {result.q_mp:.1f} %")):
        names = [b.component for b in budget]
        ax.barh(np.arange(len(names)), [b.contribution_pct for b in budget], color=_COLORS[0])
        ax.set_yticks(np.arange(len(names)), names)
        ax.set_xlabel("share of u^2 (percent)")
        ax.set_title(title)
    fig.suptitle(f"Measurement process capability: {result.verdict}")
    _save(fig, path)
