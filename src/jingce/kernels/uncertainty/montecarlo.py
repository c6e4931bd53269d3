"""Propagation of distributions by a Monte Carlo method (JCGM 101:2008, GUM Supplement 1).

Trials are drawn in chunks, each from its own generator stream derived from one seed
(``SFC64(SeedSequence(seed, spawn_key=(chunk,)))``), so a run is reproducible from ``result.seed``
whatever the chunking into threads. Up to ``memory_trials`` model values are kept and sorted
(partially) in memory; above that the run streams: a first pass accumulates moments and a
fine histogram, a second pass regenerates the same chunks and keeps only the values near the
wanted order statistics, so 1e8 trials run in bounded memory and give exact order statistics.

References
----------
.. [1] JCGM 101:2008, 5.9 and 7 (the Monte Carlo method), 6.4 (sampling the inputs), 7.6
       (estimate and standard uncertainty), 7.7 (coverage intervals: probabilistically
       symmetric 7.7.1, shortest 7.7.2), 7.9 (adaptive Monte Carlo procedure), 8 (validation of
       the GUM uncertainty framework).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from jingce.kernels._validation import as_int, as_probability, fail, warn
from jingce.kernels.uncertainty._model import Model, build_model, check_inputs, significant_tolerance
from jingce.kernels.uncertainty.distributions import InputQuantity
from jingce.kernels.uncertainty.gum import GumResult, correlation_matrix, gum

__all__ = ["MonteCarloResult", "Validation", "monte_carlo", "coverage_interval"]

_HIST_BINS = 1 << 16
_RANK_WINDOW = 0.002  # fraction of M kept around each wanted order statistic in the second pass


@dataclass(frozen=True, slots=True)
class Validation:
    """Comparison of the GUM uncertainty framework with Monte Carlo (JCGM 101 clause 8).

    ``passed`` when both endpoint differences ``d_low = |y - U_p - y_low|`` and
    ``d_high = |y + U_p - y_high|`` are at most the numerical tolerance ``delta`` of ``u(y)``
    at ``ndig`` significant digits.
    """

    gum_low: Any
    gum_high: Any
    mc_low: Any
    mc_high: Any
    d_low: Any
    d_high: Any
    delta: Any
    ndig: int
    passed: Any


@dataclass(frozen=True, slots=True)
class MonteCarloResult:
    """Result of :func:`monte_carlo`; per-output fields are scalars for one output, arrays for several.

    Attributes
    ----------
    y, u : mean and standard deviation of the model values (JCGM 101 7.6)
    symmetric_low, symmetric_high : probabilistically symmetric coverage interval (7.7.1)
    shortest_low, shortest_high : shortest coverage interval (7.7.2)
    covariance, correlation : of the outputs, shape (q, q)
    trials : number of model evaluations used
    seed : entropy that reproduces the run (pass it as ``rng``)
    adaptive, converged : whether the adaptive procedure (7.9) ran and reached its tolerance
    ndig : significant decimal digits of the numerical tolerance
    delta : numerical tolerance of ``u`` (7.9.2)
    validation : GUM framework validation (clause 8) or None
    histogram_edges, histogram_counts : a 100-bin histogram of the first output's values (of the first
        2 x 10^5 trials, counts scaled to ``trials``)
    samples : the first ``keep_samples`` model values of each output (q, n) or None
    """

    output_names: tuple[str, ...]
    y: Any
    u: Any
    coverage_probability: float
    symmetric_low: Any
    symmetric_high: Any
    shortest_low: Any
    shortest_high: Any
    covariance: np.ndarray
    correlation: np.ndarray
    trials: int
    seed: int
    adaptive: bool
    converged: bool
    ndig: int
    delta: Any
    validation: Validation | None
    histogram_edges: np.ndarray
    histogram_counts: np.ndarray
    samples: np.ndarray | None


# --------------------------------------------------------------------------------------------
# coverage intervals of a sample


def _q_and_r(m: int, p: float) -> tuple[int, int]:
    """``q`` and 1-based ``r`` of the symmetric interval (JCGM 101 7.7.1)."""
    pm = p * m
    q = int(pm) if float(pm).is_integer() else int(math.floor(pm + 0.5))
    r = (m - q) // 2 if (m - q) % 2 == 0 else (m - q + 1) // 2
    return q, max(r, 1)


def coverage_interval(values: np.ndarray, p: float) -> tuple[float, float, float, float]:
    """Probabilistically symmetric and shortest ``100 p %`` coverage intervals of ``values``
    (JCGM 101 7.7.1 and 7.7.2). Only the lowest and the highest ``M - q`` values are sorted: they are
    picked out with thresholds estimated from a sub-sample (checked by counting), or by
    ``numpy.partition`` when the thresholds miss.

    Returns
    -------
    sym_low, sym_high, short_low, short_high : float
    """
    a = np.asarray(values, dtype=np.float64).ravel()
    m = a.size
    q, r = _q_and_r(m, p)
    low_n = m - q
    if low_n < 1:
        raise fail("trials", f"are too few for a {p:g} coverage interval")
    lows = highs = None
    if m >= 200_000:
        sub = np.sort(a[:: max(1, m // 20_000)])
        ns = sub.size
        frac = low_n / m
        slack = 4 * math.sqrt(frac * (1 - frac) / ns) + 2 / ns
        i_lo = min(ns - 1, int(math.ceil((frac + slack) * ns)))
        i_hi = max(0, int(math.floor((1 - frac - slack) * ns)))
        below = a[a <= sub[i_lo]]
        above = a[a >= sub[i_hi]]
        if below.size >= low_n and above.size >= low_n:
            below.sort()
            above.sort()
            lows = below[:low_n]
            highs = above[above.size - low_n:]
    if lows is None:
        b = np.array(a, copy=True)
        b.partition([low_n - 1, q] if q < m else [low_n - 1])
        lows = np.sort(b[:low_n])
        highs = np.sort(b[q:])
    widths = highs - lows
    i = int(np.argmin(widths))
    return float(lows[r - 1]), float(highs[r - 1]), float(lows[i]), float(highs[i])


# --------------------------------------------------------------------------------------------
# sampling


@dataclass(frozen=True, slots=True)
class _Sampler:
    model: Model
    inputs: tuple[InputQuantity, ...]
    names: tuple[str, ...]
    gauss_group: tuple[int, ...]  # indices of correlated normal inputs sampled jointly
    gauss_mean: np.ndarray
    gauss_factor: np.ndarray  # L with L L^T = covariance of the group
    seed: int
    chunk: int
    trials: int

    def n_chunks(self) -> int:
        return -(-self.trials // self.chunk)

    def chunk_values(self, index: int, out: np.ndarray | None = None) -> np.ndarray:
        size = min(self.chunk, self.trials - index * self.chunk)
        # SFC64: a small chaotic generator that passes PractRand/BigCrush and is ~10 % faster than PCG64 here
        rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence(self.seed, spawn_key=(index,))))
        env: dict[str, np.ndarray] = {}
        if self.gauss_group:
            z = rng.standard_normal((len(self.gauss_group), size))
            joint = self.gauss_mean[:, None] + self.gauss_factor @ z
            for row, i in enumerate(self.gauss_group):
                env[self.names[i]] = joint[row]
        for i, (name, q) in enumerate(zip(self.names, self.inputs, strict=True)):
            if i not in self.gauss_group:
                env[name] = q.sample(rng, size)
        out = self.model(env, (size,), out)
        if not np.isfinite(out.sum()) and not np.all(np.isfinite(out)):
            bad = int(np.flatnonzero(~np.all(np.isfinite(out), axis=0))[0])
            where = ", ".join(f"{n}={env[n][bad]:.6g}" for n in self.names)
            raise fail("model", f"returned NaN or infinity for a Monte Carlo trial (inputs {where})")
        return out


def _make_sampler(model: Model, qs: Mapping[str, InputQuantity], r: np.ndarray, seed: int, chunk: int,
                  trials: int) -> _Sampler:
    names = model.input_names
    inputs = tuple(qs[n] for n in names)
    n = len(names)
    correlated = [i for i in range(n) if np.any(np.abs(np.delete(r[i], i)) > 0)]
    for i in correlated:
        if inputs[i].kind != "normal":
            raise fail("correlation", f"Monte Carlo samples correlated inputs as a multivariate Gaussian "
                                      f"(JCGM 101 6.4.8); input {names[i]!r} is {inputs[i].kind}")
    if correlated:
        idx = np.array(correlated)
        sd = np.array([inputs[i].u for i in correlated], dtype=float)
        cov = r[np.ix_(idx, idx)] * np.outer(sd, sd)
        w, v = np.linalg.eigh(cov)
        factor = v * np.sqrt(np.clip(w, 0.0, None))
        mean = np.array([inputs[i].x for i in correlated], dtype=float)
    else:
        factor = np.zeros((0, 0))
        mean = np.zeros(0)
    return _Sampler(model, inputs, names, tuple(correlated), mean, factor, seed, chunk, trials)


def _map_tasks(task: Callable[[int], Any], indices: Sequence[int], workers: int,
               consume: Callable[[int, Any], None]) -> None:
    """Run ``task(i)`` (possibly in threads) and hand the results to ``consume`` in index order."""
    if workers <= 1 or len(indices) <= 1:
        for i in indices:
            consume(i, task(i))
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Bounded look-ahead keeps memory at about 2 * workers chunks.
        pending = []
        for i in indices:
            pending.append((i, pool.submit(task, i)))
            if len(pending) >= 2 * workers:
                j, fut = pending.pop(0)
                consume(j, fut.result())
        for j, fut in pending:
            consume(j, fut.result())


def _map_chunks(sampler: _Sampler, indices: Sequence[int], workers: int,
                consume: Callable[[int, np.ndarray], None]) -> None:
    """Evaluate chunks (possibly in threads) and hand them to ``consume`` in index order."""
    _map_tasks(sampler.chunk_values, indices, workers, consume)


# --------------------------------------------------------------------------------------------
# accumulators


def _chunk_moments(values: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Count, mean and co-moment matrix of one chunk, two-pass (corrected mean)."""
    mb = values.mean(axis=1)
    dev = values - mb[:, None]
    mb = mb + dev.mean(axis=1)
    # einsum, not BLAS: a threaded BLAS dot is slow on small vectors on a loaded machine
    if values.shape[0] == 1:
        dev -= dev.mean()
        return values.shape[1], mb, np.array([[float(np.einsum("i,i->", dev[0], dev[0]))]])
    dev = values - mb[:, None]
    return values.shape[1], mb, np.einsum("ik,jk->ij", dev, dev)


