"""Median path loss (dB) of the empirical macro-cell models, vectorised over numpy arrays.

Units everywhere: distances and heights in metres, frequencies in MHz. Every function
broadcasts its array arguments and returns the model's value even outside its validity
range (the extrapolated value); :func:`within_validity` says where a model is valid.

- Okumura–Hata, 150–1500 MHz (Hata 1980, eqs. (4), (5) small/medium city, (7) suburban,
  (8) open area; restated in the COST 231 Final Report, ch. 4, §4.4.1).
- COST-231 Hata, 1500–2000 MHz (COST 231 Final Report, ch. 4, §4.4.1): C = 3 dB in
  metropolitan centres (``urban``), 0 dB otherwise.
- 3GPP TR 38.901 Table 7.4.1-1 UMa and RMa, NLOS: PL = max(PL_LOS, PL′_NLOS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

BREAKPOINT_SPEED_OF_LIGHT = 3.0e8
"""m/s, the value TR 38.901 Table 7.4.1-1 notes 1 and 5 prescribe for breakpoint distances."""

ENVIRONMENTS: tuple[str, ...] = ("urban", "suburban", "rural")
"""Environment classes: urban = small/medium city (Hata) or metropolitan centre (COST-231,
C = 3 dB) or UMa; suburban = Hata suburban, COST-231 C = 0, UMa; rural = Hata open area,
COST-231 C = 0, RMa."""

MODELS: tuple[str, ...] = ("hata", "cost231", "38901-uma", "38901-rma")
"""Model labels (``radius_source`` is ``model:<label>``)."""

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Validity:
    """Closed ranges where a model is specified (``None``: no limit on that side)."""

    frequency_mhz: tuple[float, float]
    base_height_m: tuple[float, float]
    mobile_height_m: tuple[float, float]
    distance_m: tuple[float, float]
    source: str


VALIDITY: dict[str, Validity] = {
    "hata": Validity((150.0, 1500.0), (30.0, 200.0), (1.0, 10.0), (1000.0, 20000.0),
                     "Hata 1980 §IV; COST 231 Final Report §4.4.1"),
    "cost231": Validity((1500.0, 2000.0), (30.0, 200.0), (1.0, 10.0), (1000.0, 20000.0),
                        "COST 231 Final Report §4.4.1"),
    "38901-uma": Validity((500.0, 100000.0), (25.0, 25.0), (1.5, 22.5), (10.0, 5000.0),
                          "3GPP TR 38.901 Table 7.4.1-1 (UMa) and §7.4.1 notes"),
    "38901-rma": Validity((500.0, 30000.0), (10.0, 150.0), (1.0, 10.0), (10.0, 5000.0),
                          "3GPP TR 38.901 Table 7.4.1-1 (RMa NLOS) and §7.4.1 notes"),
}  # fmt: skip
"""Validity ranges per model. UMa is specified for one base height, 25 m; RMa's NLOS formula
(which the max() always involves) for 10 m–5 km."""


def _f(x: ArrayLike) -> Floats:
    return np.asarray(x, dtype=np.float64)


def _env_code(environment: ArrayLike) -> NDArray[np.int64]:
    """0 urban, 1 suburban, 2 rural; ValueError on anything else."""
    env = np.asarray(environment, dtype=object)
    codes = np.full(env.shape, -1, dtype=np.int64)
    for code, name in enumerate(ENVIRONMENTS):
        codes[env == name] = code
    if (codes < 0).any():
        bad = sorted({str(v) for v in env[codes < 0].ravel()})
        raise ValueError(f"unknown environment {bad}: use one of {', '.join(ENVIRONMENTS)}")
    return codes


def mobile_height_correction_db(frequency_mhz: ArrayLike, mobile_height_m: ArrayLike) -> Floats:
    """Hata's a(hm) for a small/medium city (Hata 1980 eq. (5)), in dB."""
    logf = np.log10(_f(frequency_mhz))
    return np.asarray((1.1 * logf - 0.7) * _f(mobile_height_m) - (1.56 * logf - 0.8))


