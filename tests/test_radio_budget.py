"""Link budget → radius: closed form and bisection against an independent scalar solve."""

from __future__ import annotations

import math

import numpy as np
import pytest

from telecov.radio.budget import (
    LTE_RESOURCE_BLOCKS,
    NR_RESOURCE_BLOCKS_30KHZ,
    TECHNOLOGY_DEFAULTS,
    channel_to_rsrp_dbm,
    choose_model,
    classify_environment,
    link_budget_radius,
    rsrp_to_channel_dbm,
)
from telecov.radio.validation import check_radio_row
from telecov.vocabulary import MAX_RADIUS_M


def _uma_scalar(d2, fc_ghz, hbs=25.0, hut=1.5):
    """TR 38.901 Table 7.4.1-1 UMa NLOS, scalar, written out independently."""
    d3 = math.hypot(d2, hbs - hut)
    dbp = 4 * (hbs - 1) * (hut - 1) * fc_ghz * 1e9 / 3e8
    if d2 <= dbp:
        los = 28 + 22 * math.log10(d3) + 20 * math.log10(fc_ghz)
    else:
        los = 28 + 40 * math.log10(d3) + 20 * math.log10(fc_ghz) - 9 * math.log10(dbp**2 + (hbs - hut) ** 2)
    nlos = 13.54 + 39.08 * math.log10(d3) + 20 * math.log10(fc_ghz) - 0.6 * (hut - 1.5)
    return max(los, nlos)


def _rma_scalar(d2, fc_ghz, hbs=35.0, hut=1.5, h=5.0, w=20.0):
    def pl1(d3):
        return (20 * math.log10(40 * math.pi * d3 * fc_ghz / 3) + min(0.03 * h**1.72, 10) * math.log10(d3)
                - min(0.044 * h**1.72, 14.77) + 0.002 * math.log10(h) * d3)  # fmt: skip

    d3 = math.hypot(d2, hbs - hut)
    dbp = 2 * math.pi * hbs * hut * fc_ghz * 1e9 / 3e8
    los = (
        pl1(d3)
        if d2 <= dbp
        else pl1(math.hypot(dbp, hbs - hut)) + 40 * math.log10(d3 / math.hypot(dbp, hbs - hut))
    )
    nlos = (161.04 - 7.1 * math.log10(w) + 7.5 * math.log10(h)
            - (24.37 - 3.7 * (h / hbs) ** 2) * math.log10(hbs)
            + (43.42 - 3.1 * math.log10(hbs)) * (math.log10(d3) - 3) + 20 * math.log10(fc_ghz)
            - (3.2 * math.log10(11.75 * hut) ** 2 - 4.97))  # fmt: skip
    return max(los, nlos)


def _secant_root(fn, lo, hi):
    """Regula falsi on log10(d): an independent scalar root finder."""
    a, b = math.log10(lo), math.log10(hi)
    fa, fb = fn(10**a), fn(10**b)
    assert fa < 0 < fb
    for _ in range(200):
        c = b - fb * (b - a) / (fb - fa)
        fc = fn(10**c)
        if abs(fc) < 1e-10:
            break
        if fc < 0:
            a, fa = c, fc
            fb /= 2.0  # Illinois step
        else:
            b, fb = c, fc
            fa /= 2.0
    return 10**c


@pytest.mark.parametrize(
    ("f", "env", "ref"), [(3550.0, "urban", _uma_scalar), (2600.0, "rural", _rma_scalar)]
)
@pytest.mark.parametrize("budget", [110.0, 125.0, 140.0, 150.0])
def test_38901_radius_matches_independent_solve(f, env, ref, budget):
    hb = 25.0 if env == "urban" else 35.0
    got = link_budget_radius(
        f, eirp_dbm=budget - 80.0, rx_threshold_dbm=-80.0, base_height_m=hb, environment=env
    )
    want = _secant_root(lambda d: ref(d, f / 1000.0, hbs=hb) - budget, 1.0, 50_000.0)
    assert float(got.radius_m) == pytest.approx(want, rel=1e-7)
    assert got.source == ("model:38901-uma" if env == "urban" else "model:38901-rma")


@pytest.mark.parametrize(("f", "model"), [(900.0, "hata"), (1800.0, "cost231")])
@pytest.mark.parametrize("env", ["urban", "suburban", "rural"])
def test_hata_family_closed_form_matches_independent_solve(f, model, env):
    from telecov.radio.models import hata_loss_db

    budget = 57.0 + 95.0
    got = link_budget_radius(f, eirp_dbm=57.0, rx_threshold_dbm=-95.0, base_height_m=40.0, environment=env)
    kw = {"frequency_mhz": f, "base_height_m": 40.0, "environment": env, "model": model}
    want = _secant_root(lambda d: float(hata_loss_db(d, **kw)) - budget, 10.0, 90_000.0)
    assert float(got.radius_m) == pytest.approx(want, rel=1e-9)
    assert got.source == f"model:{model}"


def test_auto_model_choice_by_frequency():
    f = np.array([450.0, 942.5, 1500.0, 1842.5, 2000.0, 2140.0, 3550.0, 3550.0])
    env = np.array(["urban"] * 7 + ["rural"], dtype=object)
    assert choose_model(f, env).tolist() == [
        "hata", "hata", "hata", "cost231", "cost231", "38901-uma", "38901-uma", "38901-rma",
    ]  # fmt: skip
    assert set(choose_model(f, env, propagation="hata").tolist()) == {"hata"}
    assert choose_model(f, env, propagation="38901").tolist()[-2:] == ["38901-uma", "38901-rma"]
    with pytest.raises(ValueError, match="propagation"):
        choose_model(f, env, propagation="fixed")


