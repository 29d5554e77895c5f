"""Every option shared by several commands, declared once; the commands import them.

In the spirit of rasterio's ``rio/options.py``: an option is an ``Annotated`` alias with its
flag and help, and :class:`AnalysisInputs` bundles the input options of every command that
analyses (``report``, ``gaps``, ``map``, ``targets``). :func:`with_analysis_inputs` gives a
command exactly those options (:data:`ANALYSIS_INPUTS`) and hands them to it as one
:class:`AnalysisInputs` value.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import typing
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ..vocabulary import DEFAULT_RESIDENTIAL_DENSITY, DEFAULT_RESOLUTION_M

R = TypeVar("R")


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


class Propagation(StrEnum):
    """How site radii are found (``--propagation``)."""

    fixed = "fixed"
    auto = "auto"
    hata = "hata"
    cost231 = "cost231"
    tr38901 = "38901"


class Environment(StrEnum):
    """Environment class of radio rows that give none (``--environment``)."""

    auto = "auto"
    urban = "urban"
    suburban = "suburban"
    rural = "rural"


class DemUnit(StrEnum):
    """Elevation unit of a DEM (``--dem-unit``)."""

    m = "m"
    ft = "ft"


class Terrain(StrEnum):
    """How terrain cuts footprints (``--terrain``, with ``--dem``)."""

    auto = "auto"
    los = "los"
    diffraction = "diffraction"


class PopulationUnit(StrEnum):
    """What the population raster's values are (``count`` would shadow ``str.count``)."""

    COUNT = "count"
    DENSITY = "density"


class By(StrEnum):
    """Extra breakdown of the rows."""

    operator = "operator"


SitesOpt = Annotated[Path | None, typer.Option("--sites", help="Sites: CSV (lon/lat) or point layer.")]
AreasOpt = Annotated[Path | None, typer.Option("--areas", help="Areas: polygon layer (communes).")]
PopulationOpt = Annotated[
    str | None,
    typer.Option(
        "--population",
        metavar="FILE|URL",
        help="Population GeoTIFF (people per pixel): a file, or a URL (https://, s3://, /vsicurl/) "
        "that this machine and the workers can read.",
    ),
]
URL_INPUTS = frozenset({"population"})
"""Options that take a file or a URL (a relative file in ``telecov.toml`` is from its folder)."""
AreaIdOpt = Annotated[str | None, typer.Option("--area-id", help="Area id field (detected if omitted).")]
AreaNameOpt = Annotated[
    str | None, typer.Option("--area-name", help="Area name field (detected if omitted).")
]
ParentOpt = Annotated[str | None, typer.Option("--parent", help="Field grouping areas into parent rows.")]
SelectOpt = Annotated[str | None, typer.Option("--select", help="Keep areas with FIELD=VALUE.")]
SitesCrsOpt = Annotated[
    str | None, typer.Option("--sites-crs", help="CRS of sites lacking one (needed for x/y columns).")
]
AreasCrsOpt = Annotated[str | None, typer.Option("--areas-crs", help="CRS of areas lacking one.")]
RadiusOpt = Annotated[
    list[str] | None,
    typer.Option("--radius", help="Default radius per technology, e.g. 4G=3000 (repeatable)."),
]
PropagationOpt = Annotated[
    Propagation,
    typer.Option(
        "--propagation",
        help="Radius of radio rows (with frequency_mhz or band): auto (a site's radius_m, else the model of "
        "its frequency), fixed (the radius table), or hata|cost231|38901 for every radio row.",
    ),
]
RxThresholdOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--rx-threshold",
        help="Receiver threshold per technology, total channel power in dBm, e.g. 4G=-85 (repeatable).",
    ),
]
RxHeightOpt = Annotated[float, typer.Option("--rx-height", help="Receiver height above ground in metres.")]
EnvironmentOpt = Annotated[
    Environment,
    typer.Option(
        "--environment",
        help="Environment of radio rows without one: auto (by population density around the site), "
        "urban, suburban or rural.",
    ),
]
SAMPLE_DEM = "sample"
"""``--dem sample``: the bundled sample's synthetic DEM (``telecov.sample_path("dem.tif")``)."""


def sample_dem(value: Path | None) -> Path | None:
    """Resolve ``--dem sample`` to the bundled DEM, unless a file of that name exists."""
    if value is None or str(value) != SAMPLE_DEM or value.exists():
        return value
    from importlib import resources

    return Path(str(resources.files("telecov.sample").joinpath("dem.tif")))


