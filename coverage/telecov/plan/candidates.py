"""Candidate sites of a plan: a sites file, upgrades of existing masts, a grid over the gaps.

Every candidate is checked the same way whatever its source, and a refused candidate keeps
its first problem (reader problems first, then: another technology, an id already used, no
positive cost, outside the areas, inside an excluded zone, too close to an existing site).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ..errors import InputError, TelecovWarning, TooLargeError
from ..geodesy import GEOD, LONLAT, meridian_radius
from ..io.refusals import REJECT_COLUMNS, Refusals
from ..io.sites import read_sites
from ..io.tables import TABLE_SUFFIXES, find_column, parse_numbers, read_csv_text, use_decimal
from ..io.vectors import has_geometry, read_vector
from ..radio.columns import radio_columns
from .radio import RADIO_SITE_COLUMNS, candidate_radii

if TYPE_CHECKING:
    from ..result import Result

SOURCES = ("candidates", "upgrade", "grid")
"""Where candidates come from: ``candidates`` (a file), ``upgrade`` (``upgrade_from``), ``grid``."""
CANDIDATE_COLUMNS = (
    "site_id", "source", "technology", "operator", "radius_m", "azimuth", "beamwidth", "cost", "row",
)  # fmt: skip
"""Columns of :attr:`CandidateSet.sites` (before ``area`` and the geometry)."""
MAX_GRID_POINTS = 500_000
"""Grid candidates above which a run is refused as too large."""


@dataclass(frozen=True)
class CandidateSet:
    """Accepted candidates and refused ones.

    Attributes
    ----------
    sites
        One row per footprint (a site's sectors share its ``site_id``): :data:`CANDIDATE_COLUMNS`,
        ``area`` (index of the area it stands in), ``candidate`` (0, 1, ... per site, in
        order) and a lon/lat point.
    rejected
        ``source``, the candidate's columns (a file's original columns), ``row``, ``field``,
        ``reason``.
    counts
        Per source: ``read``, ``used``, ``refused``.

    """

    sites: gpd.GeoDataFrame
    rejected: pd.DataFrame
    counts: dict[str, dict[str, int]]


@dataclass(frozen=True)
class _Source:
    """Candidates of one source before the common checks, with what their refusals show."""

    name: str
    sites: gpd.GeoDataFrame
    shown: pd.DataFrame
    """Per candidate, the columns its refusal shows (a file's original row)."""
    rejected: pd.DataFrame
    read: int


def gather_candidates(
    result: Result,
    *,
    technology: str,
    candidates: str | Path | pd.DataFrame | None = None,
    upgrade_from: str | None = None,
    grid: float | None = None,
    exclude: str | Path | gpd.GeoDataFrame | None = None,
    min_spacing: float | None = None,
    population: str | Path | Any | None = None,
    encoding: str | None = None,
    decimal: str = ".",
    client: Any = None,
) -> CandidateSet:
    """Read and check the candidates of every source given (``client``: gap zones of the grid on a cluster).

    Raises
    ------
    InputError
        No source given, or a file-level problem with one.
    TooLargeError
        The grid would hold more than :data:`MAX_GRID_POINTS` points.

    """
    if candidates is None and upgrade_from is None and grid is None:
        raise InputError("no candidates: give `candidates`, `upgrade_from` or `grid` (they may be combined)")
    sources = []
    if candidates is not None:
        sources.append(
            _from_file(
                result,
                candidates,
                technology=technology,
                encoding=encoding,
                decimal=decimal,
                population=population,
            )
        )
    if upgrade_from is not None:
        sources.append(_from_upgrade(result, upgrade_from, technology=technology))
    if grid is not None:
        sources.append(_from_grid(result, grid, technology=technology, population=population, client=client))
    return _checked(result, sources, technology=technology, exclude=exclude, min_spacing=min_spacing)


def _empty_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in CANDIDATE_COLUMNS}, geometry=[], crs=LONLAT)


