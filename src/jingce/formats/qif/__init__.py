"""QIF 3 (ANSI/DMSC QIF 3.0, ISO 23952:2020) results and statistics: read and write.

Reads ``QIFDocument`` results (characteristic definitions, nominals and items, measurement
results with their traceability: measuring device, actual component serial, operator, time)
into the measurement table; writes measurements as QIF results, and with the SPC/capability
kernels' results as QIF statistics. Documents are validated against the official QIF 3.0
schemas shipped in ``jingce/formats/schemas/qif3`` (Boost Software License), offline.

Public functions: :func:`read`, :func:`write`, :func:`write_statistics`,
:func:`statistics_from_kernels`, :func:`validate`.
"""

from __future__ import annotations

from jingce.errors import FormatError
from jingce.formats import _xml
from jingce.formats.qif.reader import read, sniff
from jingce.formats.qif.statistics import statistics_from_kernels, write_statistics
from jingce.formats.qif.writer import write
from jingce.formats.registry import Format, register


def validate(data: bytes, name: str = "<qif>") -> None:
    """Check a document against the shipped QIF 3 schema; raise :class:`FormatError` at the first problem."""
    root = _xml.parse(data, name)
    problems = _xml.validate(root, "qif3")
    if problems:
        p = problems[0]
        el = p.element if p.element is not None else root
        raise FormatError(f"does not follow the QIF 3 schema: {p.message}", file=name, line=p.line,
                          element=_xml.path_of(el), field=_xml.local(el))


FORMAT = register(Format(
    name="qif",
    extensions=(".qif", ".qif.xml"),
    read=read,
    sniff=sniff,
    write=write,
    description="QIF 3 results (ISO 23952): characteristics, measurements, traceability; statistics on write",
))

__all__ = ["FORMAT", "read", "statistics_from_kernels", "validate", "write", "write_statistics"]