class _Moments:
    """Chan-Golub-LeVeque combination of per-chunk means and co-moment matrices."""

    def __init__(self, q: int) -> None:
        self.n = 0
        self.mean = np.zeros(q)
        self.c2 = np.zeros((q, q))

    def add(self, values: np.ndarray) -> None:
        self.combine(*_chunk_moments(values))

    def combine(self, nb: int, mb: np.ndarray, cb: np.ndarray) -> None:
        if self.n == 0:
            self.n, self.mean, self.c2 = nb, mb, cb
            return
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * nb / n
        self.c2 = self.c2 + cb + np.outer(delta, delta) * self.n * nb / n
        self.n = n

    def covariance(self) -> np.ndarray:
        return self.c2 / (self.n - 1)


def _summary_in_memory(values: np.ndarray, p: float) -> dict[str, np.ndarray]:
    mom = _Moments(values.shape[0])
    mom.add(values)
    ints = np.array([coverage_interval(v, p) for v in values])  # (q, 4)
    return {"mean": mom.mean, "cov": mom.covariance(), "ints": ints, "n": values.shape[1]}


def _summary_streaming(sampler: _Sampler, p: float, workers: int, q_out: int) -> dict[str, np.ndarray]:
    """Two passes over regenerated chunks: moments and histogram, then exact order statistics."""
    m = sampler.trials
    n_chunks = sampler.n_chunks()
    first = sampler.chunk_values(0)
    lo = first.min(axis=1)
    hi = first.max(axis=1)
    span = np.where(hi > lo, hi - lo, np.abs(hi) + 1.0)
    lo = lo - 0.5 * span
    hi = hi + 0.5 * span
    width = (hi - lo) / _HIST_BINS
    counts = np.zeros((q_out, _HIST_BINS + 2), dtype=np.int64)  # [underflow, bins..., overflow]
    mom = _Moments(q_out)

    def bin_index(v: np.ndarray, j: int) -> np.ndarray:
        b = np.floor((v - lo[j]) / width[j]).astype(np.int64) + 1
        return np.clip(b, 0, _HIST_BINS + 1)

    def pass1(i: int, vals: np.ndarray) -> None:
        mom.add(vals)
        for j in range(q_out):
            counts[j] += np.bincount(bin_index(vals[j], j), minlength=_HIST_BINS + 2)

    pass1(0, first)
    _map_chunks(sampler, range(1, n_chunks), workers, pass1)

    q, r = _q_and_r(m, p)
    cum = np.cumsum(counts, axis=1)  # cum[j, b] = number of values in bins <= b
    win = max(1000, int(_RANK_WINDOW * m))
    plans = []
    for j in range(q_out):
        # approximate quantile function on bin edges: rank -> value
        edges = lo[j] + width[j] * np.arange(_HIST_BINS + 1)
        ranks_at_edges = cum[j, :-1]  # values below edges[b] (b = 0.._HIST_BINS)
        grid = np.linspace(0, m - q - 1, 4001)
        q_lo = np.interp(grid, ranks_at_edges, edges)
        q_hi = np.interp(grid + q, ranks_at_edges, edges)
        i_star = int(grid[int(np.argmin(q_hi - q_lo))])
        wanted = [(r - 1, r - 1), (r - 1 + q, r - 1 + q), (i_star - win, i_star + win),
                  (i_star + q - win, i_star + q + win)]
        bins = []
        for a, b in wanted:
            a = int(np.clip(a, 0, m - 1))
            b = int(np.clip(b, 0, m - 1))
            ba = int(np.searchsorted(cum[j], a, side="right"))  # first bin whose cum count > a
            bb = int(np.searchsorted(cum[j], b, side="right"))
            bins.append((ba, bb))
        plans.append(bins)
    collected: list[list[list[np.ndarray]]] = [[[] for _ in range(4)] for _ in range(q_out)]

    def pass2(i: int, vals: np.ndarray) -> None:
        for j in range(q_out):
            b = bin_index(vals[j], j)
            for w, (ba, bb) in enumerate(plans[j]):
                sel = (b >= ba) & (b <= bb)
                if np.any(sel):
                    collected[j][w].append(vals[j][sel])

    _map_chunks(sampler, range(n_chunks), workers, pass2)
    ints = np.empty((q_out, 4))
    for j in range(q_out):
        stats = []
        for w, (ba, _bb) in enumerate(plans[j]):
            arr = np.sort(np.concatenate(collected[j][w])) if collected[j][w] else np.empty(0)
            below = int(cum[j, ba - 1]) if ba > 0 else 0
            stats.append((below, arr))
        (b0, s0), (b1, s1), (b2, s2), (b3, s3) = stats
        ints[j, 0] = s0[r - 1 - b0]
        ints[j, 1] = s1[r - 1 + q - b1]
        # exact shortest interval among start ranks whose both endpoints were kept
        start = max(b2, b3 - q)
        stop = min(b2 + s2.size, b3 + s3.size - q)
        if stop > start:
            ranks = np.arange(start, stop)
            lows = s2[ranks - b2]
            highs = s3[ranks + q - b3]
            k = int(np.argmin(highs - lows))
            ints[j, 2], ints[j, 3] = lows[k], highs[k]
        else:  # pragma: no cover - windows always overlap for continuous outputs
            ints[j, 2], ints[j, 3] = ints[j, 0], ints[j, 1]
    hist = {"edges": lo[0] + width[0] * np.arange(_HIST_BINS + 1), "counts": counts[0, 1:-1]}
    return {"mean": mom.mean, "cov": mom.covariance(), "ints": ints, "n": m, "hist": hist}


