"""Folium elements of the map: each writes a JSON block and the script that draws it.

Data travel as JSON in ``<script type="application/json">`` blocks, never as code; the
drawing is done by the page's ``telecov`` object (``static/telecov-map.js``).
"""

from __future__ import annotations

import json
from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.map import Layer
from folium.template import Template

from .assets import page_header

__all__ = [
    "Box",
    "Communes",
    "DataLayer",
    "FootprintLayer",
    "Header",
    "TechLayer",
    "json_text",
    "stable_names",
]


def json_text(payload: object) -> str:
    """JSON for a ``<script type="application/json">`` block: ``<`` escaped, cannot close it."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class Header(MacroElement):
    """Inline vendored libraries, licences, the page CSS and the telecov runtime."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}{{ this.text }}{% endmacro %}
        {% macro script(this, kwargs) %}telecov.setup({{ this._parent.get_name() }});{% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "TelecovHeader"
        self.text = page_header()


class Communes(MacroElement):
    """Shared choropleth data and the object that draws it."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}<script type="application/json" id="{{ this.get_name() }}_data">
        {{- this.json }}</script>{% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new telecov.Communes({{ this._parent.get_name() }},
            {{ this.config|tojson }}, {{ (this.get_name() ~ "_data")|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, payload: object, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "TelecovCommunes"
        self.config = config
        self.json = json_text(payload)


class TechLayer(Layer):
    """Base layer: the choropleth of one technology (radio button)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new telecov.TechLayer({{ this.communes.get_name() }}, {{ this.index }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, communes: Communes, index: int, *, show: bool) -> None:
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "TelecovTechLayer"
        self.communes = communes
        self.index = index


class DataLayer(Layer):
    """Overlay built in the page from a JSON block (``kind``: ``sites`` or ``geo``)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}<script type="application/json" id="{{ this.get_name() }}_data">
        {{- this.json }}</script>{% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = telecov.{{ this.kind }}({{ this._parent.get_name() }},
            {{ this.config|tojson }}, {{ (this.get_name() ~ "_data")|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, kind: str, payload: object, config: dict[str, Any], *, show: bool) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "TelecovLayer"
        self.kind = kind
        self.config = config
        self.payload: Any = payload
        self.json = json_text(payload)


class FootprintLayer(Layer):
    """Overlay drawing the footprints of a sites layer's counted sites.

    Discs and wedges are drawn from the site rows themselves; sites whose measured footprint is
    a polygon (lobe, terrain shadows) have its outline in this layer's own JSON block.
    """

    _template = Template(
        """
        {% macro html(this, kwargs) %}{% if this.json %}<script type="application/json" id="{{
        this.get_name() }}_shapes">{{- this.json }}</script>{% endif %}{% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = telecov.footprints({{ this._parent.get_name() }},
            {{ this.config|tojson }}, {{ (this.source.get_name() ~ "_data")|tojson }},
            {{ (this.get_name() ~ "_shapes")|tojson if this.json else "null" }});
        {% endmacro %}
        """
    )

    def __init__(
        self, name: str, source: DataLayer, config: dict[str, Any], shapes: dict[str, Any] | None = None
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=False)
        self._name = "TelecovFootprints"
        self.source = source
        self.config = config
        self.shapes = shapes
        self.json = json_text(shapes) if shapes else ""


class Box(MacroElement):
    """A fixed panel (title, legend) with static, already escaped HTML."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        telecov.box({{ this._parent.get_name() }}, {{ this.position|tojson }},
            {{ this.css_class|tojson }}, {{ this.content|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, position: str, css_class: str, content: str) -> None:
        super().__init__()
        self._name = "TelecovBox"
        self.position = position
        self.css_class = css_class
        self.content = content


def stable_names(fmap: folium.Map) -> None:
    """Deterministic element ids, so that the same inputs give the same HTML."""
    counter = 0

    def walk(element: Element) -> None:
        nonlocal counter
        element._id = f"{counter:04d}"
        counter += 1
        for child in list(element._children.values()):
            walk(child)

    walk(fmap)
