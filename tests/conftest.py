"""Shared fixtures: paths to the bundled sample and to the real data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
IN_CI = bool(os.environ.get("CI"))


def require_shared(*parts: str) -> Path:
    """Path inside ../shared/data: skip when absent on a developer machine, fail in CI."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is required in CI")
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture
def ha_tinh() -> dict[str, Path]:
    """The real Hà Tĩnh communes and WorldPop 1 km raster."""
    return {
        "areas": require_shared("vietnam", "ha_tinh_communes_2025.geojson"),
        "population": require_shared("vietnam", "worldpop_ha_tinh_2020.tif"),
    }
