"""Files inlined into every map: vendored Leaflet libraries with their licences, the map's own code.

Leaflet and Leaflet.markercluster are vendored from the npm registry under ``vendor/``; the
map's own JavaScript and CSS are ``static/telecov-map.js`` and ``static/telecov-map.css``.
Everything is inlined so that a map renders with no network.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib import resources

__all__ = ["page_header"]

_VENDOR = {
    "leaflet": ("leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet/LICENSE", "1.9.4"),
    "leaflet.markercluster": (
        "leaflet.markercluster/leaflet.markercluster.js",
        "leaflet.markercluster/MarkerCluster.css",
        "leaflet.markercluster/MIT-LICENCE.txt",
        "1.5.3",
    ),
}
"""Per package: script, stylesheet, licence (paths under ``vendor/``) and version."""

_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[A-Za-z0-9_.-]+\.png)\1\)")


@cache
def _package_text(folder: str, relative: str) -> str:
    return resources.files(__package__).joinpath(folder, relative).read_text(encoding="utf-8")


@cache
def _vendor_bytes(relative: str) -> bytes:
    return resources.files(__package__).joinpath("vendor", relative).read_bytes()


def _script_text(text: str) -> str:
    """JavaScript safe to inline: no source-map fetch, no premature ``</script>``."""
    return _SOURCE_MAP.sub("", text).replace("</script", "<\\/script")


def _style_text(text: str) -> str:
    """CSS safe to inline: no premature ``</style>``."""
    return text.replace("</style", "<\\/style")


def _vendor_css(text: str, folder: str) -> str:
    """Vendored CSS with its image URLs replaced by ``data:`` URIs (no file or network fetch)."""

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode(_vendor_bytes(f"{folder}/{match.group(2)}")).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    return _style_text(_CSS_URL.sub(inline, text))


@cache
def page_header() -> str:
    """``<style>`` and ``<script>`` blocks of every vendored file with their licences, then the map's own."""
    notices = []
    blocks = []
    for package, (js, css, licence, version) in _VENDOR.items():
        folder = js.split("/")[0]
        text = _package_text("vendor", licence).replace("*/", "* /")
        notices.append(f"{package} {version} (npm registry):\n\n{text}")
        blocks.append(f"<style>\n{_vendor_css(_package_text('vendor', css), folder)}\n</style>")
        blocks.append(f"<script>\n{_script_text(_package_text('vendor', js))}\n</script>")
    licences = "\n\n".join(notices)
    own_css = _style_text(_package_text("static", "telecov-map.css"))
    own_js = _script_text(_package_text("static", "telecov-map.js"))
    return (
        f"<script>/*! Third-party software inlined in this page.\n\n{licences}\n*/</script>\n"
        + "\n".join(blocks)
        + f"\n<style>\n{own_css}</style>\n<script>\n{own_js}</script>\n"
    )
