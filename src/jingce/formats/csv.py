"""The jingce measurement CSV layout (version 1): one measured value per row.

Columns (header names in English, or the Chinese names in brackets; order free):

=====================  ========  ===========================================================
column                 required  content
=====================  ========  ===========================================================
enterprise (企业)       yes*      enterprise code
site (工厂)             no        site code (default: the enterprise's first site)
part_number (零件号)    yes*      part number (drawing number) of the measured product
serial (序列号)         no        part serial number
characteristic (特性)   yes       characteristic key on that part number
value (测量值)          yes       measured value (decimal point, or decimal comma if asked)
unit (单位)             no*       unit of the value (default: the characteristic's unit; needed
                                  for a characteristic the registry does not know yet)
time (时间)             yes*      ISO 8601; with an offset (``2026-03-01T08:15:00+08:00``,
                                  ``...Z``) it is exact, without one it is wall-clock time in
                                  ``zone``
zone (时区)             no        IANA zone where the value was taken (default: the site's)
stage (阶段)            no        incoming | in_process | final | in_service (default in_process)
operator (操作员)        no
machine (设备)          no
instrument (量具)       no        instrument code (must be registered)
status (状态)           no        valid | invalid (default valid)
nominal (名义值)         no        nominal at the time (default: the registered characteristic's)
lower_limit (下限)      no        lower specification limit at the time
upper_limit (上限)      no        upper specification limit at the time
characteristic_name    no        name for a characteristic created by this file
kind, criticality      no        kind and criticality for a characteristic created by this file
=====================  ========  ===========================================================

\\* may instead be given once for the whole file (``jingce ingest --enterprise ... --part-number
...``). The delimiter (``,`` ``;`` or tab) is detected from the header; encoding UTF-8 (with or
without BOM), else GB18030.
"""

from __future__ import annotations

import csv as _stdcsv
import io
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from jingce.errors import FormatError
from jingce.formats.registry import Format, ReadResult, register
from jingce.model.batch import INPUT_SCHEMA, TIME, conform_input

COLUMNS = (
    "enterprise", "site", "part_number", "serial", "characteristic", "value", "unit", "time", "zone", "stage",
    "operator", "machine", "instrument", "status", "nominal", "lower_limit", "upper_limit", "characteristic_name",
    "kind", "criticality",
)
ALIASES = {
    "企业": "enterprise", "工厂": "site", "零件号": "part_number", "序列号": "serial", "特性": "characteristic",
    "测量值": "value", "单位": "unit", "时间": "time", "时区": "zone", "阶段": "stage", "操作员": "operator",
    "设备": "machine", "量具": "instrument", "状态": "status", "名义值": "nominal", "下限": "lower_limit",
    "上限": "upper_limit", "特性名称": "characteristic_name", "类型": "kind", "重要度": "criticality",
}
REQUIRED = ("enterprise", "part_number", "characteristic", "value", "time")
_NUMBER = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
_OFFSET = r"(Z|z|[+-]\d{2}(:?\d{2})?)$"
_ISO = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$"


def _decode(data: bytes, name: str, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise FormatError(f"cannot decode as {encoding}: {exc}", file=name) from None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise FormatError("not UTF-8 or GB18030 text", file=name)  # pragma: no cover - gb18030 decodes any bytes


def _is_utf8(text: str, data: bytes) -> bool:
    """Whether ``text`` was decoded from ``data`` as UTF-8 (so the bytes can go to Arrow as they are)."""
    return len(text) == len(data) or text.encode("utf-8") == data


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get)


def _line_numbers(text: str, delimiter: str, n: int) -> pa.Array:
    """Line of each data record (1-based, the header is line 1), exact even with quoted newlines
    or blank lines; when the file has exactly one line per record this is just ``i + 2``."""
    if text.count("\n") - (1 if text.endswith("\n") else 0) == n:
        return pa.array(np.arange(2, n + 2, dtype=np.int64))
    reader = _stdcsv.reader(io.StringIO(text), delimiter=delimiter)
    next(reader, None)
    lines, prev = [], reader.line_num
    for row in reader:
        if row:
            lines.append(prev + 1)
        prev = reader.line_num
    return pa.array(lines[:n] + [0] * max(0, n - len(lines)), pa.int64())


def _first_ragged_line(text: str, delimiter: str, width: int) -> tuple[int, int] | None:
    """Line and field count of the first record whose number of fields differs from the header's."""
    reader = _stdcsv.reader(io.StringIO(text), delimiter=delimiter)
    next(reader, None)
    prev = reader.line_num
    for row in reader:
        if row and len(row) != width:
            return prev + 1, len(row)
        prev = reader.line_num
    return None


