"""Rigid-body geometric error model of a 3-axis serial machine (21 errors, ISO 230-1 names), volumetric
error, identification from measured point errors, and command correction.

Errors and names (ISO 230-1:2012, 3.4 and Annex A)
--------------------------------------------------
Each linear axis K in {X, Y, Z} has six component errors, functions of its commanded position q_K:
``E_XK, E_YK, E_ZK`` (positioning for K's own direction, straightness in the other two) and
``E_AK, E_BK, E_CK`` (roll, pitch and yaw: small rotations about X, Y, Z; right-hand rule, radians).
Three location errors make the axes' directions non-orthogonal: ``E_C(0X)Y`` (squareness of Y to X),
``E_B(0X)Z`` (Z to X) and ``E_A(0Y)Z`` (Z to Y). 18 + 3 = 21.

Sign conventions (explicit, as jingce uses them)
-----------------------------------------------
* Machine coordinates q = (X, Y, Z) are the commanded tool position relative to the workpiece; the
  ideal machine puts the tool point at ``q + t`` (t: tool offset from the reference point of the last
  tool-side carriage, in the workpiece frame at zero rotation).
* The component errors of an axis are the error motion of the tool relative to the workpiece caused by
  that axis, at the carriage's frame: a positive ``E_XX`` moves the tool further in +X than commanded
  (what an ISO 230-2 laser test of X measures as a positive deviation). For a tool-side axis this is the
  carriage's own error motion; for a workpiece-side (table) axis it is the inverse of the table's.
* Rotations turn about the origin of their carriage frame: for a tool-side axis the carriage's
  reference point (where the tool offset starts for the last axis), for a workpiece-side axis the
  workpiece datum carried by that table.
* Squareness: the actual directions of the axes are ``u_X = (1, 0, 0)``,
  ``u_Y = R_z(E_C(0X)Y) (0, 1, 0)`` and ``u_Z = R_x(E_A(0Y)Z) R_y(E_B(0X)Z) (0, 0, 1)``; so a positive
  ``E_C(0X)Y`` opens the angle between +X and +Y beyond 90°, a positive ``E_A(0Y)Z`` opens the angle
  between +Y and +Z beyond 90°, and a positive ``E_B(0X)Z`` closes the angle between +X and +Z.
* The rotation of a carriage is ``R = R_x(E_A) R_y(E_B) R_z(E_C)`` (exact form); to first order it is
  ``I + [ε]x`` whatever the order.

Kinematic chain
---------------
A string of the axes and the bed ``b`` read from the workpiece to the tool: ``"bXYZ"`` has all three
axes on the tool side (bed - X - Y - Z - tool, e.g. a gantry); ``"XbYZ"`` has X carrying the workpiece
(workpiece - X - bed - Y - Z - tool); ``"YXbZ"`` has Y on X on the bed carrying the workpiece and Z
carrying the tool. Dashes and the words "bed", "W" (workpiece) and "T" (tool) are accepted:
``"W-X-bed-Y-Z-T"``. With L1..Lm the axes left of the bed (L1 carries the workpiece) and R1..Rn those
right of it (R1 on the bed), the tool point relative to the workpiece is, exactly,

    p = E_L1 Tr(q_L1 u_L1) ... E_Lm Tr(q_Lm u_Lm) Tr(q_R1 u_R1) E_R1 ... Tr(q_Rn u_Rn) E_Rn t,

with E = [R | δ] the homogeneous transform of a carriage's errors; the volumetric error is
``p - (q + t)``. The first-order form keeps the terms linear in the errors:
``e = Σ_K (δ_K + ε_K × v_K) + Σ squareness terms``, with v_K the nominal vector from K's pivot to the
tool point.

Component error functions
-------------------------
Each component error is a polynomial in the normalised position ``s = q / scale`` of its axis,
``E(q) = Σ_{j=0..d} c_j s^j``. Identification uses the conventions of ISO 230-1: translational errors
have no constant term (that is the machine zero), and straightness error motions have no linear term
either (the slope of an axis's reference straight line is its squareness, or defines the coordinate
frame: X gives the x direction, X and Y the xy-plane), so with ``terms=1`` the model has one parameter
per error - the scale error of each positioning error, the bow (s^2) of each straightness, the slope of
each angular error - plus the three squareness errors: 21 parameters. Constant angular errors can be
added (``constants``); some of them are indistinguishable from a squareness unless several tool offsets
are measured, which the identifiability report shows.

References
----------
.. [1] ISO 230-1:2012 (GB/T 17421.1), Test code for machine tools - Part 1: Geometric accuracy of
       machines operating under no-load or quasi-static conditions, 3.4 (error motions, component
       errors), 3.5 (location errors), Annex A (symbols E_XX ... E_CZ, E_C(0X)Y ...).
.. [2] H. Schwenke, W. Knapp, H. Haitjema, A. Weckenmann, R. Schmitt, F. Delbressine, "Geometric error
       measurement and compensation of machines - An update", CIRP Annals 57 (2008) 660-675
       (rigid-body model, kinematic chains, identification, volumetric compensation).
.. [3] R. Ramesh, M. A. Mannan, A. N. Poo, "Error compensation in machine tools - a review. Part I:
       geometric, cutting-force induced and fixture-dependent errors", Int. J. Mach. Tools Manuf. 40
       (2000) 1235-1256 (homogeneous transformation matrices).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from jingce.kernels._validation import as_array, as_float, as_int, fail, one_of, warn

__all__ = [
    "COMPONENT_ERRORS",
    "SQUARENESS_ERRORS",
    "CommandCorrection",
    "GeometricErrors",
    "Identification",
    "VolumetricError",
    "correct_commands",
    "geometric_errors",
    "identify",
    "parse_chain",
    "volumetric_error",
]

AXES = ("X", "Y", "Z")
#: The 18 component errors in order: for each axis X, Y, Z: E_X?, E_Y?, E_Z?, E_A?, E_B?, E_C?.
COMPONENT_ERRORS: tuple[str, ...] = tuple(f"E_{c}{k}" for k in AXES for c in ("X", "Y", "Z", "A", "B", "C"))
#: The three squareness (location) errors.
SQUARENESS_ERRORS: tuple[str, ...] = ("E_C(0X)Y", "E_B(0X)Z", "E_A(0Y)Z")
_CHUNK = 1 << 18


@dataclass(frozen=True, slots=True)
class GeometricErrors:
    """The 21 geometric errors of a 3-axis machine and its kinematic chain.

    Attributes
    ----------
    chain : str
        Normalised kinematic chain, e.g. ``"bXYZ"`` or ``"XbYZ"`` (see the module docstring).
    coefficients : ndarray, shape (18, degree + 1)
        ``coefficients[k, j]`` multiplies ``s^j`` in component error ``COMPONENT_ERRORS[k]``.
    squareness : ndarray, shape (3,)
        ``E_C(0X)Y, E_B(0X)Z, E_A(0Y)Z`` in radians.
    scale : ndarray, shape (3,)
        Normalisation lengths of X, Y, Z (``s = q / scale``).
    """

    chain: str
    coefficients: np.ndarray
    squareness: np.ndarray
    scale: np.ndarray

    @property
    def degree(self) -> int:
        return int(self.coefficients.shape[1] - 1)

    def component(self, name: str, q) -> np.ndarray:
        """Value of one component error (e.g. ``"E_XX"``) at positions ``q`` of its axis."""
        if name not in COMPONENT_ERRORS:
            raise fail("name", f"must be one of {COMPONENT_ERRORS}, got {name!r}")
        k = COMPONENT_ERRORS.index(name)
        axis = k // 6
        s = as_array(q, "q") / self.scale[axis]
        return np.polynomial.polynomial.polyval(s, self.coefficients[k])

    def as_dict(self) -> dict:
        """``{name: [c_0, c_1, ..., c_d]}`` plus squareness, scale and chain (JSON-friendly)."""
        out = {name: [float(c) for c in self.coefficients[k]] for k, name in enumerate(COMPONENT_ERRORS)}
        out.update({name: float(v) for name, v in zip(SQUARENESS_ERRORS, self.squareness, strict=True)})
        out["scale"] = self.scale.tolist()
        out["chain"] = self.chain
        return out


@dataclass(frozen=True, slots=True)
class VolumetricError:
    """Volumetric error at a set of points.

    Attributes
    ----------
    errors : ndarray, shape (N, 3)
        Actual minus nominal tool position relative to the workpiece.
    magnitude_max, magnitude_rms : float
        Largest and root-mean-square length of the error vectors.
    method : str
        ``"exact"`` or ``"first_order"``.
    """

    errors: np.ndarray
    magnitude_max: float
    magnitude_rms: float
    method: str


@dataclass(frozen=True, slots=True)
class Identification:
    """Least-squares identification of the geometric errors from measured point errors.

    Attributes
    ----------
    model : GeometricErrors
        The identified errors (minimum-norm solution in the non-identifiable directions).
    parameter_names : tuple of str
        ``"E_XX[1]"`` (coefficient of s^1), ``"E_CX[0]"`` (constant), ``"E_C(0X)Y"``, ...
    parameters, standard_uncertainties : ndarray, shape (P,)
        Estimates and their standard uncertainties (from the residual variance; NaN for
        non-identifiable parameters).
    identifiable : ndarray of bool, shape (P,)
    effect_scale : ndarray, shape (P,)
        Root-mean-square over the data of each parameter's Jacobian column (length per unit of the
        parameter): ``parameter * effect_scale`` is the parameter's rms effect on the measured errors,
        comparable across translations and angles.
    confounded : tuple of str
        One line per non-identifiable direction naming the parameter combination that leaves the
        measured errors unchanged (e.g. ``"+0.707 E_CX[0] -0.707 E_C(0X)Y"``).
    singular_values : ndarray
        Singular values of the column-normalised Jacobian, descending.
    condition_number : float
        Ratio of the largest to the smallest singular value (inf when rank deficient).
    condition_number_identifiable : float
        The same over the identifiable subspace (what governs the accuracy of what can be identified).
    rank : int
    residual_rms, residual_max : float
        Of the measured minus modelled errors (per coordinate).
    n_points : int
    method : str
        Model used for the final residuals (``"first_order"`` or ``"exact"`` after refinement).
    """

    model: GeometricErrors
    parameter_names: tuple[str, ...]
    parameters: np.ndarray
    standard_uncertainties: np.ndarray
    identifiable: np.ndarray
    effect_scale: np.ndarray
    confounded: tuple[str, ...]
    singular_values: np.ndarray
    condition_number: float
    condition_number_identifiable: float
    rank: int
    residual_rms: float
    residual_max: float
    n_points: int
    method: str


@dataclass(frozen=True, slots=True)
class CommandCorrection:
    """Result of iterated command correction ``q <- q* - E(q)``.

    Attributes
    ----------
    commands : ndarray, shape (N, 3)
        Corrected commands that put the tool on the nominal targets (per the model).
    residual : ndarray, shape (N, 3)
        Remaining model error at the corrected commands (actual minus nominal target).
    iterations : int
    max_residual_history : ndarray
        Largest residual length after each iteration (index 0: uncorrected).
    converged : bool
    """

    commands: np.ndarray
    residual: np.ndarray
    iterations: int
    max_residual_history: np.ndarray
    converged: bool


# --------------------------------------------------------------------------- chain and model


def parse_chain(chain: str) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """Normalise a kinematic chain; return ``(normalised, workpiece-side axes, tool-side axes)``.

    Workpiece-side axes are listed from the workpiece to the bed, tool-side axes from the bed to the
    tool, as axis indices (0 = X).
    """
    if not isinstance(chain, str):
        raise fail("chain", f"must be a string such as 'bXYZ' or 'X-bed-Y-Z', got {chain!r}")
    text = chain.strip().replace(" ", "")
    tokens = [tok for tok in text.split("-")] if "-" in text else list(text.replace("bed", "b"))
    norm = []
    for i, tok in enumerate(tokens):
        low = tok.lower()
        if low in ("b", "bed"):
            norm.append("b")
        elif tok.upper() in AXES and len(tok) == 1 and tok != "b":
            norm.append(tok.upper())
        elif low in ("w", "workpiece") and i == 0:
            continue
        elif low in ("t", "tool") and i == len(tokens) - 1:
            continue
        else:
            raise fail("chain", f"names an unknown axis or element {tok!r}; use X, Y, Z and b (bed), e.g. 'bXYZ' or 'XbYZ'")
    if norm.count("b") != 1:
        raise fail("chain", f"must contain the bed 'b' exactly once, got {chain!r}")
    for a in AXES:
        if norm.count(a) != 1:
            raise fail("chain", f"must contain axis {a} exactly once, got {chain!r}")
    ib = norm.index("b")
    left = tuple(AXES.index(a) for a in norm[:ib])
    right = tuple(AXES.index(a) for a in norm[ib + 1 :])
    return "".join(norm), left, right


def geometric_errors(
    errors: dict | None = None,
    *,
    chain: str = "bXYZ",
    scale=(1.0, 1.0, 1.0),
    degree: int | None = None,
) -> GeometricErrors:
    """Build a :class:`GeometricErrors` from ``{name: value}``.

    Parameters
    ----------
    errors : dict, optional
        Component errors as ``{"E_XX": [c_0, c_1, ..., c_d]}`` (c_0 the constant, c_j the coefficient
        of ``(q/scale)^j``) and squareness as ``{"E_C(0X)Y": value}``. Missing entries are zero.
    chain : str
        Kinematic chain (see :func:`parse_chain`).
    scale : sequence of 3 floats
        Normalisation lengths of X, Y, Z.
    degree : int, optional
        Polynomial degree; default the longest list given (at least 1).
    """
    norm, _, _ = parse_chain(chain)
    sc = as_array(scale, "scale", ndim=1)
    if sc.size != 3 or np.any(sc <= 0):
        raise fail("scale", "must be three positive lengths (X, Y, Z)")
    errors = {} if errors is None else errors
    if not isinstance(errors, dict):
        raise fail("errors", "must be a mapping of ISO 230-1 error names to values")
    unknown = sorted(set(errors) - set(COMPONENT_ERRORS) - set(SQUARENESS_ERRORS))
    if unknown:
        raise fail("errors", f"has unknown error name(s) {unknown}; expected {COMPONENT_ERRORS + SQUARENESS_ERRORS}")
    longest = max([len(np.atleast_1d(v)) for k, v in errors.items() if k in COMPONENT_ERRORS] + [2])
    d = max(1, longest - 1) if degree is None else as_int(degree, "degree", lo=1, hi=10)
    coef = np.zeros((18, d + 1))
    for k, name in enumerate(COMPONENT_ERRORS):
        if name in errors:
            c = as_array(errors[name], name, ndim=(0, 1)).ravel()
            if c.size > d + 1:
                raise fail(name, f"has {c.size - 1} polynomial terms, more than degree {d}")
            coef[k, : c.size] = c
    sq = np.array([as_float(errors.get(n, 0.0), n) for n in SQUARENESS_ERRORS])
    sc = sc.copy()
    for a in (coef, sq, sc):
        a.setflags(write=False)
    return GeometricErrors(norm, coef, sq, sc)


# --------------------------------------------------------------------------- evaluation


def _component_values(model: GeometricErrors, q: np.ndarray) -> np.ndarray:
    """Component errors at q: shape (3, 6, N) - axis, (δx, δy, δz, εa, εb, εc), point."""
    n = q.shape[0]
    out = np.empty((3, 6, n))
    d = model.degree
    for ax in range(3):
        s = q[:, ax] * (1.0 / model.scale[ax])
        c = model.coefficients[6 * ax : 6 * ax + 6]  # (6, d + 1)
        # Horner: ((c_d s + c_{d-1}) s + ...) s + c_0
        acc = np.multiply.outer(c[:, d], s) if d else np.zeros((6, n))
        for j in range(d - 1, 0, -1):
            acc += c[:, j : j + 1]
            acc *= s
        acc += c[:, 0:1]
        out[ax] = acc
    return out


def _directions(sq: np.ndarray, exact: bool) -> np.ndarray:
    g, b, a = sq
    if exact:
        uy = np.array([-math.sin(g), math.cos(g), 0.0])
        uz = np.array([math.sin(b), -math.sin(a) * math.cos(b), math.cos(a) * math.cos(b)])
    else:
        uy = np.array([-g, 1.0, 0.0])
        uz = np.array([b, -a, 1.0])
    return np.array([[1.0, 0.0, 0.0], uy, uz])


def _factor_order(left, right):
    """Factors right to left as (kind, axis): 'E' error transform, 'T' translation."""
    seq = []
    for ax in left:
        seq += [("E", ax), ("T", ax)]
    for ax in right:
        seq += [("T", ax), ("E", ax)]
    return seq[::-1]


def _rotate_inplace(x, y, z, ea, eb, ec):
    """v <- R_x(ea) R_y(eb) R_z(ec) v, exact, on component arrays."""
    c, s = np.cos(ec), np.sin(ec)
    x, y = c * x - s * y, s * x + c * y
    c, s = np.cos(eb), np.sin(eb)
    x, z = c * x + s * z, -s * x + c * z
    c, s = np.cos(ea), np.sin(ea)
    y, z = c * y - s * z, s * y + c * z
    return x, y, z


def _volumetric_chunk(model, order, q, t, exact: bool) -> np.ndarray:
    n = q.shape[0]
    comp = _component_values(model, q)
    u = _directions(model.squareness, exact)
    tx = np.broadcast_to(t[..., 0], (n,)).astype(np.float64, copy=True)
    ty = np.broadcast_to(t[..., 1], (n,)).astype(np.float64, copy=True)
    tz = np.broadcast_to(t[..., 2], (n,)).astype(np.float64, copy=True)
    if exact:
        x, y, z = tx.copy(), ty.copy(), tz.copy()
        for kind, ax in order:
            if kind == "T":
                qa = q[:, ax]
                x += qa * u[ax, 0]
                y += qa * u[ax, 1]
                z += qa * u[ax, 2]
            else:
                e = comp[ax]
                x, y, z = _rotate_inplace(x, y, z, e[3], e[4], e[5])
                x += e[0]
                y += e[1]
                z += e[2]
        ex = x - (q[:, 0] + tx)
        ey = y - (q[:, 1] + ty)
        ez = z - (q[:, 2] + tz)
    else:
        # v: nominal vector from the current pivot to the tool point; accumulate δ + ε × v.
        vx, vy, vz = tx, ty, tz
        ex = np.zeros(n)
        ey = np.zeros(n)
        ez = np.zeros(n)
        for kind, ax in order:
            if kind == "T":
                qa = q[:, ax]
                if ax == 0:
                    vx = vx + qa
                elif ax == 1:
                    vy = vy + qa
                    ex -= model.squareness[0] * qa
                else:
                    vz = vz + qa
                    ex += model.squareness[1] * qa
                    ey -= model.squareness[2] * qa
            else:
                e = comp[ax]
                ex += e[0] + e[4] * vz - e[5] * vy
                ey += e[1] + e[5] * vx - e[3] * vz
                ez += e[2] + e[3] * vy - e[4] * vx
    return np.stack([ex, ey, ez], axis=1)


def _points_iv(q, argument="q") -> np.ndarray:
    arr = as_array(q, argument, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.shape[1] != 3:
        raise fail(argument, f"must have 3 columns (X, Y, Z), got {arr.shape[1]}")
    return arr


def _tool_iv(tool_offset, n: int) -> np.ndarray:
    if tool_offset is None:
        return np.zeros(3)
    t = as_array(tool_offset, "tool_offset", ndim=(1, 2))
    if t.shape[-1] != 3:
        raise fail("tool_offset", f"must have 3 components (x, y, z), got {t.shape[-1]}")
    if t.ndim == 2 and t.shape[0] not in (1, n):
        raise fail("tool_offset", f"must be one offset or one per point ({n}), got {t.shape[0]}")
    return t[0] if t.ndim == 2 and t.shape[0] == 1 else t


def _model_iv(model) -> GeometricErrors:
    if not isinstance(model, GeometricErrors):
        raise fail("model", "must be a GeometricErrors (use kinematics.geometric_errors)")
    return model


def _volumetric(model: GeometricErrors, q: np.ndarray, t: np.ndarray, exact: bool, out: np.ndarray | None = None):
    _, left, right = parse_chain(model.chain)
    order = _factor_order(left, right)
    n = q.shape[0]
    res = np.empty((n, 3)) if out is None else out
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        tc = t[lo:hi] if t.ndim == 2 else t
        res[lo:hi] = _volumetric_chunk(model, order, q[lo:hi], tc, exact)
    return res


def volumetric_error(model: GeometricErrors, q, *, tool_offset=None, method: str = "exact") -> VolumetricError:
    """Volumetric error of the machine at commanded positions ``q``.

    Parameters
    ----------
    model : GeometricErrors
    q : array_like, shape (N, 3)
        Commanded machine positions (X, Y, Z); vectorised over millions of points (processed in
        chunks of 262144 to bound memory).
    tool_offset : array_like, shape (3,) or (N, 3), optional
        Tool point relative to the reference point of the last tool-side carriage; default 0.
    method : {"exact", "first_order"}
        Exact homogeneous transforms or the linearised form.

    Returns
    -------
    VolumetricError

    References
    ----------
    .. [1] ISO 230-1:2012, 3.4-3.5 and Annex A; Schwenke et al., CIRP Annals 57 (2008), 3.
    """
    model = _model_iv(model)
    method = one_of(method, "method", ("exact", "first_order"))
    qq = _points_iv(q)
    t = _tool_iv(tool_offset, qq.shape[0])
    e = _volumetric(model, qq, t, method == "exact")
    mag2 = np.einsum("ij,ij->i", e, e)
    e.setflags(write=False)
    return VolumetricError(e, float(np.sqrt(mag2.max())), float(np.sqrt(mag2.mean())), method)


# --------------------------------------------------------------------------- identification


def _is_straightness(k: int) -> bool:
    axis, c = divmod(k, 6)
    return c < 3 and c != axis


def _parameter_layout(terms: int, constants: tuple[str, ...]):
    names = []
    index = []  # (kind, k, j): kind "c" coefficient (k component, j power) or "s" squareness
    for k, name in enumerate(COMPONENT_ERRORS):
        if name in constants:
            names.append(f"{name}[0]")
            index.append(("c", k, 0))
        first = 2 if _is_straightness(k) else 1
        for j in range(first, first + terms):
            names.append(f"{name}[{j}]")
            index.append(("c", k, j))
    for i, name in enumerate(SQUARENESS_ERRORS):
        names.append(name)
        index.append(("s", i, 0))
    return tuple(names), index


def _jacobian(chain: str, scale: np.ndarray, index, q: np.ndarray, t: np.ndarray) -> np.ndarray:
    """First-order Jacobian d(e)/d(parameters), shape (N, 3, P); exact for the linear model."""
    _, left, right = parse_chain(chain)
    order = _factor_order(left, right)
    n = q.shape[0]
    # nominal pivot-to-tool vector seen by each axis' error transform
    v = np.empty((3, n, 3))
    acc = np.broadcast_to(t, (n, 3)).astype(np.float64, copy=True)
    for kind, ax in order:
        if kind == "T":
            acc[:, ax] += q[:, ax]
        else:
            v[ax] = acc
    jac = np.zeros((n, 3, len(index)))
    for p, (kind, k, j) in enumerate(index):
        if kind == "s":
            if k == 0:
                jac[:, 0, p] = -q[:, 1]
            elif k == 1:
                jac[:, 0, p] = q[:, 2]
            else:
                jac[:, 1, p] = -q[:, 2]
            continue
        ax, c = divmod(k, 6)
        basis = (q[:, ax] / scale[ax]) ** j if j else np.ones(n)
        if c < 3:
            jac[:, c, p] = basis
        else:
            r = c - 3
            w = v[ax]
            if r == 0:  # e_x × w = (0, -w_z, w_y)
                jac[:, 1, p] = -w[:, 2] * basis
                jac[:, 2, p] = w[:, 1] * basis
            elif r == 1:  # e_y × w = (w_z, 0, -w_x)
                jac[:, 0, p] = w[:, 2] * basis
                jac[:, 2, p] = -w[:, 0] * basis
            else:  # e_z × w = (-w_y, w_x, 0)
                jac[:, 0, p] = -w[:, 1] * basis
                jac[:, 1, p] = w[:, 0] * basis
    return jac


def _model_from_params(chain, scale, index, params) -> GeometricErrors:
    degree = max(j for kind, _, j in index if kind == "c")
    coef = np.zeros((18, degree + 1))
    sq = np.zeros(3)
    for (kind, k, j), value in zip(index, params, strict=True):
        if kind == "s":
            sq[k] = value
        else:
            coef[k, j] = value
    sc = np.array(scale, dtype=np.float64)
    for a in (coef, sq, sc):
        a.setflags(write=False)
    return GeometricErrors(chain, coef, sq, sc)


def _identify_iv(q, errors, chain, tool_offset, terms, constants, scale, refine, rtol):
    norm, _, _ = parse_chain(chain)
    qq = _points_iv(q)
    e = _points_iv(errors, "errors")
    if e.shape[0] != qq.shape[0]:
        raise fail("errors", f"must have one row per point of q ({qq.shape[0]}), got {e.shape[0]}")
    t = _tool_iv(tool_offset, qq.shape[0])
    terms = as_int(terms, "terms", lo=1, hi=10)
    if isinstance(constants, str):
        constants = (constants,)
    constants = tuple(constants)
    expanded = []
    for c in constants:
        if c == "angular":
            expanded += [n for n in COMPONENT_ERRORS if n[2] in "ABC"]
        elif c in COMPONENT_ERRORS:
            expanded.append(c)
        else:
            raise fail("constants", f"must name component errors (e.g. 'E_CX') or 'angular', got {c!r}")
    if scale is None:
        span = np.max(np.abs(qq), axis=0)
        sc = np.where(span > 0, span, 1.0)
    else:
        sc = as_array(scale, "scale", ndim=1)
        if sc.size != 3 or np.any(sc <= 0):
            raise fail("scale", "must be three positive lengths (X, Y, Z)")
    refine = as_int(refine, "refine", lo=0, hi=20)
    rtol = as_float(rtol, "rtol", positive=True)
    return norm, qq, e, t, terms, tuple(dict.fromkeys(expanded)), sc, refine, rtol


def identify(
    q,
    errors,
    *,
    chain: str = "bXYZ",
    tool_offset=None,
    terms: int = 1,
    constants=(),
    scale=None,
    refine: int = 0,
    rtol: float = 1e-9,
) -> Identification:
    """Identify the geometric errors by least squares from measured volumetric errors at known points.

    Parameters
    ----------
    q : array_like, shape (N, 3)
        Commanded positions where the errors were measured.
    errors : array_like, shape (N, 3)
        Measured tool-to-workpiece errors (actual minus nominal) at those points.
    chain : str
        Kinematic chain (see :func:`parse_chain`).
    tool_offset : array_like, shape (3,) or (N, 3), optional
        Tool (probe, reflector) offset of each measurement. Several different offsets are needed to
        identify the angular errors of the last axes (with a single offset their lever arm is fixed).
    terms : int
        Polynomial terms per component error: powers 1..terms of s for positioning and angular
        errors, 2..terms+1 for straightness (ISO 230-1: no linear straightness). ``terms=1`` gives
        3 scale errors + 6 bows + 9 angular slopes + 3 squareness = 21 parameters.
    constants : sequence of str
        Component errors that also get a constant term (names, or ``"angular"`` for all 9 angular).
    scale : sequence of 3 floats, optional
        Normalisation lengths; default the largest |q| per axis.
    refine : int
        Gauss-Newton iterations against the exact model after the linear solution (0: first order).
    rtol : float
        Singular values below ``rtol`` times the largest count as zero (non-identifiable directions).

    Returns
    -------
    Identification

    Notes
    -----
    Columns of the Jacobian are normalised before the SVD, so the condition number compares
    parameters on an equal footing. Non-identifiable directions are reported, and the minimum-norm
    solution is returned in them (so, e.g., a constant yaw and a squareness that cannot be told apart
    share the effect equally).

    References
    ----------
    .. [1] Schwenke et al., CIRP Annals 57 (2008), 4 (indirect measurement and identification).
    .. [2] ISO 230-1:2012, Annex A (names).
    """
    chain, qq, e, t, terms, constants, sc, refine, rtol = _identify_iv(
        q, errors, chain, tool_offset, terms, constants, scale, refine, rtol
    )
    n = qq.shape[0]
    names, index = _parameter_layout(terms, constants)
    jac = _jacobian(chain, sc, index, qq, t).reshape(3 * n, len(index))
    norms = np.sqrt(np.einsum("ij,ij->j", jac, jac))
    zero_cols = norms == 0
    norms_safe = np.where(zero_cols, 1.0, norms)
    js = jac / norms_safe
    sv, vt = _scaled_svd(js)
    smax = sv[0] if sv.size else 0.0
    keep = sv > rtol * smax
    rank = int(np.count_nonzero(keep))
    if rank < len(index):
        warn(f"{len(index) - rank} of {len(index)} error parameters are not identifiable from these points")
    y = e.reshape(-1)
    qt_y = np.einsum("ij,i->j", js, y)
    # minimum-norm least squares in the scaled parameters: x = V S^-2 V^T J^T y restricted to kept
    vk = vt[keep]
    xs = vk.T @ ((vk @ qt_y) / sv[keep] ** 2)
    params = xs / norms_safe
    method = "first_order"
    model = _model_from_params(chain, sc, index, params)
    for _ in range(refine):
        res = y - _volumetric(model, qq, t, True).reshape(-1)
        dx = vk.T @ ((vk @ np.einsum("ij,i->j", js, res)) / sv[keep] ** 2)
        params = params + dx / norms_safe
        model = _model_from_params(chain, sc, index, params)
        method = "exact"
    fitted = _volumetric(model, qq, t, method == "exact").reshape(-1)
    resid = y - fitted
    dof = max(y.size - rank, 1)
    ss = float(np.dot(resid, resid))
    s2 = ss / dof
    null = vt[~keep]
    loading = np.sqrt(np.sum(null**2, axis=0)) if null.size else np.zeros(len(index))
    identifiable = (loading < 1e-3) & ~zero_cols
    cov_scaled = vk.T @ (vk / sv[keep, None] ** 2)
    u = np.sqrt(np.clip(np.diag(cov_scaled), 0.0, None) * s2) / norms_safe
    u = np.where(identifiable, u, np.nan)
    confounded = tuple(_describe_null(vec, names) for vec in null)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 and rank == len(index) else float("inf")
    cond_id = float(sv[0] / sv[keep][-1]) if rank else float("nan")
    effect = norms / math.sqrt(max(y.size, 1))
    for a in (params, u, identifiable, sv, effect):
        a.setflags(write=False)
    return Identification(
        model=model,
        parameter_names=names,
        parameters=params,
        standard_uncertainties=u,
        identifiable=identifiable,
        effect_scale=effect,
        confounded=confounded,
        singular_values=sv,
        condition_number=cond,
        condition_number_identifiable=cond_id,
        rank=rank,
        residual_rms=float(math.sqrt(ss / resid.size)) if resid.size else 0.0,
        residual_max=float(np.max(np.abs(resid))) if resid.size else 0.0,
        n_points=n,
        method=method,
    )


def _scaled_svd(js: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Singular values (descending) and right singular vectors of the column-normalised Jacobian.

    The P x P Gram matrix is cheap (one pass over the data) and accurate while the condition number
    is moderate; when its smallest singular value falls below 1e-6 of the largest (ill-conditioned or
    rank-deficient) the Gram matrix has lost those digits, and the SVD is taken of a QR factor instead.
    """
    # einsum (no BLAS threads): OpenBLAS's threaded GEMM stalls badly on a loaded machine.
    g = np.einsum("ij,ik->jk", js, js)
    w, v = np.linalg.eigh(g)
    w = w[::-1]
    v = v[:, ::-1]
    sv = np.sqrt(np.clip(w, 0.0, None))
    if sv.size and sv[-1] >= 1e-6 * sv[0]:
        return sv, v.T
    r = scipy.linalg.qr(np.asfortranarray(js), mode="r", check_finite=False)[0][: js.shape[1]]
    _, sv, vt = np.linalg.svd(r)
    return sv, vt


