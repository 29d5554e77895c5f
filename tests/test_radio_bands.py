"""Band table: operator spellings → downlink centre frequencies of the 3GPP band tables.

Downlink ranges: 3GPP TS 36.101 Table 5.5-1 (E-UTRA), TS 38.104 Table 5.2-1 (NR FR1),
TS 25.101 Table 5.0 (UTRA), TS 45.005 §2 (GSM).
"""

from __future__ import annotations

import numpy as np
import pytest

from telecov.errors import InputError
from telecov.radio.bands import BANDS, band_frequencies_mhz, band_frequency_mhz, band_info, canonical_band

EXPECTED_MHZ = {
    "B1": 2140.0,  # 2110-2170
    "B3": 1842.5,  # 1805-1880
    "B5": 881.5,  # 869-894
    "B7": 2655.0,  # 2620-2690
    "B8": 942.5,  # 925-960
    "B20": 806.0,  # 791-821
    "B28": 780.5,  # 758-803
    "B40": 2350.0,  # 2300-2400 (TDD)
    "B41": 2593.0,  # 2496-2690 (TDD)
    "n1": 2140.0,
    "n3": 1842.5,
    "n28": 780.5,
    "n41": 2593.0,
    "n77": 3750.0,  # 3300-4200
    "n78": 3550.0,  # 3300-3800
    "L900": 942.5,
    "L1800": 1842.5,
    "L2100": 2140.0,
    "L2600": 2655.0,
    "U900": 942.5,
    "U2100": 2140.0,
    "G900": 942.5,  # extended GSM 900, 925-960
    "G1800": 1842.5,
    "DCS1800": 1842.5,
    "P-GSM": 947.5,  # 935-960
}


@pytest.mark.parametrize(("name", "mhz"), EXPECTED_MHZ.items())
def test_operator_spellings(name, mhz):
    assert band_frequency_mhz(name) == mhz


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [("b3", "B3"), ("Band 28", "B28"), ("band_3", "B3"), ("N78", "n78"), ("NR78", "n78"),
     ("n3500", "N3500"), ("lte-1800", "L1800"), ("GSM900", "G900"), ("GSM 1800", "DCS1800"),
     ("umts2100", "U2100"), ("E-GSM", "E-GSM"), (" l1800 ", "L1800")],
)  # fmt: skip
def test_spelling_variants(spelling, canonical):
    assert canonical_band(spelling) == canonical


def test_technology_family():
    assert [band_info(b).technology for b in ("G900", "U2100", "L1800", "B3", "n78")] == [
        "2G", "3G", "4G", "4G", "5G",
    ]  # fmt: skip


@pytest.mark.parametrize("bad", ["B99", "n999", "L1234", "X3", "", "1800", None, 3.0])
def test_unknown_band_is_an_input_error(bad):
    assert canonical_band(bad) is None
    with pytest.raises(InputError, match="unknown band"):
        band_frequency_mhz(bad)


def test_vectorised_lookup_gives_nan_for_unknown():
    got = band_frequencies_mhz(["B3", "zz", "n78"])
    assert got[0] == 1842.5 and np.isnan(got[1]) and got[2] == 3550.0


def test_table_is_consistent():
    for name, band in BANDS.items():
        assert 400.0 < band.downlink_low_mhz < band.downlink_high_mhz < 41000.0, name
        assert band.source.startswith("3GPP"), name
