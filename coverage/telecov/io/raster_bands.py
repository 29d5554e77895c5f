"""Which band of a population raster holds the people, how to read its validity, and its scaling.

A GeoTIFF may carry several bands: data bands (people, a quality flag, ...) and alpha bands
(validity masks). Pixels count as "no people" where GDAL says they are invalid: a nodata
value, a per-dataset mask (``.msk`` or internal mask band) or an alpha band. ``scale`` and
``offset`` from the raster's metadata turn stored values into people (``value * scale + offset``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rasterio.enums import ColorInterp, MaskFlags

from ..errors import InputError

POPULATION_UNITS = ("count", "density")
"""``count``: people per pixel; ``density``: people per km² (multiplied by each pixel's true area)."""


@dataclass(frozen=True)
class BandChoice:
    """The band read as population and how its values become people.

    Attributes
    ----------
    index
        1-based band index.
    nodata
        The band's nodata value (None without one; NaN is always invalid).
    use_mask
        Whether validity comes from GDAL's mask of the band (per-dataset mask or alpha band).
    mask
        ``none``, ``nodata``, ``per_dataset`` or ``alpha``: where validity comes from.
    scale, offset
        Applied to stored values: ``value * scale + offset``.
    alpha
        An alpha band GDAL does not use as the band's mask (it does so only for 8- and 16-bit
        data), read directly: 0 is invalid. None otherwise.

    """

    index: int
    nodata: float | None
    use_mask: bool
    mask: str
    scale: float
    offset: float
    alpha: int | None = None


def _describe(dataset: Any, index: int) -> str:
    """``2 (uint8, 'validity')``: a band as a message lists it."""
    desc = dataset.descriptions[index - 1]
    label = f", {desc!r}" if desc else ""
    return f"{index} ({dataset.dtypes[index - 1]}{label})"


def data_bands(dataset: Any) -> list[int]:
    """1-based indices of the bands that are not alpha (validity) bands."""
    interp = dataset.colorinterp
    return [i for i in range(1, dataset.count + 1) if interp[i - 1] != ColorInterp.alpha]


def choose_band(dataset: Any, name: str, band: int | None) -> BandChoice:
    """Pick the population band (``band``, or the only data band) and read its validity and scaling.

    Raises
    ------
    InputError
        No band, an alpha band or a band out of range asked for, or several data bands and no
        ``population_band``.

    """
    if dataset.count < 1:
        raise InputError(f"{name}: raster has no band")
    candidates = data_bands(dataset)
    if band is None:
        if not candidates:
            raise InputError(f"{name}: every band is an alpha (validity) band; no band holds people")
        if len(candidates) > 1:
            listed = ", ".join(_describe(dataset, i) for i in candidates)
            raise InputError(
                f"{name}: {len(candidates)} data bands ({listed}); choose the one with the people "
                "with `population_band`"
            )
        band = candidates[0]
    elif not 1 <= band <= dataset.count:
        raise InputError(f"`population_band` {band}: {name} has bands 1 to {dataset.count}")
    elif band not in candidates:
        raise InputError(f"`population_band` {band}: band {band} of {name} is an alpha (validity) band")
    return _band_choice(dataset, band)


def _band_choice(dataset: Any, band: int) -> BandChoice:
    flags = set(dataset.mask_flag_enums[band - 1])
    nodata = dataset.nodatavals[band - 1]
    alphas = [i for i in range(1, dataset.count + 1) if dataset.colorinterp[i - 1] == ColorInterp.alpha]
    alpha = alphas[0] if alphas and MaskFlags.alpha not in flags else None
    if MaskFlags.alpha in flags or alpha is not None:
        mask = "alpha"
    elif MaskFlags.per_dataset in flags:
        mask = "per_dataset"
    elif MaskFlags.nodata in flags or nodata is not None:
        mask = "nodata"
    else:
        mask = "none"
    scale = dataset.scales[band - 1]
    offset = dataset.offsets[band - 1]
    scale = 1.0 if scale is None or not math.isfinite(scale) else float(scale)
    offset = 0.0 if offset is None or not math.isfinite(offset) else float(offset)
    return BandChoice(
        index=band,
        nodata=None if nodata is None else float(nodata),
        use_mask=mask in ("alpha", "per_dataset"),
        mask=mask,
        scale=scale,
        offset=offset,
        alpha=alpha,
    )


def check_unit(unit: str | None) -> str:
    """Return the population unit (``count`` when None).

    Raises
    ------
    InputError
        Neither ``count`` nor ``density``.

    """
    if unit is None:
        return "count"
    value = str(unit).strip().lower()
    if value not in POPULATION_UNITS:
        raise InputError(f"`population_unit` {unit!r}: must be count (people per pixel) or density (per km²)")
    return value
