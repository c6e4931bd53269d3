"""Control chart pictures (PNG/SVG by file suffix) from the spc kernel results."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_chart"]


def _save(fig: Figure, path: str) -> None:
    fmt = "svg" if str(path).lower().endswith(".svg") else "png"
    fig.savefig(path, format=fmt, dpi=120, bbox_inches="tight")


def plot_chart(result, path: str, title: str | None = None) -> None:
    """Draw every panel of a chart result (``result.panels``): points, centre line, limits and the
    points beyond them in red."""
    panels = result.panels
    fig = Figure(figsize=(9, 2.6 * len(panels) + 0.4))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, p in zip(axes, panels, strict=True):
        x = np.arange(1, p.statistic.size + 1)
        ax.plot(x, p.statistic, marker="o", ms=3, lw=1, color="tab:blue")
        ax.step(x, p.center, where="mid", color="tab:green", lw=1, label="CL")
        for lim, lab in ((p.ucl, "UCL"), (p.lcl, "LCL")):
            if np.isfinite(lim).any():
                ax.step(x, lim, where="mid", color="tab:red", lw=1, ls="--", label=lab)
        if p.beyond.size:
            ax.plot(x[p.beyond], p.statistic[p.beyond], "o", color="red", ms=6)
        ax.set_ylabel(p.name)
        ax.grid(alpha=0.3)
        if np.isfinite(p.ucl[-1]):
            ax.annotate(f"UCL {p.ucl[-1]:.4g}", (x[-1], p.ucl[-1]), fontsize=7, ha="right", va="bottom")
    axes[-1].set_xlabel("point")
    fig.suptitle(title or f"{type(result).__name__} control chart")
    _save(fig, path)
