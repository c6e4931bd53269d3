"""Pictures of a stream-of-variation attribution: the LMG shares of R² with the coefficients'
significance, and the one-way ANOVA group means."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from jingce.charts.positioning import save
from jingce.kernels.variation import AnovaResult, Attribution

__all__ = ["plot_anova", "plot_attribution"]


def plot_attribution(result: Attribution, path: str) -> None:
    """Horizontal bars of each predictor's LMG share of R² (largest first), labelled with its
    coefficient ± standard error and p value."""
    fig = Figure(figsize=(8, 0.5 * len(result.order) + 1.6), layout="constrained")
    ax = fig.subplots()
    order = np.asarray(result.order)
    shares = np.asarray(result.importance.shares)[order]
    fit = result.fit
    labels = [f"x{j + 1}" for j in order]
    y = np.arange(order.size)
    ax.barh(y, 100 * shares, color="#1f6fd1")
    for k, j in enumerate(order):
        ax.text(100 * shares[k], k, f"  b={fit.coefficients[j + 1]:.4g}±{fit.standard_errors[j + 1]:.2g}, "
                f"p={fit.p_values[j + 1]:.2g}", va="center", fontsize=8)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("share of the variation (LMG share of R², %)")
    ax.set_xlim(0, max(100 * float(np.nanmax(shares, initial=0.0)) * 1.6, 1.0))
    ax.set_title(f"Stream of variation: R²={fit.r_squared:.3g} (adj. {fit.adjusted_r_squared:.3g}), n={fit.n}",
                 fontsize=10)
    save(fig, path)


def plot_anova(result: AnovaResult, path: str) -> None:
    """Group means with their counts, and eta² / F / p in the title."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    x = np.arange(result.levels.size)
    ax.bar(x, result.means, color="#9ecae1")
    for k, n in enumerate(result.counts):
        ax.text(k, result.means[k], f"n={n}", ha="center", va="bottom", fontsize=8)
    lo, hi = float(np.min(result.means)), float(np.max(result.means))
    pad = (hi - lo) * 0.5 + result.residual_sd
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xticks(x, [str(v) for v in result.levels])
    ax.set_ylabel("group mean")
    ax.set_title(f"One-way ANOVA: eta²={result.eta_squared:.3g}, F={result.f_statistic:.3g}, p={result.p_value:.2g}",
                 fontsize=10)
    save(fig, path)
