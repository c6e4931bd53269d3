"""Batch analytics over the measurement lake.

One interface (:class:`~jingce.engine.base.Engine`), two engines running the same kernels:

- ``local`` (:mod:`jingce.engine.local`): DuckDB and numpy in this process, the reference;
- ``spark`` (:mod:`jingce.engine.spark`): PySpark over the same lake, for a region that outgrows
  one machine (``local[2]`` for tests, ``spark://host:7077`` for a cluster).

Select one with :func:`open_engine` from the ``engine`` setting (``JINGCE_ENGINE``). Heavy
dependencies load only when an engine starts: ``import jingce.engine`` needs neither DuckDB nor
PySpark.
"""

from __future__ import annotations

from jingce.engine.base import (
    OPERATIONS,
    AnalysisParams,
    Engine,
    StreamOrderError,
    UnsupportedOperationError,
    WrittenSummaries,
)
from jingce.errors import InvalidInputError

ENGINE_HELP = "local | local[N] | local[*] | spark | spark://host:7077 | yarn | k8s://..."


def engine_kind(spec: str) -> str:
    """``local`` or ``spark`` for an engine setting; raises for anything else."""
    from jingce.engine.spark import is_spark_url  # no PySpark import: only string rules

    spec = (spec or "local").strip()
    if spec == "local":
        return "local"
    if is_spark_url(spec):
        return "spark"
    raise InvalidInputError(f"unknown engine {spec!r}; expected {ENGINE_HELP}", field="JINGCE_ENGINE")


def open_engine(spec: str = "local", **options) -> Engine:
    """The engine an ``engine`` setting names (``Settings.engine``, ``JINGCE_ENGINE``).

    ``local`` is the local engine; a Spark master URL (``local[2]``, ``local[*]``,
    ``spark://host:7077``, ``yarn``, ``k8s://...``; ``spark`` for ``local[*]``) the Spark engine
    on that master. ``options`` go to the Spark engine (``conf``, ``partitions``, ``session``).
    """
    if engine_kind(spec) == "local":
        if options:
            raise InvalidInputError(f"the local engine takes no options, got {sorted(options)}", field="options")
        from jingce.engine.local import LocalEngine

        return LocalEngine()
    from jingce.engine.spark import SparkEngine

    return SparkEngine(spec.strip(), **options)


__all__ = ["ENGINE_HELP", "OPERATIONS", "AnalysisParams", "Engine", "StreamOrderError", "UnsupportedOperationError",
           "WrittenSummaries", "engine_kind", "open_engine"]
