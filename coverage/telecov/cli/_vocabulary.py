"""``[vocabulary.technology]`` and ``[vocabulary.status]`` in ``telecov.toml``: spellings to add.

```toml
[vocabulary.technology]
4G = ["eLTE", "LTE 700"]

[vocabulary.status]
inactive = ["tháo dỡ"]
```

Each table maps a technology (``2G`` … ``fiber``) or a status (``existing``, ``planned``,
``inactive``) to the spellings that mean it; the file turns them into ``--technology-alias`` and
``--status-alias`` items (``eLTE=4G``), added to any such items the file sets itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InputError
from ..vocabulary import BASE_TECHNOLOGIES, STATUSES, spelling_key

OPTION_OF = {"technology": "technology-alias", "status": "status-alias"}
"""Table of ``[vocabulary]`` → the option its items become."""


def vocabulary_options(value: Any, *, where: Callable[[str | None, str], str]) -> dict[str, list[str]]:
    """Return the ``[vocabulary]`` table as option items: ``{"technology-alias": ["eLTE=4G"], ...}``.

    Parameters
    ----------
    value
        The ``vocabulary`` value read from the file.
    where
        ``where(table, key)``: ``FILE:LINE`` of a key (in ``[table]``, or top level for None).

    Raises
    ------
    InputError
        Not a table, an unknown table or technology or status, or spellings that are not text,
        naming the file and line.

    """
    if not isinstance(value, dict):
        raise InputError(f"{where(None, 'vocabulary')}: vocabulary must be tables ([vocabulary.technology], "
                         "[vocabulary.status])")  # fmt: skip
    out: dict[str, list[str]] = {}
    for kind, table in value.items():
        if kind not in OPTION_OF or not isinstance(table, dict):
            raise InputError(
                f"{where(None, f'vocabulary.{kind}')}: [vocabulary.{kind}]: expected [vocabulary.technology] "
                "or [vocabulary.status], each a table of NAME = [spellings]"
            )
        known = BASE_TECHNOLOGIES if kind == "technology" else STATUSES
        names = {spelling_key(n): n for n in known}
        for name, spellings in table.items():
            at = where(f"vocabulary.{kind}", name)
            canonical = names.get(spelling_key(str(name)))
            if canonical is None:
                raise InputError(f"{at}: [vocabulary.{kind}] {name!r}: unknown {kind} (expected one of "
                                 f"{', '.join(known)})")  # fmt: skip
            items = [spellings] if isinstance(spellings, str) else spellings
            if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
                raise InputError(f"{at}: [vocabulary.{kind}] {name} takes a list of spellings (text)")
            out.setdefault(OPTION_OF[kind], []).extend(f"{s}={canonical}" for s in items)
    return out