def _frame(
    sites: gpd.GeoDataFrame, *, source: str, technology: str, cost: NDArray[np.float64], radio: bool = False
) -> gpd.GeoDataFrame:
    """Candidates in the shape of :data:`CANDIDATE_COLUMNS` from accepted site rows.

    With ``radio``, the rows' radio columns (:data:`telecov.plan.radio.RADIO_SITE_COLUMNS`) are
    kept; else they take their defaults (no radio).
    """
    frame = gpd.GeoDataFrame(
        {
            "site_id": sites["site_id"].astype(str).to_numpy(),
            "source": source,
            "technology": sites["technology"].to_numpy(dtype=object),
            "operator": sites["operator"].to_numpy(dtype=object),
            "radius_m": sites["radius_m"].to_numpy(dtype=np.float64),
            "azimuth": sites["azimuth"].to_numpy(dtype=np.float64),
            "beamwidth": sites["beamwidth"].to_numpy(dtype=np.float64),
            "cost": cost,
            "row": sites["row"].to_numpy(dtype=np.int64),
        },
        geometry=sites.geometry.to_numpy(),
        crs=LONLAT,
    )
    for name, default in RADIO_SITE_COLUMNS.items():
        frame[name] = sites[name].to_numpy() if radio and name in sites.columns else default
    return frame


