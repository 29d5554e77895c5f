"""``telecov import-cells``: OpenCelliD cells → a sites file, the cell → site table and the rejects."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import InputError
from ..vocabulary import (
    DEFAULT_GROUP_DISTANCE_M,
    DEFAULT_NR_GNB_BITS,
    DEFAULT_SECTOR_DIGIT_SHARE,
    DEFAULT_SPLIT_DISTANCE_M,
)
from ._console import out
from .options import EncodingOpt, ForceOpt, Format, FormatOpt

if TYPE_CHECKING:
    import pandas as pd

    from ..opencellid import CellImport

CELL_SITES_NAME = "cell_sites.csv"
REJECTS_NAME = "rejected_cells.csv"
RULE_LABELS = {"enb": "eNB", "gnb": "gNB", "sector-digit": "CI//10", "proximity": "proximity"}


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
    split_distance: Annotated[
        float,
        typer.Option("--split-distance", help="Cells of one eNB/gNB/node farther apart (m): several sites."),
    ] = DEFAULT_SPLIT_DISTANCE_M,
    group_distance: Annotated[
        float,
        typer.Option(
            "--group-distance", help="GSM/UMTS cells (no sector-digit ids) this close (m): one site."
        ),
    ] = DEFAULT_GROUP_DISTANCE_M,
    sector_digit_share: Annotated[
        float,
        typer.Option("--sector-digit-share", help="Group by CI // 10 when this share of CIs ends in 1-9."),
    ] = DEFAULT_SECTOR_DIGIT_SHARE,
    nr_gnb_bits: Annotated[
        int, typer.Option("--nr-gnb-bits", help="gNB id length in the 36-bit NR cell id (22-32).")
    ] = DEFAULT_NR_GNB_BITS,
    encoding: EncodingOpt = None,
    fmt: FormatOpt = Format.table,
    force: ForceOpt = False,
) -> None:
    """Group OpenCelliD cells into sites: by eNB/gNB/RNC/LAC and sector digit, then by distance.

    Writes the sites file and, beside it, cell_sites.csv (each accepted cell's site) and
    rejected_cells.csv; prints cells → sites per operator and radio with the rule used. Existing
    files are replaced only with --force; the input never.
    """
    from ..io.formats import csv_text
    from ..io.refusals import rejects_frame
    from ..opencellid import import_cells

    companions = _output_paths(output, cells=cells, force=force)
    result = import_cells(
        cells, mcc=mcc or None, bbox=_parse_bbox(bbox), use_range=use_range,
        split_distance_m=split_distance, group_distance_m=group_distance,
        sector_digit_share=sector_digit_share, nr_gnb_bits=nr_gnb_bits, encoding=encoding,
    )  # fmt: skip
    texts = {
        companions["rejected"]: csv_text(rejects_frame(result.rejected)),
        companions["cell_sites"]: csv_text(result.cell_sites),
        output: csv_text(result.sites),
    }
    try:
        _replace_together(texts)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    if fmt is Format.json:
        payload = _payload(result, output=output, companions=companions)
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return
    if fmt is Format.csv:
        typer.echo(result.summary.to_csv(index=False, lineterminator="\n"), nl=False)
        return
    _print_table(result, cells=cells, rejects_path=companions["rejected"])
    out.print(f"wrote {output}, {companions['cell_sites']} and {companions['rejected']}")


def _output_paths(output: Path, *, cells: Path, force: bool) -> dict[str, Path]:
    """Return the files written beside ``output``; refuse the input, their names, existing files."""
    from ..io.outputs import check_output_file

    if output.name in (CELL_SITES_NAME, REJECTS_NAME):
        raise InputError(
            f"--output {output}: {output.name} is written beside the sites file; name it otherwise"
        )
    paths = {"cell_sites": output.parent / CELL_SITES_NAME, "rejected": output.parent / REJECTS_NAME}
    for path in (output, *paths.values()):
        check_output_file(path, force=force, inputs=[cells], option="--output")
    return paths


def _replace_together(texts: dict[Path, str]) -> None:
    """Write every file to a temporary sibling first, then move each into place (atomic per file)."""
    from ..io.outputs import umask_mode, write_text_file

    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in texts.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            staged.append((Path(name), path))
            write_text_file(Path(name), text)
            Path(name).chmod(umask_mode())
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _plain(value: Any) -> int | float | None:
    """Return a number as a plain int or float (NaN as None)."""
    import numpy as np

    number = float(value)
    if number != number:
        return None
    return int(number) if isinstance(value, int | np.integer) else number


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (NaN as None)."""
    return [{str(k): _plain(v) if not isinstance(v, str) else v for k, v in row.items()}
            for row in frame.to_dict(orient="records")]  # fmt: skip


def _payload(result: CellImport, *, output: Path, companions: dict[str, Path]) -> dict[str, Any]:
    counts = {"read": result.read, "used": result.used, "refused": len(result.rejected),
              "sites": len(result.sites)}  # fmt: skip
    return {
        "counts": counts,
        "summary": _records(result.summary),
        "by_technology": _records(result.by_technology),
        "output": str(output),
        "cell_sites": str(companions["cell_sites"]),
        "rejected": str(companions["rejected"]),
    }


def _print_table(result: CellImport, *, cells: Path, rejects_path: Path) -> None:
    """Cells → sites per operator and radio with the rule, and the refused cells by reason."""
    from rich import box
    from rich.table import Table

    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title=f"{cells.name}: {result.read:,} cells read → {len(result.sites):,} sites",
    )
    columns = ("", "operator", "rule", "CI 1-9", "cells", "sites", "c/site", "spread m")
    for col in columns:
        table.add_column(col, justify="left" if col in columns[:3] else "right", no_wrap=True)
    totals = {str(row["technology"]): row for row in _records(result.by_technology)}
    summary = _records(result.summary)
    for tech, total in totals.items():
        for row in (r for r in summary if r["technology"] == tech):
            table.add_row(tech, str(row["operator"]), _rule_label(row), _percent(row["sector_digit_share"]),
                          f"{row['cells']:,}", f"{row['sites']:,}", f"{row['cells_per_site']:.2f}",
                          "/".join(_metres(row[k]) for k in ("spread_median_m", "spread_max_m")))  # fmt: skip
        table.add_row(tech, "all", "", "", f"{total['cells']:,}", f"{total['sites']:,}",
                      f"{total['cells_per_site']:.2f}", "", end_section=True)  # fmt: skip
    out.print(table)
    out.print(
        "rule: eNB, gNB or node = CI//10, then split at the distance; or proximity (linkage at the "
        "distance). CI 1-9: share of the CIs ending in 1-9. c/site: cells per site. spread m: "
        "median/largest distance from a site to its farthest cell (sites of 2+ cells).",
        highlight=False,
    )
    if len(result.rejected):
        reasons = (
            result.rejected["field"]
            + ": "
            + result.rejected["reason"].str.replace(r"'[^']*'|[-+]?\d[\d.]*", "…", regex=True)
        )
        detail = "; ".join(f"{n} × {r}" for r, n in reasons.value_counts().items())
        out.print(f"[yellow]{len(result.rejected):,} cells refused[/] (see {rejects_path}): {detail}")


def _percent(share: float | None) -> str:
    return "" if share is None else f"{100 * share:.1f} %"


def _metres(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _rule_label(row: dict[str, Any]) -> str:
    """``CI//10 2 km`` or ``proximity 500 m``: the rule and its distance."""
    label = RULE_LABELS.get(str(row["rule"]), str(row["rule"]))
    distance = float(row["distance_m"])
    return f"{label} {distance / 1000:g} km" if distance >= 1000 else f"{label} {distance:g} m"
