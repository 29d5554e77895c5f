"""Defaults and vocabulary shared by every step: technologies, statuses, radii, thresholds, their checks."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import InputError

BASE_TECHNOLOGIES: tuple[str, ...] = ("2G", "3G", "4G", "5G", "fiber")
"""Technologies every report row set contains, in output order."""

COMBINED_LAYERS: dict[str, tuple[str, ...]] = {
    "any_mobile": ("2G", "3G", "4G", "5G"),
    "4G+": ("4G", "5G"),
}
"""Combined layers: the union of the footprints of their member technologies."""

DEFAULT_RADIUS_M: dict[str, float] = {
    "2G": 5000.0,
    "3G": 3000.0,
    "4G": 3000.0,
    "5G": 600.0,
    "fiber": 1000.0,
}
"""Coverage radius (geodesic metres) of a site without ``radius_m`` (documented assumptions)."""

TECHNOLOGY_SPELLINGS: dict[str, tuple[str, ...]] = {
    "2G": ("2G", "GSM", "GSM900", "GSM 1800", "DCS1800", "EDGE", "GPRS", "G900"),
    "3G": ("3G", "UMTS", "WCDMA", "3G WCDMA", "HSPA", "HSPA+", "HSDPA", "U900", "U2100"),
    "4G": ("4G", "LTE", "LTE-A", "LTE+", "4G/LTE", "4G LTE", "4G+", "L900", "L1800", "L2100", "L2600"),
    "5G": ("5G", "NR", "5G NR", "NR5G", "5G NSA", "5G SA", "N41", "N78"),
    "fiber": ("fiber", "FTTH", "FTTx", "FTTB", "GPON", "XGS-PON", "fibre", "OLT", "cáp quang"),
}
"""Spellings of each technology in a sites file (matched by :func:`spelling_key`).

``4G+`` in a sites file is a 4G site; the combined output layer ``4G+`` (4G or 5G) keeps its name
where a layer is asked for (:func:`normalize_layer`).
"""

STATUSES: tuple[str, ...] = ("existing", "planned", "inactive")
"""Site statuses: ``existing`` counts, ``planned`` counts with ``include_planned``, ``inactive`` never."""

STATUS_SPELLINGS: dict[str, tuple[str, ...]] = {
    "existing": ("", "existing", "active", "on air", "in service", "operational", "live",
                 "hoạt động", "đang hoạt động", "đã phát sóng"),
    "planned": ("planned", "proposed", "under construction", "construction", "quy hoạch", "kế hoạch",
                "dự kiến", "đang xây dựng"),
    "inactive": ("inactive", "decommissioned", "off air", "ngừng hoạt động", "đã tắt"),
}  # fmt: skip
"""Spellings of each status in a sites file (an empty status is ``existing``)."""

_IGNORED = re.compile(r"[\s_-]+")


def spelling_key(text: str) -> str:
    """Return the form in which spellings are compared: NFC, case-folded, no spaces, ``-`` or ``_``.

    Examples
    --------
    >>> spelling_key(" GSM 1800 ") == spelling_key("gsm1800") == spelling_key("Gsm-1800")
    True

    """
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return _IGNORED.sub("", folded)


def _index(spellings: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {spelling_key(s): name for name, names in spellings.items() for s in (name, *names)}


@dataclass(frozen=True)
class Vocabulary:
    """What the spellings of a sites file's ``technology`` and ``status`` values mean.

    Build one with :func:`vocabulary_of`; :data:`DEFAULT_VOCABULARY` holds the built-in lists.
    """

    technology: Mapping[str, str]
    """:func:`spelling_key` of a spelling → base technology."""
    status: Mapping[str, str]
    """:func:`spelling_key` of a spelling → ``existing``, ``planned`` or ``inactive``."""

    def technology_of(self, value: object) -> str | None:
        """Return the base technology a value spells, or None when it is unknown."""
        return self.technology.get(spelling_key(value)) if isinstance(value, str) else None

    def status_of(self, value: object) -> str | None:
        """Return the status a value spells (empty → ``existing``), or None when it is unknown."""
        return self.status.get(spelling_key(value)) if isinstance(value, str) else None


DEFAULT_VOCABULARY = Vocabulary(technology=_index(TECHNOLOGY_SPELLINGS), status=_index(STATUS_SPELLINGS))
"""The built-in spellings of technologies and statuses."""

VocabularySpec = Mapping[str, Mapping[str, "Sequence[str] | str"]]
"""``{"technology": {"4G": ["eLTE"]}, "status": {"inactive": ["tháo dỡ"]}}``: spellings to add."""


def vocabulary_of(extra: VocabularySpec | Vocabulary | None = None) -> Vocabulary:
    """Return the built-in vocabulary extended by ``extra``.

    Parameters
    ----------
    extra
        Per kind (``technology``, ``status``), a base technology or status → the spellings that
        mean it (a list, or one string); a :class:`Vocabulary` is returned as it is.

    Raises
    ------
    InputError
        An unknown kind, technology or status, or a spelling that already means something else.

    """
    if isinstance(extra, Vocabulary):
        return extra
    known = {"technology": (BASE_TECHNOLOGIES, DEFAULT_VOCABULARY.technology),
             "status": (STATUSES, DEFAULT_VOCABULARY.status)}  # fmt: skip
    tables = {kind: dict(index) for kind, (_, index) in known.items()}
    for kind, entries in (extra or {}).items():
        if kind not in known:
            raise InputError(f"`vocabulary` {kind!r}: expected 'technology' or 'status'")
        names = {spelling_key(n): n for n in known[kind][0]}
        for target, spellings in entries.items():
            name = names.get(spelling_key(str(target)))
            if name is None:
                expected = ", ".join(known[kind][0])
                raise InputError(
                    f"`vocabulary` {kind} {target!r}: unknown {kind} (expected one of {expected})"
                )
            for spelling in [spellings] if isinstance(spellings, str) else list(spellings):
                _add(tables[kind], str(spelling), name, kind=kind)
    return Vocabulary(technology=tables["technology"], status=tables["status"])


def _add(table: dict[str, str], spelling: str, name: str, *, kind: str) -> None:
    key = spelling_key(spelling)
    if not key and kind == "technology":
        raise InputError(f"`vocabulary` {kind} {name!r}: an empty spelling")
    if table.get(key, name) != name:
        raise InputError(
            f"`vocabulary` {kind} {spelling!r} = {name!r}: {spelling!r} already means {table[key]!r}"
        )
    table[key] = name


def parse_aliases(items: Sequence[str] | None, *, kind: str) -> dict[str, list[str]]:
    """Turn ``SPELLING=NAME`` items (``--technology-alias eLTE=4G``) into ``{NAME: [SPELLING, ...]}``.

    Raises
    ------
    InputError
        An item without ``=``, or naming an unknown technology or status (naming the
        parameter ``<kind>_alias``).

    """
    known = BASE_TECHNOLOGIES if kind == "technology" else STATUSES
    names = {spelling_key(n): n for n in known}
    out: dict[str, list[str]] = {}
    for item in items or []:
        spelling, sep, name = item.rpartition("=")
        if not sep or not name.strip():
            example = "eLTE=4G" if kind == "technology" else "'tháo dỡ=inactive'"
            raise InputError(f"`{kind}_alias` {item!r}: expected SPELLING={kind.upper()}, e.g. {example}")
        if spelling_key(name) not in names:
            raise InputError(f"`{kind}_alias` {item!r}: unknown {kind} {name.strip()!r} (expected one of "
                             f"{', '.join(known)})")  # fmt: skip
        out.setdefault(names[spelling_key(name)], []).append(spelling)
    return out


DEFAULT_BEAMWIDTH_DEG = 120.0
"""Sector width used when a site has an ``azimuth`` but no ``beamwidth``."""

DEFAULT_RESIDENTIAL_DENSITY = 100.0
"""People per km² from which a population pixel counts as residential area."""

DEFAULT_TARGET_PCT = 99.0
"""Default coverage target in percent (provincial plans use 99 %)."""

DEFAULT_RESOLUTION_M = 10.0
"""Default spacing of the engine's scan lines in metres (see the accuracy contract)."""

