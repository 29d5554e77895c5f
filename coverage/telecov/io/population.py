"""Population rasters: open any GeoTIFF of people (per pixel or per km²) and read it by windows.

A raster is measured on its own grid: rows of constant y in its own CRS, north up. Lon/lat
WGS84 rasters and projected ones (UTM, Mollweide, national grids) are read as they are; only a
rotated or sheared geotransform is warped to a north-up grid (with a warning naming it).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import rasterio
import shapely
from numba import njit
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from ..errors import InputError, TelecovWarning
from ..geodesy import LONLAT, is_lonlat
from .raster_bands import BandChoice, check_unit, choose_band
from .sources import is_url

OUTLINE_POINTS = 64
"""Points per side of the raster's extent when it is mapped to lon/lat."""


@njit(cache=True, nogil=True)
def clean_into(
    block: np.ndarray,
    valid: np.ndarray,
    out: np.ndarray,
    r_off: int,
    c_off: int,
    nodata: float,
    use_nodata: bool,
    scale: float,
    offset: float,
) -> int:
    """Copy people into ``out`` at an offset; invalid, nodata, NaN and negative values become 0.

    ``valid`` is GDAL's mask of the block (0: invalid) or an empty array when there is none;
    stored values become ``value * scale + offset``. Returns the number of negative pixels.
    """
    negatives = 0
    masked = valid.shape[0] > 0
    for r in range(block.shape[0]):
        for c in range(block.shape[1]):
            raw = float(block[r, c])
            if not math.isfinite(raw) or (use_nodata and raw == nodata) or (masked and valid[r, c] == 0):
                v = 0.0
            else:
                v = raw * scale + offset
                if v < 0.0:
                    negatives += 1
                    v = 0.0
            out[r + r_off, c + c_off] = v
    return negatives


@dataclass
class PopulationRaster:
    """A population raster seen on its own north-up grid.

    Rows count southwards from ``y0`` (the north edge of row 0) by ``dy``, columns eastwards
    from ``x0`` by ``dx``, in the raster's CRS (degrees for lon/lat rasters). Reads outside the
    raster return zeros; invalid pixels (nodata, GDAL mask, alpha), NaN and negative values
    count as 0 people. Use it as a context manager (``with open_population(src) as raster:``)
    to release what it opened.
    """

    dataset: Any
    name: str
    x0: float
    y0: float
    dx: float
    dy: float
    width: int
    height: int
    crs: CRS
    band: BandChoice
    unit: str = "count"
    unit_given: bool = False
    warped: bool = False
    negative_pixels: int = field(default=0)
    owned: tuple[Any, ...] = field(default=(), repr=False)
    """Datasets this object opened, in order; :meth:`close` closes them, the last first."""

    @property
    def lonlat(self) -> bool:
        """Whether the grid is lon/lat on WGS84 (the engine's direct mode)."""
        return is_lonlat(self.crs)

    @property
    def nodata(self) -> float | None:
        """The band's nodata value."""
        return self.band.nodata

    @property
    def lon0(self) -> float:
        """West edge of column 0 (``x0``; degrees on a lon/lat grid)."""
        return self.x0

    @property
    def lat0(self) -> float:
        """North edge of row 0 (``y0``; degrees on a lon/lat grid)."""
        return self.y0

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in the raster's CRS."""
        return (self.x0, self.y0 - self.height * self.dy, self.x0 + self.width * self.dx, self.y0)

    def outline_lonlat(self) -> shapely.Polygon:
        """Return the raster's extent as a lon/lat polygon (its sides densified)."""
        west, south, east, north = self.bounds
        if self.lonlat:
            return shapely.box(west, south, east, north)
        t = np.linspace(0.0, 1.0, OUTLINE_POINTS, endpoint=False)
        xs = np.concatenate([west + t * (east - west), np.full_like(t, east), east - t * (east - west),
                             np.full_like(t, west)])  # fmt: skip
        ys = np.concatenate([np.full_like(t, south), south + t * (north - south), np.full_like(t, north),
                             north - t * (north - south)])  # fmt: skip
        lon, lat = Transformer.from_crs(self.crs, LONLAT, always_xy=True).transform(xs, ys)
        ring = shapely.Polygon(np.column_stack([lon, lat]))
        return ring if ring.is_valid else shapely.make_valid(ring)

    def read(self, row0: int, row1: int, col0: int, col1: int) -> NDArray[np.float64]:
        """Values (people, or people per km²) of rows ``row0:row1``, columns ``col0:col1`` (0 outside)."""
        out = np.zeros((row1 - row0, col1 - col0), dtype=np.float64)
        r0, r1 = max(row0, 0), min(row1, self.height)
        c0, c1 = max(col0, 0), min(col1, self.width)
        if r1 <= r0 or c1 <= c0:
            return out
        window = Window(c0, r0, c1 - c0, r1 - r0)
        band = self.band
        try:
            with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"):
                block = self.dataset.read(band.index, window=window, masked=False)
                valid = self._validity(window)
        except RasterioIOError as exc:
            raise InputError(f"{self.name}: cannot read population raster: {exc}") from exc
        use_nodata = band.nodata is not None and not math.isnan(band.nodata)
        nodata = float(band.nodata) if use_nodata and band.nodata is not None else 0.0
        self.negative_pixels += clean_into(
            block, valid, out, r0 - row0, c0 - col0, nodata, use_nodata, band.scale, band.offset
        )
        return out

    def _validity(self, window: Window) -> NDArray[np.uint8]:
        """GDAL's mask of the band over ``window`` (0: invalid), the alpha band's, or empty."""
        band = self.band
        if band.alpha is not None:
            alpha = self.dataset.read(band.alpha, window=window, masked=False)
            return np.asarray(np.isfinite(alpha) & (alpha > 0), dtype=np.uint8)
        if band.use_mask:
            return np.asarray(self.dataset.read_masks(band.index, window=window), dtype=np.uint8)
        return np.zeros((0, 0), dtype=np.uint8)

    def close(self) -> None:
        """Release the datasets this object opened (a dataset passed in stays open)."""
        for dataset in reversed(self.owned):
            dataset.close()
        self.owned = ()

    def __enter__(self) -> PopulationRaster:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_population(
    source: str | Path | Any, *, band: int | None = None, unit: str | None = None
) -> PopulationRaster:
    """Open a population raster from a path or an open rasterio dataset.

    The raster is read on its own grid, in any CRS; a rotated or sheared geotransform is
    warped to a north-up grid of the same CRS with ``sum`` resampling (a :class:`TelecovWarning`
    says so). Use the result as a context manager.

    Parameters
    ----------
    source
        Path, URL (``https://…``, ``s3://…``, ``/vsicurl/…``, opened by GDAL) or open rasterio
        dataset.
    band
        The band holding the people (1-based); None: the only data band (alpha bands are masks).
    unit
        ``count`` (people per pixel) or ``density`` (people per km²); None: ``count``, not given.

    Raises
    ------
    InputError
        The file is missing, unreadable, has no CRS, no usable band, or several data bands and
        no ``band``.

    """
    unit_value = check_unit(unit)
    dataset, name, owned = _open_dataset(source)
    try:
        raster = _population_raster(dataset, name, owned, band=band)
    except BaseException:
        for opened in reversed(owned):
            opened.close()
        raise
    raster.unit = unit_value
    raster.unit_given = unit is not None
    return raster


