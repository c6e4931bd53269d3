"""Pictures of a tolerance stack: the response distribution (Monte Carlo histogram, normal prediction,
exact uniform density) against worst-case, RSS and MRSS limits and the specification, and the
contributions of the inputs."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from jingce.charts.positioning import save
from jingce.kernels.stackup import StackupResult

__all__ = ["plot_stackup"]


def plot_stackup(result: StackupResult, path: str) -> None:
    """Response distribution with WC/RSS/MRSS limits and spec limits; percent contributions."""
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    r = result
    lo, hi = r.worst_case_limits
    span = hi - lo or 1.0
    if r.monte_carlo is not None:
        mc = r.monte_carlo
        edges = np.asarray(mc.histogram_edges)
        widths = np.diff(edges)
        dens = np.asarray(mc.histogram_counts) / (mc.n * widths)
        ax.bar(edges[:-1], dens, width=widths, align="edge", color="#c6dbef", label=f"Monte Carlo ({mc.n:,})")
        lo, hi = min(lo, edges[0]), max(hi, edges[-1])
    xs = np.linspace(lo - 0.05 * span, hi + 0.05 * span, 400)
    if r.predicted_sd > 0:
        pdf = np.exp(-0.5 * ((xs - r.predicted_mean) / r.predicted_sd) ** 2) / (r.predicted_sd * np.sqrt(2 * np.pi))
        ax.plot(xs, pdf, color="#08519c", lw=1.4, label=f"normal: μ={r.predicted_mean:.4g}, σ={r.predicted_sd:.3g}")
    if r.exact_uniform is not None:
        ax.plot(r.exact_uniform.grid, r.exact_uniform.pdf, color="#31a354", lw=1.4, label="exact (uniform inputs)")
    styles = (("worst case", r.worst_case_limits, "#d62728", "-"), ("RSS", r.rss_limits, "#ff7f0e", "--"),
              (f"MRSS (Cf={r.mrss_factor:.3g})", r.mrss_limits, "#9467bd", "-."))
    for name, (a, b), color, ls in styles:
        ax.axvline(a, color=color, ls=ls, lw=1.1, label=f"{name} ±{(b - a) / 2:.4g}")
        ax.axvline(b, color=color, ls=ls, lw=1.1)
    for lim, name in ((r.lsl, "LSL"), (r.usl, "USL")):
        if lim is not None:
            ax.axvline(lim, color="k", lw=2.0)
            ax.text(lim, ax.get_ylim()[1] * 0.95, f" {name}", fontsize=8)
    ax.set_xlabel("assembly response")
    ax.set_ylabel("probability density")
    title = f"Tolerance stack-up: mean {r.mean:.4g}"
    if r.lsl is not None or r.usl is not None:
        title += f", Cpk={r.cpk:.3g}, P(out)={r.p_out_of_spec:.2e}"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    y = np.arange(len(r.names))
    bx.barh(y - 0.2, r.rss_contributions, height=0.4, color="#ff7f0e", label="RSS % of T²")
    bx.barh(y + 0.2, r.variance_contributions, height=0.4, color="#08519c", label="statistical % of σ²")
    bx.set_yticks(y, r.names, fontsize=8)
    bx.invert_yaxis()
    bx.set_xlabel("contribution / %")
    bx.legend(fontsize=7)
    bx.set_title("Contributions", fontsize=10)
    save(fig, path)
