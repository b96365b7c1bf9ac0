"""What evaluating a selection needs: the manifest, its graph, options and prior state.

There are no globals: everything a method may consult travels in one immutable
`SelectionContext`. Lookup tables over the manifest are built lazily, the first time a
method asks for them, and then shared by every expression evaluated with that context.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Manifest
from kiln.select.ast import IndirectSelection, Node
from kiln.select.index import NodeIndex


class PriorState(Protocol):
    """The hook through which `state:`, `result:` and `source_status:` reach prior state.

    `kiln.state` implements it over a previous invocation's artifacts (manifest.json,
    run_results.json, sources.json) and passes the object as `select_nodes(state=...)`.

    `select` gets the method name (`"state"`, `"result"` or `"source_status"`), the
    value as written (`"modified.body"`, `"error"`, `"fresher"`, ...) and the context
    (for the current manifest, graph and `ctx.index.members`). It returns the matching
    unique ids of the *current* manifest; the evaluator applies graph operators and
    indirect selection afterwards, as for any method. It raises `SelectionError` for a
    value it does not know, or when the artifact it needs is missing (e.g. `result:`
    without run_results.json), saying which `--state` file to provide.
    """

    def select(self, method: str, value: str, ctx: SelectionContext) -> Iterable[str]:
        """The unique ids of the current manifest matching `method:value`."""
        ...


class SelectorLookup(Protocol):
    """Resolves `selector:<name>` references (implemented by `SelectorLibrary`)."""

    @property
    def names(self) -> tuple[str, ...]:
        """Every selector name defined."""
        ...

    def expression(self, name: str) -> Node:
        """The compiled definition of the selector `name`."""
        ...


@dataclass(frozen=True)
class SelectionContext:
    """Everything a selection is evaluated against.

    Attributes:
        manifest: the current manifest.
        graph: its DAG (parents and children of every node, source and exposure).
        state: prior state for `state:`/`result:`/`source_status:`; None without `--state`.
        indirect: the invocation's `--indirect-selection` mode, used by every AST node
            that does not fix its own.
        selectors: the project's YAML selectors, for `selector:` references.
        shared_index: lookup tables built earlier over the same manifest, to reuse
            across selections (tables are built on first use either way).
    """

    manifest: Manifest
    graph: Graph
    state: PriorState | None = None
    indirect: IndirectSelection = IndirectSelection.EAGER
    selectors: SelectorLookup | None = None
    shared_index: NodeIndex | None = None

    @cached_property
    def index(self) -> NodeIndex:
        """Lookup tables over the manifest, each built on first use."""
        if self.shared_index is not None and self.shared_index.manifest is self.manifest:
            return self.shared_index
        return NodeIndex(self.manifest)
