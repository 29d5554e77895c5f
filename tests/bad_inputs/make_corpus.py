"""Write the bad-input corpus (small files) and its manifest ``CASES.toml``; deterministic.

Run from anywhere: ``python tests/bad_inputs/make_corpus.py``. Each case of the manifest names
the files it feeds to ``telecov report`` (the others come from the good ``base_*`` world), one
line saying what is wrong and what the user should see, the expected exit code, fragments the
message must contain, and the rows expected in the rejects files (``"row:field"``).
Files too large to commit (the million-vertex polygon) are written at test time by
:func:`million_vertex_areas`.
"""

from __future__ import annotations

import json
import math
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.warp
import shapely
from affine import Affine

HERE = Path(__file__).resolve().parent
WEST, NORTH, RES, N = 105.0, 18.5, 1.0 / 120.0, 24  # a 24 x 24 grid of ~1 km pixels
SITES_HEADER = "site_id,operator,technology,lon,lat,radius_m,azimuth,beamwidth,status"
GOOD_SITES = [
    "S001,Viettel,4G,105.06,18.36,2500,,,existing",
    "S002,Viettel,4G,105.14,18.44,,,,existing",
    "S003,VNPT,3G,105.10,18.40,,,,",
    "S004,Mobifone,5G,105.12,18.35,600,90,65,existing",
    "S005,VNPT,fiber,105.05,18.45,,,,existing",
    "S006,Viettel,2G,105.15,18.38,,,,planned",
]
AREA_NAMES = ["Xã Kỳ Anh", "Phường Hồng Lĩnh", "Xã Đức Thọ", "Thị trấn Nghèn"]


def _box(i: int) -> shapely.Polygon:
    """Commune ``i`` of a 2 x 2 split of [105.02, 105.18] x [18.32, 18.48]."""
    x0 = 105.02 + 0.08 * (i % 2)
    y0 = 18.32 + 0.08 * (i // 2)
    return shapely.box(x0, y0, x0 + 0.08, y0 + 0.08)


def population_values() -> np.ndarray:
    """People per pixel of the base raster (deterministic, 100–149, nothing missing)."""
    r, c = np.mgrid[0:N, 0:N]
    return (100.0 + (r * 7 + c * 3) % 50).astype(np.float32)


def write_raster(
    path: Path,
    values: np.ndarray,
    *,
    crs: str | None = "EPSG:4326",
    transform: Affine | None = None,
    nodata: float | None = -99999.0,
) -> None:
    """A small single-band float32 GeoTIFF."""
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": values.shape[1], "height": values.shape[0], "count": 1,
        "dtype": "float32", "transform": transform or Affine(RES, 0, WEST, 0, -RES, NORTH),
        "compress": "deflate",
    }  # fmt: skip
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype(np.float32), 1)
    aux = path.with_name(path.name + ".aux.xml")
    if aux.exists():
        aux.unlink()


def areas_frame(
    geoms: list[Any],
    ids: list[str] | None = None,
    names: list[str] | None = None,
    crs: str | None = "EPSG:4326",
) -> gpd.GeoDataFrame:
    """Areas with fields ``ma_xa`` (id) and ``ten_xa`` (name)."""
    n = len(geoms)
    ids = ids or [f"0{101 + i}" for i in range(n)]
    names = names or [AREA_NAMES[i % 4] + ("" if i < 4 else f" {i}") for i in range(n)]
    return gpd.GeoDataFrame({"ma_xa": ids, "ten_xa": names}, geometry=geoms, crs=crs)


def write_geojson(path: Path, features: list[dict[str, Any]]) -> None:
    """A GeoJSON FeatureCollection written by hand (geometries exactly as given)."""
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")