def _raw_table(source: str | Path | pd.DataFrame, *, encoding: str | None) -> pd.DataFrame:
    """Return the candidates file as read, one row per data row (no geometry)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.suffix.lower() in TABLE_SUFFIXES or ".csv" in {s.lower() for s in path.suffixes}:
            return read_csv_text(path, encoding=encoding)
        frame: pd.DataFrame = read_vector(path)
    else:
        frame = source
    if has_geometry(frame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return pd.DataFrame(frame).reset_index(drop=True)


def _costs(
    raw: pd.DataFrame, rows: NDArray[np.int64], *, decimal: str
) -> tuple[NDArray[np.float64], str | None]:
    """Return the ``cost`` of the accepted rows (1 where absent or empty, NaN where not a number)."""
    col = find_column([str(c) for c in raw.columns], ("cost",))
    if col is None:
        return np.ones(rows.shape[0]), None
    text = raw[col].astype(str)
    table = pd.DataFrame({col: text})
    use_decimal(table, [col], decimal)
    values, bad = parse_numbers(table[col])
    empty = (text.str.strip() == "").to_numpy()
    cost = np.where(empty, 1.0, np.where(bad, np.nan, values))
    return cost[rows - 1], col


def _from_file(
    result: Result,
    source: str | Path | pd.DataFrame,
    *,
    technology: str,
    encoding: str | None,
    decimal: str,
    population: str | Path | Any | None,
) -> _Source:
    """Candidates of a sites file: the sites reader's checks (radio columns too), then another technology.

    Radio rows get their radii under the report's radio options (:mod:`telecov.plan.radio`).
    """
    options = result.run.options
    with warnings.catch_warnings():  # repeated ids are refused below, not kept
        warnings.filterwarnings("ignore", message=r".*share \(site_id", category=TelecovWarning)
        table = read_sites(
            source, crs=options.sites_crs, radius=result.run.radii_m, include_planned=True,
            encoding=encoding, decimal=decimal, columns=radio_columns,
        )  # fmt: skip
    table = candidate_radii(table, result, population=population)
    raw = _raw_table(source, encoding=encoding)
    accepted = table.accepted
    rows = accepted["row"].to_numpy(dtype=np.int64)
    cost, cost_col = _costs(raw, rows, decimal=decimal)
    sites = _frame(accepted, source="candidates", technology=technology, cost=cost, radio=True)
    shown = raw.iloc[rows - 1].reset_index(drop=True)
    sites.attrs["cost_field"] = cost_col or "cost"
    return _Source("candidates", sites, shown, table.rejected, table.read)


def _from_upgrade(result: Result, upgrade_from: str, *, technology: str) -> _Source:
    """Existing counted sites of ``upgrade_from`` as candidates of ``technology`` (default radius)."""
    from ..vocabulary import check_technology

    old = check_technology(upgrade_from, where="`upgrade_from`")
    if old == technology:
        raise InputError(
            f"`upgrade_from` {upgrade_from}: must differ from the planned `technology` {technology}"
        )
    sites = result.sites
    masts = sites[sites["counted"].to_numpy(dtype=bool) & (sites["technology"] == old).to_numpy()]
    radius = float(result.run.radii_m.get(technology, np.nan))
    frame = _frame(masts, source="upgrade", technology=technology, cost=np.ones(len(masts)))
    frame["technology"] = technology
    frame["radius_m"] = radius
    shown = pd.DataFrame(frame.drop(columns=["geometry", *RADIO_SITE_COLUMNS])).assign(
        lon=frame.geometry.x, lat=frame.geometry.y
    )
    return _Source("upgrade", frame, shown, pd.DataFrame(columns=list(REJECT_COLUMNS)), len(masts))


def _from_grid(
    result: Result, spacing: float, *, technology: str, population: str | Path | Any | None, client: Any
) -> _Source:
    """Points every ``spacing`` metres (north-south and east-west) in the uncovered residential zones."""
    from ..gaps import gap_polygons

    if not math.isfinite(spacing) or spacing <= 0:
        raise InputError(f"`grid` {spacing:g}: the spacing must be a positive number of metres")
    zones = gap_polygons(result, technology=technology, population=population, client=client).zones
    lon, lat = _lattice(zones.geometry.to_numpy(), spacing)
    n = lon.shape[0]
    radius = float(result.run.radii_m.get(technology, np.nan))
    frame = gpd.GeoDataFrame(
        {
            "site_id": [f"grid-{i + 1:06d}" for i in range(n)], "source": "grid", "technology": technology,
            "operator": "planned", "radius_m": np.full(n, radius), "azimuth": np.full(n, np.nan),
            "beamwidth": np.full(n, np.nan), "cost": np.ones(n), "row": np.arange(1, n + 1),
        },
        geometry=gpd.points_from_xy(lon, lat), crs=LONLAT,
    )  # fmt: skip
    shown = pd.DataFrame(frame.drop(columns="geometry")).assign(lon=lon, lat=lat)
    for name, default in RADIO_SITE_COLUMNS.items():
        frame[name] = default
    return _Source("grid", frame, shown, pd.DataFrame(columns=list(REJECT_COLUMNS)), n)


def _lattice(zones: NDArray[np.object_], spacing: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lattice points ``spacing`` metres apart (rows of latitude, columns per row) inside ``zones``."""
    if zones.shape[0] == 0:
        return np.zeros(0), np.zeros(0)
    west, south, east, north = shapely.total_bounds(zones)
    dlat = math.degrees(spacing / float(meridian_radius(0.5 * (south + north))))
    lats = np.arange(south + dlat / 2, north, dlat)
    width_m = (east - west) * math.pi / 180 * 6378137.0
    estimate = lats.shape[0] * (width_m / spacing + 1)
    area_m2 = float(np.sum(shapely.area(zones))) * (math.pi / 180 * 6378137.0) ** 2
    if min(estimate, area_m2 / spacing**2) > MAX_GRID_POINTS:
        raise TooLargeError(
            f"`grid` {spacing:g}: about {area_m2 / spacing**2:,.0f} candidates over the uncovered "
            f"residential area, more than {MAX_GRID_POINTS:,}; use a larger spacing"
        )
    tree = shapely.STRtree(zones)
    lons_out, lats_out = [], []
    for lat in lats:
        dlon = math.degrees(spacing / (6378137.0 * math.cos(math.radians(lat))))
        row = np.arange(west + dlon / 2, east, dlon)
        points = shapely.points(row, np.full(row.shape[0], lat))
        hit = np.unique(tree.query(points, predicate="intersects")[0])
        lons_out.append(row[hit])
        lats_out.append(np.full(hit.shape[0], lat))
    lon, lat = np.concatenate(lons_out), np.concatenate(lats_out)
    if lon.shape[0] > MAX_GRID_POINTS:
        raise TooLargeError(f"`grid` {spacing:g}: {lon.shape[0]:,} candidates, more than {MAX_GRID_POINTS:,}")
    return lon, lat