def hata_coefficients(
    *,
    frequency_mhz: ArrayLike,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike,
    environment: ArrayLike,
    model: str = "hata",
) -> tuple[Floats, Floats]:
    """Intercept A (dB) and slope B (dB per decade of km) with PL = A + B·log10(d / 1 km).

    Parameters
    ----------
    frequency_mhz, base_height_m, mobile_height_m
        Carrier, base-station antenna and mobile antenna heights above ground.
    environment
        ``urban``, ``suburban`` or ``rural`` per element.
    model
        ``hata`` (Okumura–Hata) or ``cost231`` (COST-231 Hata).

    """
    f = _f(frequency_mhz)
    hb = _f(base_height_m)
    logf = np.log10(f)
    env = _env_code(environment)
    slope = 44.9 - 6.55 * np.log10(hb)
    a_hm = mobile_height_correction_db(f, mobile_height_m)
    if model == "hata":
        intercept = 69.55 + 26.16 * logf - 13.82 * np.log10(hb) - a_hm
        suburban = 2.0 * np.log10(f / 28.0) ** 2 + 5.4
        open_area = 4.78 * logf**2 - 18.33 * logf + 40.94
        intercept = intercept - np.select([env == 1, env == 2], [suburban, open_area], 0.0)
    elif model == "cost231":
        intercept = 46.3 + 33.9 * logf - 13.82 * np.log10(hb) - a_hm + np.where(env == 0, 3.0, 0.0)
    else:
        raise ValueError(f"not a Hata-family model: {model!r}")
    return np.asarray(intercept, dtype=np.float64), np.asarray(slope, dtype=np.float64)


def hata_loss_db(
    distance_m: ArrayLike,
    *,
    frequency_mhz: ArrayLike,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike = 1.5,
    environment: ArrayLike = "urban",
    model: str = "hata",
) -> Floats:
    """Okumura–Hata (``model="hata"``) or COST-231 Hata (``"cost231"``) median path loss (dB)."""
    a, b = hata_coefficients(
        frequency_mhz=frequency_mhz,
        base_height_m=base_height_m,
        mobile_height_m=mobile_height_m,
        environment=environment,
        model=model,
    )
    return np.asarray(a + b * np.log10(_f(distance_m) / 1000.0))


def _geometry(
    distance_m: ArrayLike, frequency_mhz: ArrayLike, base_height_m: ArrayLike, mobile_height_m: ArrayLike
) -> tuple[Floats, Floats, Floats, Floats, Floats]:
    d2 = _f(distance_m)
    hbs, hut = _f(base_height_m), _f(mobile_height_m)
    fc = _f(frequency_mhz) / 1000.0  # GHz, as TR 38.901 writes its formulas
    return d2, np.sqrt(d2**2 + (hbs - hut) ** 2), hbs, hut, fc


def uma_los_db(
    distance_m: ArrayLike,
    *,
    frequency_mhz: ArrayLike,
    base_height_m: ArrayLike = 25.0,
    mobile_height_m: ArrayLike = 1.5,
) -> Floats:
    """TR 38.901 PL_UMa-LOS (dB), Table 7.4.1-1: PL1 up to the breakpoint d′BP, PL2 beyond.

    The effective environment height is hE = 1 m (the table's value for hUT < 13 m) and
    d′BP = 4 h′BS h′UT fc / c with h′ = h − hE (Table 7.4.1-1 note 1).
    """
    d2, d3, hbs, hut, fc = _geometry(distance_m, frequency_mhz, base_height_m, mobile_height_m)
    d_bp = 4.0 * (hbs - 1.0) * (hut - 1.0) * fc * 1e9 / BREAKPOINT_SPEED_OF_LIGHT
    pl1 = 28.0 + 22.0 * np.log10(d3) + 20.0 * np.log10(fc)
    pl2 = 28.0 + 40.0 * np.log10(d3) + 20.0 * np.log10(fc) - 9.0 * np.log10(d_bp**2 + (hbs - hut) ** 2)
    return np.asarray(np.where(d2 <= d_bp, pl1, pl2))


def uma_loss_db(
    distance_m: ArrayLike,
    *,
    frequency_mhz: ArrayLike,
    base_height_m: ArrayLike = 25.0,
    mobile_height_m: ArrayLike = 1.5,
) -> Floats:
    """TR 38.901 PL_UMa-NLOS = max(PL_UMa-LOS, PL′_UMa-NLOS) (dB), Table 7.4.1-1."""
    _, d3, _, hut, fc = _geometry(distance_m, frequency_mhz, base_height_m, mobile_height_m)
    los = uma_los_db(
        distance_m, frequency_mhz=frequency_mhz, base_height_m=base_height_m, mobile_height_m=mobile_height_m
    )
    nlos = 13.54 + 39.08 * np.log10(d3) + 20.0 * np.log10(fc) - 0.6 * (hut - 1.5)
    return np.asarray(np.maximum(los, nlos))


def _rma_pl1(d3: Floats, fc: Floats, h: float) -> Floats:
    return np.asarray(
        20.0 * np.log10(40.0 * np.pi * d3 * fc / 3.0)
        + min(0.03 * h**1.72, 10.0) * np.log10(d3)
        - min(0.044 * h**1.72, 14.77)
        + 0.002 * np.log10(h) * d3
    )