def feature(i: int, geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    """A GeoJSON feature of commune ``i`` (default id and name)."""
    base = {"ma_xa": f"0{101 + i}", "ten_xa": AREA_NAMES[i % 4]}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


def poly(i: int) -> dict[str, Any]:
    """GeoJSON of commune ``i``'s box."""
    return json.loads(shapely.to_geojson(_box(i)))


def million_vertex_areas(path: Path, n_vertices: int = 1_000_000) -> float:
    """Write a commune bounded by ``n_vertices`` (a finely sampled ellipse); return its lon/lat area."""
    t = np.linspace(0.0, 2.0 * math.pi, n_vertices, endpoint=False)
    ring = np.column_stack([105.10 + 0.07 * np.cos(t), 18.40 + 0.07 * np.sin(t)])
    geom = shapely.Polygon(ring)
    frame = areas_frame([geom, _box(0)], ids=["00999", "00101"], names=["Xã Triệu Đỉnh", "Xã Kỳ Anh"])
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    return float(geom.area)


def to_cp1258_form(text: str) -> str:
    """Text CP1258 can encode: a letter it lacks precomposed is split into base + combining tone mark."""
    out = []
    for ch in text:
        try:
            ch.encode("cp1258")
            out.append(ch)
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            head = unicodedata.normalize("NFC", parts[:-1])
            out.append(head + parts[-1])
    return "".join(out)


def _sites(
    name: str, rows: list[str], *, header: str = SITES_HEADER, encoding: str = "utf-8", bom: bool = False
) -> str:
    text = header + "\n" + "".join(r + "\n" for r in rows)
    data = text.encode(encoding)
    (HERE / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return name


def build() -> list[dict[str, Any]]:
    """Write every file; return the cases."""
    cases: list[dict[str, Any]] = []

    def case(
        name: str,
        description: str,
        *,
        exit: int,
        message: list[str] | None = None,
        sites: str | None = None,
        areas: str | None = None,
        population: str | None = None,
        args: list[str] | None = None,
        refused_sites: list[str] | None = None,
        refused_areas: list[str] | None = None,
        repaired: int = 0,
        kind: str = "bad",
        command: str = "report",
        plan: str = "",
        refused_pois: list[str] | None = None,
    ) -> None:
        cases.append({
            "name": name, "description": description, "kind": kind, "exit": exit,
            "message": message or [], "sites": sites or "base_sites.csv",
            "areas": areas or "base_areas.geojson", "population": population or "base_population.tif",
            "args": args or [], "refused_sites": refused_sites or [],
            "refused_areas": refused_areas or [], "repaired": repaired, "command": command,
            "plan": plan, "refused_pois": refused_pois or [],
        })  # fmt: skip

    # ---- the good world every case starts from
    _sites("base_sites.csv", GOOD_SITES)
    write_geojson(HERE / "base_areas.geojson", [feature(i, poly(i)) for i in range(4)])
    write_raster(HERE / "base_population.tif", population_values())
    case("base", "the good world: everything is read, nothing refused", exit=0, kind="valid")

    # ---- sites: file-level problems (exit 2, message names the file and what is missing)
    case("sites_missing_lat", "sites CSV without a latitude column: exit 2 naming the columns found",
         sites=_sites("sites_missing_lat.csv", ["S1,X,4G,105.1"], header="site_id,operator,technology,lon"),
         exit=2, message=["sites_missing_lat.csv", "no coordinate columns", "lon"])  # fmt: skip
    case("sites_missing_technology", "sites CSV without a technology column: exit 2",
         sites=_sites("sites_missing_technology.csv", ["S1,105.1,18.4"], header="site_id,lon,lat"),
         exit=2, message=["sites_missing_technology.csv", "'technology'"])  # fmt: skip
    (HERE / "sites_empty.csv").write_bytes(b"")
    case("sites_empty", "empty sites file (0 bytes): exit 2 'file is empty'",
         sites="sites_empty.csv", exit=2, message=["sites_empty.csv", "empty"])  # fmt: skip
    case("sites_header_only", "sites CSV with a header and no rows: exit 2",
         sites=_sites("sites_header_only.csv", []), exit=2,
         message=["sites_header_only.csv", "header only"])  # fmt: skip
    comma = [r.replace(",", ";") for r in GOOD_SITES]
    comma = [";".join(f.replace(".", ",") for f in r.split(";")) for r in comma]
    _sites("sites_decimal_comma.csv", comma, header=SITES_HEADER.replace(",", ";"))
    case("sites_decimal_comma", "semicolon CSV with decimal commas (105,06): exit 2 suggesting --decimal ,",
         sites="sites_decimal_comma.csv", exit=2,
         message=["sites_decimal_comma.csv", "'lon'", "--decimal ,"])  # fmt: skip
    case("sites_decimal_comma_option", "the same file with --decimal , is read in full",
         sites="sites_decimal_comma.csv", args=["--decimal", ","], exit=0, kind="valid")  # fmt: skip
    vn = [r.replace("Viettel", "Viễn thông Hà Tĩnh") for r in GOOD_SITES]
    _sites("sites_cp1258.csv", [to_cp1258_form(r) for r in vn], encoding="cp1258")
    case("sites_cp1258", "CP1258-encoded Vietnamese operator names: exit 2 naming line 2, suggesting "
         "--encoding",
         sites="sites_cp1258.csv", exit=2, message=["sites_cp1258.csv", "line 2", "--encoding"])  # fmt: skip
    case("sites_cp1258_option", "the same file with --encoding cp1258 is read, names decoded",
         sites="sites_cp1258.csv", args=["--encoding", "cp1258"], exit=0, kind="valid")  # fmt: skip
    _sites(
        "sites_cp1252.csv", [r.replace("Viettel", "Cà Mau Télécom") for r in GOOD_SITES], encoding="cp1252"
    )
    case("sites_cp1252", "CP1252-encoded names (à, é): exit 2 naming line 2, suggesting --encoding",
         sites="sites_cp1252.csv", exit=2, message=["sites_cp1252.csv", "line 2", "--encoding"])  # fmt: skip
    case("sites_cp1252_option", "the same file with --encoding cp1252 is read",
         sites="sites_cp1252.csv", args=["--encoding", "cp1252"], exit=0, kind="valid")  # fmt: skip
    case("sites_bom", "UTF-8 with a byte-order mark: read like any UTF-8 file (first column 'site_id' kept)",
         sites=_sites("sites_bom.csv", GOOD_SITES, bom=True), exit=0, kind="valid")  # fmt: skip
    swapped = [",".join([*r.split(",")[:3], r.split(",")[4], r.split(",")[3], *r.split(",")[5:]])
               for r in GOOD_SITES]  # fmt: skip
    case("sites_swapped_all", "lat/lon exchanged in every row: exit 2 saying the columns look swapped",
         sites=_sites("sites_swapped_all.csv", swapped), exit=2,
         message=["sites_swapped_all.csv", "swapped"])  # fmt: skip
    case("sites_areas_layer", "the communes layer given as sites: exit 2 'no technology column' listing the "
         "layer's own fields", sites="base_areas.geojson", exit=2,
         message=["base_areas.geojson", "'technology'", "(columns: ma_xa, ten_xa)"])  # fmt: skip
    write_geojson(HERE / "sites_polygons.geojson", [
        {"type": "Feature", "properties": {"site_id": f"P{i}", "technology": "4G"}, "geometry": poly(i)}
        for i in range(2)
    ])  # fmt: skip
    case("sites_polygons", "a polygon layer with a technology field given as sites: every feature refused, "
         "exit 2 naming row 1 and the geometry type", sites="sites_polygons.geojson", exit=2,
         message=["sites_polygons.geojson", "row 1", "expected a Point, got Polygon"])  # fmt: skip

    # ---- sites: row-level problems among good rows (refused into rejected_sites.csv, run goes on)
    row_cases = [
        (
            "sites_text_in_numbers",
            "text in lat and radius_m columns",
            ["S900,X,4G,105.1,abc,,,,", "S901,X,4G,105.1,18.4,big,,,"],
            ["7:lat", "8:radius_m"],
        ),
        (
            "sites_swapped_one_row",
            "one row with lat/lon exchanged",
            ["S900,X,4G,18.40,105.10,,,,"],
            ["7:lat"],
        ),
        (
            "sites_out_of_range",
            "latitude 95 and longitude 200",
            ["S900,X,4G,105.1,95,,,,", "S901,X,4G,200,18.4,,,,"],
            ["7:lat", "8:lon"],
        ),
        (
            "sites_nan_inf_radius",
            "radius NaN, inf and -inf",
            ["S900,X,4G,105.1,18.4,NaN,,,", "S901,X,4G,105.1,18.4,inf,,,", "S902,X,4G,105.1,18.4,-inf,,,"],
            ["7:radius_m", "8:radius_m", "9:radius_m"],
        ),
        (
            "sites_negative_radius",
            "negative and zero radius",
            ["S900,X,4G,105.1,18.4,-500,,,", "S901,X,4G,105.1,18.4,0,,,"],
            ["7:radius_m", "8:radius_m"],
        ),
        ("sites_huge_radius", "radius of 10,000 km", ["S900,X,2G,105.1,18.4,10000000,,,"], ["7:radius_m"]),
        (
            "sites_unknown_technology",
            "technologies WiMAX and 6G",
            ["S900,X,WiMAX,105.1,18.4,,,,", "S901,X,6G,105.1,18.4,,,,"],
            ["7:technology", "8:technology"],
        ),
        (
            "sites_unknown_status",
            "status 'dismantled?' (decommissioned is a known status since issue 13: inactive)",
            ["S900,X,4G,105.1,18.4,,,,dismantled?"],
            ["7:status"],
        ),
        ("sites_missing_coordinates", "empty lon and lat", ["S900,X,4G,,,,,,"], ["7:lon"]),
        (
            "sites_bad_sector",
            "azimuth 'north' and beamwidth 400",
            ["S900,X,4G,105.1,18.4,,north,,", "S901,X,4G,105.1,18.4,,90,400,"],
            ["7:azimuth", "8:beamwidth"],
        ),
    ]
    for name, what, bad, refused in row_cases:
        case(name, f"{what} among good rows: those rows refused with row and field, the run goes on",
             sites=_sites(f"{name}.csv", GOOD_SITES + bad), exit=0, refused_sites=refused)  # fmt: skip
    case("sites_duplicate_ids", "the same site twice (same id, technology, azimuth): kept (a union does not "
         "double-count), warned naming the site",
         sites=_sites("sites_duplicate_ids.csv", GOOD_SITES + GOOD_SITES[:2]),
         exit=0, message=["sites_duplicate_ids.csv", "S001"])  # fmt: skip
    case("sites_all_bad", "every site row is bad: exit 2 naming the first refused row and field",
         sites=_sites("sites_all_bad.csv", ["S1,X,WiMAX,105.1,18.4,,,,", "S2,X,4G,105.1,abc,,,,"]), exit=2,
         message=["sites_all_bad.csv", "row 1", "technology"])  # fmt: skip
    write_geojson(HERE / "sites_mixed_geometries.geojson", [
        {"type": "Feature", "properties": {"site_id": "P1", "technology": "4G"},
         "geometry": {"type": "Point", "coordinates": [105.1, 18.4]}},
        {"type": "Feature", "properties": {"site_id": "P2", "technology": "4G"}, "geometry": poly(0)},
        {"type": "Feature", "properties": {"site_id": "P3", "technology": "4G"}, "geometry": None},
        {"type": "Feature", "properties": {"site_id": "P4", "technology": "5G"},
         "geometry": {"type": "Point", "coordinates": [105.06, 18.36]}},
    ])  # fmt: skip
    case("sites_mixed_geometries", "a sites GeoJSON with a polygon and a null geometry among points: "
         "those features refused (field geometry)", sites="sites_mixed_geometries.geojson", exit=0,
         refused_sites=["2:geometry", "3:geometry"])  # fmt: skip

    # ---- areas: file-level problems
    (HERE / "areas_not_json.geojson").write_text('{"type": "FeatureCollection", "features": [ oops\n',
                                                 encoding="utf-8")  # fmt: skip
    case(
        "areas_not_json",
        "a .geojson file that is not JSON: exit 2 'not a readable vector file'",
        areas="areas_not_json.geojson",
        exit=2,
        message=["areas_not_json.geojson", "not a readable"],
    )
    write_geojson(
        HERE / "areas_points.geojson",
        [feature(i, {"type": "Point", "coordinates": [105.05 + 0.03 * i, 18.4]}) for i in range(3)],
    )
    case(
        "areas_points",
        "points where polygons are expected: every feature refused, exit 2",
        areas="areas_points.geojson",
        exit=2,
        message=["areas_points.geojson", "no usable area", "Point"],
    )
    shp = HERE / "areas_no_prj.shp"
    areas_frame([_box(i) for i in range(4)], crs=None).to_file(shp, engine="pyogrio", encoding="UTF-8")
    shp.with_suffix(".prj").unlink(missing_ok=True)
    case(
        "areas_no_prj",
        "a shapefile without .prj: exit 2 asking for --areas-crs",
        areas="areas_no_prj.shp",
        exit=2,
        message=["areas_no_prj.shp", "no CRS", "--areas-crs"],
    )
    case("areas_no_prj_option", "the same shapefile with --areas-crs EPSG:4326 is read",
         areas="areas_no_prj.shp", args=["--areas-crs", "EPSG:4326"], exit=0, kind="valid")  # fmt: skip
    write_geojson(HERE / "areas_all_empty.geojson", [feature(0, None), feature(1, None)])
    case(
        "areas_all_null",
        "every geometry null: exit 2 'no usable area'",
        areas="areas_all_empty.geojson",
        exit=2,
        message=["areas_all_empty.geojson", "no usable area", "missing or empty geometry"],
    )
    case(
        "areas_unknown_field",
        "--area-id names a field that does not exist: exit 2 listing the fields",
        args=["--area-id", "code"],
        exit=2,
        message=["base_areas.geojson", "'code'", "ma_xa"],
    )

    # ---- areas: row-level problems and repairs
    write_geojson(HERE / "areas_null_geometry.geojson", [
        feature(0, poly(0)), feature(1, None), feature(2, poly(2)),
        feature(3, {"type": "Polygon", "coordinates": []}),
    ])  # fmt: skip
    case(
        "areas_null_geometry",
        "a null and an empty geometry among good communes: refused (field geometry)",
        areas="areas_null_geometry.geojson",
        exit=0,
        refused_areas=["2:geometry", "4:geometry"],
    )
    line = {"type": "LineString", "coordinates": [[105.02, 18.40], [105.1, 18.45]]}
    pt = {"type": "Point", "coordinates": [105.1, 18.4]}
    multi = {"type": "MultiPolygon", "coordinates": [poly(1)["coordinates"], poly(2)["coordinates"]]}
    write_geojson(
        HERE / "areas_mixed_types.geojson",
        [feature(0, poly(0)), feature(1, line), feature(2, multi), feature(3, pt)],
    )
    case("areas_mixed_types", "a line and a point among polygons and multipolygons: refused naming the type",
         areas="areas_mixed_types.geojson", exit=0, refused_areas=["2:geometry", "4:geometry"],
         message=["LineString"])  # fmt: skip
    b0 = _box(0).bounds
    bowtie = {"type": "Polygon", "coordinates": [[[b0[0], b0[1]], [b0[2], b0[3]], [b0[2], b0[1]],
                                                  [b0[0], b0[3]], [b0[0], b0[1]]]]}  # fmt: skip
    b1 = _box(1).bounds
    # a ring that crosses itself once (a figure of eight drawn on the commune's box)
    cx = (b1[0] + b1[2]) / 2
    eight = {"type": "Polygon", "coordinates": [[[b1[0], b1[1]], [cx, b1[1]], [b1[2], b1[3]], [b1[2], b1[1]],
                                                 [cx, b1[3]], [b1[0], b1[3]], [b1[0], b1[1]]]]}  # fmt: skip
    b2 = _box(2).bounds
    dupv = {
        "type": "Polygon",
        "coordinates": [
            [
                [b2[0], b2[1]],
                [b2[0], b2[1]],
                [b2[2], b2[1]],
                [b2[2], b2[1]],
                [b2[2], b2[3]],
                [b2[0], b2[3]],
                [b2[0], b2[3]],
                [b2[0], b2[1]],
            ]
        ],
    }
    write_geojson(
        HERE / "areas_invalid_geometry.geojson",
        [feature(0, bowtie), feature(1, eight), feature(2, dupv), feature(3, poly(3))],
    )
    case("areas_invalid_geometry", "a bow-tie and a self-intersecting ring (repaired and reported) and "
         "duplicate vertices (valid, kept): nothing refused", areas="areas_invalid_geometry.geojson",
         exit=0, repaired=2, message=["repaired 2"])  # fmt: skip
    write_geojson(HERE / "areas_degenerate.geojson", [
        feature(0, poly(0)),
        feature(1, {"type": "Polygon", "coordinates": [[[105.1, 18.4], [105.15, 18.4], [105.12, 18.4],
                                                         [105.1, 18.4]]]}),
        feature(2, poly(2)),
    ])  # fmt: skip
    case("areas_degenerate", "a zero-area (collapsed) polygon: refused as not repairable",
         areas="areas_degenerate.geojson", exit=0, refused_areas=["2:geometry"])  # fmt: skip
    small = [feature(i, json.loads(shapely.to_geojson(shapely.box(105.03 + 0.02 * k, 18.33, 105.04 + 0.02 * k,
                                                                  18.34))), ma_xa=f"02{k:02d}")
             for k, i in enumerate(range(6))]  # fmt: skip
    write_geojson(
        HERE / "areas_duplicate_ids.geojson",
        [feature(0, poly(0)), feature(1, poly(1), ma_xa="0101"), feature(2, poly(2), ma_xa=""),
         feature(3, poly(3)), *small],
    )  # fmt: skip
    case(
        "areas_duplicate_ids",
        "a duplicated and an empty commune id among 10 communes (a rare duplicate: the id field is still "
        "an id): refused (field ma_xa)",
        areas="areas_duplicate_ids.geojson",
        exit=0,
        refused_areas=["2:ma_xa", "3:ma_xa"],
    )

    # ---- population rasters
    write_raster(HERE / "raster_no_crs.tif", population_values(), crs=None)
    case(
        "raster_no_crs",
        "a GeoTIFF without CRS: exit 2 saying how to assign one",
        population="raster_no_crs.tif",
        exit=2,
        message=["raster_no_crs.tif", "no CRS"],
    )
    write_raster(HERE / "raster_far.tif", population_values(), transform=Affine(RES, 0, 100.0, 0, -RES, 10.0))
    case(
        "raster_not_overlapping",
        "a raster far from the communes: exit 2 'does not overlap'",
        population="raster_far.tif",
        exit=2,
        message=["raster_far.tif", "does not overlap"],
    )
    neg = population_values().copy()
    neg[:3, :] = -9999.0
    neg[5, 5] = -3.0
    write_raster(HERE / "raster_negative_no_nodata.tif", neg, nodata=None)
    case("raster_negative_no_nodata", "nodata unset, -9999 fill and a negative pixel: counted as 0 people, "
         "warned with the number of pixels", population="raster_negative_no_nodata.tif", exit=0,
         message=["negative pixels counted as 0"])  # fmt: skip
    (HERE / "raster_not_a_raster.tif").write_text("this is not a GeoTIFF\n", encoding="utf-8")
    case(
        "raster_not_a_raster",
        "a text file named .tif: exit 2 'not a readable raster'",
        population="raster_not_a_raster.tif",
        exit=2,
        message=["raster_not_a_raster.tif", "not a readable"],
    )
    # 400,000 x 250,000 = 10^11 pixels of 1e-6 degree (10 cm): a VRT of a few hundred bytes
    (HERE / "raster_too_large.vrt").write_text(
        '<VRTDataset rasterXSize="400000" rasterYSize="250000">\n'
        "  <SRS>EPSG:4326</SRS>\n"
        "  <GeoTransform>105.0, 1e-6, 0, 18.5, 0, -1e-6</GeoTransform>\n"
        '  <VRTRasterBand dataType="Float32" band="1"><NoDataValue>-1</NoDataValue></VRTRasterBand>\n'
        "</VRTDataset>\n",
        encoding="utf-8",
    )
    case(
        "raster_too_large",
        "a VRT of 10^11 pixels: exit 3 (estimated before allocating), naming the file",
        population="raster_too_large.vrt",
        exit=3,
        message=["raster_too_large.vrt", "pixels"],
    )

    # ---- valid but unusual inputs: must simply work
    utm = rasterio.warp.transform_bounds(
        "EPSG:4326", "EPSG:32648", WEST, NORTH - N * RES, WEST + N * RES, NORTH
    )
    write_raster(HERE / "raster_utm.tif", np.full((25, 25), 100.0, dtype=np.float32), crs="EPSG:32648",
                 transform=Affine(1000.0, 0, math.floor(utm[0]), 0, -1000.0, math.ceil(utm[3])))  # fmt: skip
    case("raster_projected", "a raster in UTM 48N (1 km pixels): warped with sum resampling, totals kept",
         population="raster_utm.tif", exit=0, kind="valid")  # fmt: skip
    names = ["Xã Kỳ Anh", "Phường Hồng Lĩnh", "Xã Đức Thọ", "Thị trấn Nghèn"]
    write_geojson(
        HERE / "areas_unicode.geojson",
        [feature(i, poly(i), ma_xa=f"{i + 1:05d}", ten_xa=n) for i, n in enumerate(names)],
    )
    case("areas_unicode_leading_zeros", "Vietnamese names and ids with leading zeros: kept exactly as text",
         areas="areas_unicode.geojson", exit=0, kind="valid")  # fmt: skip
    hostile = ["../../x", '=HYPERLINK("http://evil","x")', "<script>alert(1)</script>", "@SUM(A1)"]
    write_geojson(
        HERE / "areas_hostile_names.geojson",
        [feature(i, poly(i), ma_xa=f"+{i}", ten_xa=n) for i, n in enumerate(hostile)],
    )
    case("areas_hostile_names", "names that look like paths, formulas and HTML: plain text, never paths; "
         "--excel-safe neutralizes formulas in CSV", areas="areas_hostile_names.geojson",
         args=["--excel-safe", "--map"], exit=0, kind="valid")  # fmt: skip
    # ---- points of interest (--poi NAME=FILE): bad rows refused into rejected_pois.csv
    (HERE / "pois_mixed.csv").write_text(
        "village,lon,lat\nThôn 1,105.06,18.36\nThôn 2,abc,18.40\nThôn 3,105.14,95\nThôn 4,105.12,18.44\n"
        "Thôn 5,,\n",
        encoding="utf-8",
    )
    case("pois_mixed", "villages with text, out-of-range and empty coordinates among good rows: refused "
         "into rejected_pois.csv with row and field", args=["--poi", "villages=@pois_mixed.csv"], exit=0,
         refused_pois=["2:lon", "3:lat", "5:lon"], message=["3 of 5 rows refused"])  # fmt: skip

    # ---- plan files for ``telecov targets`` (the same good world)
    (HERE / "plan_ok.toml").write_text(
        'name = "plan"\n\n[[target]]\ntechnology = "4G"\nmetric = "population"\nat_least = 50\n'
        'scope = "total"\n',
        encoding="utf-8",
    )
    case("plan_ok", "a valid plan: targets checked", command="targets", plan="plan_ok.toml", exit=0,
         kind="valid")  # fmt: skip
    (HERE / "plan_syntax_error.toml").write_text(
        'name = "plan"\n\n[[target]]\ntechnology = "4G\nmetric = population\nat_least = 99\n',
        encoding="utf-8",
    )
    case("plan_syntax_error", "a plan that is not valid TOML (unclosed string): exit 2 naming file and line",
         command="targets", plan="plan_syntax_error.toml", exit=2,
         message=["plan_syntax_error.toml", "not valid TOML", "line 4"])  # fmt: skip
    (HERE / "plan_bad_values.toml").write_text(
        'name = "plan"\n\n[[target]]\ntechnology = "6G"\nmetric = "population"\nat_least = 99\n',
        encoding="utf-8",
    )
    case("plan_bad_values", "a plan naming an unknown technology: exit 2 naming the file, line and value",
         command="targets", plan="plan_bad_values.toml", exit=2,
         message=["plan_bad_values.toml:4", "6G"])  # fmt: skip
    case("areas_million_vertices", "a commune with a 1,000,000-vertex boundary (written at test time)",
         areas="@million_vertices.gpkg", exit=0, kind="valid")  # fmt: skip
    cases.append({"__comment__": "issue 13: inputs"})
    inputs_cases(case)
    return cases


# ---- issue 13, inputs: no silent wrong answer (sites off the areas, ids that are not ids, layers,
# the antimeridian, spreadsheets, spellings, MultiPoints); each writes its files and adds its cases
FIXED_TIME = (2025, 7, 1, 0, 0, 0)
"""Timestamp written into workbooks, zips and dBASE headers, so that the corpus is deterministic."""
ISSUE_SPELLINGS = {
    "2G": ["GSM", "GSM900", "GSM 1800", "DCS1800", "EDGE", "GPRS", "G900"],
    "3G": ["UMTS", "WCDMA", "3G WCDMA", "HSPA", "HSPA+", "U900", "U2100"],
    "4G": ["LTE", "LTE-A", "LTE+", "4G/LTE", "4G+", "L900", "L1800", "L2100", "L2600"],
    "5G": ["NR", "5G NR", "NR5G", "5G NSA", "5G SA", "N41", "N78"],
    "fiber": ["FTTH", "FTTx", "FTTB", "GPON", "XGS-PON", "fibre", "cáp quang"],
}
ISSUE_STATUSES = {
    "existing": [
        "existing",
        "active",
        "on air",
        "in service",
        "operational",
        "hoạt động",
        "đang hoạt động",
        "đã phát sóng",
    ],
    "planned": [
        "planned",
        "proposed",
        "under construction",
        "quy hoạch",
        "kế hoạch",
        "dự kiến",
        "đang xây dựng",
    ],
    "inactive": ["inactive", "decommissioned", "off air", "ngừng hoạt động", "đã tắt"],
}


def inputs_cases(case: Any) -> None:
    """Issue 13's input cases, in one block at the end of the manifest."""
    _reach_cases(case)
    _id_and_layer_cases(case)
    _antimeridian_case(case)
    _spreadsheet_cases(case)
    _vocabulary_cases(case)
    _multipoint_case(case)


def _moved(rows: list[str], lon: float, lat: float) -> list[str]:
    """Sites rows moved to around (lon, lat), keeping their offsets from the base world's centre."""
    out = []
    for r in rows:
        f = r.split(",")
        f[3], f[4] = f"{lon + float(f[3]) - 105.1:.4f}", f"{lat + float(f[4]) - 18.4:.4f}"
        out.append(",".join(f))
    return out


def _reach_cases(case: Any) -> None:
    """Sites whose footprints reach no area, or few of them."""
    case(
        "sites_another_country",
        "every site in Uruguay, the areas in Vietnam: exit 2 'none of the sites reaches "
        "an area', giving both extents and the likely causes (CRS, swapped axes, wrong file)",
        sites=_sites("sites_another_country.csv", _moved(GOOD_SITES, -56.2, -34.9)),
        exit=2,
        message=[
            "sites_another_country.csv",
            "none of the 6 sites reaches an area",
            "Likely causes",
            "--sites-crs",
            "wrong file",
        ],
    )
    vn2000 = []
    for r in GOOD_SITES:  # VN-2000 / UTM 48N metres written as x = northing, y = easting
        f = r.split(",")
        easting = 510366.31 + (float(f[3]) - 105.1) * 105_600
        northing = 2034553.10 + (float(f[4]) - 18.4) * 110_700
        vn2000.append(",".join([*f[:3], f"{northing:.1f}", f"{easting:.1f}", *f[5:]]))
    case(
        "sites_vn2000_northing_easting",
        "VN-2000 x/y columns holding northing/easting (the wrong way round) "
        "with --sites-crs EPSG:3405: the sites land in the sea off Borneo; exit 2 naming the likely causes",
        sites=_sites(
            "sites_vn2000_northing_easting.csv", vn2000, header=SITES_HEADER.replace("lon,lat", "x,y")
        ),
        args=["--sites-crs", "EPSG:3405"],
        exit=2,
        message=["sites_vn2000_northing_easting.csv", "none of the 6 sites reaches", "wrong way round"],
    )
    case(
        "sites_lonlat_projected_crs",
        "lon/lat columns read with a projected --sites-crs EPSG:32648 (degrees "
        "taken as metres): exit 2 naming the likely causes",
        args=["--sites-crs", "EPSG:32648"],
        exit=2,
        message=["base_sites.csv", "none of the 6 sites reaches", "projected --sites-crs"],
    )
    far = [f"F{i:03d},X,4G,{-56.2 + 0.01 * i:.2f},-34.90,,,," for i in range(19)]
    case(
        "sites_few_reaching",
        "1 of 20 sites near the areas, 19 in another country, no --select: a warning "
        "with the count; the run goes on",
        sites=_sites("sites_few_reaching.csv", GOOD_SITES[:1] + far),
        exit=0,
        message=["only 1 of 20 sites (5.0 %) reach an area"],
    )


def _gpkg(path: Path, layers: dict[str, Any]) -> None:
    """A GeoPackage holding ``layers`` (GeoDataFrames, or DataFrames for tables), dated :data:`FIXED_TIME`."""
    import pyogrio

    path.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2025-07-01T00:00:00.000Z"})
    try:
        for name, frame in layers.items():
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=path.exists())
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def _zip_of_shapefiles(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """A zip of one shapefile per layer, every date in it fixed."""
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, frame in layers.items():
            frame.to_file(Path(tmp) / f"{name}.shp", engine="pyogrio", encoding="UTF-8")
            dbf = Path(tmp) / f"{name}.dbf"
            raw = bytearray(dbf.read_bytes())
            raw[1:4] = bytes([FIXED_TIME[0] - 1900, FIXED_TIME[1], FIXED_TIME[2]])  # dBASE "last update"
            dbf.write_bytes(bytes(raw))
            for part in sorted(Path(tmp).glob(f"{name}.*")):
                z.writestr(zipfile.ZipInfo(part.name, date_time=FIXED_TIME), part.read_bytes())


def _id_and_layer_cases(case: Any) -> None:
    """An id field that is not an id; files with several layers of areas or sites."""
    import pandas as pd

    communes = areas_frame([_box(i) for i in range(4)])
    communes["ma_tinh"] = "42"
    communes.to_file(HERE / "areas_province_code.geojson", engine="pyogrio")
    case(
        "areas_id_not_unique",
        "--area-id names a province code (every area has '42'): exit 2 naming the field, "
        "an example duplicate and the fields that are ids",
        areas="areas_province_code.geojson",
        args=["--area-id", "ma_tinh"],
        exit=2,
        message=[
            "areas_province_code.geojson",
            "--area-id field 'ma_tinh' is not an id",
            "'42', 4 times",
            "ma_xa",
        ],
    )
    province = gpd.GeoDataFrame(
        {"ma_tinh": ["42"], "ten_tinh": ["Hà Tĩnh"]},
        geometry=[shapely.box(105.02, 18.32, 105.18, 18.48)],
        crs="EPSG:4326",
    )
    styles = pd.DataFrame({"f_table_name": ["communes"], "styleName": ["default"], "styleQML": ["<qgis/>"]})
    notes = pd.DataFrame({"note": ["boundaries of 1 July 2025"]})
    _gpkg(
        HERE / "areas_layers.gpkg",
        {"communes": communes, "provinces": province, "layer_styles": styles, "notes": notes},
    )
    case(
        "areas_two_layers",
        "a GeoPackage with a communes and a provinces layer (and QGIS's layer_styles and a "
        "table): exit 2 listing the two polygon layers and --areas-layer",
        areas="areas_layers.gpkg",
        exit=2,
        message=["areas_layers.gpkg holds 2 layers of polygons (communes, provinces)", "--areas-layer"],
    )
    case(
        "areas_two_layers_option",
        "the same GeoPackage with --areas-layer communes: read",
        areas="areas_layers.gpkg",
        args=["--areas-layer", "communes"],
        exit=0,
        kind="valid",
    )
    _zip_of_shapefiles(HERE / "areas_two_shapefiles.zip", {"communes": communes, "provinces": province})
    case(
        "areas_zip_two_shapefiles",
        "a zip holding two shapefiles: exit 2 listing both and --areas-layer",
        areas="areas_two_shapefiles.zip",
        exit=2,
        message=[
            "areas_two_shapefiles.zip holds 2 layers of polygons",
            "communes",
            "provinces",
            "--areas-layer",
        ],
    )
    rows = [r.split(",") for r in GOOD_SITES]
    points = gpd.GeoDataFrame(
        {
            "site_id": [f[0] for f in rows],
            "operator": [f[1] for f in rows],
            "technology": [f[2] for f in rows],
        },
        geometry=[shapely.Point(float(f[3]), float(f[4])) for f in rows],
        crs="EPSG:4326",
    )
    _gpkg(HERE / "sites_layers.gpkg", {"sites_2024": points.iloc[:3], "sites_2025": points})
    case(
        "sites_two_layers",
        "a GeoPackage with two point layers of sites: exit 2 listing them and --sites-layer",
        sites="sites_layers.gpkg",
        exit=2,
        message=["sites_layers.gpkg holds 2 layers of points (sites_2024, sites_2025)", "--sites-layer"],
    )
    case(
        "sites_two_layers_option",
        "the same GeoPackage with --sites-layer sites_2025: read",
        sites="sites_layers.gpkg",
        args=["--sites-layer", "sites_2025"],
        exit=0,
        kind="valid",
    )


def _antimeridian_case(case: Any) -> None:
    """A commune across ±180° (Fiji-like), written with a jump of 358° in longitude."""
    from pyproj import Geod

    ring = [(179.6 + 0.01 * i, -16.8) for i in range(81)] + [(180.4, -16.8 + 0.01 * i) for i in range(1, 61)]
    ring += [(180.4 - 0.01 * i, -16.2) for i in range(1, 81)] + [
        (179.6, -16.2 - 0.01 * i) for i in range(1, 60)
    ]
    wrapped = [[x - 360.0 if x > 180.0 else x, y] for x, y in [*ring, ring[0]]]
    write_geojson(
        HERE / "areas_antimeridian.geojson", [feature(0, {"type": "Polygon", "coordinates": [wrapped]})]
    )
    res = 0.25  # a global raster of 50 people per km² (people per pixel = 50 × the pixel's true area)
    geod = Geod(ellps="WGS84")
    top = 90.0 - res * np.arange(int(180 / res))
    km2 = np.array(
        [abs(geod.polygon_area_perimeter([0, res, res, 0], [t - res, t - res, t, t])[0]) / 1e6 for t in top]
    )
    values = np.repeat((50.0 * km2)[:, None], int(360 / res), axis=1)
    write_raster(HERE / "raster_global.tif", values, transform=Affine(res, 0, -180.0, 0, -res, 90.0))
    sites = ["A1,X,4G,179.8,-16.5,3000,,,", "A2,X,4G,-179.8,-16.5,3000,,,", "A3,X,5G,179.9,-16.4,600,,,"]
    case(
        "areas_antimeridian",
        "a commune across the antimeridian written with a 358° jump (read as a band "
        "around the globe before): split at ±180°, warned, measured as its true 5,370 km²",
        areas="areas_antimeridian.geojson",
        population="raster_global.tif",
        sites=_sites("sites_antimeridian.csv", sites),
        exit=0,
        message=["split at ±180°"],
    )


def _workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> None:
    """An ``.xlsx`` file, one sheet per entry (rows of cells, None empty), dated :data:`FIXED_TIME`."""
    import datetime
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
    book.properties.creator = "telecov tests"
    book.properties.created = book.properties.modified = datetime.datetime(*FIXED_TIME)
    book.save(path)
    with zipfile.ZipFile(path) as z:  # openpyxl dates the file at save time: rewrite it with fixed dates
        parts = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    stamp = datetime.datetime(*FIXED_TIME).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            z.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), data)


