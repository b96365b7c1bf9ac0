"""The graph operators: `+x` (parents), `x+` (children), `n+x`/`x+n` (depths), `@x`.

They walk `manifest/graph.py`'s adjacency maps. Tests are graph nodes like any other,
so `x+` reaches the tests of x's descendants directly; `@x` is x, its descendants, and
every ancestor of those (what building the descendants needs).
"""

from __future__ import annotations

from collections.abc import Iterable

from kiln.manifest.graph import Graph
from kiln.select.ast import ALL, Criterion, Depth


def _limit(depth: Depth) -> int | None:
    return None if depth is ALL else depth


def ancestors(graph: Graph, ids: Iterable[str], depth: Depth = ALL) -> set[str]:
    """The nodes upstream of `ids` within `depth` edges (not `ids` themselves)."""
    return graph.ancestors(ids, _limit(depth))


def descendants(graph: Graph, ids: Iterable[str], depth: Depth = ALL) -> set[str]:
    """The nodes downstream of `ids` within `depth` edges (not `ids` themselves)."""
    return graph.descendants(ids, _limit(depth))


def with_descendants_ancestors(graph: Graph, ids: Iterable[str]) -> set[str]:
    """`@`: the ids, all their descendants, and every ancestor of any of those."""
    selected = set(ids)
    below = descendants(graph, selected) | selected
    return ancestors(graph, below) | below


def apply_operators(graph: Graph, criterion: Criterion, ids: set[str]) -> set[str]:
    """The ids a criterion's method matched, grown by its graph operators."""
    grown = set(ids)
    if criterion.childrens_parents:
        grown |= with_descendants_ancestors(graph, ids)
    if criterion.parents is not None:
        grown |= ancestors(graph, ids, criterion.parents)
    if criterion.children is not None:
        grown |= descendants(graph, ids, criterion.children)
    return grown
