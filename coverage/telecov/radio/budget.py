"""Link budget → coverage radius: the distance where EIRP − path loss = the threshold.

EIRP and the threshold are both the total power over the channel in dBm (not per resource
element). For users who think in RSRP (LTE) or SS-RSRP (NR), the power of one resource
element: total = RSRP + 10·log10(12·N_RB), with N_RB the channel's resource blocks
(:data:`LTE_RESOURCE_BLOCKS`, :data:`NR_RESOURCE_BLOCKS_30KHZ`), assuming every resource element
carries the same power (a fully loaded carrier without reference-signal boosting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..vocabulary import MAX_RADIUS_M
from .models import ENVIRONMENTS, VALIDITY, hata_coefficients, path_loss_db, within_validity

Floats = NDArray[np.float64]

PROPAGATIONS: tuple[str, ...] = ("fixed", "auto", "hata", "cost231", "38901")
"""``--propagation`` choices: ``fixed`` keeps the radius table, ``auto`` picks a model by frequency."""

LTE_RESOURCE_BLOCKS: dict[float, int] = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}
"""LTE channel bandwidth (MHz) → N_RB, 3GPP TS 36.101 Table 5.6-1."""

NR_RESOURCE_BLOCKS_30KHZ: dict[float, int] = {
    10.0: 24, 15.0: 38, 20.0: 51, 25.0: 65, 30.0: 78, 40.0: 106, 50.0: 133, 60.0: 162,
    70.0: 189, 80.0: 217, 90.0: 245, 100.0: 273,
}  # fmt: skip
"""NR FR1 channel bandwidth (MHz) → N_RB at 30 kHz subcarrier spacing, 3GPP TS 38.104 Table 5.3.2-1."""

MOBILE_HEIGHT_M = 1.5
"""Default receiver height above ground (``--rx-height``), the height of TR 38.901's outdoor UT."""


@dataclass(frozen=True)
class RadioDefaults:
    """Per-technology assumptions for a radio row that lacks a value (documented in docs/radio.md)."""

    tx_power_dbm: float
    antenna_gain_dbi: float
    feeder_loss_db: float
    height_m: float
    rx_threshold_dbm: float
    environment: str

    @property
    def eirp_dbm(self) -> float:
        """EIRP = transmit power + antenna gain − feeder loss."""
        return self.tx_power_dbm + self.antenna_gain_dbi - self.feeder_loss_db


def rsrp_to_channel_dbm(rsrp_dbm: ArrayLike, *, resource_blocks: int) -> Floats:
    """Total channel power (dBm) for a per-resource-element RSRP: RSRP + 10·log10(12·N_RB)."""
    return np.asarray(np.asarray(rsrp_dbm, dtype=np.float64) + 10.0 * math.log10(12 * resource_blocks))


def channel_to_rsrp_dbm(channel_dbm: ArrayLike, *, resource_blocks: int) -> Floats:
    """RSRP (dBm per resource element) of a total channel power: total − 10·log10(12·N_RB)."""
    return np.asarray(np.asarray(channel_dbm, dtype=np.float64) - 10.0 * math.log10(12 * resource_blocks))


TECHNOLOGY_DEFAULTS: dict[str, RadioDefaults] = {
    "2G": RadioDefaults(43.0, 17.0, 3.0, 30.0, -95.0, "suburban"),
    "3G": RadioDefaults(43.0, 18.0, 3.0, 30.0, -90.0, "suburban"),
    "4G": RadioDefaults(46.0, 18.0, 3.0, 30.0, -79.2, "suburban"),  # RSRP -110 dBm, 100 RB
    "5G": RadioDefaults(53.0, 14.0, 0.0, 25.0, -64.8, "suburban"),  # SS-RSRP -100 dBm, 273 RB
}  # fmt: skip
"""Defaults of a radio row per technology: 2G a 20 W TRX, 17 dBi panel, 3 dB feeder, RXLEV
−95 dBm (the −102 dBm reference sensitivity of TS 45.005 §6.2 plus 7 dB margin); 3G a 20 W
carrier, CPICH RSCP −100 dBm with the CPICH at 10 % of the carrier (total −90 dBm); 4G a 40 W
port, 18 dBi, RSRP −110 dBm on 20 MHz (total −79.2 dBm); 5G a 200 W active antenna with a
14 dBi broadcast beam, SS-RSRP −100 dBm on 100 MHz at 30 kHz (total −64.9 dBm)."""


