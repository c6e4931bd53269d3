"""Pictures of a thermal error model: measured and modelled displacement over the record with the
training and held-out parts marked, and what remains after compensation."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from jingce.charts.positioning import save
from jingce.kernels.thermal import ThermalModel

__all__ = ["plot_thermal"]


def plot_thermal(model: ThermalModel, path: str) -> None:
    """Measured vs modelled displacement (per channel) and the residual after compensation."""
    k = model.measured.shape[1]
    fig = Figure(figsize=(10, 3.2 * k + 1.0))
    axes = np.atleast_1d(fig.subplots(k, 1, sharex=True, squeeze=False)[:, 0])
    n = np.arange(model.measured.shape[0])
    for c, ax in enumerate(axes):
        ax.plot(n, model.measured[:, c], color="0.2", lw=1.2, label="measured")
        ax.plot(n, model.fitted[:, c], color="#1f77b4", lw=1.2, label="model")
        ax.plot(n, model.measured[:, c] - model.fitted[:, c], color="#d62728", lw=1.0, label="after compensation")
        if np.any(model.test):
            start = int(np.flatnonzero(model.test)[0])
            ax.axvspan(start, n[-1], color="#fdd0a2", alpha=0.35, lw=0, label="held out")
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_ylabel(f"{model.channels[c]}")
        ax.set_title(
            f"{model.channels[c]}: held-out RMSE {model.test_rmse[c]:.3g}, R² {model.test_r2[c]:.3f}, "
            f"range {model.test_range_before[c]:.3g} -> {model.test_range_after[c]:.3g}", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    axes[-1].set_xlabel("sample")
    fig.suptitle("Thermal error model (regression on temperature changes, ISO 230-3 tests)")
    save(fig, path)
