"""``jingce cert import|export``: digital calibration certificates (PTB DCC) in and out of the store."""

from __future__ import annotations

from pathlib import Path

import typer

from jingce.cli.common import AsOption, DataOption, acting, console, open_store
from jingce.cli.text import t
from jingce.errors import FormatError

cert_app = typer.Typer(help="Digital calibration certificates (PTB DCC 3.1.2) / 数字校准证书", no_args_is_help=True)


@cert_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="DCC XML file / DCC 文件"),
    validity_days: int | None = typer.Option(None, "--validity-days",
                                             help="validity when the certificate gives no recalibration date"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Record the calibration(s) a DCC states; a certificate already imported lands nothing / 导入证书."""
    from jingce.services.certificates import import_dcc

    try:
        content = file.read_bytes()
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror}", file=str(file)) from None
    store = open_store(data)
    actor = acting(store, as_user)
    result = import_dcc(store, actor, content, str(file), validity_days=validity_days)
    console.print(result.message())
    for cal in result.calibrations:
        console.print(t(f"  calibration {cal.id}: instrument {cal.instrument_id}, U = {cal.expanded_uncertainty:g} "
                        f"{cal.unit} (k = {cal.coverage_factor:g}), valid until {cal.valid_until:%Y-%m-%d}, "
                        f"standards {', '.join(map(str, cal.standard_ids)) or '-'}",
                        f"  校准记录 {cal.id}：量具 {cal.instrument_id}，U = {cal.expanded_uncertainty:g} {cal.unit}"
                        f"（k = {cal.coverage_factor:g}），有效期至 {cal.valid_until:%Y-%m-%d}，标准器 {', '.join(map(str, cal.standard_ids)) or '-'}"))


@cert_app.command("export")
def export(
    calibration_id: int = typer.Argument(..., help="calibration id / 校准记录编号"),
    out: Path = typer.Option(..., "--out", "-o", help="DCC XML file to write / 输出文件"),
    country: str = typer.Option("CN", "--country", help="ISO 3166 country code of the lab"),
    data: Path | None = DataOption,
    as_user: str = AsOption,
) -> None:
    """Write a recorded calibration as a DCC (validated against the DCC 3.1.2 schema) / 导出证书."""
    from jingce.services.certificates import export_dcc

    store = open_store(data)
    actor = acting(store, as_user)
    content = export_dcc(store, actor, calibration_id, country_code=country)
    out.write_bytes(content)
    console.print(t(f"wrote {out} ({len(content)} bytes)", f"已写出 {out}（{len(content)} 字节）"))