def test_extrapolated_flags():
    # Hata is specified from 1 km: a short urban radius is the extrapolated model value, flagged
    r = link_budget_radius([900.0, 900.0], eirp_dbm=[30.0, 60.0], rx_threshold_dbm=-90.0, base_height_m=30.0,
                           environment="urban")  # fmt: skip
    assert r.radius_m[0] < 1000.0 < r.radius_m[1]
    assert r.extrapolated.tolist() == [True, False]
    # an 80 m mast is outside UMa's 25 m; 100 MHz is below Hata's 150 MHz
    assert link_budget_radius(3500.0, eirp_dbm=67, rx_threshold_dbm=-65, base_height_m=80.0).extrapolated
    assert link_budget_radius(100.0, eirp_dbm=57, rx_threshold_dbm=-95, base_height_m=30.0).extrapolated


def test_radius_is_clipped_and_flagged():
    huge = link_budget_radius(
        700.0, eirp_dbm=89.0, rx_threshold_dbm=-149.0, base_height_m=200.0, environment="rural"
    )
    assert float(huge.radius_m) == MAX_RADIUS_M and huge.extrapolated


def test_pattern_loss_shrinks_the_radius_by_the_slope():
    kw = {"eirp_dbm": 57.0, "rx_threshold_dbm": -95.0, "base_height_m": 30.0, "environment": "suburban"}
    full = float(link_budget_radius(900.0, **kw).radius_m)
    less = float(link_budget_radius(900.0, **kw, extra_loss_db=10.0).radius_m)
    slope = 44.9 - 6.55 * math.log10(30.0)  # dB per decade (Hata)
    assert less == pytest.approx(full * 10 ** (-10.0 / slope), rel=1e-12)


def test_rsrp_conversion():
    # 20 MHz LTE: 100 RB (TS 36.101 Table 5.6-1), 1200 subcarriers: +30.79 dB
    assert LTE_RESOURCE_BLOCKS[20.0] == 100 and NR_RESOURCE_BLOCKS_30KHZ[100.0] == 273
    assert float(rsrp_to_channel_dbm(-110.0, resource_blocks=100)) == pytest.approx(-79.208, abs=1e-3)
    assert float(channel_to_rsrp_dbm(-79.208, resource_blocks=100)) == pytest.approx(-110.0, abs=1e-3)
    assert TECHNOLOGY_DEFAULTS["4G"].rx_threshold_dbm == pytest.approx(
        float(rsrp_to_channel_dbm(-110, resource_blocks=100)), abs=0.05
    )
    assert TECHNOLOGY_DEFAULTS["5G"].rx_threshold_dbm == pytest.approx(
        float(rsrp_to_channel_dbm(-100, resource_blocks=273)), abs=0.05
    )


def test_defaults_give_the_radii_a_planner_expects():
    def radius(tech, f, env):
        d = TECHNOLOGY_DEFAULTS[tech]
        return float(link_budget_radius(f, eirp_dbm=d.eirp_dbm, rx_threshold_dbm=d.rx_threshold_dbm,
                                        base_height_m=d.height_m, environment=env).radius_m)  # fmt: skip

    assert radius("2G", 942.5, "rural") > 3 * radius("4G", 1842.5, "urban")
    assert 300.0 < radius("5G", 3550.0, "urban") < 1000.0
    assert 3000.0 < radius("2G", 942.5, "suburban") < 20000.0


def test_environment_from_density():
    got = classify_environment([0.0, 299.9, 300.0, 1499.0, 1500.0, 25000.0, np.nan])
    assert got.tolist() == ["rural", "rural", "suburban", "suburban", "urban", "urban", "suburban"]
    assert classify_environment([np.nan], default="rural").tolist() == ["rural"]


def test_unknown_environment_is_refused():
    with pytest.raises(ValueError, match="environment"):
        link_budget_radius(900.0, eirp_dbm=57, rx_threshold_dbm=-95, base_height_m=30.0, environment="city")


@pytest.mark.parametrize(
    ("row", "field"),
    [({"frequency_mhz": 0}, "frequency_mhz"), ({"frequency_mhz": -900}, "frequency_mhz"),
     ({"frequency_mhz": "abc"}, "frequency_mhz"), ({"height_m": -5}, "height_m"),
     ({"height_m": 0}, "height_m"),
     ({"eirp_dbm": 200}, "eirp_dbm"), ({"band": "B99"}, "band"), ({"environment": "city"}, "environment"),
     ({"rx_threshold_dbm": 10}, "rx_threshold_dbm"), ({"beamwidth": 0}, "beamwidth"),
     ({"tx_power_dbm": 120}, "tx_power_dbm"), ({"feeder_loss_db": -2}, "feeder_loss_db")],
)  # fmt: skip
def test_impossible_values_name_their_field(row, field):
    problems = check_radio_row(**row)
    assert [p.field for p in problems] == [field]
    assert problems[0].reason


def test_good_and_missing_values_pass():
    assert check_radio_row(frequency_mhz=1842.5, band="L1800", height_m=30, eirp_dbm=61, environment="auto",
                           rx_threshold_dbm=-79.2, beamwidth=65) == []  # fmt: skip
    assert check_radio_row(frequency_mhz=float("nan"), band="", height_m=None, environment=float("nan")) == []
    assert [p.field for p in check_radio_row(frequency_mhz=0, height_m=-1, eirp_dbm=200, band="B99")] == [
        "frequency_mhz", "band", "height_m", "eirp_dbm",
    ]  # fmt: skip