def read(data: bytes, name: str = "<csv>", *, encoding: str | None = None, decimal: str = ".",
         defaults: dict[str, str] | None = None, skip_bad: bool = False, profile=None) -> ReadResult:
    """Read a jingce-layout CSV into the measurement table (or, with ``profile``, a CMM software
    table export: see :mod:`jingce.formats.csv_profiles`).

    Parameters
    ----------
    data : bytes
        The file content.
    name : str
        File name used in error messages.
    encoding : str, optional
        Text encoding; default UTF-8 (BOM allowed), else GB18030.
    decimal : {'.', ','}
        Decimal separator of numbers (``','`` for files written with a decimal comma; the column
        delimiter is then usually ``;``).
    defaults : dict, optional
        Values for columns the file does not have (``enterprise``, ``part_number``, ``unit`` ...).
    skip_bad : bool
        Skip rows with bad fields instead of refusing the file; each is reported in ``skipped``.
    profile : str, mapping or Profile, optional
        Read through a mapping profile (``"calypso"``, ``"pcdmis"``, ``"generic"``, a .yaml/.json
        file or a mapping) instead of the jingce layout.

    Raises
    ------
    FormatError
        Naming the file, line and field of the first bad value; nothing is returned.
    """
    if profile is not None:
        from jingce.formats import csv_profiles

        return csv_profiles.read(data, name, profile=profile, encoding=encoding, decimal=decimal,
                                 defaults=defaults, skip_bad=skip_bad)
    try:
        return _read(data, name, encoding, decimal, defaults, skip_bad)
    except (pa.ArrowException, _stdcsv.Error, ValueError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"malformed CSV: {exc}", file=name) from None


