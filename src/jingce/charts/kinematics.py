"""Pictures of geometric error models: a volumetric error map (error vectors on a plane of the working
volume, magnified) and an identification report (parameters with uncertainties, singular values)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from jingce.charts.positioning import save
from jingce.kernels.kinematics import Identification

__all__ = ["plot_identification", "plot_volumetric_map"]


def plot_volumetric_map(q: np.ndarray, errors: np.ndarray, path: str, unit: str = "mm") -> None:
    """Error vectors in the XY plane (magnified, coloured by |e|) and the distribution of |e| and of each component."""
    q = np.asarray(q, float)
    e = np.asarray(errors, float)
    mag = np.sqrt(np.einsum("ij,ij->i", e, e))
    fig = Figure(figsize=(12, 5), layout="constrained")
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    n = q.shape[0]
    # one XY slice: the points at the Z level nearest the median
    zs = np.unique(q[:, 2])
    z0 = zs[np.argmin(np.abs(zs - np.median(q[:, 2])))]
    idx = np.flatnonzero(q[:, 2] == z0) if zs.size < n else np.arange(n)
    if idx.size > 900:
        idx = idx[np.linspace(0, idx.size - 1, 900).astype(int)]
    span = max(np.ptp(q[:, 0]), np.ptp(q[:, 1]), 1e-12)
    emax = float(mag.max()) if mag.size else 0.0
    gain = 0.08 * span / emax if emax > 0 else 1.0
    quiv = ax.quiver(q[idx, 0], q[idx, 1], e[idx, 0] * gain, e[idx, 1] * gain, mag[idx], angles="xy",
                     scale_units="xy", scale=1.0, cmap="viridis", width=0.003)
    fig.colorbar(quiv, ax=ax, label=f"|e| / {unit}")
    ax.set_xlabel(f"X / {unit}")
    ax.set_ylabel(f"Y / {unit}")
    where = f" at Z = {z0:g}" if zs.size < n else ""
    ax.set_title(f"Volumetric error, XY components{where} (magnified ×{gain:.3g})", fontsize=10)
    ax.set_aspect("equal", adjustable="datalim")
    for c, (name, color) in enumerate(zip(("e_x", "e_y", "e_z"), ("#1f77b4", "#ff7f0e", "#2ca02c"), strict=True)):
        bx.hist(e[:, c], bins=50, histtype="step", color=color, label=name)
    bx.hist(mag, bins=50, histtype="step", color="k", label="|e|")
    bx.set_xlabel(f"error / {unit}")
    bx.set_ylabel("points")
    bx.set_title(f"{n:,} points: max |e| = {emax:.4g}, rms = {np.sqrt(np.mean(mag**2)):.4g}", fontsize=10)
    bx.legend(fontsize=8)
    save(fig, path)


def plot_identification(result: Identification, path: str) -> None:
    """Identified parameters as their rms effect on the errors (±2 standard uncertainties; non-identifiable
    ones hatched) and the singular values of the normalised Jacobian."""
    scale = np.asarray(result.effect_scale, float)
    p = np.asarray(result.parameters, float) * scale
    u = np.asarray(result.standard_uncertainties, float) * scale
    names = result.parameter_names
    fig = Figure(figsize=(12, max(4.5, 0.22 * len(names) + 1.5)), layout="constrained")
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    y = np.arange(len(names))
    colors = np.where(result.identifiable, "#1f77b4", "#bbbbbb")
    ax.barh(y, p, color=colors, xerr=np.where(np.isfinite(u), 2 * u, 0.0), error_kw={"lw": 0.8})
    for i in np.flatnonzero(~np.asarray(result.identifiable)):
        ax.barh(i, p[i], color="none", edgecolor="#d62728", hatch="//")
    ax.set_yticks(y, names, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="0.5", lw=0.6)
    ax.set_xlabel("rms effect of the parameter on the measured errors (length unit), ±2u")
    ax.set_title(f"Identified geometric errors: rank {result.rank}/{len(names)}, "
                 f"residual rms {result.residual_rms:.3g}", fontsize=10)
    bx.semilogy(np.arange(1, result.singular_values.size + 1), np.maximum(result.singular_values, 1e-300), "o-")
    bx.set_xlabel("index")
    bx.set_ylabel("singular value (normalised Jacobian)")
    cond = result.condition_number
    bx.set_title(f"condition number {cond:.3g}" if np.isfinite(cond) else
                 f"rank deficient; identifiable part {result.condition_number_identifiable:.3g}", fontsize=10)
    if result.confounded:
        bx.text(0.02, 0.02, "not identifiable:\n" + "\n".join(result.confounded[:6]), transform=bx.transAxes,
                fontsize=6.5, va="bottom", family="monospace")
    save(fig, path)
