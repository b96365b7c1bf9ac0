"""The DAG over a manifest: parents, children, topological order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kiln.manifest.nodes import Manifest


@dataclass(frozen=True, slots=True)
class Graph:
    """Adjacency maps over unique ids (nodes, sources, exposures)."""

    parents: dict[str, tuple[str, ...]]
    children: dict[str, tuple[str, ...]]

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> Graph:
        """Build the graph from the `depends_on.nodes` of nodes, exposures and unit tests."""
        parents: dict[str, tuple[str, ...]] = {}
        children: dict[str, list[str]] = {}
        for uid in manifest.sources:
            parents[uid] = ()
            children.setdefault(uid, [])
        collections: tuple[dict[str, Any], ...] = (
            manifest.nodes,
            manifest.exposures,
            manifest.unit_tests,
        )
        for collection in collections:
            for uid, node in collection.items():
                deps = tuple(dict.fromkeys(node.depends_on_nodes))
                parents[uid] = deps
                children.setdefault(uid, [])
                for dep in deps:
                    children.setdefault(dep, []).append(uid)
        return cls(parents=parents, children={k: tuple(sorted(v)) for k, v in children.items()})

    def ancestors(self, ids: Iterable[str], depth: int | None = None) -> set[str]:
        """Every node upstream of `ids` (not including them), up to `depth` edges."""
        return _walk(self.parents, ids, depth)

    def descendants(self, ids: Iterable[str], depth: int | None = None) -> set[str]:
        """Every node downstream of `ids` (not including them), up to `depth` edges."""
        return _walk(self.children, ids, depth)

    def topological_order(self, ids: Iterable[str] | None = None) -> list[str]:
        """Ids in an order where every node follows its parents (ties by unique id)."""
        wanted = set(self.parents) if ids is None else set(ids)
        indegree = {u: sum(1 for p in self.parents.get(u, ()) if p in wanted) for u in wanted}
        ready = sorted(u for u, d in indegree.items() if d == 0)
        order: list[str] = []
        import heapq

        heapq.heapify(ready)
        while ready:
            uid = heapq.heappop(ready)
            order.append(uid)
            for child in self.children.get(uid, ()):
                if child in indegree:
                    indegree[child] -= 1
                    if indegree[child] == 0:
                        heapq.heappush(ready, child)
        return order

    def find_cycle(self) -> list[str] | None:
        """One cycle as a list of ids, or None when the graph is acyclic."""
        white, grey, black = 0, 1, 2
        color = dict.fromkeys(self.parents, white)
        for start in sorted(self.parents):
            if color[start] != white:
                continue
            stack: list[tuple[str, int]] = [(start, 0)]
            path: list[str] = []
            while stack:
                uid, idx = stack.pop()
                if idx == 0:
                    color[uid] = grey
                    path.append(uid)
                kids = self.children.get(uid, ())
                if idx < len(kids):
                    stack.append((uid, idx + 1))
                    kid = kids[idx]
                    if color.get(kid, black) == grey:
                        return path[path.index(kid) :] + [kid]
                    if color.get(kid) == white:
                        stack.append((kid, 0))
                else:
                    color[uid] = black
                    path.pop()
        return None


def _walk(edges: dict[str, tuple[str, ...]], ids: Iterable[str], depth: int | None) -> set[str]:
    seen: set[str] = set()
    frontier = list(ids)
    level = 0
    while frontier and (depth is None or level < depth):
        nxt: list[str] = []
        for uid in frontier:
            for other in edges.get(uid, ()):
                if other not in seen:
                    seen.add(other)
                    nxt.append(other)
        frontier = nxt
        level += 1
    return seen
