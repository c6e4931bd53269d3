"""Pictures of ISO 230-2 positioning tests, compensation tables and their verification, drawn the way a
laser-calibration report draws them: deviations of every run, the mean unidirectional deviations and
their ±2s bands per direction, and the axis results (labels in English: the machine has no CJK font)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from jingce.errors import InvalidInputError
from jingce.kernels.positioning import CompensationTable, PositioningResult, Verification

__all__ = ["plot_compensation", "plot_positioning", "plot_verification", "save"]

_UP = "#1f77b4"
_DOWN = "#d62728"


def save(fig: Figure, path: str) -> None:
    """Write ``fig`` in the format of the file suffix (.png, .svg, .pdf)."""
    suffix = Path(path).suffix.lower().lstrip(".") or "png"
    if suffix not in ("png", "svg", "pdf"):
        raise InvalidInputError("the picture must be a .png, .svg or .pdf file", argument="--plot")
    fig.savefig(path, format=suffix, dpi=120, bbox_inches="tight")


def _draw(ax, r: PositioningResult, title: str, show_runs: bool = True) -> None:
    t = r.targets
    if show_runs:
        for x in r.deviations_up:
            ax.plot(t, x, ls="none", marker=".", ms=3, color=_UP, alpha=0.45)
        for x in r.deviations_down:
            ax.plot(t, x, ls="none", marker=".", ms=3, color=_DOWN, alpha=0.45)
    ax.fill_between(t, r.x_mean_up - 2 * r.s_up, r.x_mean_up + 2 * r.s_up, color=_UP, alpha=0.15, lw=0,
                    label="x̄↑ ± 2s↑")
    ax.fill_between(t, r.x_mean_down - 2 * r.s_down, r.x_mean_down + 2 * r.s_down, color=_DOWN, alpha=0.15, lw=0,
                    label="x̄↓ ± 2s↓")
    ax.plot(t, r.x_mean_up, color=_UP, marker="^", ms=4, lw=1.3, label="mean deviation, positive approach x̄↑")
    ax.plot(t, r.x_mean_down, color=_DOWN, marker="v", ms=4, lw=1.3, label="mean deviation, negative approach x̄↓")
    ax.plot(t, r.x_mean, color="0.3", ls="--", lw=1.0, label="mean bidirectional x̄")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel(f"target position / {r.unit}")
    ax.set_ylabel(f"deviation of position / {r.unit}")
    ax.set_title(title)
    text = "\n".join(
        [
            f"A  = {r.A:.4g}   A↑ = {r.A_up:.4g}   A↓ = {r.A_down:.4g}",
            f"E  = {r.E:.4g}   E↑ = {r.E_up:.4g}   E↓ = {r.E_down:.4g}",
            f"M  = {r.M:.4g}   R = {r.R:.4g}   R↑ = {r.R_up:.4g}   R↓ = {r.R_down:.4g}",
            f"B  = {r.B:.4g}   B̄ = {r.B_mean:.4g}   ({r.unit}; runs {r.n_runs[0]}↑ {r.n_runs[1]}↓)",
        ]
    )
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    ax.text(0.0, -0.30, text, transform=ax.transAxes, fontsize=7.5, family="monospace", va="top",
            bbox=dict(boxstyle="round", fc="white", ec="0.7"))


def plot_positioning(result: PositioningResult, path: str) -> None:
    """Deviations of position of every run, x̄↑/x̄↓ with ±2s bands and the axis quantities (ISO 230-2:2014, clause 8)."""
    fig = Figure(figsize=(9, 6.2))
    _draw(fig.add_subplot(), result, f"Positioning accuracy and repeatability, ISO 230-2:2014 ({result.axis} axis)")
    save(fig, path)


def plot_compensation(table: CompensationTable, path: str) -> None:
    """Modelled error per direction and the compensation (absolute correction) at the interpolation points."""
    fig = Figure(figsize=(9, 6.5))
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    x = table.positions
    ax1.plot(x, table.error_up, color=_UP, marker="^", ms=3, label="error, positive approach")
    ax1.plot(x, table.error_down, color=_DOWN, marker="v", ms=3, label="error, negative approach")
    ax1.plot(x, table.error, color="0.3", ls="--", label="mean error")
    ax1.set_ylabel(f"error / {table.unit}")
    ax1.set_title(f"Pitch-error compensation table ({table.mode}, spacing {table.spacing:g} {table.unit}, "
                  f"backlash B̄ = {table.backlash:.4g})")
    ax1.legend(fontsize=7)
    ax2.plot(x, table.absolute, color="0.2", marker="o", ms=3, label="absolute correction")
    ax2.plot(x, table.absolute_up, color=_UP, lw=0.8, label="absolute correction, positive")
    ax2.plot(x, table.absolute_down, color=_DOWN, lw=0.8, label="absolute correction, negative")
    ax2.axvline(table.reference, color="0.5", ls=":", label="reference point")
    ax2.set_xlabel(f"position / {table.unit}")
    ax2.set_ylabel(f"correction / {table.unit}")
    ax2.legend(fontsize=7)
    save(fig, path)


def plot_verification(verification: Verification, path: str) -> None:
    """Before and after compensation side by side, on the same deviation scale."""
    fig = Figure(figsize=(13, 6.2))
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    b, a = verification.before, verification.after
    _draw(ax1, b, "Before compensation")
    kind = "predicted (first order)" if verification.predicted else "measured"
    note = " - IN-SAMPLE targets, gain overstated" if verification.in_sample else ""
    _draw(ax2, a, f"After compensation, {kind}{note}")
    lims = [min(np.min(b.deviations_up), np.min(b.deviations_down), np.min(a.deviations_up), np.min(a.deviations_down)),
            max(np.max(b.deviations_up), np.max(b.deviations_down), np.max(a.deviations_up), np.max(a.deviations_down))]
    pad = 0.15 * (lims[1] - lims[0] or 1.0)
    ax1.set_ylim(lims[0] - pad, lims[1] + pad)
    fig.suptitle(f"Verification of the compensation: E {b.E:.3g} -> {a.E:.3g}, A {b.A:.3g} -> {a.A:.3g} {b.unit}")
    save(fig, path)
