"""Run-to-run (R2R) control: EWMA and double-EWMA controllers that adjust a process input after each
measured run, their stability bounds, and a simulation of a drifting process under control.

Process and controller
----------------------
The process output of run t is ``y_t = α + β u_t + δ t + n_t`` (intercept α, gain β, drift δ per run,
noise n_t white or IMA(1,1)). The controller's model is ``y = a + b u`` with the gain estimate b; after
run t it updates its intercept estimate and chooses the next input so that the predicted output is the
target T:

EWMA (single)   ``a_t = λ (y_t - b u_t) + (1 - λ) a_{t-1}``,  ``u_{t+1} = (T - a_t) / b``
double EWMA     ``a_t = λ1 (y_t - b u_t) + (1 - λ1) a_{t-1}``
(predictor-     ``D_t = λ2 (y_t - b u_t - a_{t-1}) + (1 - λ2) D_{t-1}``
corrector)      ``u_{t+1} = (T - a_t - D_t) / b``

Stability (ξ = β / b, the ratio of true to assumed gain)
-------------------------------------------------------
EWMA: stable iff ``0 < λ ξ < 2``. Under a linear drift δ its output settles at an offset ``δ / (λ ξ)``
from target (derived from the closed loop; it vanishes only as λξ grows).
Double EWMA: the deterministic closed loop is ``s_t = A s_{t-1} + c`` with state (a, D) and
``A = [[1 - λ1 ξ, -λ1 (ξ - 1)], [-λ2 ξ, 1 - λ2 ξ]]``, characteristic polynomial
``z² - (2 - ξ(λ1 + λ2)) z + 1 - ξ(λ1 + λ2 - λ1 λ2)``; by the Jury criterion it is stable iff
``0 < ξ < min(2 / (λ1 + λ2 - λ1 λ2), 4 / (2 λ1 + 2 λ2 - λ1 λ2))``, and it removes the offset of a
linear drift (asymptotic offset 0).

References
----------
.. [1] A. Ingolfsson, E. Sachs, "Stability and sensitivity of an EWMA controller", Journal of Quality
       Technology 25 (1993) 271-287 (EWMA controller, stability 0 < λξ < 2).
.. [2] S. W. Butler, J. A. Stefani, "Supervisory run-to-run control of polysilicon gate etch using in
       situ ellipsometry", IEEE Transactions on Semiconductor Manufacturing 7 (1994) 193-201
       (predictor-corrector / double EWMA controller).
.. [3] E. Del Castillo, "Long run and transient analysis of a double EWMA feedback controller", IIE
       Transactions 31 (1999) 1157-1169 (stability region and drift behaviour of the double EWMA).
.. [4] E. I. Jury, Theory and Application of the z-Transform Method, Wiley 1964 (stability test).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_float, as_int, fail, warn

__all__ = [
    "Controller",
    "ControllerState",
    "Simulation",
    "Stability",
    "double_ewma_controller",
    "ewma_controller",
    "initial_input",
    "simulate",
    "stability",
    "update",
]


@dataclass(frozen=True, slots=True)
class Controller:
    """An R2R controller's settings.

    Attributes
    ----------
    kind : str
        ``"ewma"`` or ``"double_ewma"``.
    target : float
        Target T of the process output.
    gain : float
        The controller's gain estimate b (output change per unit input).
    lambda1, lambda2 : float
        Weights of the intercept and drift estimates (``lambda2`` is 0 for the single EWMA).
    initial_intercept, initial_drift : float
        a_0 and D_0.
    """

    kind: str
    target: float
    gain: float
    lambda1: float
    lambda2: float
    initial_intercept: float
    initial_drift: float


@dataclass(frozen=True, slots=True)
class ControllerState:
    """The controller's estimates after a run: intercept a_t, drift D_t, and the next input u_{t+1}."""

    intercept: float
    drift: float
    next_input: float
    runs: int


@dataclass(frozen=True, slots=True)
class Stability:
    """Stability of a controller for a ratio ξ of true to assumed gain.

    Attributes
    ----------
    xi : float
        The gain ratio examined.
    xi_min, xi_max : float
        The controller is stable for ``xi_min < ξ < xi_max``.
    spectral_radius : float
        Largest modulus of the closed-loop eigenvalues at ``xi`` (< 1: stable).
    stable : bool
    drift_offset_per_unit_drift : float
        Asymptotic output offset from target per unit of linear drift per run (``1/(λξ)`` for the
        EWMA, 0 for the double EWMA; inf when unstable).
    """

    xi: float
    xi_min: float
    xi_max: float
    spectral_radius: float
    stable: bool
    drift_offset_per_unit_drift: float