def _spreadsheet_cases(case: Any) -> None:
    """Workbooks as people fill them in, and a CSV line with one field too many."""
    header = SITES_HEADER.split(",")
    as_text = [r.split(",") for r in GOOD_SITES]  # every cell text, numbers too: no header GDAL would see
    blank: list[Any] = [None] * len(header)
    _workbook(
        HERE / "sites_workbook_text.xlsx",
        {
            "BTS": [
                ["Danh sách trạm BTS — tỉnh Hà Tĩnh, tháng 7/2025"],
                blank,
                header,
                *as_text[:3],
                blank,
                *as_text[3:],
                blank,
                ["", " "],
                blank,
            ]
        },
    )
    case(
        "sites_workbook_text",
        "a workbook whose cells are all text, with a title row above the header, a blank row among the "
        "data and blank trailing rows: header found, blank rows not data, nothing refused",
        sites="sites_workbook_text.xlsx",
        exit=0,
        kind="valid",
    )
    numbers = [
        [f[0], f[1], f[2], float(f[3]), float(f[4]), *(float(v) if v else None for v in f[5:8]), f[8]]
        for f in as_text
    ]
    _workbook(
        HERE / "sites_workbook_sheets.xlsx",
        {
            "Đọc tôi": [["Sites of two operators, one sheet each"]],
            "Viettel": [header, *[r for r in numbers if r[1] == "Viettel"]],
            "VNPT": [header, *[r for r in numbers if r[1] != "Viettel"]],
        },
    )
    case(
        "sites_workbook_sheets",
        "a workbook with two sheets of sites (and a notes sheet): exit 2 listing the "
        "two sheets and --sites-layer",
        sites="sites_workbook_sheets.xlsx",
        exit=2,
        message=["sites_workbook_sheets.xlsx", "2 sheets hold sites (Viettel, VNPT)", "--sites-layer"],
    )
    case(
        "sites_workbook_sheets_option",
        "the same workbook with --sites-layer VNPT: that sheet read",
        sites="sites_workbook_sheets.xlsx",
        args=["--sites-layer", "VNPT"],
        exit=0,
        kind="valid",
    )
    extra = "S900,Viettel, Hà Tĩnh,4G,105.10,18.40,,,,"  # an unquoted comma in the operator
    case(
        "sites_extra_field",
        "a CSV line with one field more than the header (an unquoted comma): that row "
        "refused (field row, the count in the reason), the others read",
        sites=_sites("sites_extra_field.csv", [*GOOD_SITES, extra]),
        exit=0,
        refused_sites=["7:row"],
        message=["row: … fields where the header has …"],
    )
    _workbook(
        HERE / "pois_workbook.xlsx",
        {
            "Thôn": [
                ["Các thôn, xóm"],
                ["village", "lon", "lat"],
                ["Thôn 1", "105.06", "18.36"],
                [None, None, None],
                ["Thôn 2", 105.14, 18.44],
                ["Thôn 3", "105.12", "north"],
                [None],
                ["Thôn 4", 105.1, 18.4, "note"],
            ]
        },
    )
    case(
        "pois_workbook",
        "villages in a workbook (title row, blank rows, numbers and text): header found, a "
        "bad latitude and a cell beyond the header refused into rejected_pois.csv",
        args=["--poi", "villages=@pois_workbook.xlsx"],
        exit=0,
        refused_pois=["3:lat", "4:row"],
        message=["2 of 4 rows refused"],
    )


