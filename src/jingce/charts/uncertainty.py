"""Pictures of uncertainty evaluations: Monte Carlo histogram with the GUM Gaussian and coverage
intervals, and the uncertainty budget as bars (labels in English: the machine has no CJK font)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from jingce.kernels.uncertainty import GumResult, MonteCarloResult

__all__ = ["plot_monte_carlo", "plot_budget"]


def _save(fig: Figure, path: str) -> None:
    suffix = Path(path).suffix.lower().lstrip(".") or "png"
    if suffix not in ("png", "svg", "pdf"):
        from jingce.errors import InvalidInputError

        raise InvalidInputError("the picture must be a .png, .svg or .pdf file", argument="--plot")
    fig.savefig(path, format=suffix, dpi=120, bbox_inches="tight")


def _first(v: Any) -> float:
    return float(np.atleast_1d(v)[0])


def plot_monte_carlo(mc: MonteCarloResult, path: str, gum: GumResult | None = None, unit: str = "") -> None:
    """Histogram (density) of the first output's Monte Carlo values, the Gaussian ``N(y, u_c^2)`` of
    the GUM framework, and both coverage intervals (JCGM 101 figures of clause 9)."""
    edges = np.asarray(mc.histogram_edges, float)
    counts = np.asarray(mc.histogram_counts, float)
    widths = np.diff(edges)
    density = counts / (mc.trials * widths)
    fig = Figure(figsize=(7.5, 4.5))
    ax = fig.add_subplot()
    ax.bar(edges[:-1], density, width=widths, align="edge", color="#9ecae1", edgecolor="none",
           label=f"Monte Carlo ({mc.trials:,} trials)")
    lo, hi = _first(mc.shortest_low), _first(mc.shortest_high)
    ax.axvline(lo, color="#08519c", lw=1.5, label=f"MC shortest {mc.coverage_probability:.0%} interval")
    ax.axvline(hi, color="#08519c", lw=1.5)
    if gum is not None:
        y, u = _first(gum.y), _first(gum.u)
        xs = np.linspace(edges[0], edges[-1], 400)
        ax.plot(xs, np.exp(-0.5 * ((xs - y) / u) ** 2) / (u * np.sqrt(2 * np.pi)), color="#d94801", lw=1.5,
                label="GUM: N(y, u_c^2)")
        ax.axvline(_first(gum.interval_low), color="#d94801", ls="--", lw=1.2, label="GUM y -/+ U")
        ax.axvline(_first(gum.interval_high), color="#d94801", ls="--", lw=1.2)
    name = mc.output_names[0]
    ax.set_xlabel(f"{name}" + (f" / {unit}" if unit else ""))
    ax.set_ylabel("probability density")
    ax.set_title(f"Propagation of distributions (JCGM 101): {name}")
    ax.legend(fontsize=8, loc="upper right")
    _save(fig, path)


def plot_budget(result: GumResult, path: str, output: int = 0, unit: str = "") -> None:
    """Bars of ``|c_i u(x_i)|`` for each input with its share of ``u_c^2`` (GUM budget)."""
    multi = len(result.output_names) > 1
    contrib = np.abs(np.asarray(result.contribution[output] if multi else result.contribution, float))
    index = np.asarray(result.index[output] if multi else result.index, float)
    if contrib.ndim != 1:
        from jingce.errors import InvalidInputError

        raise InvalidInputError("a budget chart needs scalar inputs (not the bulk form)", argument="--plot")
    order = np.argsort(contrib)
    names = [result.input_names[i] for i in order]
    fig = Figure(figsize=(7.0, 0.5 * len(names) + 1.6))
    ax = fig.add_subplot()
    bars = ax.barh(names, contrib[order], color="#6baed6")
    for bar, share in zip(bars, index[order], strict=True):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {share:.1%}", va="center", fontsize=8)
    uc = float(np.atleast_1d(result.u)[output])
    ax.axvline(uc, color="#d94801", ls="--", lw=1.2, label=f"u_c = {uc:.4g}")
    ax.set_xlabel("|c_i u(x_i)|" + (f" / {unit}" if unit else ""))
    ax.set_title(f"Uncertainty budget of {result.output_names[output]} (GUM)")
    ax.legend(fontsize=8, loc="lower right")
    _save(fig, path)


def plot(result: Any, path: str) -> None:
    """Draw a service result: histogram for Monte Carlo, budget bars for GUM."""
    inner = result.get("result") if isinstance(result, dict) else result
    unit = result.get("unit", "") if isinstance(result, dict) else ""
    unit = unit if isinstance(unit, str) else ""
    if isinstance(inner, MonteCarloResult):
        plot_monte_carlo(inner, path, result.get("gum") if isinstance(result, dict) else None, unit)
    else:
        plot_budget(inner, path, unit=unit)
