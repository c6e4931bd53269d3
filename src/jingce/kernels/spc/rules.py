"""Run rules (tests for special causes): Western Electric 1-4 and Nelson 1-8.

Each rule is a small frozen record (its kind and parameters), so a rule set is data: switch rules
off, change their counts, or build a set of one's own. The evaluation is vectorised and works on
many series at once (the batch form passes segment starts so that no window crosses from one
characteristic into the next).

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


def _run_length(cond: np.ndarray, seg_start: np.ndarray) -> np.ndarray:
    """Length of the run of True ending at each index, restarting at each segment start."""
    idx = np.arange(cond.size)
    last_false = np.where(~cond, idx, seg_start - 1)
    last_false = np.maximum.accumulate(last_false)
    return np.where(cond, idx - last_false, 0)


def _window_count(cond: np.ndarray, m: int, seg_start: np.ndarray) -> np.ndarray:
    """Number of True in the window of m points ending at each index; -1 where the window would
    cross a segment start."""
    c = np.concatenate(([0], np.cumsum(cond, dtype=np.int64)))
    idx = np.arange(cond.size)
    lo = idx - m + 1
    ok = lo >= seg_start
    cnt = c[idx + 1] - c[np.maximum(lo, 0)]
    return np.where(ok, cnt, -1)


def evaluate(z: np.ndarray, rules, seg_start: np.ndarray, flag: str = "last") -> np.ndarray:
    """Flags (len(rules), n) for standardised points ``z`` = (statistic - centre) / sigma.

    NaN points break no rule and interrupt runs. ``seg_start[i]`` is the index of the first point of
    the series point i belongs to.
    """
    n = z.size
    finite = np.isfinite(z)
    with np.errstate(invalid="ignore"):
        up, down = z > 0, z < 0
    out = np.zeros((len(rules), n), bool)
    d = np.diff(z, prepend=np.nan)
    d[seg_start == np.arange(n)] = np.nan  # no difference across a segment start
    with np.errstate(invalid="ignore"):
        inc, dec = d > 0, d < 0
    for r_i, r in enumerate(rules):
        m, zone = int(r.m), float(r.zone)
        with np.errstate(invalid="ignore"):
            if r.kind == "beyond":
                f = np.abs(z) > zone
                span = 1
            elif r.kind == "k_of_m_beyond":
                hi, lo = z > zone, z < -zone
                f = ((_window_count(hi, m, seg_start) >= r.k) & hi) | ((_window_count(lo, m, seg_start) >= r.k) & lo)
                span = m
            elif r.kind == "run_same_side":
                f = (_run_length(up, seg_start) >= m) | (_run_length(down, seg_start) >= m)
                span = m
            elif r.kind == "trend":
                # m points in a row steadily rising: m - 1 consecutive increases
                f = (_run_length(inc, seg_start) >= m - 1) | (_run_length(dec, seg_start) >= m - 1)
                span = m
            elif r.kind == "alternating":
                sgn = np.sign(d)
                alt = np.zeros(n, bool)
                alt[1:] = (sgn[1:] * sgn[:-1]) < 0
                alt &= np.isfinite(d) & np.isfinite(np.roll(d, 1))
                f = _run_length(alt, seg_start) >= m - 2
                span = m
            elif r.kind == "run_within":
                f = _run_length(finite & (np.abs(z) < zone), seg_start) >= m
                span = m
            else:  # run_outside
                f = _run_length(np.abs(z) > zone, seg_start) >= m
                span = m
        if flag == "window" and span > 1:
            # spread each completion back over its window (within the segment)
            ff = f.copy()
            for lag in range(1, span):
                shifted = np.zeros(n, bool)
                shifted[:-lag] = f[lag:]
                ff |= shifted
            f = ff
        out[r_i] = f & finite
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