def _vocabulary_cases(case: Any) -> None:
    """Every spelling of the issue's lists, and spellings a configuration file adds."""
    nfd = unicodedata.normalize("NFD", "CÁP QUANG")  # decomposed and upper case: still fiber
    spellings = [(t, s) for t, names in ISSUE_SPELLINGS.items() for s in names] + [("fiber", nfd)]
    statuses = [s for names in ISSUE_STATUSES.values() for s in names]
    rows = [
        f"V{i:03d},Viettel,{s},105.10,18.40,,,,{statuses[i % len(statuses)]}"
        for i, (_, s) in enumerate(spellings)
    ]
    case(
        "sites_issue_spellings",
        "every technology and status spelling of the issue (GSM900, 3G WCDMA, 4G/LTE, "
        "NR5G, cáp quang in NFD capitals, 'đang hoạt động', 'đã tắt', ...): all read, none refused; inactive "
        "sites never counted",
        sites=_sites("sites_issue_spellings.csv", rows),
        exit=0,
        kind="valid",
    )
    own = ["S900,Viettel,eLTE,105.10,18.40,,,,tháo dỡ", "S901,Viettel,eLTE,105.10,18.40,,,,"]
    _sites("sites_own_spellings.csv", [*GOOD_SITES, *own])
    case(
        "sites_own_spellings",
        "spellings telecov does not know (eLTE, 'tháo dỡ'): refused, and the summary "
        "shows the refused values, not 'unknown technology …'",
        sites="sites_own_spellings.csv",
        exit=0,
        refused_sites=["7:technology", "8:technology"],
        message=["unknown technology 'eLTE' ×2"],
    )
    (HERE / "vocabulary.toml").write_text(
        '[vocabulary.technology]\n4G = ["eLTE"]\n\n[vocabulary.status]\ninactive = ["tháo dỡ"]\n',
        encoding="utf-8",
    )
    case(
        "sites_own_spellings_config",
        "the same sites with [vocabulary.technology] and [vocabulary.status] "
        "tables in --config: read, none refused",
        sites="sites_own_spellings.csv",
        args=["--config=@vocabulary.toml"],
        exit=0,
        kind="valid",
    )


