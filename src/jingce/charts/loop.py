"""Picture of the error-compensation loop: the error per iteration with the test uncertainty."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from jingce.charts.positioning import save


def plot_iterations(iterations: Sequence, path: str, *, unit: str = "mm", title: str = "") -> None:
    """E, A and M of ISO 230-2 per iteration, E with its expanded uncertainty (k = 2) as error bars;
    iterations measured with a table loaded are marked with the table number."""
    it = np.array([i.iteration for i in iterations])
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    ax.errorbar(it, [i.E for i in iterations], yerr=[i.uncertainty for i in iterations], marker="o", capsize=4,
                label="E (±U)")
    ax.plot(it, [i.A for i in iterations], marker="s", linestyle="--", label="A")
    ax.plot(it, [i.M for i in iterations], marker="^", linestyle=":", label="M")
    for i in iterations:
        tag = "none" if i.compensated_with is None else f"table {i.compensated_with}"
        ax.annotate(tag, (i.iteration, i.E), textcoords="offset points", xytext=(4, 6), fontsize=8)
        if i.decision == "stop":
            ax.annotate("stop", (i.iteration, i.E), textcoords="offset points", xytext=(4, -14), fontsize=8,
                        color="#d62728")
    ax.set_xlabel("iteration (test)")
    ax.set_ylabel(f"error ({unit})")
    ax.set_xticks(it)
    ax.set_ylim(bottom=0)
    ax.set_title(title or "measure -> compensate -> verify")
    ax.grid(True, alpha=0.3)
    ax.legend()
    save(fig, path)
