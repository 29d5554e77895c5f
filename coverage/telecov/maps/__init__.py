"""Maps: the offline interactive HTML map and the static PNG of the coverage per area.

``html`` builds and saves the map, ``png`` draws the figure (matplotlib is imported only when
a figure is drawn); ``payload``, ``overlays`` and ``elements`` make the page's data and
layers, ``geometry`` simplifies and encodes borders, ``styles`` holds the classes and colours,
and ``assets`` inlines the vendored libraries and the map's ``static/`` JavaScript and CSS.
"""

from .html import coverage_map, save_map
from .png import coverage_png
from .styles import CLASS_COLORS, NO_DATA_COLOR, coverage_classes

__all__ = ["CLASS_COLORS", "NO_DATA_COLOR", "coverage_classes", "coverage_map", "coverage_png", "save_map"]