DemOpt = Annotated[
    Path | None,
    typer.Option(
        "--dem",
        help="Elevation model GeoTIFF (any CRS): footprints lose what terrain shadows. 'sample': the "
        "bundled sample's synthetic DEM.",
        callback=sample_dem,
    ),
]
DemUnitOpt = Annotated[DemUnit, typer.Option("--dem-unit", help="Elevation unit of the DEM: m or ft.")]
TerrainOpt = Annotated[
    Terrain,
    typer.Option(
        "--terrain",
        help="With --dem: los (direct ray clears the ground), diffraction (plus knife-edge loss within "
        "the link budget), or auto (diffraction for model radii, los for the others).",
    ),
]
PlannedOpt = Annotated[bool, typer.Option("--include-planned", help="Count planned sites too.")]
ByOpt = Annotated[By | None, typer.Option("--by", help="Add rows per operator.")]
CombinedOpt = Annotated[bool, typer.Option("--combined", help="Add combined layers any_mobile and 4G+.")]
ResolutionOpt = Annotated[float, typer.Option("--resolution", help="Scan-line spacing in metres (accuracy).")]
EncodingOpt = Annotated[str | None, typer.Option("--encoding", help="Encoding of a CSV sites file.")]
DecimalOpt = Annotated[str, typer.Option("--decimal", help="Decimal separator of a CSV sites file.")]
ResidentialOpt = Annotated[
    float,
    typer.Option("--residential-density", help="People per km² from which a pixel is residential."),
]
PopulationFieldOpt = Annotated[
    str | None, typer.Option("--population-field", help="Areas field with official population counts.")
]
PopulationBandOpt = Annotated[
    int | None,
    typer.Option("--population-band", help="Raster band with the people (needed with several data bands)."),
]
PopulationUnitOpt = Annotated[
    PopulationUnit | None,
    typer.Option(
        "--population-unit", help="Raster values: count (people per pixel, default) or density (per km²)."
    ),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Exit 2 when any row is refused.")]
SitesLayerOpt = Annotated[
    str | None,
    typer.Option("--sites-layer", help="Layer (or workbook sheet) of the sites file holding the sites."),
]
AreasLayerOpt = Annotated[
    str | None, typer.Option("--areas-layer", help="Layer of the areas file holding the areas.")
]
TechnologyAliasOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--technology-alias",
        help="Another spelling of a technology: SPELLING=TECH, e.g. eLTE=4G (repeatable).",
    ),
]
StatusAliasOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status-alias",
        help="Another spelling of a status: SPELLING=existing|planned|inactive (repeatable).",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers", min=1, help="Measure on a local dask cluster of N worker processes (dask extra)."
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Measure on the dask cluster at tcp://HOST:PORT (its workers must reach the input files).",
    ),
]
SchedulerTimeoutOpt = Annotated[
    float, typer.Option("--scheduler-timeout", help="Seconds to wait for the --scheduler to answer.")
]

