"""The scan-line engine: regions, bands of pixel rows and the numba kernels that measure them.

Modules, from the Python driver down to the kernels:

- :mod:`.partition`: what is measured (area regions as edges, geodesic footprints);
- :mod:`.bands`: bands of pixel rows and their scan strips;
- :mod:`.scan`: :func:`measure` (every region × layer of a partition) and :func:`measure_polygons`;
- :mod:`.scan_kernel`: the measure kernel of one band;
- :mod:`.gap_kernels`, :mod:`.zone_kernels`: uncovered residential rectangles and their zones;
- :mod:`.lines`, :mod:`.pixels`, :mod:`.intervals`: what a scan line sees, pixel-row prefix
  sums, interval primitives.
"""

from .partition import Footprints, Regions, regions_from_geometries
from .scan import BASE_FIELDS, Measures, measure, measure_polygons

__all__ = [
    "BASE_FIELDS",
    "Footprints",
    "Measures",
    "Regions",
    "measure",
    "measure_polygons",
    "regions_from_geometries",
]
