"""Tolerance stack-up fed by the store: an assembly's predicted quality from its suppliers' actual
process data (issue 6, item 3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from jingce.errors import InvalidInputError
from jingce.kernels import stackup
from jingce.kernels._sums import grouped_mean_m2
from jingce.store import Actor, Store


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One dimension of the chain: a characteristic and its sensitivity (+1/-1 along the loop)."""

    characteristic_id: int
    sensitivity: float = 1.0


def stackup_from_store(store: Store, actor: Actor, chain: Sequence[ChainLink], *, lsl: float | None = None,
                       usl: float | None = None, since: dt.datetime | None = None, min_values: int = 30,
                       n_monte_carlo: int = 0, seed: int | None = None) -> stackup.StackupResult:
    """Stack up a chain of characteristics with their tolerances from the registry and, where the
    actor may read at least ``min_values`` valid values (since ``since``), their measured mean and
    standard deviation; unmeasured links fall back to the tolerance (±3σ normal).

    Raises
    ------
    InvalidInputError
        A characteristic without both specification limits (it cannot be a link of a dimension chain).
    NotFoundError
        A characteristic the actor may not see.
    """
    if not chain:
        raise InvalidInputError("the chain needs at least one characteristic", field="chain")
    nominals, upper, lower, sens, means, sds, names = [], [], [], [], [], [], []
    for k, link in enumerate(chain):
        ch = store.get_characteristic(actor, link.characteristic_id)
        if ch.lower_limit is None or ch.upper_limit is None:
            raise InvalidInputError(f"characteristic {ch.key} has no two-sided tolerance", field=f"chain[{k}]")
        nominal = ch.nominal if ch.nominal is not None else (ch.lower_limit + ch.upper_limit) / 2
        nominals.append(nominal)
        upper.append(ch.upper_limit - nominal)
        lower.append(ch.lower_limit - nominal)
        sens.append(link.sensitivity)
        names.append(ch.key)
        values = store.values(actor, ch.id, start=since, valid_only=True, columns=("value",)).column("value")
        x = np.asarray(values.to_numpy(), dtype=np.float64) - nominal  # statistics on deviations
        if x.size >= min_values:
            n, mean_dev, m2 = grouped_mean_m2(x, np.array([0, x.size], dtype=np.int64))
            means.append(float(mean_dev[0]) + nominal)
            sds.append(float(np.sqrt(m2[0] / (n[0] - 1))))
        else:
            means.append(np.nan)
            sds.append(np.nan)
    rng = np.random.default_rng(seed) if n_monte_carlo else None
    return stackup.analyze(nominals, upper, lower, sens, means=means, sds=sds, lsl=lsl, usl=usl,
                           n_monte_carlo=n_monte_carlo, rng=rng, names=names)
