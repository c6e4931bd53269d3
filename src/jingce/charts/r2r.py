"""Pictures of a run-to-run controlled process: output against target (with the uncontrolled process
for comparison) and the input the controller chose for each run."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from jingce.charts.positioning import save
from jingce.kernels.r2r import Simulation

__all__ = ["plot_simulation"]


def plot_simulation(sim: Simulation, path: str) -> None:
    """Output per run (controlled and open loop) and the input per run."""
    target = sim.target
    fig = Figure(figsize=(10, 6))
    ax, bx = fig.subplots(2, 1, sharex=True)
    runs = np.arange(1, sim.y.size + 1)
    ax.plot(runs, sim.y_open_loop, color="0.6", lw=1.0, label=f"without control (MSE {sim.mse_open_loop:.3g})")
    ax.plot(runs, sim.y, color="#1f77b4", lw=1.2, label=f"with control (MSE {sim.mse:.3g})")
    if target is not None:
        ax.axhline(target, color="k", lw=1.0, ls="--", label="target")
    st = sim.stability
    ax.set_title(f"Run-to-run control: gain ratio ξ={st.xi:.3g}, stable for {st.xi_min:g} < ξ < {st.xi_max:.3g}, "
                 f"{'stable' if st.stable else 'UNSTABLE'}", fontsize=10)
    ax.set_ylabel("output y")
    ax.legend(fontsize=8)
    bx.plot(runs, sim.u, color="#2ca02c", lw=1.2)
    bx.set_ylabel("input u")
    bx.set_xlabel("run")
    save(fig, path)