DENSITY_URBAN = 1500.0
"""People per km² from which a site is ``urban`` (Degree of Urbanisation: urban centre cells)."""
DENSITY_SUBURBAN = 300.0
"""People per km² from which a site is ``suburban`` (Degree of Urbanisation: urban cluster cells)."""


def classify_environment(density_per_km2: ArrayLike, *, default: str = "suburban") -> NDArray[np.object_]:
    """Environment class of sites from the population density around them (people/km²).

    ``urban`` at ≥ :data:`DENSITY_URBAN`, ``suburban`` at ≥ :data:`DENSITY_SUBURBAN`, ``rural``
    below: the grid-cell thresholds of the Degree of Urbanisation (EU, FAO, ILO, OECD,
    UN-Habitat, World Bank; endorsed by the UN Statistical Commission in 2020), which classes
    1 km² cells with 1,500 people as urban centres and 300 as urban clusters. A NaN density
    (no population data) gets ``default``.
    """
    density = np.asarray(density_per_km2, dtype=np.float64)
    out = np.where(density >= DENSITY_SUBURBAN, "suburban", "rural")
    out = np.where(density >= DENSITY_URBAN, "urban", out)
    return np.where(np.isnan(density), default, out).astype(object)


def choose_model(
    frequency_mhz: ArrayLike, environment: ArrayLike, *, propagation: str = "auto"
) -> NDArray[np.object_]:
    """Model label of each radio row (``hata``, ``cost231``, ``38901-uma``, ``38901-rma``).

    ``auto``: Okumura–Hata below 1500 MHz, COST-231 Hata from 1500 to 2000 MHz, TR 38.901
    above 2000 MHz (UMa in urban and suburban, RMa in rural environments). ``hata``,
    ``cost231`` and ``38901`` apply that model to every row.
    """
    f = np.asarray(frequency_mhz, dtype=np.float64)
    env = np.broadcast_to(np.asarray(environment, dtype=object), f.shape)
    tr = np.where(env == "rural", "38901-rma", "38901-uma")
    if propagation == "auto":
        out = np.where(f <= VALIDITY["hata"].frequency_mhz[1], "hata", np.where(f <= 2000.0, "cost231", tr))
    elif propagation in ("hata", "cost231"):
        out = np.full(f.shape, propagation)
    elif propagation == "38901":
        out = tr
    else:
        raise ValueError(f"no model for propagation {propagation!r}: use auto, hata, cost231 or 38901")
    return np.asarray(out, dtype=object)


@dataclass(frozen=True)
class RadioRadius:
    """Radii of radio rows with the model that gave each and whether it was extrapolated."""

    radius_m: Floats
    source: NDArray[np.object_]
    extrapolated: NDArray[np.bool_]


def _bisect_radius(model: str, budget: Floats, params: dict[str, Floats], iterations: int = 60) -> Floats:
    """Distance (m) where the monotone ``model`` loss meets ``budget``, by bisection on log10(d)."""
    lo = np.zeros(budget.shape)
    hi = np.full(budget.shape, math.log10(MAX_RADIUS_M))
    for _ in range(iterations):
        mid = (lo + hi) / 2.0
        below = path_loss_db(model, 10.0**mid, **params) <= budget
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return np.asarray(10.0 ** ((lo + hi) / 2.0))