def _multipoint_case(case: Any) -> None:
    """A sites layer of MultiPoints, as QGIS and shapefiles often write points."""
    feats = []
    for i, r in enumerate(GOOD_SITES[:4]):
        f = r.split(",")
        coords = [[float(f[3]), float(f[4])]] + ([[105.2, 18.5]] if i == 2 else [])
        feats.append(
            {
                "type": "Feature",
                "properties": {"site_id": f[0], "technology": f[2]},
                "geometry": {"type": "MultiPoint", "coordinates": coords},
            }
        )
    write_geojson(HERE / "sites_multipoint.geojson", feats)
    case(
        "sites_multipoint",
        "a sites layer of one-point MultiPoints (and one of two points): the one-point ones "
        "read as points, the two-point one refused",
        sites="sites_multipoint.geojson",
        exit=0,
        refused_sites=["3:geometry"],
        message=["expected a Point, got MultiPoint of"],
    )
    unclosed = [
        feature(i, {"type": "Polygon", "coordinates": [poly(i)["coordinates"][0][:-1]]}) for i in range(4)
    ]
    write_geojson(HERE / "areas_unclosed_rings.geojson", unclosed)
    case(
        "areas_unclosed_rings",
        "GeoJSON rings written without their closing point (as by hand): closed and "
        "read, never an internal error",
        areas="areas_unclosed_rings.geojson",
        exit=0,
        kind="valid",
    )