def _checked(
    result: Result,
    sources: list[_Source],
    *,
    technology: str,
    exclude: str | Path | gpd.GeoDataFrame | None,
    min_spacing: float | None,
) -> CandidateSet:
    """Apply the common checks to every source's candidates; gather accepted and refused ones."""
    zones = _exclusion_zones(exclude) if exclude is not None else None
    if min_spacing is not None and (not math.isfinite(min_spacing) or min_spacing < 0):
        raise InputError(f"`min_spacing` {min_spacing:g}: must be a non-negative number of metres")
    existing = result.sites[
        result.sites["counted"].to_numpy(dtype=bool) & (result.sites["technology"] == technology)
    ]
    area_tree = shapely.STRtree(result.areas.geometry.to_numpy())
    used_ids: dict[str, str] = {}
    accepted, rejected, counts = [], [], {}
    n_groups = 0
    for src in sources:
        refusals = Refusals(len(src.sites))
        checks = _checks(src, technology=technology, used_ids=used_ids, area_tree=area_tree, zones=zones,
                         existing=existing, min_spacing=min_spacing)  # fmt: skip
        for field, mask, reason in checks:
            refusals.refuse(mask, field, reason)
        ok = refusals.ok
        sites = src.sites[ok].copy()
        for key, row in zip(sites["site_id"].astype(str), sites["row"], strict=True):
            used_ids.setdefault(key, f"{src.name} row {row}")
        sites["area"] = _area_of(area_tree, sites.geometry.to_numpy())
        sites["candidate"] = n_groups + pd.factorize(sites["site_id"].astype(str))[0]
        n_groups += int(sites["site_id"].nunique())
        accepted.append(sites)
        mine = refusals.frame(src.shown, rows=src.sites["row"].to_numpy(dtype=np.int64))
        rejected += [src.rejected.assign(source=src.name), mine.assign(source=src.name)]
        counts[src.name] = {"read": src.read, "used": int(ok.sum()), "refused": src.read - int(ok.sum())}
    empty = _empty_sites().assign(area=np.zeros(0, np.int64), candidate=np.zeros(0, np.int64))
    sites = gpd.GeoDataFrame(
        pd.concat([empty, *accepted], ignore_index=True), geometry="geometry", crs=LONLAT
    )
    sites = sites.sort_values("candidate", kind="stable").reset_index(drop=True)
    for col in ("area", "candidate", "row"):
        sites[col] = sites[col].astype(np.int64)
    return CandidateSet(sites=sites, rejected=_rejects(rejected), counts=counts)


Check = tuple[str, NDArray[np.bool_], str | Callable[[int], str]]


def _checks(
    src: _Source,
    *,
    technology: str,
    used_ids: dict[str, str],
    area_tree: shapely.STRtree,
    zones: shapely.Geometry | None,
    existing: gpd.GeoDataFrame,
    min_spacing: float | None,
) -> list[Check]:
    """Return the common checks of one source, in order: (field, refused rows, reason)."""
    sites = src.sites
    ids = sites["site_id"].astype(str).to_numpy()
    tech = sites["technology"].astype(str).to_numpy()
    points = sites.geometry.to_numpy()
    azimuth = np.round(sites["azimuth"].to_numpy(dtype=np.float64), 6)
    rows = sites["row"].to_numpy(dtype=np.int64)
    first_of: dict[tuple[str, float], int] = {}
    repeated = np.zeros(len(sites), dtype=bool)
    twin = np.zeros(len(sites), dtype=np.int64)
    for i, key in enumerate(zip(ids.tolist(), np.nan_to_num(azimuth, nan=-1.0).tolist(), strict=True)):
        repeated[i] = key in first_of
        twin[i] = first_of.setdefault(key, int(rows[i]))
    taken = np.isin(ids, list(used_ids))
    cost = sites["cost"].to_numpy(dtype=np.float64)
    inside = np.zeros(len(sites), dtype=bool)
    inside[area_tree.query(points, predicate="intersects")[0]] = True
    excluded = shapely.intersects(zones, points) if zones is not None else np.zeros(len(sites), dtype=bool)
    near, near_id = _near_existing(sites, existing, min_spacing)
    hosts = set(existing["site_id"].astype(str)) if src.name == "upgrade" else set()
    cost_field = sites.attrs.get("cost_field", "cost")

    def other_tech(i: int) -> str:
        return f"technology {tech[i]}, not the planned {technology}"

    def bad_cost(i: int) -> str:
        return (
            f"cost {cost[i]:g} is not a positive number" if np.isfinite(cost[i]) else "cost is not a number"
        )

    return [
        ("technology", tech != technology, other_tech),
        ("site_id", np.isin(ids, list(hosts)), lambda i: f"site {ids[i]} already has {technology}"),
        ("site_id", taken, lambda i: f"duplicate candidate id {ids[i]!r} (already: {used_ids[ids[i]]})"),
        (
            "site_id",
            repeated,
            lambda i: f"duplicate candidate {ids[i]!r}: same site and azimuth as row {twin[i]}",
        ),
        (cost_field, ~(cost > 0), bad_cost),
        ("geometry", ~inside, "outside the areas"),
        ("geometry", np.asarray(excluded, dtype=bool), "inside an excluded zone"),
        (
            "geometry",
            near,
            lambda i: f"within {min_spacing:g} m (the minimum spacing) of {technology} site {near_id[i]}",
        ),
    ]


