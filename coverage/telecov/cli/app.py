"""Command-line interface (thin: parses options, calls the library, prints, sets exit codes)."""

from __future__ import annotations

import functools
import importlib
import logging
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import __version__
from ..errors import InputError, StrictError, TooLargeError
from ..vocabulary import DEFAULT_RESIDENTIAL_DENSITY, DEFAULT_TARGET_PCT

if TYPE_CHECKING:
    from ..analysis import Result

EXIT_OK, EXIT_UNMET, EXIT_INPUT, EXIT_TOO_LARGE, EXIT_INTERNAL = 0, 1, 2, 3, 70

app = typer.Typer(
    name="telecov",
    help="Telecom coverage per commune: BTS, 5G and fiber footprints against boundaries and population.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console(soft_wrap=True)
state: dict[str, Any] = {"debug": False}


def guard(func: Callable[..., None]) -> Callable[..., None]:
    """Map library errors to exit codes and short messages (tracebacks only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except InputError as exc:
            _fail(exc, EXIT_INPUT, "error")
        except TooLargeError as exc:
            _fail(exc, EXIT_TOO_LARGE, "too large")
        except OSError as exc:
            _fail(exc, EXIT_INPUT, "error")
        except Exception as exc:  # the last line of defence
            _fail(exc, EXIT_INTERNAL, "internal error")

    return wrapper


def _fail(exc: BaseException, code: int, label: str) -> None:
    if state.get("debug"):
        err.print_exception()
    detail = str(exc) or type(exc).__name__
    if code == EXIT_INTERNAL and not state.get("debug"):
        detail = f"{type(exc).__name__}: {detail} (run with --debug for the traceback)"
    err.print(f"[bold red]{label}:[/] {escape(detail)}", highlight=False)
    raise typer.Exit(code)


class Format(StrEnum):
    """What is printed on stdout."""

    table = "table"
    csv = "csv"
    json = "json"


class ExportFormat(StrEnum):
    """Extra files written into ``--out`` (``--export``)."""

    geojson = "geojson"
    gpkg = "gpkg"
    parquet = "parquet"
    csv = "csv"
    xlsx = "xlsx"


class By(StrEnum):
    """Extra breakdown of the rows."""

    operator = "operator"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"telecov {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More messages.")] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only errors.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Tracebacks and debug messages.")] = False,
) -> None:
    """Exact, fast telecom coverage analysis per commune."""
    state["debug"] = debug
    level = (
        logging.ERROR
        if quiet
        else logging.DEBUG
        if debug or verbose > 1
        else (logging.INFO if verbose else logging.WARNING)
    )
    state["quiet"] = quiet
    handler = RichHandler(console=err, show_time=False, show_path=False, markup=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    logging.getLogger("telecov").setLevel(level)


def _parse_radius(values: list[str] | None) -> dict[str, float]:
    radius: dict[str, float] = {}
    for item in values or []:
        tech, sep, metres = item.partition("=")
        try:
            radius[tech.strip()] = float(metres)
        except ValueError:
            sep = ""
        if not sep:
            raise InputError(f"--radius {item!r}: expected TECHNOLOGY=METRES, e.g. --radius 4G=3000")
    return radius


def _progress() -> tuple[Progress, Any]:
    progress = Progress(
        TextColumn("measuring"), BarColumn(), TextColumn("{task.completed}/{task.total} rows"),
        TimeElapsedColumn(), console=err, transient=True, disable=state.get("quiet", False),
    )  # fmt: skip
    task = progress.add_task("measure", total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return progress, update


def summary_table(result: Result, *, target: float) -> Table:
    """Rich summary: per technology, covered shares of the total and areas under the target."""
    t = result.table
    if "operator" in t.columns:
        t = t[t["operator"] == "all"]
    total = t[t["level"] == "total"].set_index("technology")
    areas = t[t["level"] == "area"]
    table = Table(title=f"Coverage — {result.run['counts']['areas']['used']} areas, target {target:g} %")
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


def _print(result: Result, fmt: Format, *, target: float, excel_safe: bool = False) -> None:
    from ..io.outputs import csv_text, json_text, records

    if fmt is Format.csv:
        sys.stdout.write(csv_text(result.table, excel_safe=excel_safe))
    elif fmt is Format.json:
        sys.stdout.write(json_text(records(result.table)))
    else:
        out.print(summary_table(result, target=target))
        refused = result.run["counts"]["refusals_by_reason"]
        for kind, reasons in refused.items():
            total = sum(reasons.values())
            detail = "; ".join(f"{n} × {r}" for r, n in reasons.items())
            out.print(f"[yellow]{total} {kind} rows refused[/]: {detail}")


def write_report(
    result: Result,
    out_dir: Path,
    *,
    map_: bool,
    target: float,
    exports: list[ExportFormat] | None = None,
    excel_safe: bool = False,
    extra: dict[str, str] | None = None,
) -> None:
    """Write the report's output set into ``out_dir`` atomically (``extra``: more files, name → text)."""
    from ..io.outputs import csv_text, geojson_text, json_text, output_set, rejects_frame, write_text_file

    with output_set(out_dir, name="report") as gen:
        write_text_file(gen / "coverage.csv", csv_text(result.table, excel_safe=excel_safe))
        write_text_file(gen / "coverage.geojson", geojson_text(result.areas))
        for kind in ("sites", "areas"):
            frame = rejects_frame(result.rejected.get(kind))
            write_text_file(gen / f"rejected_{kind}.csv", csv_text(frame, excel_safe=excel_safe))
        for fname, text in (extra or {}).items():
            write_text_file(gen / fname, text)
        if map_:
            from ..maps.html import coverage_map, save_map

            save_map(coverage_map(result), gen / "coverage.html")
        if exports:
            from ..exports import write_exports

            write_exports(result, gen, [e.value for e in exports], excel_safe=excel_safe)
        run = dict(result.run)
        run["options"] = {**run["options"], "target_pct": target, "map": map_}
        run["options"]["export"] = sorted({e.value for e in exports or []})
        write_text_file(gen / "run.json", json_text(run))


# Input options shared by every command that analyses (report, gaps, targets, map, ...).
SitesOpt = Annotated[Path | None, typer.Option("--sites", help="Sites: CSV (lon/lat) or point layer.")]
AreasOpt = Annotated[Path | None, typer.Option("--areas", help="Areas: polygon layer (communes).")]
PopulationOpt = Annotated[
    Path | None, typer.Option("--population", help="Population GeoTIFF (people per pixel).")
]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder.")]
AreaIdOpt = Annotated[str | None, typer.Option("--area-id", help="Area id field (detected if omitted).")]
AreaNameOpt = Annotated[
    str | None, typer.Option("--area-name", help="Area name field (detected if omitted).")
]
ParentOpt = Annotated[str | None, typer.Option("--parent", help="Field grouping areas into parent rows.")]
SelectOpt = Annotated[str | None, typer.Option("--select", help="Keep areas with FIELD=VALUE.")]
TargetOpt = Annotated[float, typer.Option("--target", help="Target coverage in percent.")]
RadiusOpt = Annotated[
    list[str] | None,
    typer.Option("--radius", help="Default radius per technology, e.g. 4G=3000 (repeatable)."),
]
ResidentialOpt = Annotated[
    float,
    typer.Option("--residential-density", help="People per km² from which a pixel is residential."),
]
PopulationFieldOpt = Annotated[
    str | None, typer.Option("--population-field", help="Areas field with official population counts.")
]
PlannedOpt = Annotated[bool, typer.Option("--include-planned", help="Count planned sites too.")]
SitesCrsOpt = Annotated[
    str | None, typer.Option("--sites-crs", help="CRS of sites lacking one (needed for x/y columns).")
]
AreasCrsOpt = Annotated[str | None, typer.Option("--areas-crs", help="CRS of areas lacking one.")]
ByOpt = Annotated[By | None, typer.Option("--by", help="Add rows per operator.")]
CombinedOpt = Annotated[bool, typer.Option("--combined", help="Add combined layers any_mobile and 4G+.")]
ResolutionOpt = Annotated[float, typer.Option("--resolution", help="Scan-line spacing in metres (accuracy).")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Exit 2 when any row is refused.")]
EncodingOpt = Annotated[str | None, typer.Option("--encoding", help="Encoding of a CSV sites file.")]
DecimalOpt = Annotated[str, typer.Option("--decimal", help="Decimal separator of a CSV sites file.")]
FormatOpt = Annotated[Format, typer.Option("--format", help="What to print on stdout.")]
ExcelSafeOpt = Annotated[
    bool, typer.Option("--excel-safe", help="In CSV outputs, prefix text starting with = + - @ with a quote.")
]
ExportOpt = Annotated[
    list[ExportFormat] | None,
    typer.Option("--export", help="Also write geojson|gpkg|parquet|csv|xlsx files into --out (repeatable)."),
]


def check_target(target: float) -> None:
    """Refuse a target outside 0–100 %."""
    if not 0 <= target <= 100:
        raise InputError(f"--target {target:g}: must be between 0 and 100")


def run_analysis(*, out_dir: Path, command: str, **options: Any) -> Result:
    """Run :func:`telecov.analyze` with a progress bar, from the shared input options.

    With ``strict`` and refused rows, the rejects are written into ``out_dir`` (as the
    ``command``'s output set) before the error propagates.
    """
    from ..analysis import analyze
    from ..io.outputs import csv_text, output_set, rejects_frame, write_text_file

    by = options.pop("by", None)
    radius = options.pop("radius", None)
    resolution = options.pop("resolution", 10.0)
    excel_safe = options.pop("excel_safe", False)
    sites, areas, population = (options.pop(k) for k in ("sites", "areas", "population"))
    progress, update = _progress()
    with progress:
        try:
            return analyze(
                sites, areas, population, radius=_parse_radius(radius),
                by_operator=by is By.operator, resolution_m=resolution, progress=update, **options,
            )  # fmt: skip
        except StrictError as exc:
            with output_set(out_dir, name=command) as gen:
                for kind, frame in exc.rejected.items():
                    text = csv_text(rejects_frame(frame), excel_safe=excel_safe)
                    write_text_file(gen / f"rejected_{kind}.csv", text)
            raise


@app.command()
@guard
def report(
    sites: SitesOpt = None,
    areas: AreasOpt = None,
    population: PopulationOpt = None,
    out_dir: OutOpt = Path("out"),
    area_id: AreaIdOpt = None,
    area_name: AreaNameOpt = None,
    parent: ParentOpt = None,
    select: SelectOpt = None,
    target: TargetOpt = DEFAULT_TARGET_PCT,
    radius: RadiusOpt = None,
    residential_density: ResidentialOpt = DEFAULT_RESIDENTIAL_DENSITY,
    population_field: PopulationFieldOpt = None,
    include_planned: PlannedOpt = False,
    sites_crs: SitesCrsOpt = None,
    areas_crs: AreasCrsOpt = None,
    by: ByOpt = None,
    combined: CombinedOpt = False,
    resolution: ResolutionOpt = 10.0,
    no_map: Annotated[bool, typer.Option("--no-map", help="Do not write coverage.html.")] = False,
    strict: StrictOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
    fmt: FormatOpt = Format.table,
    export: ExportOpt = None,
    excel_safe: ExcelSafeOpt = False,
    poi: Annotated[
        list[str] | None,
        typer.Option("--poi", help="Points/zones of interest NAME=FILE (repeatable): poi_coverage.csv."),
    ] = None,
    crosswalk: Annotated[
        Path | None,
        typer.Option(
            "--crosswalk",
            help="Old → new crosswalk CSV (telecov crosswalk): adds coverage_reaggregated.csv.",
        ),
    ] = None,
) -> None:
    """Coverage of every area by every technology: table, GeoJSON, rejects, run.json and a map."""
    check_target(target)
    t0 = time.perf_counter()
    result = run_analysis(
        out_dir=out_dir, command="report",
        sites=sites, areas=areas, population=population, area_id=area_id, area_name=area_name,
        parent=parent, select=select, radius=radius, residential_density=residential_density,
        population_field=population_field, include_planned=include_planned, sites_crs=sites_crs,
        areas_crs=areas_crs, by=by, combined=combined, resolution=resolution, strict=strict,
        encoding=encoding, decimal=decimal, excel_safe=excel_safe,
    )  # fmt: skip
    extra = None
    if poi:
        from ..io.outputs import csv_text
        from ..pois import parse_poi_options, poi_coverage

        pois = poi_coverage(result, parse_poi_options(poi), encoding=encoding)
        extra = {"poi_coverage.csv": csv_text(pois.table, excel_safe=excel_safe),
                 "rejected_pois.csv": csv_text(pois.rejected, excel_safe=excel_safe)}  # fmt: skip
    if crosswalk is not None:
        from ..crosswalk import read_crosswalk, reaggregate
        from ..io.outputs import csv_text

        moved = reaggregate(result.table, read_crosswalk(crosswalk))
        extra = {**(extra or {}), "coverage_reaggregated.csv": csv_text(moved, excel_safe=excel_safe)}
    write_report(
        result, out_dir, map_=not no_map, target=target, exports=export, excel_safe=excel_safe, extra=extra
    )
    _print(result, fmt, target=target, excel_safe=excel_safe)
    logging.getLogger("telecov").info("done in %.2f s; outputs in %s", time.perf_counter() - t0, out_dir)


GLOBAL_FLAGS = frozenset({"-q", "--quiet", "-v", "-vv", "-vvv", "--verbose", "--debug"})


def main() -> None:
    """Console-script entry point; global flags may also follow the command name."""
    _register_commands()
    args = sys.argv[1:]
    flags = [a for a in args if a in GLOBAL_FLAGS]
    rest = [a for a in args if a not in GLOBAL_FLAGS]
    from .config import config_for_cli  # telecov.toml / --config FILE as click's default_map

    default_map, rest = config_for_cli(app, rest)
    app(args=flags + rest, prog_name="telecov", default_map=default_map)


def _register_commands() -> None:
    """Import the command modules of this package; each adds its commands to :data:`app`."""
    from . import crosswalk, gaps, import_cells, init, map, targets  # noqa: F401