ISSUE13_HEADER = "# issue 13: outputs, mistakes, resources"
"""The comment opening the block of cases :func:`issue13_cases` appends to ``CASES.toml``."""


def issue13_cases() -> list[dict[str, Any]]:
    """Write the files of the output, mistake and resource cases; return the cases.

    Each case has the keys of :func:`build`'s cases plus ``class`` (``outputs``, ``mistakes``
    or ``resources``); ``command`` may also be ``gaps``, ``map`` or ``crosswalk``.
    """
    cases: list[dict[str, Any]] = []

    def case(
        name: str,
        cls: str,
        description: str,
        *,
        exit: int,
        message: list[str] | None = None,
        args: list[str] | None = None,
        kind: str = "bad",
        command: str = "report",
        **files: Any,
    ) -> None:
        cases.append({
            "name": name, "description": description, "kind": kind, "exit": exit, "message": message or [],
            "sites": files.get("sites", "base_sites.csv"), "areas": files.get("areas", "base_areas.geojson"),
            "population": "base_population.tif", "args": args or [], "refused_sites": [],
            "refused_areas": [], "repaired": 0, "command": command, "plan": files.get("plan", ""),
            "refused_pois": [], "class": cls,
        })  # fmt: skip

    # ---- outputs: nothing lost, ever
    _sites("sites.csv", GOOD_SITES)
    case("outputs_input_not_overwritten", "outputs", "--out is the inputs' folder and --export csv would "
         "write sites.csv over the input sites.csv: exit 2 naming both, even with --force, before any work",
         sites="sites.csv", args=["--out", "@.", "--export", "csv", "--force"], exit=2,
         message=["sites.csv: this output would overwrite the input file", "even with --force"])  # fmt: skip
    owned = HERE / "owned_out"
    owned.mkdir(exist_ok=True)
    (owned / "coverage.csv").write_text("a file of another command's set\n", encoding="utf-8")
    manifest = {"command": "gaps", "files": [{"name": "coverage.csv", "size": 32, "sha256": "0" * 64}]}
    (owned / "gaps.json").write_text(json.dumps(manifest) + "\n", encoding="utf-8")
    case("outputs_owned_by_another_command", "outputs", "--out holds coverage.csv listed in gaps' "
         "manifest: exit 2 naming the file and its owner, nothing written", args=["--out", "@owned_out"],
         exit=2, message=["owned_out/coverage.csv: belongs to the output set of 'telecov gaps'",
                          "--force"])  # fmt: skip
    locked = HERE / "locked_out"
    locked.mkdir(exist_ok=True)
    holder = {"pid": 4242, "host": "planner-pc", "command": "report", "since": "2026-01-05T08:00:00Z",
              "token": "corpus", "start": None}  # fmt: skip
    (locked / ".telecov.lock").write_text(json.dumps(holder) + "\n", encoding="utf-8")
    case("outputs_folder_locked", "outputs", "another run (on another host) holds the folder's lock: "
         "exit 2 naming pid, host, command and time, suggesting --wait", args=["--out", "@locked_out"],
         exit=2, message=["pid 4242 on planner-pc (telecov report, since 2026-01-05T08:00:00Z)",
                          "--wait"])  # fmt: skip
    case("outputs_strict_names_rows", "outputs", "--strict with a refused row: exit 2 naming the first "
         "refused row and field; only the failure's rejects are written, beside any previous set",
         sites="sites_unknown_technology.csv", args=["--strict"], exit=2,
         message=["sites_unknown_technology.csv row 7, technology", "report_failed_rejected_sites.csv",
                  "previous outputs"])  # fmt: skip

    case("outputs_single_file_input", "outputs", "crosswalk --output naming its own --from file, with "
         "--force: exit 2, an input is never replaced", command="crosswalk",
         args=["--from", "@base_areas.geojson", "--to", "@base_areas.geojson", "--output",
               "@base_areas.geojson", "--force"], exit=2,
         message=["base_areas.geojson: this output would overwrite the input file"])  # fmt: skip
    case("outputs_single_file_exists", "outputs", "init --output naming an existing file, without --force: "
         "exit 2 suggesting --force", command="init", args=["--output", "@config_bom.toml"], exit=2,
         message=["config_bom.toml: already exists; pass --force"])  # fmt: skip

    # ---- mistakes: exit 2 with a clear message
    for name, args, message in (
        ("mistake_sites_crs_name", ["--sites-crs", "UTM48"], ["--sites-crs 'UTM48': not a CRS", "EPSG:"]),
        ("mistake_areas_crs_unknown", ["--areas-crs", "EPSG:99999"], ["--areas-crs 'EPSG:99999': not a CRS"]),
        ("mistake_resolution_nan", ["--resolution", "nan"], ["--resolution nan: must be a positive number"]),
        ("mistake_density_nan", ["--residential-density", "nan"], ["--residential-density nan"]),
        ("mistake_density_negative", ["--residential-density", "-1"], ["--residential-density -1"]),
        ("mistake_decimal_empty", ["--decimal", ""], ["--decimal '': the decimal separator must be"]),
        ("mistake_radius_over_limit", ["--radius", "4G=1e9"], ["--radius 4G=", "larger than 100000 m"]),
    ):
        case(name, "mistakes", f"{' '.join(args)}: exit 2 naming the option, not an internal error",
             args=args, exit=2, message=message)  # fmt: skip
    case("mistake_tiles_without_attribution", "mistakes", "map --tiles with a URL template and no "
         "attribution: exit 2 asking for --attribution", command="map",
         args=["--tiles", "https://tiles.example.org/{z}/{x}/{y}.png"], exit=2,
         message=["--tiles 'https://tiles.example.org/{z}/{x}/{y}.png'", "--attribution"])  # fmt: skip
    separators = ["Xã Kỳ\u2028Anh", "Phường\x85Hồng Lĩnh", "Xã Đức\u2029Thọ", "Thị trấn\rNghèn"]
    write_geojson(HERE / "areas_line_separators.geojson",
                  [feature(i, poly(i), ten_xa=n) for i, n in enumerate(separators)])  # fmt: skip
    case("names_line_separators", "mistakes", "names holding U+2028, U+0085, U+2029 and CR (a shapefile "
         "without .cpg makes them): report, map and GeoJSON export work",
         areas="areas_line_separators.geojson", args=["--map", "--export", "geojson"], exit=0,
         kind="valid")  # fmt: skip
    case("gaps_line_separators", "mistakes", "the same names through gaps --export geojson",
         areas="areas_line_separators.geojson", command="gaps",
         args=["--technology", "4G", "--export", "geojson"], exit=0, kind="valid")  # fmt: skip
    nfd = unicodedata.normalize("NFD", AREA_NAMES[0])
    case("mistake_select_nfd", "mistakes", "--select with the name in decomposed (NFD) Unicode: matches, "
         "and run.json counts the 3 areas selected out (read = used + refused + selected out)",
         args=["--select", f"ten_xa={nfd}"], exit=0, kind="valid")  # fmt: skip
    (HERE / "config_bom.toml").write_bytes(b"\xef\xbb\xbf" + b"target = 90\n\n[radius]\n4G = 2500\n")
    case("mistake_config_bom", "mistakes", "a telecov.toml starting with a byte-order mark: read",
         args=["--config", "@config_bom.toml"], exit=0, kind="valid")  # fmt: skip
    (HERE / "config_radius_bad.toml").write_text('[radius]\n5G = 600\n4G = "far"\n', encoding="utf-8")
    case("mistake_config_radius_line", "mistakes", "a [radius] entry that is not a number: exit 2 naming "
         "the file and line", args=["--config", "@config_radius_bad.toml"], exit=2,
         message=["config_radius_bad.toml:3: radius 4G = 'far'"])  # fmt: skip
    plan = (HERE / "plan_ok.toml").read_bytes()
    (HERE / "plan_bom.toml").write_bytes(b"\xef\xbb\xbf" + plan)
    case("mistake_plan_bom", "mistakes", "a plan starting with a byte-order mark: read", command="targets",
         plan="plan_bom.toml", exit=0, kind="valid")  # fmt: skip

    # ---- resources: estimate before allocating
    case("resources_resolution_too_fine", "resources", "--resolution 0.00001 (1e-5 m scan lines): exit 3 "
         "before allocating, with the estimate and what to change", args=["--resolution", "0.00001"],
         exit=3, message=["scan strips", "--resolution"])  # fmt: skip
    return cases


def append_issue13_block(cases: list[dict[str, Any]]) -> None:
    """Append :func:`issue13_cases` to ``CASES.toml`` as one block under :data:`ISSUE13_HEADER`."""
    lines = ["", ISSUE13_HEADER, ""]
    for c in cases:
        lines.append("[[case]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in c.items()]
        lines.append("")
    with (HERE / "CASES.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(type(value))


def write_manifest(cases: list[dict[str, Any]]) -> None:
    """Write ``CASES.toml`` (one ``[[case]]`` table per case)."""
    lines = ["# Generated by make_corpus.py: one [[case]] per input; see tests/test_bad_inputs.py", ""]
    for c in cases:
        if "__comment__" in c:
            lines.append(f"# {c['__comment__']}")
            lines.append("")
            continue
        lines.append("[[case]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in c.items()]
        lines.append("")
    (HERE / "CASES.toml").write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    """Regenerate the corpus in place."""
    write_manifest(build())
    append_issue13_block(issue13_cases())
    return 0


if __name__ == "__main__":
    sys.exit(main())
