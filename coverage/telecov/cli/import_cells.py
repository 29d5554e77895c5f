"""``telecov import-cells``: OpenCelliD cells → a sites file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..errors import InputError
from ..opencellid import DEFAULT_GROUP_DISTANCE_M, DEFAULT_NR_GNB_BITS
from ._console import out
from .options import EncodingOpt, Format, FormatOpt

if TYPE_CHECKING:
    from ..opencellid import CellImport


def _parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise InputError(f"--bbox {text!r}: expected WEST,SOUTH,EAST,NORTH in degrees, e.g. 102,8,110,23.5")
    return values[0], values[1], values[2], values[3]


def import_cells_command(
    ctx: typer.Context,
    cells: Annotated[Path, typer.Argument(help="OpenCelliD CSV (.csv or .csv.gz, header optional).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Sites CSV to write.")] = Path("sites.csv"),
    mcc: Annotated[
        list[int] | None, typer.Option("--mcc", help="Keep only this country code, e.g. 452 (repeatable).")
    ] = None,
    bbox: Annotated[
        str | None, typer.Option("--bbox", help="Keep cells inside WEST,SOUTH,EAST,NORTH (degrees).")
    ] = None,
    use_range: Annotated[
        bool, typer.Option("--use-range", help="Use the cells' measured range as the site radius.")
    ] = False,
    group_distance: Annotated[
        float,
        typer.Option("--group-distance", help="GSM/UMTS cells closer than this (m) are one site."),
    ] = DEFAULT_GROUP_DISTANCE_M,
    nr_gnb_bits: Annotated[
        int, typer.Option("--nr-gnb-bits", help="gNB id length in the 36-bit NR cell id (22-32).")
    ] = DEFAULT_NR_GNB_BITS,
    encoding: EncodingOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Group OpenCelliD cells into sites (LTE by eNodeB, NR by gNB, GSM/UMTS by proximity).

    Writes the sites file and rejected_cells.csv beside it; prints cells → sites per technology.
    """
    from ..io.formats import csv_text
    from ..io.outputs import write_file_atomic, write_text_file
    from ..io.refusals import rejects_frame
    from ..opencellid import import_cells

    result = import_cells(
        cells, mcc=mcc or None, bbox=_parse_bbox(bbox), use_range=use_range,
        group_distance_m=group_distance, nr_gnb_bits=nr_gnb_bits, encoding=encoding,
    )  # fmt: skip
    if output.exists() and output.is_dir():
        raise InputError(f"--output {output}: is a folder; give a file name such as sites.csv")
    rejects_path = output.parent / "rejected_cells.csv"
    try:
        write_file_atomic(output, lambda p: write_text_file(p, csv_text(result.sites)))
        write_file_atomic(
            rejects_path, lambda p: write_text_file(p, csv_text(rejects_frame(result.rejected)))
        )
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    counts = {
        "read": result.read,
        "used": result.used,
        "refused": len(result.rejected),
        "sites": len(result.sites),
    }
    if fmt is Format.json:
        payload = {"counts": counts, "by_technology": result.summary.to_dict(orient="records"),
                   "output": str(output), "rejected": str(rejects_path)}  # fmt: skip
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1, default=int))
        return
    if fmt is Format.csv:
        typer.echo(result.summary.to_csv(index=False, lineterminator="\n"), nl=False)
        return
    _print_table(result, cells=cells, rejects_path=rejects_path)
    out.print(f"wrote {output} and {rejects_path}")


def _print_table(result: CellImport, *, cells: Path, rejects_path: Path) -> None:
    """Cells → sites per technology, and the refused cells by reason."""
    table = Table(title=f"{cells.name}: {result.read:,} cells read → {len(result.sites):,} sites")
    for col in ("technology", "cells", "sites", "cells per site"):
        table.add_column(col, justify="left" if col == "technology" else "right")
    for tech, n_cells, n_sites in zip(
        result.summary["technology"], result.summary["cells"], result.summary["sites"], strict=True
    ):
        ratio = int(n_cells) / int(n_sites) if n_sites else float("nan")
        table.add_row(str(tech), f"{int(n_cells):,}", f"{int(n_sites):,}", f"{ratio:.2f}")
    out.print(table)
    if len(result.rejected):
        reasons = (
            result.rejected["field"]
            + ": "
            + result.rejected["reason"].str.replace(r"'[^']*'|[-+]?\d[\d.]*", "…", regex=True)
        )
        detail = "; ".join(f"{n} × {r}" for r, n in reasons.value_counts().items())
        out.print(f"[yellow]{len(result.rejected):,} cells refused[/] (see {rejects_path}): {detail}")
