"""Lazy greedy maximal-coverage location on exact marginal gains.

Why greedy: covering people is a monotone submodular objective (a site never adds more once
others are built), and so is its truncated form ``Σ min(covered, target share)`` over
communes or parents. For such objectives under a cardinality budget the greedy choice — always
the site that adds most — is within a factor ``1 − 1/e ≈ 0.632`` of the optimum
(Nemhauser, Wolsey and Fisher, 1978), and no polynomial algorithm does better in general
(Feige, 1998). In practice it comes much closer: the tests compare it with an exact integer
programme (HiGHS through ``scipy.optimize.milp``) on real communes and the real raster.

Why lazy: gains only shrink as sites are picked, so a gain measured earlier is an upper bound.
Candidates wait in a heap under their last gain; the top one is re-measured only when a pick
overlapped it since (:func:`telecov.engine.gains.marginal_gains`, in batches), and taken when
it still beats every other bound (Minoux's accelerated greedy). The picks are exactly those of
the plain greedy.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..engine.gains import GainModel, marginal_gains
from ..engine.partition import Footprints
from ..geodesy import GEOD, degrees_lat_for

BATCH = 16
"""Candidates re-measured together when the top of the heap is out of date."""
TOLERANCE_PCT = 1e-9
"""A share this close under the target counts as meeting it (as ``telecov targets`` does)."""

Float = NDArray[np.float64]


@dataclass(frozen=True)
class Goal:
    """What the plan maximises and when it stops.

    ``field`` is the index (in area m², people, residential m², residential people) of the
    quantity whose share is the target; ``people`` the index of the people that ``min_gain``
    counts.
    """

    scope: str
    target: float
    field: int
    people: int
    min_gain: float = 1.0
    budget: int | None = None
    budget_cost: float | None = None
    min_spacing: float | None = None


@dataclass
class Outcome:
    """The picks in order and what each added; ``stop`` says why the greedy stopped."""

    picks: list[int] = field(default_factory=list)
    stop: str = "target"
    value: list[float] = field(default_factory=list)
    gain: list[Float] = field(default_factory=list)
    """What each pick newly covers in the whole area (4 fields)."""
    total_after: list[Float] = field(default_factory=list)
    commune_after: list[Float] = field(default_factory=list)
    covered: Float = field(default_factory=lambda: np.zeros((0, 4)))
    reevaluated: int = 0
    cluster: dict[str, float] = field(default_factory=dict)
    """On a cluster: the parts kept on the workers, round trips and their seconds."""


def within(lon: float, lat: float, lons: Float, lats: Float, metres: float) -> NDArray[np.bool_]:
    """Where points lie within ``metres`` (geodesic) of (lon, lat)."""
    dlat = float(degrees_lat_for(np.asarray([metres]), np.asarray([lat]))[0])
    dlon = dlat / max(np.cos(np.radians(min(abs(lat) + dlat, 89.9))), 1e-6) * 1.01
    near = np.flatnonzero((np.abs(lats - lat) <= dlat) & (np.abs(lons - lon) <= dlon))
    out = np.zeros(lons.shape[0], dtype=bool)
    if near.size:
        _, _, dist = GEOD.inv(np.full(near.size, lon), np.full(near.size, lat), lons[near], lats[near])
        out[near[np.asarray(dist) < metres]] = True
    return out


class LazyGreedy:
    """Lazy greedy over a :class:`GainModel` (see the module docstring).

    Parameters
    ----------
    model, gains
        Candidates and their gains per pair (updated in place as they are re-measured).
    base, covered
        Per region (areas, parents, total) the whole and the covered part before the plan.
    goal
        Objective, target and limits.
    cost
        Cost of each candidate (used with ``goal.budget_cost``).
    area_of
        The area each candidate stands in.
    n_parents
        Parents among the regions.

    """

    def __init__(
        self,
        model: GainModel,
        gains: Float,
        *,
        base: Float,
        covered: Float,
        goal: Goal,
        cost: Float,
        area_of: NDArray[np.int64],
        n_parents: int,
    ) -> None:
        self.model, self.gains, self.goal = model, gains, goal
        self.base, self.covered = base, covered.copy()
        self.cost, self.area_of = cost, area_of
        n_areas = base.shape[0] - n_parents - 1
        self.total = base.shape[0] - 1
        self.scope = {
            "area": (0, n_areas),
            "parent": (n_areas, self.total),
            "total": (self.total, self.total + 1),
        }[goal.scope]
        n = len(model.candidates)
        self.dirty = np.zeros(n, dtype=bool)
        self.dead = np.zeros(n, dtype=bool)
        self.people_ub = np.zeros(n)
        self.outcome = Outcome()
        self.skipped_cost = 0
        self.under_min = 0
        self.spent = 0.0
        self._picked_fp: Footprints | None = None
        self.short = self._shortfall()
        self.box = model.candidates.bounds
        first = model.candidates.ptr[:-1]
        self.lon = model.candidates.footprints.lon[first]
        self.lat = model.candidates.footprints.lat[first]

    # -- the objective -------------------------------------------------------------------

    def _shortfall(self) -> Float:
        """Per region, what is missing to the target in the objective's unit (0 when met)."""
        f = self.goal.field
        whole, part = self.base[:, f], self.covered[:, f]
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(whole > 0, 100.0 * part / whole, np.inf)
        need = self.goal.target / 100.0 * whole - part
        return np.where(pct >= self.goal.target - TOLERANCE_PCT, 0.0, np.maximum(need, 0.0))

    def met(self) -> bool:
        """Whether every region of the scope (with a defined share) meets the target."""
        lo, hi = self.scope
        return not (self.short[lo:hi] > 0).any()

    def _pairs(self, c: int) -> tuple[NDArray[np.int64], Float]:
        ptr = self.model.pairs.ptr
        return self.model.pairs.region[ptr[c] : ptr[c + 1]], self.gains[ptr[c] : ptr[c + 1]]

    def value(self, c: int) -> float:
        """Return what candidate ``c`` adds to the objective now."""
        region, gain = self._pairs(c)
        lo, hi = self.scope
        inside = (region >= lo) & (region < hi)
        g = gain[inside, self.goal.field]
        if self.goal.scope == "total":
            return float(g.sum())
        return float(np.minimum(g, self.short[region[inside]]).sum())

    def people(self, c: int) -> float:
        """People (of the metric) candidate ``c`` newly covers in the whole area."""
        region, gain = self._pairs(c)
        return float(gain[region == self.total, self.goal.people].sum())

    def key(self, c: int) -> float:
        """Heap key: the value, per unit of cost with a cost budget."""
        v = self.value(c)
        return v / self.cost[c] if self.goal.budget_cost is not None else v

    def _initial_keys(self) -> Float:
        """Return every candidate's key (and its people, into ``people_ub``) at once."""
        pairs, g = self.model.pairs, self.goal
        n = len(self.model.candidates)
        region, owner = pairs.region, pairs.candidate
        lo, hi = self.scope
        part = self.gains[:, g.field]
        if g.scope != "total":
            part = np.minimum(part, self.short[region])
        inside = np.where((region >= lo) & (region < hi), part, 0.0)
        value = np.bincount(owner, weights=inside, minlength=n).astype(np.float64)
        own = np.where(region == self.total, self.gains[:, g.people], 0.0)
        self.people_ub = np.bincount(owner, weights=own, minlength=n).astype(np.float64)
        return np.asarray(value / self.cost if g.budget_cost is not None else value, dtype=np.float64)

    @property
    def _key_is_people(self) -> bool:
        """Whether the key is the pick's people, so the top key bounds every other's people."""
        g = self.goal
        return g.scope == "total" and g.budget_cost is None and g.field == g.people

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Pick until the target, the budget or the minimum gain stops the plan."""
        out = self.outcome
        if self.met():
            out.stop = "target"
            return self._done()
        keys = self._initial_keys()
        heap = [(-float(keys[c]), int(c)) for c in np.flatnonzero(keys > 0)]
        heapq.heapify(heap)
        while True:
            if self.goal.budget is not None and len(out.picks) >= self.goal.budget:
                out.stop = "budget"
                break
            c = self._next(heap)
            if c is None:
                out.stop = "budget" if self.skipped_cost else "min_gain" if self.under_min else "candidates"
                break
            self._pick(c)
            if self.met():
                out.stop = "target"
                break
        return self._done()

    def _done(self) -> Outcome:
        self.outcome.covered = self.covered
        return self.outcome

    def _next(self, heap: list[tuple[float, int]]) -> int | None:
        """Return the next pick: the top of the heap once up to date and still the best."""
        g = self.goal
        while heap:
            _, c = heapq.heappop(heap)
            if self.dead[c]:
                continue
            if self.people_ub[c] < g.min_gain:
                self._drop_under_min(c)
                continue
            if self.dirty[c]:
                self._refresh(c, heap)
                continue
            k = self.key(c)
            if k <= 0:
                self.dead[c] = True
                continue
            if heap and k < -heap[0][0]:
                heapq.heappush(heap, (-k, c))
                continue
            if self._key_is_people and k < g.min_gain:
                self.under_min += 1
                return None
            if g.budget_cost is not None and self.spent + self.cost[c] > g.budget_cost * (1 + 1e-12):
                self.dead[c] = True
                self.skipped_cost += 1
                continue
            return c
        return None

    def _drop_under_min(self, c: int) -> None:
        self.dead[c] = True
        self.under_min += 1

    def _refresh(self, c: int, heap: list[tuple[float, int]]) -> None:
        """Re-measure ``c`` and the out-of-date candidates next in the heap, then put them back."""
        batch = [c]
        while heap and len(batch) < BATCH:
            top = heap[0][1]
            if self.dead[top]:
                heapq.heappop(heap)
            elif self.dirty[top]:
                batch.append(heapq.heappop(heap)[1])
            else:
                break
        which = np.asarray(batch, dtype=np.int64)
        marginal_gains(self.model, which, self._picked(), self.gains)
        self.outcome.reevaluated += which.shape[0]
        self.dirty[which] = False
        for b in batch:
            self.people_ub[b] = self.people(b)
            k = self.key(b)
            if k > 0:
                heapq.heappush(heap, (-k, b))
            else:
                self.dead[b] = True

    def _picked(self) -> Footprints:
        if self._picked_fp is None:
            self._picked_fp = self.model.candidates.footprints_of(
                np.asarray(self.outcome.picks, dtype=np.int64)
            )
        return self._picked_fp

    def _pick(self, c: int) -> None:
        """Take ``c``: add its gains, mark the candidates it overlaps and those too close."""
        out = self.outcome
        region, gain = self._pairs(c)
        out.value.append(self.value(c))
        out.gain.append(gain[region == self.total].sum(axis=0))
        np.add.at(self.covered, region, gain)
        self.covered = np.minimum(self.covered, self.base)
        self.short = self._shortfall()
        out.picks.append(c)
        self._picked_fp = None
        out.total_after.append(self.covered[self.total].copy())
        out.commune_after.append(self.covered[self.area_of[c]].copy())
        self.spent += float(self.cost[c])
        self.dead[c] = True
        west, south, east, north = self.box
        self.dirty |= (west <= east[c]) & (east >= west[c]) & (south <= north[c]) & (north >= south[c])
        if self.goal.min_spacing:
            self.dead |= within(self.lon[c], self.lat[c], self.lon, self.lat, self.goal.min_spacing)
