"""Numerically careful sums for statistics on deviations from nominal.

At a 1000 mm nominal and 0.1 µm spread a naive sum of squares loses almost every digit
(the squares are ~1e6 while the variance is ~1e-14). All kernels therefore work on deviations
from a reference (the nominal, or the group mean) with two-pass sums, batch-wise over groups,
or with Welford's update for streaming data.

References
----------
.. [1] B. P. Welford, "Note on a method for calculating corrected sums of squares and
       products", Technometrics 4 (1962) 419-420.
.. [2] T. F. Chan, G. H. Golub, R. J. LeVeque, "Algorithms for computing the sample variance",
       The American Statistician 37 (1983) 242-247 (pairwise combination of partial results).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def grouped_mean_m2(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mean and sum of squared deviations from the mean per group, two-pass.

    Parameters
    ----------
    values : ndarray of float, shape (n,)
        Values of all groups, concatenated.
    offsets : ndarray of int64, shape (g + 1,)
        Start of each group in ``values``, then ``n``.

    Returns
    -------
    count, mean, m2 : ndarray, shape (g,)
        ``mean`` is NaN for empty groups, ``m2`` is 0 there.
    """
    count = np.diff(offsets)
    g = count.size
    nonempty = count > 0
    mean = np.full(g, np.nan)
    m2 = np.zeros(g)
    if not nonempty.any():
        return count, mean, m2
    # reduceat over the starts of non-empty groups only: they are strictly increasing, so every
    # segment runs to the next start (empty groups in between would cut a segment short)
    idx = offsets[:-1][nonempty]
    n = count[nonempty]
    first_mean = np.add.reduceat(values, idx) / n
    dev = values - np.repeat(first_mean, n)
    resid = np.add.reduceat(dev, idx)
    sq = np.add.reduceat(dev * dev, idx)
    # Björck's corrected two-pass: fold the first pass's residual back into mean and M2
    corr = resid / n
    mean[nonempty] = first_mean + corr
    m2[nonempty] = np.maximum(sq - corr * resid, 0.0)
    return count, mean, m2


@dataclass(frozen=True, slots=True)
class Welford:
    """Immutable streaming state: count, mean and sum of squared deviations (Welford 1962).

    ``update`` returns a new state in constant time; ``combine`` merges two partial states
    (Chan, Golub & LeVeque 1983).
    """

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def update(self, x: float) -> Welford:
        n = self.count + 1
        delta = x - self.mean
        mean = self.mean + delta / n
        return Welford(n, mean, self.m2 + delta * (x - mean))

    def combine(self, other: Welford) -> Welford:
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        n = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * other.count / n
        return Welford(n, mean, self.m2 + other.m2 + delta * delta * self.count * other.count / n)

    @property
    def variance(self) -> float:
        """Sample variance (n - 1 in the denominator); NaN below two values."""
        return self.m2 / (self.count - 1) if self.count > 1 else float("nan")

    @property
    def std(self) -> float:
        return float(np.sqrt(self.variance))