def rma_los_db(
    distance_m: ArrayLike,
    *,
    frequency_mhz: ArrayLike,
    base_height_m: ArrayLike = 35.0,
    mobile_height_m: ArrayLike = 1.5,
    building_height_m: float = 5.0,
) -> Floats:
    """TR 38.901 PL_RMa-LOS (dB), Table 7.4.1-1.

    Breakpoint dBP = 2π hBS hUT fc / c (note 5); beyond it PL2 = PL1(dBP) + 40 log10(d3D/dBP),
    with PL1(dBP) evaluated at the 3D distance of the breakpoint.
    """
    d2, d3, hbs, hut, fc = _geometry(distance_m, frequency_mhz, base_height_m, mobile_height_m)
    h = float(building_height_m)
    d_bp = 2.0 * np.pi * hbs * hut * fc * 1e9 / BREAKPOINT_SPEED_OF_LIGHT
    d3_bp = np.sqrt(d_bp**2 + (hbs - hut) ** 2)
    pl2 = _rma_pl1(d3_bp, fc, h) + 40.0 * np.log10(d3 / d3_bp)
    return np.asarray(np.where(d2 <= d_bp, _rma_pl1(d3, fc, h), pl2))


def rma_loss_db(
    distance_m: ArrayLike,
    *,
    frequency_mhz: ArrayLike,
    base_height_m: ArrayLike = 35.0,
    mobile_height_m: ArrayLike = 1.5,
    building_height_m: float = 5.0,
    street_width_m: float = 20.0,
) -> Floats:
    """TR 38.901 PL_RMa-NLOS = max(PL_RMa-LOS, PL′_RMa-NLOS) (dB), Table 7.4.1-1.

    Defaults h = 5 m (average building height) and W = 20 m (street width) are the table's.
    """
    _, d3, hbs, hut, fc = _geometry(distance_m, frequency_mhz, base_height_m, mobile_height_m)
    h, w = float(building_height_m), float(street_width_m)
    los = rma_los_db(
        distance_m,
        frequency_mhz=frequency_mhz,
        base_height_m=base_height_m,
        mobile_height_m=mobile_height_m,
        building_height_m=h,
    )
    nlos = (
        161.04
        - 7.1 * np.log10(w)
        + 7.5 * np.log10(h)
        - (24.37 - 3.7 * (h / hbs) ** 2) * np.log10(hbs)
        + (43.42 - 3.1 * np.log10(hbs)) * (np.log10(d3) - 3.0)
        + 20.0 * np.log10(fc)
        - (3.2 * np.log10(11.75 * hut) ** 2 - 4.97)
    )
    return np.asarray(np.maximum(los, nlos))


def path_loss_db(
    model: str,
    distance_m: ArrayLike,
    *,
    frequency_mhz: ArrayLike,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike = 1.5,
    environment: ArrayLike = "urban",
) -> Floats:
    """Median path loss (dB) of ``model`` (one of :data:`MODELS`) at ``distance_m``."""
    if model in ("hata", "cost231"):
        return hata_loss_db(
            distance_m,
            frequency_mhz=frequency_mhz,
            base_height_m=base_height_m,
            mobile_height_m=mobile_height_m,
            environment=environment,
            model=model,
        )
    tr38901 = {"38901-uma": uma_loss_db, "38901-rma": rma_loss_db}
    if model in tr38901:
        return tr38901[model](
            distance_m,
            frequency_mhz=frequency_mhz,
            base_height_m=base_height_m,
            mobile_height_m=mobile_height_m,
        )
    raise ValueError(f"unknown model {model!r}: use one of {', '.join(MODELS)}")


def _inside(value: ArrayLike, bounds: tuple[float, float]) -> NDArray[np.bool_]:
    v = _f(value)
    return np.asarray((v >= bounds[0] - 1e-9) & (v <= bounds[1] + 1e-9))


def within_validity(
    model: str,
    *,
    frequency_mhz: ArrayLike,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike,
    distance_m: ArrayLike,
) -> NDArray[np.bool_]:
    """Where every parameter lies inside the model's :data:`VALIDITY` ranges."""
    v = VALIDITY[model]
    return np.asarray(
        _inside(frequency_mhz, v.frequency_mhz)
        & _inside(base_height_m, v.base_height_m)
        & _inside(mobile_height_m, v.mobile_height_m)
        & _inside(distance_m, v.distance_m)
    )
