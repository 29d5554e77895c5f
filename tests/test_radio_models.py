"""Path-loss models against published values and independent implementations.

References
----------
- [ns3-oh] ns-3 ``src/propagation/test/okumura-hata-test-suite.cc`` (test vectors computed with
  the Octave scripts in ``src/propagation/test/reference/``): 869 MHz, d = 2 km, hb = 30 m,
  hm = 1 m: urban small city 137.88 dB, suburban 128.03 dB; 2114 MHz COST-231 small city
  150.64 dB (tolerance 0.1 dB in ns-3).
- [lee] W.C.Y. Lee and D.J.Y. Lee, *Integrated Wireless Propagation Models*, McGraw-Hill 2015,
  §2.12.1.2.4, eq. (2.12.1.9), p. 80: Hata at the 850 MHz cellular band, correction K for open
  areas 28.26 dB and suburban 9.79 dB, a(h2) = 2.52 h2 − 3.77.
- [ns3-3gpp] ns-3 ``src/propagation/test/three-gpp-propagation-loss-model-test-suite.cc``:
  received power for 0 dBm transmitted at 5 GHz, RMa hBS = 35 m and UMa hBS = 25 m, hUT = 1.5 m,
  LOS and NLOS (tolerance 0.05 dB in ns-3); formulas of 3GPP TR 38.901 Table 7.4.1-1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from telecov.radio.models import (
    VALIDITY,
    hata_loss_db,
    mobile_height_correction_db,
    path_loss_db,
    rma_los_db,
    rma_loss_db,
    uma_los_db,
    uma_loss_db,
    within_validity,
)

OH = {"frequency_mhz": 869.0, "base_height_m": 30.0, "mobile_height_m": 1.0}


def test_okumura_hata_urban_small_city_ns3():
    assert hata_loss_db(2000.0, **OH, environment="urban") == pytest.approx(137.88, abs=0.01)


def test_okumura_hata_suburban_ns3():
    assert hata_loss_db(2000.0, **OH, environment="suburban") == pytest.approx(128.03, abs=0.01)


def test_hata_corrections_at_850_mhz_lee_p80():
    kw = {"frequency_mhz": 850.0, "base_height_m": 50.0, "mobile_height_m": 1.5}
    urban = hata_loss_db(5000.0, **kw, environment="urban")
    assert urban - hata_loss_db(5000.0, **kw, environment="suburban") == pytest.approx(9.79, abs=0.005)
    assert urban - hata_loss_db(5000.0, **kw, environment="rural") == pytest.approx(28.26, abs=0.005)
    intercept = mobile_height_correction_db(850.0, 0.0)
    slope = mobile_height_correction_db(850.0, 1.0) - intercept
    assert (slope, intercept) == (pytest.approx(2.52, abs=0.005), pytest.approx(-3.77, abs=0.005))


def test_cost231_small_city_ns3_and_metropolitan_c():
    kw = {"frequency_mhz": 2114.0, "base_height_m": 30.0, "mobile_height_m": 1.0, "model": "cost231"}
    assert hata_loss_db(2000.0, **kw, environment="suburban") == pytest.approx(150.64, abs=0.01)
    assert hata_loss_db(2000.0, **kw, environment="rural") == pytest.approx(150.64, abs=0.01)
    assert hata_loss_db(2000.0, **kw, environment="urban") == pytest.approx(153.64, abs=0.01)


def _hata_by_hand(f, hb, hm, d_km, c=None):
    """Hata 1980 eq. (4)/(5) (or COST 231 §4.4.1 with C) written out term by term."""
    a = (1.1 * math.log10(f) - 0.7) * hm - (1.56 * math.log10(f) - 0.8)
    base = 69.55 + 26.16 * math.log10(f) if c is None else 46.3 + 33.9 * math.log10(f) + c
    return base - 13.82 * math.log10(hb) - a + (44.9 - 6.55 * math.log10(hb)) * math.log10(d_km)


@pytest.mark.parametrize(("f", "hb", "hm", "d"), [(150, 30, 1, 1), (900, 45, 1.5, 7.5), (1500, 200, 10, 20)])
def test_hata_matches_hand_formula(f, hb, hm, d):
    got = hata_loss_db(d * 1000.0, frequency_mhz=f, base_height_m=hb, mobile_height_m=hm)
    assert got == pytest.approx(_hata_by_hand(f, hb, hm, d), abs=1e-9)
    kw = {"frequency_mhz": 1800, "base_height_m": hb, "mobile_height_m": hm, "model": "cost231"}
    got = hata_loss_db(d * 1000.0, **kw, environment="suburban")
    assert got == pytest.approx(_hata_by_hand(1800, hb, hm, d, c=0.0), abs=1e-9)
    got = hata_loss_db(d * 1000.0, **kw, environment="urban")
    assert got == pytest.approx(_hata_by_hand(1800, hb, hm, d, c=3.0), abs=1e-9)


RMA = [  # (d2D m, LOS received dBm, NLOS received dBm) at 5 GHz, 0 dBm [ns3-3gpp]
    (10.0, -77.3784, -77.3784),
    (100.0, -87.2965, -95.7718),
    (1000.0, -108.5577, -133.5223),
]


@pytest.mark.parametrize(("d", "los", "nlos"), RMA)
def test_rma_ns3(d, los, nlos):
    assert -rma_los_db(d, frequency_mhz=5000.0, base_height_m=35.0) == pytest.approx(los, abs=5e-4)
    assert -rma_loss_db(d, frequency_mhz=5000.0, base_height_m=35.0) == pytest.approx(nlos, abs=5e-4)


def test_rma_beyond_breakpoint_ns3():
    assert -rma_los_db(10000.0, frequency_mhz=5000.0, base_height_m=35.0) == pytest.approx(
        -140.3896, abs=5e-4
    )
    assert -rma_loss_db(5000.0, frequency_mhz=5000.0, base_height_m=35.0) == pytest.approx(
        -160.5169, abs=5e-4
    )


UMA = [  # (d2D m, LOS, NLOS) received dBm at 5 GHz [ns3-3gpp]
    (10.0, -72.9380, -82.5131),
    (100.0, -86.2362, -106.1356),
    (1000.0, -109.7252, -144.7641),
    (5000.0, -137.6794, -172.0753),
]


@pytest.mark.parametrize(("d", "los", "nlos"), UMA)
def test_uma_ns3(d, los, nlos):
    assert -uma_los_db(d, frequency_mhz=5000.0) == pytest.approx(los, abs=5e-4)
    assert -uma_loss_db(d, frequency_mhz=5000.0) == pytest.approx(nlos, abs=5e-4)


def test_uma_los_is_continuous_at_the_breakpoint():
    # d'BP = 4 (25 - 1)(1.5 - 1) fc / c = 800 m at 5 GHz (Table 7.4.1-1 note 1)
    below, above = uma_los_db(np.array([800.0 - 1e-6, 800.0 + 1e-6]), frequency_mhz=5000.0)
    assert above - below == pytest.approx(0.0, abs=1e-6)


def test_losses_increase_with_distance():
    d = np.geomspace(1.0, 100_000.0, 2000)
    for model in ("hata", "cost231", "38901-uma", "38901-rma"):
        f = {"hata": 900.0, "cost231": 1800.0}.get(model, 3500.0)
        loss = path_loss_db(model, d, frequency_mhz=f, base_height_m=30.0, environment="suburban")
        assert np.all(np.diff(loss) >= 0.0), model


def test_validity_ranges():
    assert VALIDITY["hata"].frequency_mhz == (150.0, 1500.0)
    assert VALIDITY["cost231"].frequency_mhz == (1500.0, 2000.0)
    kw = {"base_height_m": 30.0, "mobile_height_m": 1.5}
    inside = within_validity("hata", frequency_mhz=900.0, distance_m=5000.0, **kw)
    outside = within_validity("hata", frequency_mhz=900.0, distance_m=500.0, **kw)
    low_mast = within_validity(
        "hata", frequency_mhz=900.0, distance_m=5000.0, base_height_m=20.0, mobile_height_m=1.5
    )
    assert inside and not outside and not low_mast
    assert not within_validity("38901-rma", frequency_mhz=3500.0, distance_m=7000.0, **kw)


def test_unknown_environment_and_model_are_refused():
    with pytest.raises(ValueError, match="environment"):
        hata_loss_db(1000.0, frequency_mhz=900.0, base_height_m=30.0, environment="downtown")
    with pytest.raises(ValueError, match="model"):
        path_loss_db("itu", 1000.0, frequency_mhz=900.0, base_height_m=30.0)