# --------------------------------------------------------------------------------------------
# public kernel


def _seed_from(rng: Any) -> int:
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63 - 1))
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.generate_state(2, np.uint64)[0] >> np.uint64(1))
    if rng is None:
        return int(np.random.SeedSequence().generate_state(2, np.uint64)[0] >> np.uint64(1))
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool) and rng >= 0:
        return int(rng)
    raise fail("rng", "must be a numpy Generator, a SeedSequence, a non-negative integer seed or None")


def _monte_carlo_iv(model: Any, inputs: Any, trials: Any, correlation: Any, coverage_probability: Any,
                    ndig: Any, chunk_size: Any, workers: Any, memory_trials: Any, max_trials: Any,
                    keep_samples: Any, output_names: Any):
    qs = check_inputs(inputs)
    for name, qv in qs.items():
        if np.shape(qv.x) != ():
            raise fail(name, "must have scalar parameters for Monte Carlo (array parameters are for gum)")
    p = as_probability(coverage_probability, "coverage_probability")
    m = as_int(trials, "trials", lo=1)
    j_min = math.ceil(100 / (1 - p))
    if m < 2 * math.ceil(1 / (1 - p)):
        raise fail("trials", f"must be at least {2 * math.ceil(1 / (1 - p))} for a {p:g} coverage interval")
    nd = as_int(ndig, "ndig", lo=1, hi=6)
    ch = as_int(chunk_size, "chunk_size", lo=1000)
    wk = as_int(workers, "workers", lo=1, hi=64)
    mem = as_int(memory_trials, "memory_trials", lo=10_000)
    mx = as_int(max_trials, "max_trials", lo=1)
    keep = as_int(keep_samples, "keep_samples", lo=0)
    r = correlation_matrix(correlation, tuple(qs))
    mdl = build_model(model, qs, output_names)
    return qs, mdl, r, p, m, j_min, nd, ch, wk, mem, mx, keep


