"""Regression thermal error model: displacement of the tool centre point against temperature sensors,
fitted on one part of the data and validated on held-out data, usable as a compensation term.

The model is multiple linear regression on temperature changes,

    δ(t) = β_0 + Σ_k β_k (T_k(t) - T_k,ref),

optionally ridge-regularised. Thermal data are strongly autocorrelated in time, so the default hold-out
is chronological (the last part of the record, or whole test runs given by a mask): a random split would
put near-identical neighbours in both sets and overstate the model's quality. The compensation term is
``-δ̂(T)`` added to the commanded position.

References
----------
.. [1] ISO 230-3:2020 (GB/T 17421.3), Test code for machine tools - Part 3: Determination of thermal
       effects (thermal distortion tests: spindle rotation, linear axis motion, ETVE), clauses 5-7.
.. [2] J. Mayr, J. Jedrzejewski, E. Uhlmann, M. A. Donmez, W. Knapp, F. Härtig, K. Wendt, T. Moriwaki,
       P. Shore, R. Schmitt, C. Brecher, T. Würz, K. Wegener, "Thermal issues in machine tools",
       CIRP Annals 61 (2012) 771-791, section 4 (compensation by phenomenological/regression models).
.. [3] D. C. Montgomery, E. A. Peck, G. G. Vining, Introduction to Linear Regression Analysis, 5th ed.,
       Wiley 2012, 3.2 (least squares), 9.4 (variance inflation factors), 9.5.3 (ridge regression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_array, as_float, fail, warn

__all__ = ["ThermalModel", "compensation", "fit", "predict"]


@dataclass(frozen=True, slots=True)
class ThermalModel:
    """A fitted thermal error model.

    Attributes
    ----------
    intercept : ndarray, shape (k,)
        β_0 per displacement channel.
    coefficients : ndarray, shape (p, k)
        β per sensor (rows) and displacement channel (columns), displacement per kelvin.
    reference_temperatures : ndarray, shape (p,)
        T_ref subtracted from the sensors.
    sensors : tuple of str
    channels : tuple of str
    ridge : float
    train, test : ndarray of bool, shape (N,)
        Which samples were used for fitting and for validation.
    train_rmse, test_rmse : ndarray, shape (k,)
        Root-mean-square residual on the training and on the held-out data.
    test_max_abs : ndarray, shape (k,)
        Largest held-out residual.
    test_r2 : ndarray, shape (k,)
        Coefficient of determination on the held-out data (1 - SS_res / SS_tot about the held-out mean).
    test_range_before, test_range_after : ndarray, shape (k,)
        Range (max - min) of the held-out displacement, and of what remains after compensation.
    reduction : ndarray, shape (k,)
        ``1 - range_after / range_before`` on the held-out data (fraction of the thermal error removed).
    condition_number : float
        Ratio of the largest to the smallest singular value of the centred, scaled sensor matrix
        (its square is the eigenvalue ratio κ of the sensors' correlation matrix).
    vif : ndarray, shape (p,)
        Variance inflation factor of each sensor.
    measured, fitted : ndarray, shape (N, k)
        The displacement given and the model's prediction at every sample (for plots and reports).
    """

    intercept: np.ndarray
    coefficients: np.ndarray
    reference_temperatures: np.ndarray
    sensors: tuple[str, ...]
    channels: tuple[str, ...]
    ridge: float
    train: np.ndarray
    test: np.ndarray
    train_rmse: np.ndarray
    test_rmse: np.ndarray
    test_max_abs: np.ndarray
    test_r2: np.ndarray
    test_range_before: np.ndarray
    test_range_after: np.ndarray
    reduction: np.ndarray
    condition_number: float
    vif: np.ndarray
    measured: np.ndarray
    fitted: np.ndarray


def _fit_iv(temperatures, displacement, sensors, channels, test_fraction, test_mask, ridge, reference):
    temp = as_array(temperatures, "temperatures", ndim=(1, 2))
    if temp.ndim == 1:
        temp = temp[:, None]
    disp = as_array(displacement, "displacement", ndim=(1, 2))
    if disp.ndim == 1:
        disp = disp[:, None]
    n, p = temp.shape
    if disp.shape[0] != n:
        raise fail("displacement", f"must have one row per temperature sample ({n}), got {disp.shape[0]}")
    if sensors is None:
        sensors = tuple(f"T{i + 1}" for i in range(p))
    else:
        sensors = tuple(str(s) for s in sensors)
        if len(sensors) != p:
            raise fail("sensors", f"must name every temperature column ({p}), got {len(sensors)}")
    if channels is None:
        channels = tuple(f"d{i + 1}" for i in range(disp.shape[1]))
    else:
        channels = tuple(str(c) for c in channels)
        if len(channels) != disp.shape[1]:
            raise fail("channels", f"must name every displacement column ({disp.shape[1]}), got {len(channels)}")
    if test_mask is not None:
        test = np.asarray(test_mask)
        if test.dtype != bool or test.shape != (n,):
            raise fail("test_mask", f"must be a boolean array with one entry per sample ({n})")
    else:
        frac = as_float(test_fraction, "test_fraction", lo=0.0, hi=0.9)
        n_test = int(round(frac * n))
        test = np.zeros(n, dtype=bool)
        if n_test:
            test[n - n_test :] = True
    train = ~test
    if np.count_nonzero(train) < p + 2:
        raise fail("temperatures", f"needs at least {p + 2} training samples for {p} sensors, got {np.count_nonzero(train)}")
    ridge = as_float(ridge, "ridge", nonnegative=True)
    if reference is None:
        ref = temp[np.flatnonzero(train)[0]].copy()
    else:
        ref = as_array(reference, "reference", ndim=1)
        if ref.size != p:
            raise fail("reference", f"must have one temperature per sensor ({p}), got {ref.size}")
    return temp, disp, sensors, channels, train, test, ridge, ref


def fit(
    temperatures,
    displacement,
    *,
    sensors=None,
    channels=None,
    test_fraction: float = 0.3,
    test_mask=None,
    ridge: float = 0.0,
    reference=None,
) -> ThermalModel:
    """Fit a regression thermal error model and validate it on held-out data.

    Parameters
    ----------
    temperatures : array_like, shape (N, p)
        Sensor temperatures at N instants (rows in time order).
    displacement : array_like, shape (N,) or (N, k)
        Measured thermal displacement(s) of the tool centre point at the same instants.
    sensors, channels : sequence of str, optional
        Names of the sensors and displacement channels.
    test_fraction : float
        Fraction of the record, taken from its end, held out for validation (ignored with ``test_mask``).
    test_mask : array_like of bool, optional
        Explicit held-out samples (e.g. a whole second heating cycle).
    ridge : float
        Ridge penalty on the scaled coefficients (0: ordinary least squares).
    reference : array_like, shape (p,), optional
        Reference temperatures; default the first training sample.

    Returns
    -------
    ThermalModel

    Warns
    -----
    JingceWarning
        Severely collinear sensors (eigenvalue ratio of the sensors' correlation matrix, i.e. the squared
        ``condition_number``, above 1000; Montgomery et al. 9.4.3): the model will extrapolate poorly to
        other heating patterns. Or a constant sensor (no information). Moderate correlation between
        sensors is normal in thermal data; the VIFs are reported for judgement.

    References
    ----------
    .. [1] Mayr et al., CIRP Annals 61 (2012), 4.2; Montgomery et al. (2012), 3.2 and 9.4-9.5.
    """
    temp, disp, sensors, channels, train, test, ridge, ref = _fit_iv(
        temperatures, displacement, sensors, channels, test_fraction, test_mask, ridge, reference
    )
    x = temp - ref
    xt, yt = x[train], disp[train]
    mx = xt.mean(axis=0)
    my = yt.mean(axis=0)
    xc = xt - mx
    yc = yt - my
    sx = np.sqrt(np.einsum("ij,ij->j", xc, xc) / max(xc.shape[0] - 1, 1))
    flat = sx == 0
    if np.any(flat):
        warn(f"sensor(s) {[sensors[i] for i in np.flatnonzero(flat)]} did not change in the training data; their coefficient is set to 0")
    sx_safe = np.where(flat, 1.0, sx)
    z = xc / sx_safe
    z[:, flat] = 0.0
    sv = np.linalg.svd(z[:, ~flat], compute_uv=False) if np.any(~flat) else np.array([1.0])
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    vif = _vif(z, flat)
    if cond * cond > 1e3:
        warn(f"temperature sensors are severely collinear (condition number {cond:.3g}, max VIF {np.nanmax(vif):.3g}); "
             "the model may not extrapolate to other heating patterns")
    if ridge > 0:
        a = np.vstack([z, math.sqrt(ridge) * np.eye(z.shape[1])])
        b = np.vstack([yc, np.zeros((z.shape[1], yc.shape[1]))])
    else:
        a, b = z, yc
    beta_z, *_ = np.linalg.lstsq(a, b, rcond=None)
    beta = beta_z / sx_safe[:, None]
    beta[flat] = 0.0
    intercept = my - mx @ beta
    pred = intercept + x @ beta
    resid = disp - pred
    train_rmse = np.sqrt(np.mean(resid[train] ** 2, axis=0))
    if np.any(test):
        rt = resid[test]
        dt = disp[test]
        test_rmse = np.sqrt(np.mean(rt**2, axis=0))
        test_max = np.max(np.abs(rt), axis=0)
        dev = dt - dt.mean(axis=0)
        ss_tot = np.einsum("ij,ij->j", dev, dev)
        with np.errstate(invalid="ignore", divide="ignore"):
            r2 = 1.0 - np.einsum("ij,ij->j", rt, rt) / ss_tot
            before = np.ptp(dt, axis=0)
            after = np.ptp(rt, axis=0)
            reduction = 1.0 - after / before
    else:
        warn("no held-out data: the model is not validated")
        nan = np.full(disp.shape[1], np.nan)
        test_rmse = test_max = r2 = before = after = reduction = nan
    out = dict(
        intercept=intercept, coefficients=beta, reference_temperatures=ref, train=train, test=test,
        train_rmse=train_rmse, test_rmse=test_rmse, test_max_abs=test_max, test_r2=r2,
        test_range_before=before, test_range_after=after, reduction=reduction, vif=vif,
        measured=disp.copy(), fitted=pred,
    )
    for v in out.values():
        v.setflags(write=False)
    return ThermalModel(sensors=sensors, channels=channels, ridge=ridge, condition_number=cond, **out)


def _vif(z: np.ndarray, flat: np.ndarray) -> np.ndarray:
    p = z.shape[1]
    vif = np.full(p, np.nan)
    live = np.flatnonzero(~flat)
    if live.size < 2:
        vif[live] = 1.0
        return vif
    corr = np.corrcoef(z[:, live], rowvar=False)
    try:
        inv = np.linalg.inv(corr)
        vif[live] = np.diag(inv)
    except np.linalg.LinAlgError:
        vif[live] = np.inf
    return vif


def predict(model: ThermalModel, temperatures) -> np.ndarray:
    """Predicted thermal displacement, shape (N, k), for sensor temperatures of shape (N, p).

    References
    ----------
    .. [1] Mayr et al., CIRP Annals 61 (2012), 4.2.
    """
    if not isinstance(model, ThermalModel):
        raise fail("model", "must be a ThermalModel from thermal.fit")
    temp = as_array(temperatures, "temperatures", ndim=(1, 2))
    if temp.ndim == 1:
        temp = temp[None, :] if temp.size == model.coefficients.shape[0] else temp[:, None]
    if temp.shape[1] != model.coefficients.shape[0]:
        raise fail("temperatures", f"must have one column per sensor ({model.coefficients.shape[0]}), got {temp.shape[1]}")
    return model.intercept + (temp - model.reference_temperatures) @ model.coefficients


def compensation(model: ThermalModel, temperatures) -> np.ndarray:
    """The compensation term to add to the commanded position: ``-predict(model, temperatures)``."""
    return -predict(model, temperatures)
