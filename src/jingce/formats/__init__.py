"""Pure readers and writers: bytes <-> the columnar measurement table of
:mod:`jingce.model.batch`. Each format is one module registering a :class:`Format`."""

from jingce.formats.registry import Format, ReadResult, detect, get, names, register

__all__ = ["Format", "ReadResult", "detect", "get", "names", "register"]