def monte_carlo(
    model: Any,
    inputs: Mapping[str, InputQuantity],
    trials: int = 1_000_000,
    rng: Any = None,
    *,
    correlation: Any = None,
    coverage_probability: float = 0.95,
    adaptive: bool = False,
    ndig: int = 2,
    max_trials: int = 100_000_000,
    chunk_size: int = 1 << 17,
    workers: int = 1,
    memory_trials: int = 20_000_000,
    validate: bool = True,
    keep_samples: int = 0,
    output_names: Sequence[str] | None = None,
) -> MonteCarloResult:
    """Propagate the input distributions through ``model`` by Monte Carlo (JCGM 101).

    Parameters
    ----------
    model : callable or expression string(s)
        As for :func:`~jingce.kernels.uncertainty.gum`; called with arrays of one chunk of trials.
    inputs : mapping str -> InputQuantity
        Scalar input quantities.
    trials : int
        Number of trials ``M`` (ignored when ``adaptive``). JCGM 101 7.2.2 recommends
        ``M >= 10^4 / (1 - p)``... at least ``100 / (1 - p)`` is needed for a meaningful interval.
    rng : numpy.random.Generator, int, SeedSequence or None
        Source of the seed; the run is reproduced by passing ``result.seed``.
    correlation : optional
        Correlation of normal inputs, sampled as one multivariate Gaussian (JCGM 101 6.4.8).
    coverage_probability : float
    adaptive : bool
        Run the adaptive procedure of JCGM 101 7.9: blocks of ``max(100/(1-p), 10^4)`` trials until
        twice the standard deviation of the block means of ``y``, ``u`` and the interval endpoints is
        within the numerical tolerance of ``u`` at ``ndig`` significant digits (or ``max_trials``).
    ndig : int
        Significant digits for the numerical tolerance (7.9.2, clause 8).
    chunk_size : int
        Trials per chunk (each chunk has its own generator stream).
    workers : int
        Threads evaluating chunks (numpy releases the GIL in sampling and array arithmetic).
    memory_trials : int
        Largest ``M`` kept in memory; above it the two-pass streaming summary is used.
    validate : bool
        Compare with the GUM uncertainty framework (clause 8) when all inputs have finite ``u``.
    keep_samples : int
        Keep this many model values of each output in the result (for plots).

    Returns
    -------
    MonteCarloResult

    References
    ----------
    JCGM 101:2008 7.2-7.9, 8; examples 9.2, 9.3, 9.4.
    """
    qs, mdl, r, p, m, j_min, nd, ch, wk, mem, mx, keep = _monte_carlo_iv(
        model, inputs, trials, correlation, coverage_probability, ndig, chunk_size, workers, memory_trials,
        max_trials, keep_samples, output_names)
    seed = _seed_from(rng)
    q_out = len(mdl.output_names)
    converged = True
    if adaptive:
        block = max(j_min, 10_000)
        sampler = _make_sampler(mdl, qs, r, seed, block, mx)
        blocks: list[np.ndarray] = []
        per_block: list[np.ndarray] = []  # (q, 6): y, u, sym_lo, sym_hi, short_lo, short_hi
        mom = _Moments(q_out)
        converged = False
        h = 0
        while (h + 1) * block <= mx:
            vals = sampler.chunk_values(h)
            h += 1
            mom.add(vals)
            if h * block <= mem:
                blocks.append(vals)
            ints = np.array([coverage_interval(v, p) for v in vals])
            per_block.append(np.column_stack([vals.mean(axis=1), vals.std(axis=1, ddof=1), ints]))
            if h < 2:
                continue
            stack = np.stack(per_block)  # (h, q, 6)
            s = stack.std(axis=0, ddof=1) / math.sqrt(h)
            u_all = np.sqrt(np.diag(mom.covariance()))
            delta = np.array([significant_tolerance(float(uu), nd) for uu in u_all])
            if np.all(2 * s <= delta[:, None]):
                converged = True
                break
        if not converged:
            warn(f"adaptive Monte Carlo did not reach the numerical tolerance within max_trials={mx}")
        m = h * block
        sampler = _make_sampler(mdl, qs, r, seed, block, m)
        if blocks and len(blocks) == h:
            summary = _summary_in_memory(np.concatenate(blocks, axis=1), p)
            all_values = np.concatenate(blocks, axis=1)
        else:
            summary = _summary_streaming(sampler, p, wk, q_out)
            all_values = None
    else:
        if m < j_min:
            warn(f"{m} trials are few for a {p:g} coverage interval; JCGM 101 7.2.2 asks for M >> 1/(1-p)")
        sampler = _make_sampler(mdl, qs, r, seed, ch, m)
        if m <= mem:
            all_values = np.empty((q_out, m))
            moments = _Moments(q_out)

            def task(i: int) -> tuple[np.ndarray, np.ndarray]:
                view = all_values[:, i * ch: min(m, (i + 1) * ch)]
                sampler.chunk_values(i, view)
                return _chunk_moments(view)

            _map_tasks(task, range(sampler.n_chunks()), wk, lambda i, mom: moments.combine(*mom))
            ints = np.array([coverage_interval(v, p) for v in all_values])
            summary = {"mean": moments.mean, "cov": moments.covariance(), "ints": ints, "n": m}
        else:
            all_values = None
            summary = _summary_streaming(sampler, p, wk, q_out)

    mean = summary["mean"]
    cov = summary["cov"]
    sd = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(sd, sd)
    if np.any(sd == 0):
        warn("the model values do not vary (u = 0)")
    ints = summary["ints"]
    delta = np.array([significant_tolerance(float(s), nd) for s in sd])
    if all_values is not None:
        lo_h, hi_h = ints[0, 0], ints[0, 1]
        pad = 0.6 * (hi_h - lo_h) if hi_h > lo_h else 1.0
        edges = np.linspace(lo_h - pad, hi_h + pad, 101)
        # the picture needs no more than 2 x 10^5 values (the trials are independent: take the first ones)
        head = all_values[0, :200_000]
        idx = ((head - edges[0]) * (100 / (edges[-1] - edges[0]))).astype(np.int64)
        counts = np.bincount(idx[(head >= edges[0]) & (idx < 100)], minlength=100) * (all_values.shape[1] / head.size)
        samples = all_values[:, :keep].copy() if keep else None
    else:
        e = summary["hist"]["edges"]
        c = summary["hist"]["counts"]
        lo_h, hi_h = ints[0, 0], ints[0, 1]
        pad = 0.6 * (hi_h - lo_h)
        sel = (e[:-1] >= lo_h - pad) & (e[1:] <= hi_h + pad)
        idx = np.flatnonzero(sel)
        group = max(1, idx.size // 100)
        use = idx[: (idx.size // group) * group]
        counts = c[use].reshape(-1, group).sum(axis=1)
        edges = np.append(e[use][::group], e[use[-1] + 1])
        samples = sampler.chunk_values(0)[:, :keep].copy() if keep else None

    validation = _validate(mdl, qs, correlation, p, nd, ints, sd) if validate else None
    single = q_out == 1
    pick = (lambda a: float(a[0])) if single else (lambda a: np.asarray(a))
    return MonteCarloResult(
        output_names=mdl.output_names,
        y=pick(mean),
        u=pick(sd),
        coverage_probability=p,
        symmetric_low=pick(ints[:, 0]),
        symmetric_high=pick(ints[:, 1]),
        shortest_low=pick(ints[:, 2]),
        shortest_high=pick(ints[:, 3]),
        covariance=cov,
        correlation=corr,
        trials=int(summary["n"]),
        seed=seed,
        adaptive=bool(adaptive),
        converged=converged,
        ndig=nd,
        delta=pick(delta),
        validation=validation,
        histogram_edges=edges,
        histogram_counts=counts,
        samples=samples,
    )


def _validate(mdl: Model, qs: Mapping[str, InputQuantity], correlation: Any, p: float, nd: int,
              ints: np.ndarray, sd: np.ndarray) -> Validation | None:
    if not all(np.isfinite(qv.u) for qv in qs.values()):
        return None
    import warnings

    from jingce.errors import JingceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JingceWarning)
        g: GumResult = gum(_ModelCall(mdl), qs, correlation, coverage_probability=p,
                           output_names=mdl.output_names)
    q_out = len(mdl.output_names)
    gl = np.atleast_1d(g.interval_low)
    gh = np.atleast_1d(g.interval_high)
    d_low = np.abs(gl - ints[:, 0])
    d_high = np.abs(gh - ints[:, 1])
    delta = np.array([significant_tolerance(float(s), nd) for s in sd])
    passed = (d_low <= delta) & (d_high <= delta)
    pick = (lambda a: float(a[0]) if a.dtype.kind == "f" else bool(a[0])) if q_out == 1 else (lambda a: a)
    return Validation(pick(gl), pick(gh), pick(ints[:, 0]), pick(ints[:, 1]), pick(d_low), pick(d_high),
                      pick(delta), nd, pick(passed))


class _ModelCall:
    """Adapter letting :func:`gum` call an already built :class:`Model`."""

    def __init__(self, mdl: Model) -> None:
        self.mdl = mdl

    def __call__(self, **env: Any) -> Any:
        shape = np.broadcast_shapes(*(np.shape(v) for v in env.values()))
        out = self.mdl(env, shape)
        return tuple(out) if len(self.mdl.output_names) > 1 else out[0]