def _open_dataset(source: str | Path | Any) -> tuple[Any, str, list[Any]]:
    """Return the dataset of ``source``, its name and the datasets opened here."""
    if not isinstance(source, (str, Path)):
        return source, str(getattr(source, "name", "<raster>")), []
    if is_url(source):
        try:
            dataset = rasterio.open(source)
        except RasterioIOError as exc:
            raise InputError(f"{source}: population raster not readable from this URL ({exc})") from exc
        return dataset, str(source), [dataset]
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: population raster not found")
    try:
        dataset = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputError(f"{path}: not a readable raster ({exc})") from exc
    return dataset, str(path), [dataset]


def _population_raster(dataset: Any, name: str, owned: list[Any], *, band: int | None) -> PopulationRaster:
    """Check ``dataset`` and see it on a north-up grid of its own CRS (warping only a rotated one)."""
    if dataset.crs is None:
        raise InputError(f"{name}: population raster has no CRS; assign one (e.g. with gdal_edit -a_srs)")
    choice = choose_band(dataset, name, band)
    crs = CRS.from_user_input(dataset.crs.to_wkt())
    transform = dataset.transform
    warped = False
    if not (transform.b == 0 and transform.d == 0 and transform.e < 0 < transform.a):
        warnings.warn(
            f"{name}: raster grid is rotated, sheared or not north-up ({transform.to_gdal()}); warping it "
            "to a north-up grid with sum resampling (totals kept, pixel geometry approximated)",
            TelecovWarning,
            stacklevel=3,
        )
        dataset = WarpedVRT(dataset, crs=LONLAT if is_lonlat(crs) else dataset.crs, resampling=Resampling.sum)
        owned.append(dataset)
        transform = dataset.transform
        warped = True
    return PopulationRaster(
        dataset=dataset,
        name=name,
        x0=float(transform.c),
        y0=float(transform.f),
        dx=float(transform.a),
        dy=float(-transform.e),
        width=int(dataset.width),
        height=int(dataset.height),
        crs=crs,
        band=choice,
        warped=warped,
        owned=tuple(owned),
    )