MAX_RADIUS_M = 100_000.0
"""Radii above this are refused as absurd."""

DEFAULT_MIN_SHARE = 0.01
"""Crosswalk pieces smaller than this share of their old area are slivers of boundary mismatch."""

DEFAULT_SPLIT_DISTANCE_M = 2000.0
"""OpenCelliD: cells of one eNB/gNB/NodeB/BTS farther apart than this (single linkage) are several sites."""
DEFAULT_GROUP_DISTANCE_M = 500.0
"""OpenCelliD: GSM/UMTS cells without sector-digit ids closer than this (single linkage) are one site."""
DEFAULT_SECTOR_DIGIT_SHARE = 0.9
"""OpenCelliD: an operator numbers by sector digit when at least this share of its CIs end in 1–9."""
DEFAULT_NR_GNB_BITS = 24
"""OpenCelliD: bits of the gNB id in a 36-bit NR cell id."""

METRICS: tuple[str, ...] = ("population", "residential", "area")
"""Metric names used in every command."""


def normalize_technology(name: object) -> str | None:
    """Return the canonical base technology name, or None when the name is unknown.

    Parameters
    ----------
    name
        A technology as written in an input file (e.g. ``"LTE"``, ``"fibre"``).

    """
    return DEFAULT_VOCABULARY.technology_of(name)


def normalize_layer(name: str) -> str | None:
    """Return the canonical name of a base technology or combined layer, or None."""
    combined = {spelling_key(k): k for k in COMBINED_LAYERS}
    return combined.get(spelling_key(name)) or normalize_technology(name)


def check_technology(technology: str, *, where: str = "`technology`") -> str:
    """Canonical name of a base technology or combined layer (``any_mobile``, ``4G+``).

    Raises
    ------
    InputError
        Unknown technology, naming ``where`` it came from.

    """
    name = normalize_layer(technology) if isinstance(technology, str) else None
    if name is None:
        known = ", ".join([*BASE_TECHNOLOGIES, *COMBINED_LAYERS])
        raise InputError(f"{where} {technology!r}: unknown technology (expected one of {known})")
    return name


def check_metric(metric: str, *, where: str = "`metric`") -> str:
    """Return ``metric`` if it is one of ``population``, ``residential``, ``area``.

    Raises
    ------
    InputError
        Unknown metric, naming ``where`` it came from.

    """
    if metric not in METRICS:
        raise InputError(f"{where} {metric!r}: unknown metric (expected one of {', '.join(METRICS)})")
    return metric


def check_pct(value: float, *, where: str = "`target`") -> float:
    """Return ``value`` as a float if it is a percentage between 0 and 100.

    Raises
    ------
    InputError
        Not a number between 0 and 100, naming ``where`` it came from.

    """
    pct = float(value)
    if not math.isfinite(pct) or not 0 <= pct <= 100:
        raise InputError(f"{where} {value:g}: must be between 0 and 100")
    return pct


def needs_combined(*technologies: str) -> bool:
    """Whether any of the (canonical) technologies is a combined layer."""
    return any(t in COMBINED_LAYERS for t in technologies)
