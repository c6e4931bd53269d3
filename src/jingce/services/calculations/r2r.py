"""Run-to-run control for ``jingce calc`` (kernels in :mod:`jingce.kernels.r2r`).

The controller is given as ``{"kind": "ewma", "target": T, "gain": b, "lam": λ}`` or
``{"kind": "double_ewma", "target": T, "gain": b, "lam1": λ1, "lam2": λ2}`` (optional
``initial_intercept``, ``initial_drift``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from jingce.charts import r2r as charts
from jingce.errors import InvalidInputError
from jingce.kernels import r2r
from jingce.services.calculations.registry import calculation


def _controller(spec) -> r2r.Controller:
    if not isinstance(spec, Mapping):
        raise InvalidInputError("controller must be a mapping with kind, target, gain and lambda(s)", argument="controller")
    args = dict(spec)
    kind = args.pop("kind", "ewma")
    try:
        if kind == "ewma":
            return r2r.ewma_controller(**args)
        if kind == "double_ewma":
            return r2r.double_ewma_controller(**args)
    except TypeError as exc:
        raise InvalidInputError(f"controller: {exc}", argument="controller") from None
    raise InvalidInputError(f"controller.kind must be 'ewma' or 'double_ewma', got {kind!r}", argument="controller")


def _simulate(controller, n_runs, *, process_intercept, process_gain, drift=0.0, noise_sd=0.0, ima_theta=None,
              shift=0.0, shift_run=None, seed=None):
    c = _controller(controller)
    if seed is not None and not isinstance(seed, int):
        raise InvalidInputError(f"seed must be an integer, got {seed!r}", argument="seed")
    return r2r.simulate(c, n_runs, process_intercept=process_intercept, process_gain=process_gain, drift=drift,
                        noise_sd=noise_sd, ima_theta=ima_theta, shift=shift, shift_run=shift_run,
                        rng=np.random.default_rng(seed))


calculation(
    "r2r.simulate",
    _simulate,
    summary_en="Simulate a drifting process under EWMA or double-EWMA run-to-run control",
    summary_zh="模拟漂移过程在 EWMA 或双 EWMA 批次间控制下的表现",
    example={"controller": {"kind": "double_ewma", "target": 100.0, "gain": 2.0, "lam1": 0.3, "lam2": 0.1},
             "n_runs": 200, "process_intercept": 10.0, "process_gain": 2.3, "drift": 0.05, "noise_sd": 0.5,
             "seed": 7},
    plot=charts.plot_simulation,
)


def _stability(controller, xi=1.0):
    return r2r.stability(_controller(controller), xi)


calculation(
    "r2r.stability",
    _stability,
    summary_en="Stability region of an EWMA / double-EWMA controller in the gain ratio ξ = β/b",
    summary_zh="EWMA / 双 EWMA 控制器关于增益比 ξ = β/b 的稳定域",
    example={"controller": {"kind": "ewma", "target": 100.0, "gain": 2.0, "lam": 0.4}, "xi": 1.3},
)