def _describe_null(vec: np.ndarray, names) -> str:
    order = np.argsort(-np.abs(vec))
    parts = [f"{vec[i]:+.3f} {names[i]}" for i in order if abs(vec[i]) > 0.05]
    if len(parts) == 1:
        return f"{parts[0]} (no effect on the measured errors)"
    return " ".join(parts) + " (indistinguishable)"


# --------------------------------------------------------------------------- command correction


def correct_commands(
    model: GeometricErrors,
    targets,
    *,
    tool_offset=None,
    iterations: int = 10,
    tolerance: float = 1e-9,
    method: str = "exact",
) -> CommandCorrection:
    """Correct commanded positions for the volumetric error: iterate ``q <- q* - E(q)``.

    Parameters
    ----------
    model : GeometricErrors
    targets : array_like, shape (N, 3)
        Nominal commands q* (where an ideal machine would put the tool at ``q* + t``).
    tool_offset : array_like, optional
    iterations : int
        Maximum number of fixed-point iterations.
    tolerance : float
        Stop when the largest remaining model error is below this (length unit of the model).
    method : {"exact", "first_order"}

    Returns
    -------
    CommandCorrection

    Notes
    -----
    The fixed point satisfies ``q + E(q) = q*``; it converges when the error's gradient is small
    (errors of µm per metre), typically in two or three iterations.

    References
    ----------
    .. [1] Schwenke et al., CIRP Annals 57 (2008), 6 (compensation by modified commands).
    """
    model = _model_iv(model)
    method = one_of(method, "method", ("exact", "first_order"))
    q_star = _points_iv(targets, "targets")
    t = _tool_iv(tool_offset, q_star.shape[0])
    iterations = as_int(iterations, "iterations", lo=1, hi=100)
    tolerance = as_float(tolerance, "tolerance", positive=True)
    exact = method == "exact"
    q = q_star.copy()
    e = _volumetric(model, q, t, exact)
    history = [float(np.sqrt(np.max(np.einsum("ij,ij->i", e, e))))]
    resid = e
    done = 0
    for _ in range(iterations):
        done += 1
        q = q_star - e
        e = _volumetric(model, q, t, exact)
        resid = q + e - q_star
        history.append(float(np.sqrt(np.max(np.einsum("ij,ij->i", resid, resid)))))
        if history[-1] <= tolerance:
            break
    converged = history[-1] <= tolerance
    if not converged:
        warn(f"command correction did not reach {tolerance} in {iterations} iterations (max residual {history[-1]:.3g})")
    hist = np.array(history)
    for a in (q, resid, hist):
        a.setflags(write=False)
    return CommandCorrection(q, resid, done, hist, converged)
