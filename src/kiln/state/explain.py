"""`ls --explain`: why each selected node was selected.

Each criterion of the expression (the atoms, e.g. `state:modified+` or `tag:nightly`) is
evaluated on its own. A node is then explained by every atom that reaches it: matched by
the method itself (for `state:`, with the kinds of change: body, configs, macro X,
var Y, ...), reached through a graph operator from a matched node (upstream or
downstream), or added as a test of selected nodes (indirect selection).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Manifest
from kiln.select import (
    DEFAULT_SELECTION,
    Criterion,
    Difference,
    Intersection,
    Node,
    SelectionContext,
    SelectorLibrary,
    Union,
    evaluate,
    parse,
    parse_indirect_selection,
    to_text,
)
from kiln.select.grammar import parse_all
from kiln.select.graph_ops import apply_operators
from kiln.select.methods import METHODS
from kiln.state.selector import StateSelector

# at most this many related nodes are named per reason
_SHOWN = 3


@dataclass(frozen=True)
class _Atom:
    """One criterion: its text, what its method matched, and what it selects in all."""

    text: str
    criterion: Criterion
    matched: frozenset[str]
    grown: frozenset[str]
    selected: frozenset[str]


def explain(
    manifest: Manifest,
    graph: Graph,
    selected: frozenset[str],
    *,
    select: Sequence[str] = (),
    selector: str | None = None,
    selectors: Mapping[str, Any] | None = None,
    indirect_selection: str = "eager",
    state: StateSelector | None = None,
) -> dict[str, list[str]]:
    """unique id -> the reasons it was selected, for every id of `selected`.

    Args:
        manifest: the current manifest.
        graph: its DAG.
        selected: what the selection produced (after `--exclude` and resource types).
        select: the `--select` arguments.
        selector: the `--selector` name.
        selectors: the raw selectors.yml definitions.
        indirect_selection: the `--indirect-selection` mode.
        state: the prior state, to name the kinds of change behind `state:` matches.
    """
    library = SelectorLibrary(selectors or {})
    ctx = SelectionContext(
        manifest,
        graph,
        state=state,
        indirect=parse_indirect_selection(indirect_selection),
        selectors=library,
    )
    root = _root(select, selector, library)
    atoms = [_atom(criterion, ctx) for criterion in _criteria(root, library)]
    return {uid: _reasons(uid, atoms, ctx, state) for uid in sorted(selected)}


def explain_lines(reasons: Mapping[str, list[str]], *, json_output: bool = False) -> Iterator[str]:
    """One `unique_id: reason; reason` line per node, or a JSON object per node."""
    for uid, why in reasons.items():
        if json_output:
            yield json.dumps({"unique_id": uid, "explain": why})
        else:
            yield f"{uid}: {'; '.join(why) if why else 'selected'}"


def _root(select: Sequence[str], selector: str | None, library: SelectorLibrary) -> Node:
    if selector:
        return library.expression(selector)
    return parse_all(select) if select else parse(DEFAULT_SELECTION)


def _criteria(node: Node, library: SelectorLibrary) -> Iterator[Criterion]:
    """The criteria of the included side of an expression (excludes explain nothing)."""
    match node:
        case Criterion(method="selector"):
            yield from _criteria(library.expression(node.value), library)
        case Criterion():
            yield node
        case Union(items) | Intersection(items):
            for item in items:
                yield from _criteria(item, library)
        case Difference(include, _):
            yield from _criteria(include, library)


def _atom(criterion: Criterion, ctx: SelectionContext) -> _Atom:
    members = ctx.index.member_ids
    matched = frozenset(METHODS[criterion.method](ctx, criterion.value, criterion.args)) & members
    grown = frozenset(apply_operators(ctx.graph, criterion, set(matched)) & members)
    return _Atom(to_text(criterion), criterion, matched, grown, evaluate(criterion, ctx))


def _reasons(
    uid: str, atoms: list[_Atom], ctx: SelectionContext, state: StateSelector | None
) -> list[str]:
    out = []
    for atom in atoms:
        if uid in atom.matched:
            out.append(f"{atom.text}: {_changes(uid, atom, ctx, state) or 'matched'}")
        elif uid in atom.grown:
            out.append(f"{atom.text}: {_relation(uid, atom, ctx.graph)}")
        elif uid in atom.selected:
            parents = ctx.index.test_parents(uid) & atom.grown
            out.append(f"{atom.text}: test of {_names(parents)} (indirect selection)")
    return out


def _changes(uid: str, atom: _Atom, ctx: SelectionContext, state: StateSelector | None) -> str:
    """For a `state:modified...` match, the kinds of change (body, macro X, var Y, ...)."""
    if atom.criterion.method != "state" or state is None:
        return ""
    if not atom.criterion.value.startswith("modified"):
        return ""
    return ", ".join(state.changes(uid, ctx.index.members[uid]))


def _relation(uid: str, atom: _Atom, graph: Graph) -> str:
    upstream = graph.ancestors([uid]) & atom.matched
    if upstream and atom.criterion.method == "state":
        return f"upstream change in {_names(upstream)}"
    if upstream:
        return f"downstream of {_names(upstream)}"
    downstream = graph.descendants([uid]) & atom.matched
    if downstream:
        return f"upstream of {_names(downstream)}"
    return "parent of a descendant (@)"


def _names(ids: set[str] | frozenset[str]) -> str:
    ordered = sorted(ids)
    more = f" and {len(ordered) - _SHOWN} more" if len(ordered) > _SHOWN else ""
    return ", ".join(ordered[:_SHOWN]) + more