def _near_existing(
    sites: gpd.GeoDataFrame, existing: gpd.GeoDataFrame, min_spacing: float | None
) -> tuple[NDArray[np.bool_], NDArray[np.object_]]:
    """Candidates within ``min_spacing`` of an existing site of the technology, and that site's id."""
    n = len(sites)
    near = np.zeros(n, dtype=bool)
    which = np.full(n, "", dtype=object)
    if not min_spacing or not len(existing) or not n:
        return near, which
    points = sites.geometry.to_numpy()
    lat = np.abs(sites.geometry.y.to_numpy())
    reach = math.degrees(min_spacing / 6.33e6) / max(
        math.cos(math.radians(min(float(lat.max()) + 1, 89.9))), 1e-6
    )
    cand, site = shapely.STRtree(existing.geometry.to_numpy()).query(
        points, predicate="dwithin", distance=reach
    )
    if cand.size:
        ex = existing.geometry
        _, _, dist = GEOD.inv(
            sites.geometry.x.to_numpy()[cand], sites.geometry.y.to_numpy()[cand],
            ex.x.to_numpy()[site], ex.y.to_numpy()[site],
        )  # fmt: skip
        hit = np.asarray(dist) < min_spacing
        order = np.lexsort((np.asarray(dist)[hit], cand[hit]))
        cand, site = cand[hit][order], site[hit][order]
        ids = existing["site_id"].astype(str).to_numpy()
        first = np.ones(cand.shape[0], dtype=bool)
        first[1:] = cand[1:] != cand[:-1]
        near[cand[first]] = True
        which[cand[first]] = ids[site[first]]
    return near, which


def _exclusion_zones(exclude: str | Path | gpd.GeoDataFrame) -> shapely.Geometry:
    """Return the union of the exclusion polygons, in lon/lat."""
    name = str(exclude) if isinstance(exclude, (str, Path)) else "<exclude>"
    frame = read_vector(Path(exclude)) if isinstance(exclude, (str, Path)) else exclude
    if not has_geometry(frame) or len(frame) == 0:
        raise InputError(f"{name}: `exclude` must be a polygon layer with at least one feature")
    if frame.crs is None:
        raise InputError(f"{name}: the `exclude` layer has no CRS")
    geoms = frame.to_crs(LONLAT).geometry.to_numpy()
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    if not polygonal.any():
        raise InputError(f"{name}: `exclude` holds no polygon")
    return shapely.union_all(shapely.make_valid(geoms[polygonal]))


def _area_of(tree: shapely.STRtree, points: NDArray[np.object_]) -> NDArray[np.int64]:
    """Return the first area each point lies in (or on the boundary of)."""
    out = np.full(points.shape[0], -1, dtype=np.int64)
    if points.shape[0]:
        point, area = tree.query(points, predicate="intersects")
        order = np.lexsort((area, point))
        point, area = point[order], area[order]
        first = np.ones(point.shape[0], dtype=bool)
        first[1:] = point[1:] != point[:-1]
        out[point[first]] = area[first]
    return out


def _rejects(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Refused candidates of every source: ``source``, their columns, then row, field, reason."""
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    if frame is None:
        return pd.DataFrame(columns=["source", *REJECT_COLUMNS])
    rest = [c for c in frame.columns if c not in ("source", *REJECT_COLUMNS)]
    return frame[["source", *rest, *REJECT_COLUMNS]]
