"""``telecov report``: coverage of every area by every technology, and its output set."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..vocabulary import DEFAULT_TARGET_PCT
from ._console import out, state_of
from ._run import check_target, input_paths, open_output_set, run_analysis, write_frame
from .options import (
    AnalysisInputs,
    ExcelSafeOpt,
    ExportFormat,
    ExportOpt,
    ForceOpt,
    Format,
    FormatOpt,
    OutOpt,
    TargetOpt,
    WaitOpt,
    with_analysis_inputs,
)

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

    from ..analysis import Result
    from ..io.outputs import OutputSet

log = logging.getLogger("telecov")

NoMapOpt = Annotated[bool, typer.Option("--no-map", help="Do not write coverage.html.")]
PoiOpt = Annotated[
    list[str] | None,
    typer.Option("--poi", help="Points/zones of interest NAME=FILE (repeatable): poi_coverage.csv."),
]
CompareOpt = Annotated[
    Path | None,
    typer.Option("--compare", help="An earlier report folder: adds comparison.csv (and comparison.html)."),
]
RadiusUncertaintyOpt = Annotated[
    float | None,
    typer.Option(
        "--radius-uncertainty",
        metavar="PCT",
        help="Also report covered people with every footprint's reach shrunk and grown by PCT % "
        "(columns covered_population_low/high, population_pct_low/high).",
    ),
]
CrosswalkOpt = Annotated[
    Path | None,
    typer.Option(
        "--crosswalk", help="Old → new crosswalk CSV (telecov crosswalk): adds coverage_reaggregated.csv."
    ),
]


REPORT_FILES = (
    "coverage.csv", "coverage.geojson", "rejected_sites.csv", "rejected_areas.csv", "footprints.csv",
)  # fmt: skip
"""Files of every report set, besides its manifest ``run.json``."""


def report_names(
    *,
    map_: bool,
    poi: bool = False,
    crosswalk: bool = False,
    exports: list[ExportFormat] | None = None,
    compare: bool = False,
) -> list[str]:
    """Return the files a report writes into ``--out`` with these options (``run.json`` aside)."""
    from ..exports import export_names

    names = [*REPORT_FILES, *(["coverage.html"] if map_ else [])]
    names += [*(["poi_coverage.csv", "rejected_pois.csv"] if poi else [])]
    names += [*(["coverage_reaggregated.csv"] if crosswalk else [])]
    names += [*(["comparison.csv", *(["comparison.html"] if map_ else [])] if compare else [])]
    names += export_names([e.value for e in exports or []])
    return sorted(set(names))


@with_analysis_inputs
def report(
    ctx: typer.Context,
    *,
    inputs: AnalysisInputs,
    out_dir: OutOpt = Path("out"),
    target: TargetOpt = DEFAULT_TARGET_PCT,
    no_map: NoMapOpt = False,
    fmt: FormatOpt = Format.table,
    export: ExportOpt = None,
    excel_safe: ExcelSafeOpt = False,
    poi: PoiOpt = None,
    crosswalk: CrosswalkOpt = None,
    compare: CompareOpt = None,
    radius_uncertainty: RadiusUncertaintyOpt = None,
    force: ForceOpt = False,
    wait: WaitOpt = 0.0,
) -> None:
    """Coverage of every area by every technology: table, GeoJSON, rejects, run.json and a map."""
    from ..io.pois import parse_poi_options

    check_target(target)
    t0 = time.perf_counter()
    quiet = state_of(ctx).quiet
    poi_files = parse_poi_options(poi) if poi else {}
    names = report_names(
        map_=not no_map,
        poi=bool(poi),
        crosswalk=crosswalk is not None,
        exports=export,
        compare=compare is not None,
    )
    sources = input_paths(inputs, crosswalk, *poi_files.values())
    with open_output_set(
        out_dir, command="report", names=names, inputs=sources, force=force, wait=wait, quiet=quiet
    ) as outset:
        # the earlier table is read before the new set may replace it (``--compare`` may be ``--out``)
        compared = _earlier(compare) if compare is not None else None
        result = run_analysis(
            inputs, out_dir=out_dir, command="report", quiet=quiet, outputs=outset, excel_safe=excel_safe,
            planned=tuple(names), radius_uncertainty=radius_uncertainty,
        )  # fmt: skip
        extra = {
            **(_poi_files(result, poi_files, encoding=inputs.encoding, excel_safe=excel_safe) if poi else {}),
            **(_reaggregated(result, crosswalk, excel_safe=excel_safe) if crosswalk is not None else {}),
        }
        write_report(
            result, outset, map_=not no_map, target=target, exports=export, excel_safe=excel_safe,
            extra=extra, compared=compared,
        )  # fmt: skip
    print_report(result, fmt, target=target, excel_safe=excel_safe)
    log.info("done in %.2f s; outputs in %s", time.perf_counter() - t0, out_dir)


def _poi_files(
    result: Result, poi: dict[str, Path], *, encoding: str | None, excel_safe: bool
) -> dict[str, str]:
    from ..io.formats import csv_text
    from ..pois import poi_coverage

    pois = poi_coverage(result, poi, encoding=encoding)
    return {
        "poi_coverage.csv": csv_text(pois.table, excel_safe=excel_safe),
        "rejected_pois.csv": csv_text(pois.rejected, excel_safe=excel_safe),
    }


def _reaggregated(result: Result, crosswalk: Path, *, excel_safe: bool) -> dict[str, str]:
    from ..crosswalk import read_crosswalk, reaggregate
    from ..io.formats import csv_text

    moved = reaggregate(result.table, read_crosswalk(crosswalk))
    return {"coverage_reaggregated.csv": csv_text(moved, excel_safe=excel_safe)}


def _earlier(folder: Path) -> pd.DataFrame:
    """Return the coverage table of the earlier report to compare with."""
    from ..compare import read_report

    return read_report(folder)[0]


def _write_comparison(
    result: Result, compared: pd.DataFrame, outset: OutputSet, *, map_: bool, target: float, excel_safe: bool
) -> None:
    """Write ``comparison.csv`` (and ``comparison.html``) of the earlier table and this result."""
    from ..compare import compare
    from ..io.formats import csv_text
    from .compare import comparison_map

    frame = compare(compared, result.table, target=target)
    outset.write_text("comparison.csv", csv_text(frame, excel_safe=excel_safe))
    if map_:
        comparison_map(frame, result.table, result.areas, outset.path("comparison.html"), technology=None,
                       metric="population")  # fmt: skip


def summary_table(result: Result, *, target: float) -> Table:
    """Rich summary: per technology, covered shares of the total and areas under the target."""
    t = result.table
    if "operator" in t.columns:
        t = t[t["operator"] == "all"]
    total = t[t["level"] == "total"].set_index("technology")
    areas = t[t["level"] == "area"]
    from rich.table import Table

    table = Table(title=f"Coverage — {result.run.counts['areas']['used']} areas, target {target:g} %")
    for col in ("technology", "population %", "residential %", "area %", "covered people",
                f"areas < {target:g} % pop."):  # fmt: skip
        table.add_column(col, justify="left" if col == "technology" else "right")

    def fmt(v: float) -> str:
        return "—" if v != v else f"{v:.2f}"

    for tech in total.index:
        row = total.loc[tech]
        rows = areas[areas["technology"] == tech]
        under = int((rows["population_pct"] < target).sum())
        table.add_row(
            tech, fmt(row["population_pct"]), fmt(row["residential_pct"]), fmt(row["area_pct"]),
            f"{row['covered_population']:,.0f}", str(under),
        )  # fmt: skip
    return table


RANGE_SHARES = ("population_pct", "population_pct_low", "population_pct_high")
"""The shares :func:`range_lines` prints: central, low and high."""


def range_lines(result: Result) -> list[str]:
    """Per technology, the total's share of people and its range with ``radius_uncertainty``.

    ``4G: 95.88 % of people (92.88–97.80 % with radii ±10 %)``; no lines without the option.
    """
    pct = result.run.extra_options.get("radius_uncertainty")
    t = result.table
    if pct is None or "population_pct_low" not in t.columns:
        return []
    if "operator" in t.columns:
        t = t[t["operator"] == "all"]
    lines = []
    total = t[t["level"] == "total"]
    for tech, mid, low, high in zip(
        total["technology"].astype(str), *(total[c].to_numpy(dtype=float) for c in RANGE_SHARES), strict=True
    ):
        if mid == mid:
            span = f"{low:.2f}–{high:.2f} % with radii ±{pct:g} %"
            lines.append(f"{tech}: {mid:.2f} % of people ({span})")
    return lines


def print_report(result: Result, fmt: Format, *, target: float, excel_safe: bool = False) -> None:
    """Print the coverage table (csv, json) or the summary and the refused rows (table)."""
    if fmt is not Format.table:
        write_frame(result.table, fmt, excel_safe=excel_safe)
        return
    out.print(summary_table(result, target=target))
    for line in range_lines(result):
        out.print(line, highlight=False)
    refused = result.run.counts["refusals_by_reason"]
    for kind, reasons in refused.items():
        total = sum(reasons.values())
        detail = "; ".join(f"{n} × {r}" for r, n in reasons.items())
        out.print(f"[yellow]{total} {kind} rows refused[/]: {detail}")


def write_report(
    result: Result,
    outset: OutputSet,
    *,
    map_: bool,
    target: float,
    exports: list[ExportFormat] | None = None,
    excel_safe: bool = False,
    extra: dict[str, str] | None = None,
    compared: pd.DataFrame | None = None,
) -> None:
    """Write the report's set into ``outset`` and commit it (``extra``: more files, name → text).

    ``run.json`` is the set's manifest: the run's inputs, options and counts, and each file's
    name, size and sha256. ``compared``: an earlier report's table; adds ``comparison.csv``
    (and ``comparison.html`` with the map).
    """
    from ..io.formats import csv_text, geojson_text
    from ..io.refusals import rejects_frame

    t0 = time.perf_counter()
    exported = {e.value for e in exports or []}  # `--export csv`/`geojson` write these same files
    if "csv" not in exported:
        outset.write_text("coverage.csv", csv_text(result.table, excel_safe=excel_safe))
    if "geojson" not in exported:
        outset.write_text("coverage.geojson", geojson_text(result.areas))
    outset.write_text("footprints.csv", csv_text(result.footprint_table(), excel_safe=excel_safe))
    for kind in ("sites", "areas"):
        frame = rejects_frame(result.rejected.get(kind))
        outset.write_text(f"rejected_{kind}.csv", csv_text(frame, excel_safe=excel_safe))
    for fname, text in (extra or {}).items():
        outset.write_text(fname, text)
    if map_:
        from ..maps.html import coverage_map, save_map

        save_map(coverage_map(result), outset.path("coverage.html"))
    if compared is not None:
        _write_comparison(result, compared, outset, map_=map_, target=target, excel_safe=excel_safe)
    if exports:
        from ..exports import write_exports

        write_exports(result, outset.staging, [e.value for e in exports], excel_safe=excel_safe)
    run = result.run.with_options(
        target_pct=target, map=map_, export=sorted({e.value for e in exports or []})
    )
    doc = run.to_json()  # the files' writing time (up to the manifest) beside the analysis' steps
    doc["timings_s"] = {**doc.get("timings_s", {}), "write": round(time.perf_counter() - t0, 4)}
    outset.commit(doc)
