"""The engine interface: the batch analyses every engine runs, and what an engine may decline.

An engine runs the region's batch analyses over the measurement lake. Each engine feeds the very
same per-partition functions (:mod:`jingce.engine.grouped`, which call the numpy batch kernels)
with values sorted by (enterprise, characteristic, time); only how the sorted values reach them
differs (DuckDB per enterprise locally, a shuffle and ``mapInArrow`` on Spark). So results are
equal whatever the engine, which the engine conformance suite checks
(``tests/integration/test_engine_conformance.py``).

Engines declare the operations they cannot run as data, in ``UNSUPPORTED`` (like ibis's
``UNSUPPORTED_OPS``); asking for one raises :class:`UnsupportedOperationError`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jingce.errors import JingceError

if TYPE_CHECKING:
    import pyarrow as pa

    from jingce.store import Actor, Store
    from jingce.store.summaries import SummaryFile

OPERATIONS = (
    "characteristic_summary",  # SPC limits, capability and run-rule alarms per characteristic
    "subgroup_summaries",  # per characteristic and subgroup of consecutive values: n, mean, range, m2
    "daily_summaries",  # per characteristic and local day: n, mean, m2, min, max, out of specification
    "write_summaries",  # all three, written beside the lake and listed in the registry
    "impact_scan",  # values measured with instruments inside out-of-tolerance windows
    "enterprise_progress",  # progress reported enterprise by enterprise as each one finishes
)
"""Every operation of the engine interface (names used in ``UNSUPPORTED``)."""

Progress = Callable[[int, int], None]
"""``progress(done, total)``: units finished so far out of ``total`` (enterprises locally, tasks on Spark)."""


class UnsupportedOperationError(JingceError, NotImplementedError):
    """The engine declares that it cannot run this operation (see ``Engine.UNSUPPORTED``)."""

    code = "unsupported_operation"
    message_zh = "该引擎不支持此操作"


class StreamOrderError(JingceError, RuntimeError):
    """Values reached a streaming kernel out of (enterprise, characteristic, time) order."""

    code = "stream_order"
    message_zh = "数据流顺序错误"


@dataclass(frozen=True, slots=True)
class AnalysisParams:
    """Settings of the batch analyses (the same for every engine).

    Attributes
    ----------
    subgroup_size : int
        Subgroups of this many consecutive values of a characteristic (1: individuals).
    rules : str
        Run-rule set of the control charts (``nelson``, ``western_electric``, ``none``).
    k : float
        Control-limit width in standard errors.
    constants : str
        ``exact`` or ``tabled`` chart constants.
    ci_level : float
        Confidence level of the capability intervals.
    """

    subgroup_size: int = 5
    rules: str = "nelson"
    k: float = 3.0
    constants: str = "exact"
    ci_level: float = 0.95


@dataclass(frozen=True, slots=True)
class WrittenSummaries:
    """What :meth:`Engine.write_summaries` wrote: the files, and how many values they summarise."""

    files: list[SummaryFile]
    n_values: int


class Engine(abc.ABC):
    """A batch engine over the measurement lake (habit 6 of DESIGN.md).

    Every read is on behalf of ``actor`` and sees only what the store's tenancy lets it see.
    Tables come back ordered by (enterprise, characteristic[, subgroup or day]).
    """

    name: str = ""
    UNSUPPORTED: frozenset[str] = frozenset()

    def supports(self, operation: str) -> bool:
        if operation not in OPERATIONS:
            raise UnsupportedOperationError(f"unknown operation {operation!r}; known: {', '.join(OPERATIONS)}",
                                            field="operation")
        return operation not in self.UNSUPPORTED

    def require(self, operation: str) -> None:
        """Raise :class:`UnsupportedOperationError` when this engine declares ``operation`` unsupported."""
        if not self.supports(operation):
            raise UnsupportedOperationError(f"the {self.name} engine cannot run {operation}", field="operation",
                                            engine=self.name)

    @abc.abstractmethod
    def characteristic_summary(self, store: Store, actor: Actor, *, params: AnalysisParams = AnalysisParams(),
                               enterprise_ids: list[int] | None = None,
                               progress: Progress | None = None) -> pa.Table:
        """One row per visible characteristic (schema :data:`jingce.engine.grouped.CHARACTERISTIC_SCHEMA`)."""

    @abc.abstractmethod
    def subgroup_summaries(self, store: Store, actor: Actor, *, params: AnalysisParams = AnalysisParams(),
                           enterprise_ids: list[int] | None = None,
                           progress: Progress | None = None) -> pa.Table:
        """One row per subgroup (schema :data:`jingce.engine.grouped.SUBGROUP_SCHEMA`)."""

    @abc.abstractmethod
    def daily_summaries(self, store: Store, actor: Actor, *, params: AnalysisParams = AnalysisParams(),
                        enterprise_ids: list[int] | None = None, progress: Progress | None = None) -> pa.Table:
        """One row per characteristic and local day (schema :data:`jingce.engine.grouped.DAILY_SCHEMA`;
        the within-subgroup sums use ``params.subgroup_size``)."""

    @abc.abstractmethod
    def write_summaries(self, store: Store, actor: Actor, run_id: int, *, params: AnalysisParams = AnalysisParams(),
                        enterprise_ids: list[int] | None = None,
                        progress: Progress | None = None) -> WrittenSummaries:
        """Compute all three analyses and write them as files of run ``run_id`` beside the lake;
        return the files written (the caller lists them in the registry, the commit point)."""

    @abc.abstractmethod
    def impact_scan(self, store: Store, actor: Actor, windows: pa.Table) -> pa.Table:
        """Values measured with an instrument inside one of its ``windows`` (schema
        :data:`jingce.engine.grouped.WINDOW_SCHEMA`), per window and characteristic (schema
        :data:`jingce.engine.grouped.IMPACT_SCHEMA`)."""

    def close(self) -> None:
        """Release what the engine started (the Spark engine stops the session it created)."""
        return None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
