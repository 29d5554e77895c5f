"""The keyword options of ``telecov.analyze``: one typed, documented list with its defaults."""

from __future__ import annotations

import inspect

import pytest

import telecov
from telecov.options import DEFAULTS, AnalyzeOptions, with_defaults


def test_every_option_has_a_default_and_a_docstring_entry() -> None:
    assert set(AnalyzeOptions.__annotations__) == set(DEFAULTS)
    doc = inspect.getdoc(AnalyzeOptions) or ""
    for name in DEFAULTS:
        assert name in doc, name


def test_unknown_keyword_is_a_type_error_with_a_suggestion() -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'resolution'.*'resolution_m'"):
        telecov.analyze(resolution=100.0)  # type: ignore[call-arg]


def test_defaults_fill_what_is_not_given() -> None:
    given = with_defaults({"strict": True})
    assert given["strict"] is True
    assert given["decimal"] == "." and given["resolution_m"] == DEFAULTS["resolution_m"]
