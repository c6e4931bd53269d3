"""Run rules (tests for special causes): Western Electric 1-4 and Nelson 1-8.

Each rule is a small frozen record (its kind and parameters), so a rule set is data: switch rules
off, change their counts, or build a set of one's own. The evaluation is vectorised and works on
many series at once (the batch form passes segment starts so that no window crosses from one
characteristic into the next): each comparison of the standardised points with a zone is made
once as a byte mask shared by all rules, and a run of m points is found by ANDing shifted masks
(about log2 m passes), with no per-rule run-length or float arrays.

A point *breaks* a rule when it completes the pattern: it is the last point of the window, and for
the "k of m beyond a zone" rules it is itself beyond the zone (``flag="last"``, the convention of
Nelson 1984 and most software). ``flag="window"`` marks every point of a completed window.

References
----------
.. [1] Western Electric Co., Statistical Quality Control Handbook, 1956, section 1-B
       (tests for unnatural patterns, zones A, B, C).
.. [2] L. S. Nelson, "The Shewhart control chart - tests for special causes", Journal of Quality
       Technology 16 (1984) 237-239.
.. [3] ISO 7870-2:2013, Annex B (tests for special causes: the eight Nelson patterns).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from jingce.kernels._validation import as_array, fail, one_of

__all__ = ["NELSON", "WESTERN_ELECTRIC", "RuleViolations", "RunRule", "rule_set", "run_rules"]

_KINDS = ("beyond", "k_of_m_beyond", "run_same_side", "trend", "alternating", "run_within", "run_outside")


@dataclass(frozen=True, slots=True)
class RunRule:
    """One run rule.

    Attributes
    ----------
    name : str
        ``"nelson1"`` ... ``"nelson8"``, ``"we1"`` ... ``"we4"`` or a name of one's own.
    kind : str
        ``"beyond"``: a point beyond ``zone`` sigma; ``"k_of_m_beyond"``: ``k`` of ``m`` consecutive
        points beyond ``zone`` sigma on the same side; ``"run_same_side"``: ``m`` in a row on one side
        of the centre; ``"trend"``: ``m`` in a row steadily increasing or decreasing;
        ``"alternating"``: ``m`` in a row alternating up and down; ``"run_within"``: ``m`` in a row
        within ``zone`` sigma; ``"run_outside"``: ``m`` in a row beyond ``zone`` sigma on either side.
    m : int
        Window length (points).
    k : int
        Points needed inside the window (``k_of_m_beyond``).
    zone : float
        Zone boundary in sigma units of the plotted statistic.
    enabled : bool
    """

    name: str
    kind: str
    m: int = 1
    k: int = 1
    zone: float = 3.0
    enabled: bool = True


NELSON: tuple[RunRule, ...] = (
    RunRule("nelson1", "beyond", 1, 1, 3.0),
    RunRule("nelson2", "run_same_side", 9),
    RunRule("nelson3", "trend", 6),
    RunRule("nelson4", "alternating", 14),
    RunRule("nelson5", "k_of_m_beyond", 3, 2, 2.0),
    RunRule("nelson6", "k_of_m_beyond", 5, 4, 1.0),
    RunRule("nelson7", "run_within", 15, 15, 1.0),
    RunRule("nelson8", "run_outside", 8, 8, 1.0),
)

WESTERN_ELECTRIC: tuple[RunRule, ...] = (
    RunRule("we1", "beyond", 1, 1, 3.0),
    RunRule("we2", "k_of_m_beyond", 3, 2, 2.0),
    RunRule("we3", "k_of_m_beyond", 5, 4, 1.0),
    RunRule("we4", "run_same_side", 8),
)

_SETS = {"nelson": NELSON, "western_electric": WESTERN_ELECTRIC}


def rule_set(rules="nelson", *, enable=None, disable=None, params=None) -> tuple[RunRule, ...]:
    """Build a rule set.

    Parameters
    ----------
    rules : str or sequence of RunRule or mapping
        ``"nelson"``, ``"western_electric"``, ``"none"``, a sequence of :class:`RunRule`, or of
        mappings with RunRule fields.
    enable, disable : sequence of str, optional
        Rule names to switch on only (``enable``) or off (``disable``).
    params : mapping, optional
        ``{rule name: {"m": .., "k": .., "zone": ..}}`` overrides.
    """
    if isinstance(rules, str):
        if rules == "none":
            return ()
        one_of(rules, "rules", (*_SETS, "none"))
        base = _SETS[rules]
    else:
        base = []
        for r in rules:
            if isinstance(r, RunRule):
                base.append(r)
            elif isinstance(r, dict):
                try:
                    base.append(RunRule(**r))
                except TypeError as exc:
                    raise fail("rules", f"entries must have RunRule fields ({exc})") from None
            else:
                raise fail("rules", f"entries must be RunRule or mappings, got {type(r).__name__}")
        base = tuple(base)
    names = [r.name for r in base]
    for arg, sel in (("enable", enable), ("disable", disable)):
        for nm in sel or ():
            if nm not in names:
                raise fail(arg, f"names an unknown rule {nm!r}; known: {names}")
    for nm in params or {}:
        if nm not in names:
            raise fail("params", f"names an unknown rule {nm!r}; known: {names}")
    out = []
    for r in base:
        if r.kind not in _KINDS:
            raise fail("rules", f"rule {r.name!r} has unknown kind {r.kind!r}")
        if enable is not None:
            r = replace(r, enabled=r.name in enable)
        if disable is not None and r.name in disable:
            r = replace(r, enabled=False)
        if params and r.name in params:
            try:
                r = replace(r, **params[r.name])
            except TypeError as exc:
                raise fail("params", f"{r.name}: {exc}") from None
        if not (isinstance(r.m, int | np.integer) and r.m >= 1 and isinstance(r.k, int | np.integer) and 1 <= r.k <= r.m):
            raise fail("params", f"rule {r.name!r} needs integers 1 <= k <= m, got k={r.k}, m={r.m}")
        if not (np.isfinite(r.zone) and r.zone >= 0):
            raise fail("params", f"rule {r.name!r} needs a zone >= 0, got {r.zone}")
        out.append(r)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class RuleViolations:
    """Which points break which rule.

    Attributes
    ----------
    rules : tuple of RunRule
        The enabled rules, in order.
    flags : ndarray of bool, shape (len(rules), n)
        ``flags[r, i]``: point i breaks rule r.
    points : dict of str -> ndarray of int
        Indices of the points breaking each rule.
    any : ndarray of bool, shape (n,)
    counts : dict of str -> int
    last_alarm : int
        Index of the last point breaking any rule, -1 if none.
    flag : str
        ``"last"`` or ``"window"``.
    """

    rules: tuple[RunRule, ...]
    flags: np.ndarray
    points: dict
    any: np.ndarray
    counts: dict
    last_alarm: int
    flag: str


def _shift_and(r: np.ndarray, s: int) -> np.ndarray:
    """``r[i] & r[i - s]``, False where ``i - s`` falls before the start of the array."""
    out = np.zeros_like(r)
    if s < r.size:
        np.logical_and(r[s:], r[:-s], out=out[s:])
    return out


def _run(b: np.ndarray, m: int) -> np.ndarray:
    """True at i where ``b`` holds at each of the m points ending at i.

    By doubling: after the loop ``r`` covers ``w`` points (w the largest power of two <= m), and one
    more AND with ``r`` shifted by ``m - w`` covers exactly m; about log2(m) passes over bytes.
    """
    if m <= 1:
        return b
    r, w = b, 1
    while 2 * w <= m:
        r = _shift_and(r, w)
        w *= 2
    return _shift_and(r, m - w) if w < m else r


def _count(b: np.ndarray, m: int) -> np.ndarray:
    """Number of True among the m points ending at each index (fewer at the array start)."""
    if m <= 16:
        c = b.astype(np.uint8)
        u = b.view(np.uint8)
        for j in range(1, min(m, b.size)):
            c[j:] += u[:-j]
        return c
    cs = np.cumsum(b, dtype=np.int64)
    c = cs.copy()
    c[m:] -= cs[:-m]
    return c


def _clear_heads(f: np.ndarray, heads: np.ndarray, w: int) -> np.ndarray:
    """Clear the first ``w`` points of every series: a window of w + 1 points ending there would
    reach into the series before. Clearing past a short series' end only touches the first points
    of the next series, which are cleared anyway; past the array's end, nothing (an empty series
    at the end has its head there)."""
    if w > 0 and heads.size and f.size:
        idx = (heads[:, None] + np.arange(w)).ravel()
        f[idx[idx < f.size]] = False
    return f


class _Masks:
    """Byte masks of the standardised points, each computed once per block and shared by the rules.

    A plain object, not a closure over a cache dict: a self-referencing closure would be a
    reference cycle and keep every block's masks alive until the garbage collector ran.
    """

    def __init__(self, z: np.ndarray, heads: np.ndarray):
        self.z, self.heads, self.cache = z, heads, {}

    def __call__(self, op: str, t: float = 0.0) -> np.ndarray:
        key = (op, t)
        val = self.cache.get(key)
        if val is not None:
            return val
        z, n = self.z, self.z.size
        with np.errstate(invalid="ignore"):
            if op == "finite":
                val = np.isfinite(z)
            elif op == "abs":
                val = np.abs(z)
            elif op == ">":
                val = z > t
            elif op == "<":
                val = z < t
            elif op == "|>|":
                val = self("abs") > t
            elif op == "|<|":
                val = self("finite") & (self("abs") < t)
            elif op in ("inc", "dec"):
                # sign of the difference to the previous point; none at a series start (or after NaN)
                val = np.zeros(n, bool)
                (np.greater if op == "inc" else np.less)(z[1:], z[:-1], out=val[1:])
                val[self.heads[self.heads < n]] = False
            else:  # "alt": the difference changes sign from the previous one
                inc, dec = self("inc"), self("dec")
                val = np.zeros(n, bool)
                val[1:] = (inc[1:] & dec[:-1]) | (dec[1:] & inc[:-1])
        self.cache[key] = val
        return val


def _last_flags(z: np.ndarray, rules, heads: np.ndarray) -> np.ndarray:
    """Flags (len(rules), n), ``flag="last"``, for standardised points ``z`` of one or more series
    laid end to end; ``heads`` holds the index of each series' first point (sorted).

    One fused pass per block: every comparison of z with a zone is made once and shared among the
    rules, runs are ANDs of shifted byte masks (no per-rule run-length arrays), and windows never
    cross a series start.
    """
    n = z.size
    out = np.zeros((len(rules), n), bool)
    if n == 0 or not rules:
        return out
    heads = np.asarray(heads, dtype=np.int64)
    get = _Masks(z, heads)
    for r_i, r in enumerate(rules):
        m, zone = int(r.m), float(r.zone)
        if r.kind == "beyond":
            f = get("|>|", zone)
        elif r.kind == "k_of_m_beyond":
            hi, lo = get(">", zone), get("<", -zone)
            f = ((_count(hi, m) >= r.k) & hi) | ((_count(lo, m) >= r.k) & lo)
            f = _clear_heads(f, heads, m - 1)
        elif r.kind == "run_same_side":
            f = _run(get(">", 0.0), m) | _run(get("<", 0.0), m)
            f = _clear_heads(f, heads, m - 1)
        elif r.kind == "trend":
            # m points in a row steadily rising: m - 1 consecutive increases (none across a start)
            f = _run(get("inc"), m - 1) | _run(get("dec"), m - 1) if m > 1 else np.ones(n, bool)
        elif r.kind == "alternating":
            f = _run(get("alt"), m - 2) if m > 2 else np.ones(n, bool)
        elif r.kind == "run_within":
            f = _clear_heads(_run(get("|<|", zone), m), heads, m - 1)  # m <= 1: nothing cleared, cache kept
        else:  # run_outside
            f = _clear_heads(_run(get("|>|", zone), m), heads, m - 1)
        np.logical_and(f, get("finite"), out=out[r_i])
    return out


def evaluate(z: np.ndarray, rules, seg_start: np.ndarray, flag: str = "last") -> np.ndarray:
    """Flags (len(rules), n) for standardised points ``z`` = (statistic - centre) / sigma.

    NaN points break no rule and interrupt runs. ``seg_start[i]`` is the index of the first point of
    the series point i belongs to.
    """
    z = np.asarray(z, dtype=np.float64)
    n = z.size
    heads = np.unique(np.asarray(seg_start, dtype=np.int64)) if n else np.zeros(0, np.int64)
    out = _last_flags(z, tuple(rules), heads)
    if flag == "window":
        finite = np.isfinite(z)
        for r_i, r in enumerate(rules):
            if r.kind == "beyond":
                continue
            # spread each completion back over its window
            f = out[r_i]
            ff = f.copy()
            for lag in range(1, int(r.m)):
                ff[:-lag] |= f[lag:]
            out[r_i] = ff & finite
    return out


def run_rules(statistic, center, sigma, *, rules="nelson", enable=None, disable=None, params=None, flag="last"):
    """Apply run rules to a plotted statistic.

    Parameters
    ----------
    statistic : array_like, shape (n,)
        The plotted points in time order (NaN points are skipped and break runs).
    center : float or array_like, shape (n,)
        Centre line.
    sigma : float or array_like, shape (n,)
        Standard deviation of the plotted statistic, i.e. (UCL - centre) / 3 for 3-sigma limits;
        per point for charts whose limits vary.
    rules, enable, disable, params
        See :func:`rule_set`.
    flag : {"last", "window"}
        Mark only the point completing a pattern (default) or every point of the window.

    Returns
    -------
    RuleViolations

    References
    ----------
    Nelson (1984); Western Electric Handbook (1956); ISO 7870-2:2013 Annex B.
    """
    x = as_array(statistic, "statistic", ndim=1, finite=False)
    c = as_array(center, "center", ndim=(0, 1))
    s = as_array(sigma, "sigma", ndim=(0, 1))
    for arg, arr in (("center", c), ("sigma", s)):
        if arr.ndim == 1 and arr.size != x.size:
            raise fail(arg, f"must be one number or one per point ({x.size}), got {arr.size}")
    if np.any(s <= 0):
        raise fail("sigma", "must be > 0")
    one_of(flag, "flag", ("last", "window"))
    rs = tuple(r for r in rule_set(rules, enable=enable, disable=disable, params=params) if r.enabled)
    with np.errstate(invalid="ignore"):
        z = (x - c) / s
    flags = evaluate(z, rs, np.zeros(x.size, np.int64), flag)
    anyf = flags.any(axis=0) if rs else np.zeros(x.size, bool)
    hits = np.flatnonzero(anyf)
    return RuleViolations(
        rules=rs, flags=flags,
        points={r.name: np.flatnonzero(flags[i]) for i, r in enumerate(rs)},
        any=anyf, counts={r.name: int(flags[i].sum()) for i, r in enumerate(rs)},
        last_alarm=int(hits[-1]) if hits.size else -1, flag=flag,
    )
