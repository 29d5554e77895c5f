"""Write a SYNTHETIC 1″ (~30 m) population raster of a country as a VRT of compressed tiles.

Made from a coarse population raster (the real 1 km WorldPop raster of Vietnam by default)
by seeded disaggregation: each source pixel's people are spread over ``factor`` × ``factor``
fine pixels with log-normal(0, 1) weights drawn on ``factor / 3`` sub-blocks (so a tile
compresses), normalised so that every source pixel's total is preserved. The output is a
folder of tiled, DEFLATE-compressed float32 GeoTIFF tiles (``tile_<row>_<col>.tif``, one per
``tile`` × ``tile`` source pixels that hold people; empty tiles are not written and read as
nodata) and ``<name>.vrt`` mosaicking them on the fine grid. It is not real population data
and is never committed.

At ``--factor 30`` (the default) the Vietnam raster becomes 53,430 × 26,370 = 1.41 × 10⁹
pixels. ``--factor 3 --tile 60`` gives a small multi-tile version (seconds).

Usage::

    python scripts/make_big_raster.py OUT_DIR [--source RASTER] [--factor 30] [--tile 120] [--seed 16]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import rasterio
from rasterio.transform import Affine
from rasterio.windows import Window

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "vietnam" / "worldpop_vnm_2020_1km.tif"
NODATA = -99999.0


def _fine_block(a: np.ndarray, bad: np.ndarray, factor: int, rng: np.random.Generator) -> np.ndarray:
    """People of source pixels ``a`` spread over ``factor`` × ``factor`` fine pixels each."""
    sub = max(1, factor // 3)
    rep = factor // sub
    h, w = a.shape
    weights = np.exp(rng.standard_normal((h, sub, w, sub), dtype=np.float32))
    weights /= weights.sum(axis=(1, 3), keepdims=True) * (rep * rep)
    fine = (weights * a[:, None, :, None].astype(np.float32)).reshape(h * sub, w * sub)
    fine = np.repeat(np.repeat(fine, rep, axis=0), rep, axis=1)
    fine[np.repeat(np.repeat(bad, factor, axis=0), factor, axis=1)] = NODATA
    return fine


def _vrt(path: Path, tiles: list[tuple[Path, int, int, int, int]], *, width: int, height: int,
         transform: Affine, crs_wkt: str) -> None:  # fmt: skip
    """Write a VRT mosaicking ``tiles`` (path, x offset, y offset, width, height) on one grid."""
    gt = ", ".join(repr(v) for v in (transform.c, transform.a, 0.0, transform.f, 0.0, transform.e))
    sources = "".join(
        f"""    <SimpleSource>
      <SourceFilename relativeToVRT="1">{escape(p.name)}</SourceFilename>
      <SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>
      <DstRect xOff="{x}" yOff="{y}" xSize="{w}" ySize="{h}"/>
    </SimpleSource>
"""
        for p, x, y, w, h in tiles
    )
    path.write_text(
        f"""<VRTDataset rasterXSize="{width}" rasterYSize="{height}">
  <SRS>{escape(crs_wkt)}</SRS>
  <GeoTransform>{gt}</GeoTransform>
  <Metadata><MDI key="SYNTHETIC">yes: seeded disaggregation, not real population data</MDI></Metadata>
  <VRTRasterBand dataType="Float32" band="1">
    <NoDataValue>{NODATA}</NoDataValue>
{sources}  </VRTRasterBand>
</VRTDataset>
""",
        encoding="utf-8",
    )


def make_big_raster(out: Path, *, source: Path, factor: int, tile: int, seed: int) -> Path:
    """Write the tiles and the VRT into ``out``; return the VRT's path (reused when present)."""
    vrt = out / f"population_{factor}x.vrt"
    if vrt.is_file():
        return vrt
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tiles: list[tuple[Path, int, int, int, int]] = []
    total_src = total_dst = 0.0
    with rasterio.open(source) as ds:
        fine_t = ds.transform * Affine.scale(1.0 / factor)
        nodata = ds.nodata if ds.nodata is not None else NODATA
        for r0 in range(0, ds.height, tile):
            for c0 in range(0, ds.width, tile):
                h, w = min(tile, ds.height - r0), min(tile, ds.width - c0)
                a = ds.read(1, window=Window(c0, r0, w, h)).astype(np.float64)
                bad = ~np.isfinite(a) | (a == nodata) | (a < 0)
                a[bad] = 0.0
                if not (a > 0).any():
                    continue
                total_src += float(a.sum())
                fine = _fine_block(a, bad, factor, rng)
                total_dst += float(np.where(fine == NODATA, 0.0, fine).sum(dtype=np.float64))
                path = out / f"tile_{r0:05d}_{c0:05d}.tif"
                profile = {
                    "driver": "GTiff", "height": h * factor, "width": w * factor, "count": 1,
                    "dtype": "float32", "crs": ds.crs, "nodata": NODATA, "tiled": True, "blockxsize": 512,
                    "blockysize": 512, "compress": "deflate", "predictor": 3, "zlevel": 1,
                    "transform": fine_t * Affine.translation(c0 * factor, r0 * factor),
                }  # fmt: skip
                with rasterio.open(path, "w", **profile) as dst:
                    dst.write(fine, 1)
                tiles.append((path, c0 * factor, r0 * factor, w * factor, h * factor))
        _vrt(vrt, tiles, width=ds.width * factor, height=ds.height * factor, transform=fine_t,
             crs_wkt=ds.crs.to_wkt())  # fmt: skip
    meta = {
        "source": str(source), "factor": factor, "tile_source_pixels": tile, "seed": seed,
        "tiles": len(tiles), "pixels": ds.width * factor * ds.height * factor,
        "people_source": total_src, "people": total_dst,
        "bytes_on_disk": sum(p.stat().st_size for p, *_ in tiles),
    }  # fmt: skip
    vrt.with_suffix(".json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return vrt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--factor", type=int, default=30, help="fine pixels per source pixel side (30: 1″)")
    parser.add_argument("--tile", type=int, default=120, help="source pixels per tile side")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    if args.factor % max(1, args.factor // 3):
        parser.error("--factor must be a multiple of 3 or below 3")
    t0 = time.perf_counter()
    vrt = make_big_raster(args.out, source=args.source, factor=args.factor, tile=args.tile, seed=args.seed)
    meta = json.loads(vrt.with_suffix(".json").read_text(encoding="utf-8"))
    mib = meta["bytes_on_disk"] / 2**20
    print(
        f"{vrt}: {meta['pixels']:,} pixels in {meta['tiles']} tiles, {mib:,.0f} MiB, {meta['people']:,.0f} "
        f"people (source {meta['people_source']:,.0f}); {time.perf_counter() - t0:.0f} s"
    )
    if not math.isclose(meta["people"], meta["people_source"], rel_tol=1e-4):
        raise SystemExit("people not preserved")


if __name__ == "__main__":
    main()