OutOpt = Annotated[Path, typer.Option("--out", help="Output folder.")]
TargetOpt = Annotated[float, typer.Option("--target", help="Target coverage in percent.")]
FormatOpt = Annotated[Format, typer.Option("--format", help="What to print on stdout.")]
ExcelSafeOpt = Annotated[
    bool, typer.Option("--excel-safe", help="In CSV outputs, prefix text starting with = + - @ with a quote.")
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace an existing output file, or files of another command's set in --out (never an input).",
    ),
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait", min=0, help="Wait up to SECONDS for another run writing into --out (default: exit 2 now)."
    ),
]
ExportOpt = Annotated[
    list[ExportFormat] | None,
    typer.Option("--export", help="Also write geojson|gpkg|parquet|csv|xlsx files into --out (repeatable)."),
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnalysisInputs:
    """The input options of every command that analyses: what :func:`telecov.analyze` reads."""

    sites: SitesOpt = None
    areas: AreasOpt = None
    population: PopulationOpt = None
    area_id: AreaIdOpt = None
    area_name: AreaNameOpt = None
    parent: ParentOpt = None
    select: SelectOpt = None
    sites_crs: SitesCrsOpt = None
    areas_crs: AreasCrsOpt = None
    radius: RadiusOpt = None
    propagation: PropagationOpt = Propagation.auto
    rx_threshold: RxThresholdOpt = None
    rx_height: RxHeightOpt = 1.5
    environment: EnvironmentOpt = Environment.auto
    dem: DemOpt = None
    dem_unit: DemUnitOpt = DemUnit.m
    terrain: TerrainOpt = Terrain.auto
    include_planned: PlannedOpt = False
    by: ByOpt = None
    combined: CombinedOpt = False
    resolution: ResolutionOpt = DEFAULT_RESOLUTION_M
    encoding: EncodingOpt = None
    decimal: DecimalOpt = "."
    residential_density: ResidentialOpt = DEFAULT_RESIDENTIAL_DENSITY
    population_field: PopulationFieldOpt = None
    population_band: PopulationBandOpt = None
    population_unit: PopulationUnitOpt = None
    strict: StrictOpt = False
    sites_layer: SitesLayerOpt = None
    areas_layer: AreasLayerOpt = None
    technology_alias: TechnologyAliasOpt = None
    status_alias: StatusAliasOpt = None
    workers: WorkersOpt = None
    scheduler: SchedulerOpt = None
    scheduler_timeout: SchedulerTimeoutOpt = 10.0

    @property
    def by_operator(self) -> bool:
        """Whether rows per operator were asked for (``--by operator``)."""
        return self.by is By.operator

    @property
    def vocabulary(self) -> dict[str, dict[str, list[str]]]:
        """The spellings added by ``--technology-alias`` and ``--status-alias`` (or ``[vocabulary]``)."""
        from ..vocabulary import parse_aliases

        return {
            "technology": parse_aliases(self.technology_alias, kind="technology"),
            "status": parse_aliases(self.status_alias, kind="status"),
        }


ANALYSIS_INPUTS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(AnalysisInputs))
"""Parameter names of the input options shared by ``report``, ``gaps``, ``map`` and ``targets``."""


def _input_parameters() -> list[inspect.Parameter]:
    hints = typing.get_type_hints(AnalysisInputs, include_extras=True)
    return [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, annotation=hints[f.name], default=f.default)
        for f in dataclasses.fields(AnalysisInputs)
    ]


def with_analysis_inputs(func: Callable[..., R]) -> Callable[..., R]:
    """Give a command the :data:`ANALYSIS_INPUTS` options, passed to it as ``inputs``.

    ``func`` takes ``inputs: AnalysisInputs`` (keyword) besides its own options; the returned
    command's signature, which typer reads, has the shared options first, then the command's own.
    """
    own = inspect.signature(func, eval_str=True)
    rest = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own.parameters.values() if p.name != "inputs"
    ]
    clash = set(ANALYSIS_INPUTS) & {p.name for p in rest}
    if clash or "inputs" not in own.parameters:
        raise TypeError(f"{func.__name__}: needs an 'inputs' parameter and no option named {sorted(clash)}")
    params = [*_input_parameters(), *rest]

    @functools.wraps(func)
    def command(**kwargs: Any) -> R:
        inputs = AnalysisInputs(**{name: kwargs.pop(name) for name in ANALYSIS_INPUTS if name in kwargs})
        return func(inputs=inputs, **kwargs)

    command.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params} | {"return": own.return_annotation}
    return command


PARAMETER_FLAGS: dict[str, str] = {
    "resolution_m": "--resolution",
    "rx_height_m": "--rx-height",
    "out_dir": "--out",
    "formats": "--export",
    "pois": "--poi",
    "group_distance_m": "--group-distance",
    "split_distance_m": "--split-distance",
    "by_operator": "--by operator",
    "vocabulary": "--technology-alias/--status-alias",
    "tiles_attr": "--attribution",
}
"""Library parameters whose command-line flag is not ``--`` + the name with dashes."""

_PARAMETER = re.compile(r"`([a-z][a-z0-9_]*)`(=?)")


def as_flags(text: str) -> str:
    """Speak of flags where a library message speaks of parameters (`` `sites_crs` `` → ``--sites-crs``)."""

    def flag(match: re.Match[str]) -> str:
        name = match.group(1)
        spelled = PARAMETER_FLAGS.get(name, "--" + name.replace("_", "-"))
        return spelled + (" " if match.group(2) else "")

    return _PARAMETER.sub(flag, text)
