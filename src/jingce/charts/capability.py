"""Capability histogram with specification limits and the fitted density (PNG/SVG by suffix)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from jingce.charts.spc import _save

__all__ = ["plot_capability"]


def plot_capability(result, values, path: str, title: str | None = None) -> None:
    """Histogram of ``values`` with LSL, USL, target, the fitted density (normal with the overall
    and within sigma, or the distribution / transformation used) and the indices in a text box."""
    x = np.asarray(values, float).ravel()
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    ax.hist(x, bins="auto", density=True, color="lightsteelblue", edgecolor="white")
    lo = min(x.min(), result.lsl if result.lsl is not None else x.min())
    hi = max(x.max(), result.usl if result.usl is not None else x.max())
    pad = 0.1 * (hi - lo if hi > lo else 1.0)
    grid = np.linspace(lo - pad, hi + pad, 400)
    if result.fitted is not None:
        ax.plot(grid, result.fitted.pdf(grid), color="tab:purple", label=f"fitted {result.fitted.family}")
    elif result.transform is not None:
        from scipy import stats

        y = result.transform.apply(grid)
        h = np.gradient(y, grid)
        ty = result.transform.apply(x)
        dens = stats.norm.pdf(y, ty.mean(), ty.std(ddof=1)) * np.abs(h)
        ax.plot(grid, np.nan_to_num(dens), color="tab:purple", label=result.method)
    else:
        from scipy import stats

        if result.sigma_overall > 0:
            ax.plot(grid, stats.norm.pdf(grid, result.mean, result.sigma_overall), color="tab:blue", label="overall")
        if result.sigma_within > 0:
            ax.plot(grid, stats.norm.pdf(grid, result.mean, result.sigma_within), color="tab:orange", ls="--",
                    label="within")
    for v, lab, col in ((result.lsl, "LSL", "red"), (result.usl, "USL", "red"), (result.target, "Target", "green")):
        if v is not None:
            ax.axvline(v, color=col, ls="-." if lab == "Target" else "-", lw=1.2)
            ax.annotate(lab, (v, ax.get_ylim()[1] * 0.95), color=col, ha="center", fontsize=8)
    text = "\n".join(
        f"{k} {getattr(result, k):.3f}" for k in ("cp", "cpk", "pp", "ppk", "cpm") if np.isfinite(getattr(result, k))
    )
    ax.text(0.01, 0.97, f"{text}\nn {result.n}\n{result.method}", transform=ax.transAxes, va="top", fontsize=8,
            family="monospace", bbox={"facecolor": "white", "alpha": 0.8})
    ax.legend(fontsize=8, loc="upper right")
    ax.set_xlabel("value")
    fig.suptitle(title or "Process capability")
    _save(fig, path)
