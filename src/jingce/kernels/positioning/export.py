"""Text forms of a compensation table: neutral CSV and JSON, and a SINUMERIK 840D LEC/MSEC program.

These are pure functions (table in, text out); writing the text to a file is the caller's business.

SINUMERIK 840D / 840D sl measuring-system error compensation (MSEC, includes LEC)
-------------------------------------------------------------------------------
The compensation table of machine axis ``AXn`` and measuring system ``e`` (0 = first encoder) is
loaded as an NC program of system-variable assignments, as in the example of the function manual::

    %_N_AX_EEC_INI
    CHANDATA(1)
    $AA_ENC_COMP[0,0,X1]=0.003        ; compensation value of interpolation point 0
    ...
    $AA_ENC_COMP_STEP[0,X1]=1.0       ; distance between interpolation points
    $AA_ENC_COMP_MIN[0,X1]=-200.0     ; position of interpolation point 0
    $AA_ENC_COMP_MAX[0,X1]=600.0      ; position of the last interpolation point
    $AA_ENC_COMP_IS_MODULO[0,X1]=0
    M17

Sign: "the principle of the MSEC is to modify the axis-specific position actual value by the assigned
compensation value ... A positive compensation value causes the corresponding machine axis to move
in the negative direction." An axis that overshoots (deviation x > 0) therefore needs a positive value:
the SINUMERIK value is ``+error`` relative to the reference point, i.e. ``-absolute`` in jingce's
columns, and the manual asks for the value at the reference point to be zero. The table is only loaded
while MD32700 ENC_COMP_ENABLE is 0; MD38000 MM_ENC_COMP_MAX_POINTS must be at least the number of
points. The MSEC table is direction-independent: the backlash goes to MD32450 BACKLASH (written as a
comment, its sign convention is the machine builder's), or direction-dependent tables are set up with
the interpolatory (CEC) compensation and ``$AN_CEC_DIRECTION`` (not generated here).

References
----------
.. [1] Siemens AG, SINUMERIK 840D sl / 828D Extended Functions, Function Manual 03/2013,
       6FC5397-1BP40-3BA1, K3 Compensations: 4.4.1 (linear interpolation, value at reference point zero),
       4.4.2.1 (MSEC principle and sign), 4.4.2.2 (table parameters $AA_ENC_COMP, _STEP, _MIN, _MAX,
       _IS_MODULO), 4.4.2.3 (example program %_N_AX_EEC_INI), 4.4.4 (direction-dependent LEC via CEC).
"""

from __future__ import annotations

import json
import re

import numpy as np

from jingce.kernels._validation import as_int, fail, one_of
from jingce.kernels.positioning.compensation import CompensationTable

__all__ = ["table_from_json", "table_to_csv", "table_to_json", "table_to_sinumerik"]

_COLUMNS = (
    "position",
    "error",
    "error_up",
    "error_down",
    "absolute",
    "incremental",
    "absolute_up",
    "incremental_up",
    "absolute_down",
    "incremental_down",
)


def _check(table) -> CompensationTable:
    if not isinstance(table, CompensationTable):
        raise fail("table", "must be a CompensationTable from positioning.compensation_table")
    return table


def table_to_csv(table: CompensationTable, *, digits: int = 6) -> str:
    """Neutral CSV: ``#`` header lines with the table's parameters, then one row per interpolation point.

    Columns: position, error, error_up, error_down, absolute, incremental, absolute_up, incremental_up,
    absolute_down, incremental_down (see :mod:`jingce.kernels.positioning.compensation` for the signs).
    """
    table = _check(table)
    digits = as_int(digits, "digits", lo=0, hi=15)
    head = [
        "# jingce pitch-error compensation table",
        f"# unit={table.unit} axis={table.axis} mode={table.mode} spacing={table.spacing!r}",
        f"# reference={table.reference!r} reference_index={table.reference_index} backlash={table.backlash!r}",
        "# error = actual - commanded; absolute = correction to add to the command, zero at the reference",
        ",".join(_COLUMNS),
    ]
    data = np.column_stack(
        [table.positions, table.error, table.error_up, table.error_down, table.absolute, table.incremental,
         table.absolute_up, table.incremental_up, table.absolute_down, table.incremental_down]
    )
    body = [",".join(f"{v:.{digits}f}" for v in row) for row in data]
    return "\n".join(head + body) + "\n"


def table_to_json(table: CompensationTable) -> str:
    """Neutral JSON object: the parameters and the columns as lists (``format: "jingce.compensation/1"``)."""
    table = _check(table)
    obj = {
        "format": "jingce.compensation/1",
        "unit": table.unit,
        "axis": table.axis,
        "mode": table.mode,
        "spacing": table.spacing,
        "reference": table.reference,
        "reference_index": table.reference_index,
        "backlash": table.backlash,
        "source_targets": table.source_targets.tolist(),
        "columns": {c: getattr(table, "positions" if c == "position" else c).tolist() for c in _COLUMNS},
    }
    return json.dumps(obj, indent=2)