def _solve(model: str, budget: Floats, params: dict[str, Floats]) -> Floats:
    if model in ("hata", "cost231"):
        a, b = hata_coefficients(**params, model=model)
        return np.asarray(1000.0 * 10.0 ** ((budget - a) / b))
    return _bisect_radius(model, budget, params)


def solve_radius(
    models: ArrayLike,
    *,
    budget_db: ArrayLike,
    frequency_mhz: ArrayLike,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike = MOBILE_HEIGHT_M,
    environment: ArrayLike = "suburban",
) -> tuple[Floats, NDArray[np.bool_]]:
    """Distance where path loss = ``budget_db`` (EIRP − threshold), and where it is extrapolated.

    Closed form for the Hata family (PL = A + B·log10 d), bisection for TR 38.901 (its loss
    increases with distance). Radii are clipped to [1 m, ``MAX_RADIUS_M``]; a radius outside the
    model's validity (or clipped) is flagged.
    """
    label = np.asarray(models, dtype=object)
    shape = label.shape
    numbers = (budget_db, frequency_mhz, base_height_m, mobile_height_m)
    args = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in numbers), label)
    budget, f, hb, hm = (np.array(a, dtype=np.float64).reshape(shape) for a in args[:4])
    env = np.array(np.broadcast_to(np.asarray(environment, dtype=object), shape))
    radius = np.full(shape, np.nan)
    extrapolated = np.zeros(shape, dtype=bool)
    for model in set(label.ravel().tolist()):
        sel = label == model
        params = {
            "frequency_mhz": f[sel],
            "base_height_m": hb[sel],
            "mobile_height_m": hm[sel],
            "environment": env[sel],
        }
        if model.startswith("38901"):
            del params["environment"]
        raw = _solve(model, budget[sel], params)
        r = np.clip(raw, 1.0, MAX_RADIUS_M)
        radius[sel] = r
        valid = within_validity(
            model, frequency_mhz=f[sel], base_height_m=hb[sel], mobile_height_m=hm[sel], distance_m=r
        )
        extrapolated[sel] = ~valid | (r != raw)
    return radius, extrapolated


def link_budget_radius(
    frequency_mhz: ArrayLike,
    *,
    eirp_dbm: ArrayLike,
    rx_threshold_dbm: ArrayLike,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike = MOBILE_HEIGHT_M,
    environment: ArrayLike = "suburban",
    propagation: str = "auto",
    extra_loss_db: ArrayLike = 0.0,
) -> RadioRadius:
    """Coverage radius of radio rows: where EIRP − extra loss − PL(d) = the threshold.

    Parameters
    ----------
    frequency_mhz
        Carrier (downlink centre) frequency per row.
    eirp_dbm, rx_threshold_dbm
        Total channel power radiated, and the total channel power a receiver needs (dBm).
    base_height_m, mobile_height_m
        Antenna heights above ground (m).
    environment
        ``urban``, ``suburban`` or ``rural`` per row.
    propagation
        ``auto``, ``hata``, ``cost231`` or ``38901`` (see :func:`choose_model`).
    extra_loss_db
        Loss added to the path loss (e.g. the antenna pattern's attenuation at a bearing).

    """
    env = np.asarray(environment, dtype=object)
    unknown = set(env.ravel().tolist()) - set(ENVIRONMENTS)
    if unknown:
        names = sorted(map(str, unknown))
        raise ValueError(f"unknown environment {names}: use one of {', '.join(ENVIRONMENTS)}")
    models = choose_model(frequency_mhz, env, propagation=propagation)
    budget = np.asarray(eirp_dbm, dtype=np.float64) - np.asarray(extra_loss_db) - np.asarray(rx_threshold_dbm)
    radius, extrapolated = solve_radius(
        models,
        budget_db=budget,
        frequency_mhz=frequency_mhz,
        base_height_m=base_height_m,
        mobile_height_m=mobile_height_m,
        environment=env,
    )
    source = np.asarray(["model:" + str(m) for m in models.ravel()], dtype=object).reshape(models.shape)
    return RadioRadius(radius, source, extrapolated)