def _read(data: bytes, name: str, encoding: str | None, decimal: str, defaults: dict | None,
          skip_bad: bool) -> ReadResult:
    if b"\x00" in data:
        raise FormatError("NUL characters: not a text file", file=name)
    text = _decode(data, name, encoding)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        data = b""  # re-encode below
    if not text[:65536].strip() and not text.strip():
        raise FormatError("the file is empty", file=name, line=1)
    end = text.find("\n")
    header_line = text if end < 0 else text[:end]
    delim = _delimiter(header_line)
    header = [h.strip().strip('"') for h in next(_stdcsv.reader([header_line], delimiter=delim), [])]
    cols = [ALIASES.get(h, h.lower()) for h in header]
    for i, c in enumerate(cols):
        if c not in COLUMNS:
            raise FormatError(f"unknown column {header[i]!r}; expected some of {', '.join(COLUMNS)}",
                              file=name, line=1, field=header[i])
    if len(set(cols)) != len(cols):
        dup = next(c for c in cols if cols.count(c) > 1)
        raise FormatError(f"column {dup!r} appears twice", file=name, line=1, field=dup)
    defaults = dict(defaults or {})
    missing = [c for c in REQUIRED if c not in cols and c not in defaults]
    if missing:
        raise FormatError(f"missing required column(s) {missing}", file=name, line=1, field=missing[0])
    try:
        utf8 = data if data and encoding in (None, "utf-8", "utf8") and not data.startswith(b"\xef\xbb\xbf") \
            and _is_utf8(text, data) else text.encode("utf-8")
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=cols, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in cols},
                                                 strings_can_be_null=True, null_values=[""]),
        )
    except pa.ArrowInvalid as exc:
        ragged = _first_ragged_line(text, delim, len(cols))
        if ragged:
            line, found = ragged
            raise FormatError(f"the line has {found} fields, the header {len(cols)}", file=name, line=line,
                              field=cols[min(found, len(cols)) - 1]) from None
        raise FormatError(f"malformed CSV: {str(exc).split(':', 1)[0]}", file=name) from None
    n = table.num_rows
    if n == 0:
        raise FormatError("the file has a header but no rows", file=name, line=2)
    lines = _line_numbers(text, delim, n)
    skipped: list[FormatError] = []
    bad_rows = pa.array([False] * n)

    def bad(mask: pa.Array, field: str, message: str) -> None:
        nonlocal bad_rows
        if not pc.any(mask).as_py():
            return
        if not skip_bad:
            i = pc.index(mask, True).as_py()
            value = table.column(field)[i].as_py() if field in table.column_names else None
            raise FormatError(f"{message}, got {value!r}", file=name, line=lines[i].as_py(), field=field)
        for i in pc.indices_nonzero(mask).to_pylist():
            value = table.column(field)[i].as_py() if field in table.column_names else None
            skipped.append(FormatError(f"{message}, got {value!r}", file=name, line=lines[i].as_py(), field=field))
        bad_rows = pc.or_(bad_rows, mask)

    out: dict[str, pa.Array] = {}
    for c in COLUMNS:
        if c in table.column_names:
            col = pc.utf8_trim_whitespace(table.column(c).combine_chunks())
        elif c in defaults:
            col = pa.array([defaults[c]] * n, pa.string())
        else:
            continue
        out[c] = col
    for c in REQUIRED:
        if c in out:
            bad(pc.is_null(out[c]), c, "a value is required")

    def number(c: str, required: bool) -> pa.Array | None:
        if c not in out:
            return None
        col = out[c]
        if decimal == ",":
            col = pc.replace_substring(col, ",", ".")
        try:  # the common case: every field is a plain finite number
            as_float = pc.cast(col, pa.float64())
            if as_float.null_count == len(as_float) or pc.all(pc.is_finite(as_float)).as_py():
                return as_float
        except pa.ArrowInvalid:
            pass  # find and report the bad fields below
        ok = pc.match_substring_regex(col, _NUMBER)
        bad(pc.and_(pc.is_valid(col), pc.invert(pc.fill_null(ok, False))), c, "expected a number")
        col = pc.if_else(pc.fill_null(ok, False), col, pa.scalar(None, pa.string()))
        return pc.cast(col, pa.float64())

    value = number("value", True)
    nominal, lower, upper = (number(c, False) for c in ("nominal", "lower_limit", "upper_limit"))
    if value is not None:
        finite = pc.is_finite(pc.fill_null(value, 0.0))
        bad(pc.invert(finite), "value", "expected a finite number")

    time = out.get("time")
    iso_ok = pc.fill_null(pc.match_substring_regex(time, _ISO), False)
    bad(pc.and_(pc.is_valid(time), pc.invert(iso_ok)), "time", "expected an ISO 8601 time such as 2026-03-01T08:15:00+08:00")
    time = pc.if_else(iso_ok, time, pa.scalar(None, pa.string()))
    has_offset = pc.fill_null(pc.match_substring_regex(time, _OFFSET), False)
    try:
        measured_at = pc.cast(pc.if_else(has_offset, time, pa.scalar(None, pa.string())), TIME)
        local = pc.cast(pc.if_else(has_offset, pa.scalar(None, pa.string()), time), pa.timestamp("us"))
    except pa.ArrowInvalid as exc:
        raise FormatError(f"bad time value: {exc}", file=name, field="time") from None

    cols_out = {
        "enterprise": out.get("enterprise"), "site": out.get("site"), "part_number": out.get("part_number"),
        "serial": out.get("serial"), "characteristic": out.get("characteristic"), "value": value,
        "unit": out.get("unit"), "measured_at": measured_at, "local_time": local, "zone": out.get("zone"),
        "stage": out.get("stage"), "operator": out.get("operator"), "machine": out.get("machine"),
        "instrument": out.get("instrument"), "status": out.get("status"), "nominal": nominal,
        "lower_limit": lower, "upper_limit": upper, "position": pa.array(range(n), pa.int64()), "line": lines,
        "characteristic_name": out.get("characteristic_name"), "kind": out.get("kind"),
        "criticality": out.get("criticality"),
    }
    result = conform_input(pa.table({k: v for k, v in cols_out.items() if v is not None}))
    if skipped:
        result = result.filter(pc.invert(bad_rows))
    return ReadResult(result, tuple(skipped))


def write(table: pa.Table) -> bytes:
    """Write measurements (lake rows, or the input table) as a jingce-layout CSV, times in UTC."""
    names = table.column_names
    cols = {}
    for c in COLUMNS:
        src = {"time": "measured_at"}.get(c, c)
        if src in names:
            col = table.column(src)
            if c == "time":
                col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ")
            elif c in ("value", "nominal", "lower_limit", "upper_limit"):
                col = pc.cast(col, pa.string())
            cols[c] = col
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(cols), buf, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return buf.getvalue()


def sniff(head: bytes, name: str) -> bool:
    try:
        first = head.decode("utf-8-sig", errors="ignore").split("\n", 1)[0]
    except Exception:  # pragma: no cover
        return False
    cols = {ALIASES.get(h.strip().strip('"'), h.strip().strip('"').lower()) for h in re.split(r"[,;\t]", first)}
    return "value" in cols and "characteristic" in cols


register(Format("csv", (".csv", ".txt"), read, sniff, write, "jingce measurement CSV layout v1 / 精测测量 CSV 格式 v1"))

__all__ = ["COLUMNS", "INPUT_SCHEMA", "read", "write"]
