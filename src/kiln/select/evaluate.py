"""Evaluate a selection AST to a set of unique ids.

Union, intersection and difference are set operations; a criterion is its method's
matches grown by its graph operators. Every step also carries the tests held for
indirect selection (see `indirect.py`), which is how dbt decides which tests join.
"""

from __future__ import annotations

from collections.abc import Callable

from kiln.errors import SelectionError
from kiln.select.ast import (
    ALL,
    Criterion,
    Difference,
    IndirectSelection,
    Intersection,
    Node,
    Union,
)
from kiln.select.ast import criterion_text as render_criterion
from kiln.select.context import SelectionContext
from kiln.select.errors import MethodError, error_at, unknown_choice
from kiln.select.graph_ops import apply_operators
from kiln.select.indirect import Picked, expand, incorporate
from kiln.select.methods import METHOD_NAMES, METHODS

_SetOp = Callable[[list[frozenset[str]]], frozenset[str]]


def evaluate(node: Node, ctx: SelectionContext) -> frozenset[str]:
    """The unique ids `node` selects (before any `--resource-type` filter).

    Raises:
        SelectionError: a method cannot use its value, a selector is unknown or
            refers to itself, or prior state is needed but missing.
    """
    return Evaluator(ctx).pick(node).direct


class Evaluator:
    """Evaluates the nodes of one or more trees over one context, remembering results.

    Results are kept per node object, so asking again about a sub-expression (e.g. to
    warn about a `--select` item that matched nothing) costs nothing.
    """

    def __init__(self, ctx: SelectionContext) -> None:
        self.ctx = ctx
        self._seen: dict[int, tuple[Node, Picked]] = {}
        self._resolving: list[str] = []

    def pick(self, node: Node) -> Picked:
        """Direct and indirectly held ids of `node`."""
        known = self._seen.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        picked = self._pick(node)
        self._seen[id(node)] = (node, picked)
        return picked

    def _mode(self, node: Node) -> IndirectSelection:
        return node.indirect or self.ctx.indirect

    def _pick(self, node: Node) -> Picked:
        match node:
            case Criterion(method="selector"):
                return self._pick_reference(node)
            case Criterion():
                return expand(self._matched(node), self._mode(node), self.ctx, closed=_closed(node))
            case Union(items):
                return self._combine(node, [self.pick(i) for i in items], _union)
            case Intersection(items):
                return self._combine(node, [self.pick(i) for i in items], _intersection)
            case Difference(include, exclude):
                return self._combine(node, [self.pick(include), self.pick(exclude)], _difference)

    def _combine(self, node: Node, parts: list[Picked], op: _SetOp) -> Picked:
        direct = op([p.direct for p in parts])
        if not any(p.indirect for p in parts):
            return Picked(direct)  # nothing held back, so nothing to promote
        wider = op([p.direct | p.indirect for p in parts])
        return Picked(incorporate(direct, wider, self._mode(node), self.ctx), wider)

    def _matched(self, criterion: Criterion) -> set[str]:
        method = METHODS.get(criterion.method)
        if method is None:
            message = unknown_choice("selection method", criterion.method, METHOD_NAMES)
            raise _error(criterion, message, whole=True)
        try:
            ids = method(self.ctx, criterion.value, criterion.args)
        except MethodError as exc:
            raise _error(criterion, exc.message) from None
        # tables and the graph also hold records that are not members (disabled nodes):
        # operators grow from members only, and may walk through others without keeping them
        index = self.ctx.index
        matched = index.members_of(ids)
        grown = apply_operators(self.ctx.graph, criterion, matched)
        return matched if grown is matched else index.members_of(grown)

    def _pick_reference(self, criterion: Criterion) -> Picked:
        name, library = criterion.value, self.ctx.selectors
        if library is None or name not in library.names:
            known = library.names if library else ()
            raise _error(criterion, unknown_choice("selector", name, known))
        if name in self._resolving:
            cycle = " -> ".join([*self._resolving[self._resolving.index(name) :], name])
            raise _error(criterion, f"selector {name!r} refers to itself: {cycle}")
        self._resolving.append(name)
        try:
            picked = self.pick(library.expression(name))
        finally:
            self._resolving.pop()
        plain = criterion.parents is None and criterion.children is None
        if plain and not criterion.childrens_parents:
            return picked
        grown = apply_operators(self.ctx.graph, criterion, set(picked.direct))
        return expand(self.ctx.index.members_of(grown), self._mode(criterion), self.ctx)


def _error(criterion: Criterion, message: str, *, whole: bool = False) -> SelectionError:
    """An error with a caret under the criterion's value (or all of it)."""
    source, span, value_span = criterion.source, criterion.span, criterion.value_span
    if not source:
        # built by hand rather than parsed: point into its CLI spelling
        source = render_criterion(criterion)
        span = (0, len(source))
        start = source.index(":") + 1
        value_span = (start, start + len(criterion.value))
    return error_at(message, source, span if whole else value_span, origin=criterion.origin)


def _closed(criterion: Criterion) -> bool:
    """Whether the criterion's selection holds every child of its members: `x+`."""
    plain_parents = criterion.parents is None and not criterion.childrens_parents
    return criterion.children is ALL and plain_parents


def _union(sets: list[frozenset[str]]) -> frozenset[str]:
    return frozenset().union(*sets)


def _intersection(sets: list[frozenset[str]]) -> frozenset[str]:
    return frozenset.intersection(*sets) if sets else frozenset()


def _difference(sets: list[frozenset[str]]) -> frozenset[str]:
    return sets[0].difference(*sets[1:])
