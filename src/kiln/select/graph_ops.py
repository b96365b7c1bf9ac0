"""The graph operators: `+x` (parents), `x+` (children), `n+x`/`x+n` (depths), `@x`.

They walk `manifest/graph.py`'s adjacency maps level by level, with set operations
rather than a Python step per edge. Tests are graph nodes like any other, so `x+`
reaches the tests of x's descendants directly; `@x` is x, its descendants, and every
ancestor of those (what building the descendants needs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import chain, repeat

from kiln.manifest.graph import Graph
from kiln.select.ast import ALL, Criterion, Depth

Edges = Mapping[str, tuple[str, ...]]


def neighbours(edges: Edges, ids: Iterable[str]) -> Iterable[str]:
    """Every id one edge away from `ids` (with repeats), iterated in C, not per edge.

    Example:
        >>> sorted(set(neighbours({"a": ("b", "c"), "b": ("c",)}, ["a", "b", "z"])))
        ['b', 'c']
    """
    return chain.from_iterable(map(edges.get, ids, repeat(())))


def walk(edges: Edges, ids: Iterable[str], depth: Depth = ALL) -> set[str]:
    """The ids reachable from `ids` in 1..`depth` steps along `edges`: a set-based BFS.

    A start id is in the result only when another start id reaches it.

    Example:
        >>> edges = {"a": ("b",), "b": ("c",), "c": ()}
        >>> sorted(walk(edges, ["a"])), sorted(walk(edges, ["a"], 1)), sorted(walk(edges, "ab"))
        (['b', 'c'], ['b'], ['b', 'c'])
    """
    seen: set[str] = set()
    frontier: Iterable[str] = ids
    level = 0
    while depth is ALL or level < depth:
        found = set(neighbours(edges, frontier))
        found -= seen
        if not found:
            break
        seen |= found
        frontier = found
        level += 1
    return seen


def ancestors(graph: Graph, ids: Iterable[str], depth: Depth = ALL) -> set[str]:
    """The nodes upstream of `ids` within `depth` edges (not `ids` themselves)."""
    return walk(graph.parents, ids, depth)


def descendants(graph: Graph, ids: Iterable[str], depth: Depth = ALL) -> set[str]:
    """The nodes downstream of `ids` within `depth` edges (not `ids` themselves)."""
    return walk(graph.children, ids, depth)


def with_descendants_ancestors(graph: Graph, ids: Iterable[str]) -> set[str]:
    """`@`: the ids, all their descendants, and every ancestor of any of those."""
    selected = set(ids)
    below = descendants(graph, selected) | selected
    return ancestors(graph, below) | below


def apply_operators(graph: Graph, criterion: Criterion, ids: set[str]) -> set[str]:
    """The ids a criterion's method matched, grown by its graph operators.

    Without operators this is `ids` itself; otherwise a new set.
    """
    plain = criterion.parents is None and criterion.children is None
    if plain and not criterion.childrens_parents:
        return ids
    grown = set(ids)
    if criterion.childrens_parents:
        grown |= with_descendants_ancestors(graph, ids)
    if criterion.parents is not None:
        grown |= ancestors(graph, ids, criterion.parents)
    if criterion.children is not None:
        grown |= descendants(graph, ids, criterion.children)
    return grown
