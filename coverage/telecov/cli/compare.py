"""``telecov compare BEFORE AFTER``: what changes between two report folders, and a map of it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..vocabulary import DEFAULT_TARGET_PCT
from ._console import note, out, state_of
from ._run import check_target, open_output_set, write_frame
from .options import ForceOpt, Format, FormatOpt, OutOpt, TargetOpt, WaitOpt

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    import pandas as pd

BeforeArg = Annotated[Path, typer.Argument(help="Report output folder before (holds coverage.csv).")]
AfterArg = Annotated[Path, typer.Argument(help="Report output folder after.")]
MetricOpt = Annotated[
    str, typer.Option("--metric", help="Share crossed_target reads: population, residential or area.")
]
TechnologyOpt = Annotated[
    str | None, typer.Option("--technology", help="Technology shown first on the map (default: most change).")
]
NoMapOpt = Annotated[bool, typer.Option("--no-map", help="Do not write comparison.html.")]


def compare_names(*, map_: bool) -> list[str]:
    """Return the files ``telecov compare`` writes into ``--out`` (its manifest ``compare.json`` aside)."""
    return ["comparison.csv", *(["comparison.html"] if map_ else [])]


def report_files(*folders: Path) -> list[Path]:
    """Return the files of report folders that compare reads (no output may replace them)."""
    return [folder / name for folder in folders for name in ("coverage.csv", "coverage.geojson")]


def compare_command(
    ctx: typer.Context,
    before: BeforeArg,
    after: AfterArg,
    *,
    target: TargetOpt = DEFAULT_TARGET_PCT,
    metric: MetricOpt = "population",
    technology: TechnologyOpt = None,
    no_map: NoMapOpt = False,
    fmt: FormatOpt = Format.table,
    out_dir: OutOpt = Path("out"),
    force: ForceOpt = False,
    wait: WaitOpt = 0.0,
) -> None:
    """Compare two report folders: comparison.csv (before, after, change, crossed_target) and a map."""
    from ..compare import compare, read_report
    from ..io.formats import csv_text
    from ..io.tables import file_info
    from ..vocabulary import check_metric

    check_target(target)
    check_metric(metric)
    quiet = state_of(ctx).quiet
    sources = report_files(before, after)
    with open_output_set(
        out_dir, command="compare", names=compare_names(map_=not no_map), inputs=sources, force=force,
        wait=wait, quiet=quiet,
    ) as outset:  # fmt: skip
        table_a, _ = read_report(before)
        table_b, areas_b = read_report(after)
        frame = compare(table_a, table_b, target=target, metric=metric)
        outset.write_text("comparison.csv", csv_text(frame))
        if not no_map and areas_b is not None:
            comparison_map(
                frame, table_b, areas_b, outset.path("comparison.html"), technology=technology, metric=metric
            )
        read = {side: file_info(p) for side, p in zip(("before", "after"), sources[::2], strict=True)}
        options = {"target_pct": target, "metric": metric, "technology": technology, "map": not no_map}
        outset.commit({"inputs": read, "options": options})
    if fmt is Format.table:
        out.print(_table(frame, target=target, metric=metric))
    else:
        write_frame(frame, fmt)
    crossed = frame[frame["crossed_target"] & (frame["level"] == "area")]
    note(
        f"{len(crossed)} area rows crossed the {target:g} % target; comparison.csv in {out_dir}",
        state=state_of(ctx),
    )


def _table(frame: pd.DataFrame, *, target: float, metric: str) -> Table:
    rows = frame[frame["level"] == "total"]
    if "operator" in rows.columns:
        rows = rows[rows["operator"] == "all"]
    table = Table(title=f"Change per technology (whole area; target {target:g} % {metric})")
    for col in ("technology", "population % before", "after", "change", "covered people +", "areas crossed"):
        table.add_column(col, justify="left" if col == "technology" else "right")
    areas = frame[frame["level"] == "area"]
    for d in rows.to_dict("records"):
        crossed = int(areas.loc[areas["technology"] == d["technology"], "crossed_target"].sum())

        def pct(v: Any) -> str:
            return "—" if v != v else f"{v:.2f}"

        table.add_row(
            escape(str(d["technology"])), pct(d["population_pct_before"]), pct(d["population_pct_after"]),
            pct(d["population_pct_delta"]), f"{d['covered_population_delta']:,.0f}", str(crossed),
        )  # fmt: skip
    return table


def comparison_map(
    frame: pd.DataFrame,
    table: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    path: Path,
    *,
    technology: str | None,
    metric: str,
) -> None:
    """Write ``comparison.html``: the coverage after, and the areas that changed with before → after."""
    import geopandas as gpd

    from ..geodesy import LONLAT
    from ..maps.html import coverage_map, save_map
    from ..metrics import PCT_COLUMN
    from ..vocabulary import check_technology

    pct = PCT_COLUMN[metric]
    rows = frame[frame["level"] == "area"]
    if "operator" in rows.columns:
        rows = rows[rows["operator"] == "all"]
    if technology is None:
        totals = frame[frame["level"] == "total"].groupby("technology")["covered_population_delta"].sum()
        technology = str(totals.abs().idxmax()) if len(totals) and totals.abs().max() > 0 else "4G"
    tech = check_technology(technology)
    changed = rows[(rows["technology"] == tech) & (rows[f"{pct}_delta"].abs() > 1e-9)]
    shapes = areas.set_index(areas["area_id"].astype(str)).geometry
    zones = gpd.GeoDataFrame(
        {
            "area_id": changed["area_id"].to_numpy(), "area_name": changed["area_name"].to_numpy(),
            f"{pct}_before": changed[f"{pct}_before"].round(2).to_numpy(),
            f"{pct}_after": changed[f"{pct}_after"].round(2).to_numpy(),
            f"{pct}_delta": changed[f"{pct}_delta"].round(2).to_numpy(),
            "covered_population_delta": changed["covered_population_delta"].round(0).to_numpy(),
            "crossed_target": changed["crossed_target"].to_numpy(),
        },
        geometry=shapes.reindex(changed["area_id"].astype(str)).to_numpy(), crs=areas.crs or LONLAT,
    )  # fmt: skip
    view = _Report(areas=areas, sites=_no_sites(), table=table)
    fmap = coverage_map(
        view, technology=tech, metric=metric, title=f"{tech}: coverage after, and what changed"
    )
    styles = [
        {"color": "#1a9850" if c else "#2166ac", "weight": 3.0 if c else 1.5} for c in zones["crossed_target"]
    ]
    label = f"Changed areas ({len(zones):,}; green: crossed the target)"
    add_zones(fmap, zones, label=label, heading="Change", color="#2166ac", styles=styles, fill=0.0)
    save_map(fmap, path)


class _Report:
    """What the map reads of a report (areas, sites, table), from a report folder."""

    def __init__(self, *, areas: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, table: pd.DataFrame) -> None:
        self.areas, self.sites, self.table = areas, sites, table


def _no_sites() -> gpd.GeoDataFrame:
    import geopandas as gpd

    from ..geodesy import LONLAT

    return gpd.GeoDataFrame({"technology": []}, geometry=[], crs=LONLAT)


def add_zones(
    fmap: folium.Map,
    zones: gpd.GeoDataFrame,
    *,
    label: str,
    heading: str,
    color: str,
    styles: list[dict[str, Any]] | None = None,
    fill: float = 0.35,
) -> None:
    """Add polygons with their attributes as tooltips (a layer shown on opening) to a coverage map."""
    import numpy as np

    from ..maps.elements import DataLayer, stable_names
    from ..maps.formatting import escape as html_escape
    from ..maps.geometry import COORD_DECIMALS, feature_collection, to_lonlat
    from ..maps.payload import attribute_html
    from ..maps.styles import dot_html

    zones = to_lonlat(zones)
    geoms = np.asarray(zones.geometry.to_numpy(), dtype=object)
    tips = attribute_html(zones, heading=heading)
    props = [{"t": t, "s": s} for t, s in zip(tips, styles or [{}] * len(tips), strict=True)]
    payload = feature_collection(geoms, props, COORD_DECIMALS)
    config = {
        "pane": "tcGaps", "interactive": True,
        "style": {"color": color, "weight": 1.5, "fillColor": color, "fillOpacity": fill},
    }  # fmt: skip
    fmap.add_child(
        DataLayer(f"{dot_html(color, square=True)}{html_escape(label)}", "geo", payload, config, show=True)
    )
    stable_names(fmap)