@dataclass(frozen=True, slots=True)
class Simulation:
    """A simulated controlled (and, for comparison, uncontrolled) process.

    Attributes
    ----------
    y : ndarray, shape (n,)
        Output of each run under control.
    u : ndarray, shape (n,)
        Input used in each run.
    intercept, drift : ndarray, shape (n,)
        Controller estimates after each run.
    y_open_loop : ndarray, shape (n,)
        Output with the input held at its first value (same noise), for comparison.
    mse, mse_open_loop : float
        Mean squared deviation from target (controlled, open loop).
    offset_last : float
        Mean deviation from target over the last quarter of the runs.
    stability : Stability
    target : float
    """

    y: np.ndarray
    u: np.ndarray
    intercept: np.ndarray
    drift: np.ndarray
    y_open_loop: np.ndarray
    mse: float
    mse_open_loop: float
    offset_last: float
    stability: Stability
    target: float


def _common_iv(target, gain, initial_intercept):
    target = as_float(target, "target")
    gain = as_float(gain, "gain")
    if gain == 0:
        raise fail("gain", "must not be 0 (the controller divides by its gain estimate)")
    a0 = as_float(initial_intercept, "initial_intercept")
    return target, gain, a0


def _lambda_iv(x, argument):
    v = as_float(x, argument)
    if not 0.0 < v <= 1.0:
        raise fail(argument, f"must be in (0, 1], got {v}")
    return v


def ewma_controller(target: float, gain: float, lam: float, *, initial_intercept: float = 0.0) -> Controller:
    """Single EWMA R2R controller (Ingolfsson & Sachs 1993).

    Parameters
    ----------
    target : float
    gain : float
        Gain estimate b.
    lam : float
        EWMA weight λ in (0, 1].
    initial_intercept : float
        a_0 (e.g. from a designed experiment).
    """
    target, gain, a0 = _common_iv(target, gain, initial_intercept)
    return Controller("ewma", target, gain, _lambda_iv(lam, "lam"), 0.0, a0, 0.0)


def double_ewma_controller(
    target: float, gain: float, lam1: float, lam2: float, *, initial_intercept: float = 0.0, initial_drift: float = 0.0
) -> Controller:
    """Double EWMA (predictor-corrector) R2R controller (Butler & Stefani 1994).

    Parameters
    ----------
    target, gain : float
    lam1, lam2 : float
        Weights of the intercept and drift estimates, in (0, 1].
    initial_intercept, initial_drift : float
    """
    target, gain, a0 = _common_iv(target, gain, initial_intercept)
    d0 = as_float(initial_drift, "initial_drift")
    return Controller("double_ewma", target, gain, _lambda_iv(lam1, "lam1"), _lambda_iv(lam2, "lam2"), a0, d0)


def _controller_iv(c):
    if not isinstance(c, Controller):
        raise fail("controller", "must be a Controller from r2r.ewma_controller or r2r.double_ewma_controller")
    return c


def stability(controller: Controller, xi: float = 1.0) -> Stability:
    """Stability region in the gain ratio ξ and the closed-loop behaviour at a given ξ.

    Parameters
    ----------
    controller : Controller
    xi : float
        Ratio of the true process gain to the controller's estimate, β / b.

    References
    ----------
    .. [1] Ingolfsson & Sachs (1993); Del Castillo (1999); Jury (1964).
    """
    c = _controller_iv(controller)
    xi = as_float(xi, "xi")
    l1, l2 = c.lambda1, c.lambda2
    if c.kind == "ewma":
        lo, hi = 0.0, 2.0 / l1
        rho = abs(1.0 - l1 * xi)
        offset = 1.0 / (l1 * xi) if rho < 1 else float("inf")
    else:
        lo = 0.0
        hi = min(2.0 / (l1 + l2 - l1 * l2), 4.0 / (2.0 * l1 + 2.0 * l2 - l1 * l2))
        a = np.array([[1.0 - l1 * xi, -l1 * (xi - 1.0)], [-l2 * xi, 1.0 - l2 * xi]])
        rho = float(np.max(np.abs(np.linalg.eigvals(a))))
        offset = 0.0 if rho < 1 else float("inf")
    return Stability(xi, lo, hi, float(rho), bool(rho < 1.0), offset)


def update(controller: Controller, state: ControllerState | None, y: float, u: float) -> ControllerState:
    """One controller step after a measured run: new estimates and the input for the next run.

    Parameters
    ----------
    controller : Controller
    state : ControllerState or None
        The state after the previous run (None before the first run: the initial estimates).
    y : float
        Measured output of the run just made.
    u : float
        Input used in that run.
    """
    c = _controller_iv(controller)
    y = as_float(y, "y")
    u = as_float(u, "u")
    if state is None:
        a_prev, d_prev, runs = c.initial_intercept, c.initial_drift, 0
    elif isinstance(state, ControllerState):
        a_prev, d_prev, runs = state.intercept, state.drift, state.runs
    else:
        raise fail("state", "must be a ControllerState or None")
    w = y - c.gain * u
    a = c.lambda1 * w + (1.0 - c.lambda1) * a_prev
    d = c.lambda2 * (w - a_prev) + (1.0 - c.lambda2) * d_prev if c.kind == "double_ewma" else 0.0
    return ControllerState(a, d, (c.target - a - d) / c.gain, runs + 1)


