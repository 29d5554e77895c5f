"""Population rasters: open any GeoTIFF of people per pixel and read it by windows."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import rasterio
from numba import njit
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from ..errors import InputError, TelecovWarning
from ..geodesy import LONLAT, is_lonlat


@njit(cache=True, nogil=True)
def clean_into(
    block: np.ndarray, out: np.ndarray, r_off: int, c_off: int, nodata: float, use_nodata: bool
) -> int:
    """Copy people per pixel into ``out`` at an offset; nodata, NaN and negatives become 0.

    Returns the number of negative pixels (counted as 0 people).
    """
    negatives = 0
    for r in range(block.shape[0]):
        for c in range(block.shape[1]):
            v = float(block[r, c])
            if not math.isfinite(v) or (use_nodata and v == nodata):
                v = 0.0
            elif v < 0.0:
                negatives += 1
                v = 0.0
            out[r + r_off, c + c_off] = v
    return negatives


@dataclass
class PopulationRaster:
    """A population raster seen on a north-up lon/lat grid.

    Rows count southwards from ``lat0`` (the north edge of row 0) by ``dy`` degrees, columns
    eastwards from ``lon0`` by ``dx`` degrees. Reads outside the raster return zeros; nodata,
    NaN and negative values count as 0 people. Use it as a context manager
    (``with open_population(src) as raster: ...``) to release what it opened.
    """

    dataset: Any
    name: str
    lon0: float
    lat0: float
    dx: float
    dy: float
    width: int
    height: int
    nodata: float | None
    warped: bool = False
    negative_pixels: int = field(default=0)
    owned: tuple[Any, ...] = field(default=(), repr=False)
    """Datasets this object opened, in order; :meth:`close` closes them, the last first."""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        return (
            self.lon0,
            self.lat0 - self.height * self.dy,
            self.lon0 + self.width * self.dx,
            self.lat0,
        )

    def read(self, row0: int, row1: int, col0: int, col1: int) -> NDArray[np.float64]:
        """People per pixel for rows ``row0:row1`` and columns ``col0:col1`` (zeros outside)."""
        out = np.zeros((row1 - row0, col1 - col0), dtype=np.float64)
        r0, r1 = max(row0, 0), min(row1, self.height)
        c0, c1 = max(col0, 0), min(col1, self.width)
        if r1 <= r0 or c1 <= c0:
            return out
        try:
            with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"):
                block = self.dataset.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=False)
        except RasterioIOError as exc:
            raise InputError(f"{self.name}: cannot read population raster: {exc}") from exc
        use_nodata = self.nodata is not None and not math.isnan(self.nodata)
        nodata = float(self.nodata) if use_nodata and self.nodata is not None else 0.0
        self.negative_pixels += clean_into(block, out, r0 - row0, c0 - col0, nodata, use_nodata)
        return out

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


def open_population(source: str | Path | Any) -> PopulationRaster:
    """Open a population raster from a path or an open rasterio dataset.

    A raster that is not on a north-up lon/lat WGS84 grid is warped on the fly to one with
    ``sum`` resampling, which keeps totals but not the exact pixel geometry (a
    :class:`TelecovWarning` says so). Use the result as a context manager.

    Raises
    ------
    InputError
        The file is missing, unreadable, has no CRS or no georeferencing.

    """
    dataset, name, owned = _open_dataset(source)
    try:
        return _population_raster(dataset, name, owned)
    except BaseException:
        for opened in reversed(owned):
            opened.close()
        raise


def _open_dataset(source: str | Path | Any) -> tuple[Any, str, list[Any]]:
    """Return the dataset of ``source``, its name and the datasets opened here."""
    if not isinstance(source, (str, Path)):
        return source, str(getattr(source, "name", "<raster>")), []
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: population raster not found")
    try:
        dataset = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputError(f"{path}: not a readable raster ({exc})") from exc
    return dataset, str(path), [dataset]


def _population_raster(dataset: Any, name: str, owned: list[Any]) -> PopulationRaster:
    """Check ``dataset`` and see it on a north-up lon/lat grid (warping it when it is not one)."""
    if dataset.crs is None:
        raise InputError(f"{name}: population raster has no CRS; assign one (e.g. with gdal_edit -a_srs)")
    transform = dataset.transform
    warped = False
    north_up = transform.b == 0 and transform.d == 0 and transform.e < 0 < transform.a
    if not (is_lonlat(dataset.crs) and north_up):
        warnings.warn(
            f"{name}: raster is not a north-up lon/lat grid ({dataset.crs.to_string()}); warping to "
            "EPSG:4326 with sum resampling (totals kept, pixel geometry approximated)",
            TelecovWarning,
            stacklevel=3,
        )
        dataset = WarpedVRT(dataset, crs=LONLAT, resampling=Resampling.sum)
        owned.append(dataset)
        transform = dataset.transform
        warped = True
    if dataset.count < 1:
        raise InputError(f"{name}: raster has no band")
    return PopulationRaster(
        dataset=dataset,
        name=name,
        lon0=float(transform.c),
        lat0=float(transform.f),
        dx=float(transform.a),
        dy=float(-transform.e),
        width=int(dataset.width),
        height=int(dataset.height),
        nodata=None if dataset.nodata is None else float(dataset.nodata),
        warped=warped,
        owned=tuple(owned),
    )
