"""Plans: which sites to build or upgrade, in what order, to reach a coverage target."""

from .candidates import SOURCES, CandidateSet, gather_candidates
from .core import (
    PLAN_METRICS,
    SCOPES,
    STOP_REASONS,
    SitePlan,
    check_plan,
    pick_columns,
    plan_sites,
    region_table,
)
from .greedy import Goal, LazyGreedy, Outcome

__all__ = [
    "PLAN_METRICS",
    "SCOPES",
    "SOURCES",
    "STOP_REASONS",
    "CandidateSet",
    "Goal",
    "LazyGreedy",
    "Outcome",
    "SitePlan",
    "check_plan",
    "gather_candidates",
    "pick_columns",
    "plan_sites",
    "region_table",
]