def table_from_json(text: str) -> CompensationTable:
    """Read back a table written by :func:`table_to_json` (``format: "jingce.compensation/1"``)."""
    try:
        obj = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise fail("text", f"must be JSON written by table_to_json ({exc})") from None
    if not isinstance(obj, dict) or obj.get("format") != "jingce.compensation/1":
        raise fail("text", "must be a jingce.compensation/1 JSON object")
    try:
        cols = {c: np.asarray(obj["columns"][c], dtype=np.float64) for c in _COLUMNS}
        src = np.asarray(obj["source_targets"], dtype=np.float64)
        fields = dict(
            backlash=float(obj["backlash"]), reference=float(obj["reference"]),
            reference_index=int(obj["reference_index"]), spacing=float(obj["spacing"]), mode=str(obj["mode"]),
            axis=str(obj["axis"]), unit=str(obj["unit"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise fail("text", f"is missing or has a malformed field ({exc})") from None
    sizes = {a.size for a in cols.values()}
    if len(sizes) != 1 or not 0 <= fields["reference_index"] < sizes.pop():
        raise fail("text", "columns must have equal lengths and reference_index must index them")
    for a in (*cols.values(), src):
        a.setflags(write=False)
    positions = cols.pop("position")
    return CompensationTable(positions=positions, source_targets=src, **cols, **fields)


_AXIS_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,15}$")


def _num(v: float, digits: int) -> str:
    text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    if text in ("", "-0", "0"):
        return "0.0"
    return text if "." in text else text + ".0"


def table_to_sinumerik(
    table: CompensationTable,
    *,
    axis_name: str = "X1",
    encoder: int = 0,
    direction: str = "mean",
    digits: int = 6,
) -> str:
    """SINUMERIK 840D / 840D sl MSEC (leadscrew error compensation) table as an NC program.

    Parameters
    ----------
    table : CompensationTable
    axis_name : str
        Machine axis name as configured (``X1``, ``AX1``, ...).
    encoder : {0, 1}
        Measuring system index (0 = first encoder).
    direction : {"mean", "up", "down"}
        Which error column goes into the (direction-independent) MSEC table: the bidirectional mean
        (with the backlash value for MD32450), or the positive/negative-approach table.
    digits : int
        Decimals of the values (6 gives nanometres for mm).

    Returns
    -------
    str
        The program text (``%_N_AX_EEC_INI`` ... ``M17``), values in the table's unit (mm or degrees).

    References
    ----------
    .. [1] SINUMERIK 840D sl Extended Functions, Function Manual 03/2013, K3, 4.4.2.
    """
    table = _check(table)
    if not isinstance(axis_name, str) or not _AXIS_NAME.match(axis_name):
        raise fail("axis_name", f"must be a SINUMERIK machine axis name such as X1 or AX1, got {axis_name!r}")
    encoder = as_int(encoder, "encoder", lo=0, hi=1)
    direction = one_of(direction, "direction", ("mean", "up", "down"))
    digits = as_int(digits, "digits", lo=1, hi=9)
    col = {"mean": table.absolute, "up": table.absolute_up, "down": table.absolute_down}[direction]
    values = -col  # MSEC: positive value moves the axis negative, so the value is +error (zero at reference)
    e, a = encoder, axis_name
    lines = [
        "%_N_AX_EEC_INI",
        f"; jingce pitch-error table, axis {a}, measuring system {e + 1}, unit {table.unit}, {direction} table",
        f"; {values.size} interpolation points: MD38000 $MA_MM_ENC_COMP_MAX_POINTS[{e}] >= {values.size}",
        f"; load with MD32700 $MA_ENC_COMP_ENABLE[{e}]=0, then set it to 1; reference point {_num(table.reference, digits)}",
    ]
    if direction == "mean":
        lines.append(
            f"; backlash (ISO 230-2 mean reversal value B_mean = {_num(table.backlash, digits)}): "
            f"MD32450 $MA_BACKLASH[{e}] magnitude {_num(abs(table.backlash), digits)}, sign per machine convention"
        )
    lines.append("CHANDATA(1)")
    for n, v in enumerate(values):
        lines.append(f"$AA_ENC_COMP[{e},{n},{a}]={_num(float(v), digits)}")
    lines += [
        f"$AA_ENC_COMP_STEP[{e},{a}]={_num(table.spacing, digits)}",
        f"$AA_ENC_COMP_MIN[{e},{a}]={_num(float(table.positions[0]), digits)}",
        f"$AA_ENC_COMP_MAX[{e},{a}]={_num(float(table.positions[-1]), digits)}",
        f"$AA_ENC_COMP_IS_MODULO[{e},{a}]=0",
        "M17",
    ]
    return "\n".join(lines) + "\n"