def initial_input(controller: Controller) -> float:
    """Input for the first run, from the initial estimates."""
    c = _controller_iv(controller)
    return (c.target - c.initial_intercept - c.initial_drift) / c.gain


def simulate(
    controller: Controller,
    n_runs: int,
    *,
    process_intercept: float,
    process_gain: float,
    drift: float = 0.0,
    noise_sd: float = 0.0,
    ima_theta: float | None = None,
    shift: float = 0.0,
    shift_run: int | None = None,
    rng: np.random.Generator | None = None,
) -> Simulation:
    """Simulate a drifting process under R2R control.

    Parameters
    ----------
    controller : Controller
    n_runs : int
    process_intercept, process_gain : float
        α and β of the true process.
    drift : float
        δ, change of the intercept per run (tool wear, chamber ageing).
    noise_sd : float
        Standard deviation of the white noise ε_t.
    ima_theta : float, optional
        If given, the noise is IMA(1,1): ``n_t = n_{t-1} + ε_t - θ ε_{t-1}`` (a wandering disturbance).
    shift, shift_run : float, int
        A step of size ``shift`` in the intercept from run ``shift_run`` (0-based) on.
    rng : numpy.random.Generator
        Needed when ``noise_sd > 0``.

    Returns
    -------
    Simulation

    References
    ----------
    .. [1] Ingolfsson & Sachs (1993); Butler & Stefani (1994); Del Castillo (1999).
    """
    c = _controller_iv(controller)
    n = as_int(n_runs, "n_runs", lo=1, hi=10_000_000)
    alpha = as_float(process_intercept, "process_intercept")
    beta = as_float(process_gain, "process_gain")
    delta = as_float(drift, "drift")
    sd = as_float(noise_sd, "noise_sd", nonnegative=True)
    theta = None if ima_theta is None else as_float(ima_theta, "ima_theta", lo=-1.0, hi=1.0)
    shift = as_float(shift, "shift")
    shift_run = None if shift_run is None else as_int(shift_run, "shift_run", lo=0)
    if sd > 0 and not isinstance(rng, np.random.Generator):
        raise fail("rng", "must be a numpy.random.Generator when noise_sd > 0")
    eps = rng.normal(0.0, sd, n) if sd > 0 else np.zeros(n)
    if theta is not None:
        noise = np.cumsum(eps - theta * np.concatenate([[0.0], eps[:-1]]))
    else:
        noise = eps
    t = np.arange(n, dtype=np.float64)
    disturbance = alpha + delta * t + noise
    if shift_run is not None:
        disturbance[shift_run:] += shift
    a_prev, d_prev = c.initial_intercept, c.initial_drift
    u_t = (c.target - a_prev - d_prev) / c.gain
    l1, l2, b = c.lambda1, c.lambda2, c.gain
    double = c.kind == "double_ewma"
    stab = stability(c, beta / c.gain)
    if not stab.stable:
        warn(f"the closed loop is unstable (gain ratio {beta / c.gain:.4g} outside {stab.xi_min:g}..{stab.xi_max:.4g}): the outputs diverge")
    with np.errstate(over="ignore", invalid="ignore"):
        y, u, a_hat, d_hat = _loop(disturbance, n, beta, b, l1, l2, double, c.target, a_prev, d_prev, u_t)
    y_open = disturbance + beta * u[0]
    dev = y - c.target
    last = dev[-max(1, n // 4) :]
    for arr in (y, u, a_hat, d_hat, y_open):
        arr.setflags(write=False)
    with np.errstate(over="ignore", invalid="ignore"):
        mse = float(np.mean(dev**2))
        offset = float(np.mean(last))
    return Simulation(
        y=y,
        u=u,
        intercept=a_hat,
        drift=d_hat,
        y_open_loop=y_open,
        mse=mse,
        mse_open_loop=float(np.mean((y_open - c.target) ** 2)),
        offset_last=offset,
        stability=stab,
        target=c.target,
    )


def _loop(disturbance, n, beta, b, l1, l2, double, target, a_prev, d_prev, u_t):
    y = np.empty(n)
    u = np.empty(n)
    a_hat = np.empty(n)
    d_hat = np.empty(n)
    dist = disturbance.tolist()  # Python floats: the recursion is sequential, scalars are fastest
    for i in range(n):
        y_t = dist[i] + beta * u_t
        w = y_t - b * u_t
        a = l1 * w + (1.0 - l1) * a_prev
        d = l2 * (w - a_prev) + (1.0 - l2) * d_prev if double else 0.0
        y[i], u[i], a_hat[i], d_hat[i] = y_t, u_t, a, d
        a_prev, d_prev = a, d
        u_t = (target - a - d) / b
    return y, u, a_hat, d_hat
