"""Node selection: dbt's `--select`/`--exclude`/`--selector` language over a manifest.

    ids = select_nodes(manifest, graph, select=["+fct_orders"], exclude=["tag:pii"],
                       selector=None, selectors=raw_selectors_yml,
                       resource_types=None, exclude_resource_types=None)

The expression is parsed once into an AST (`grammar.py`, or `selectors.py` for YAML
selectors), evaluated as set operations over unique ids (`evaluate.py`, `methods.py`,
`graph_ops.py`, `indirect.py`) and finally filtered by the command's resource types
(`resource_types.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.errors import SelectionError
from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Manifest
from kiln.select.ast import (
    ALL,
    Criterion,
    Difference,
    IndirectSelection,
    Intersection,
    Node,
    Union,
    source_text,
    to_text,
    with_indirect,
)
from kiln.select.context import PriorState, SelectionContext
from kiln.select.errors import unknown_choice
from kiln.select.evaluate import Evaluator, evaluate
from kiln.select.grammar import parse, parse_all
from kiln.select.index import NodeIndex
from kiln.select.resource_types import COMMANDS, command_types, resolve_resource_types
from kiln.select.selectors import SelectorLibrary

__all__ = [
    "ALL",
    "COMMANDS",
    "DEFAULT_SELECTION",
    "Criterion",
    "Difference",
    "IndirectSelection",
    "Intersection",
    "Node",
    "NodeIndex",
    "PriorState",
    "SelectionContext",
    "SelectionResult",
    "SelectorLibrary",
    "Union",
    "evaluate",
    "parse",
    "parse_indirect_selection",
    "resolve_resource_types",
    "resolve_selection",
    "select_nodes",
    "to_text",
]

# what dbt selects without --select (graph/cli.py DEFAULT_INCLUDES)
DEFAULT_SELECTION = "fqn:* source:* exposure:* metric:* semantic_model:* saved_query:* unit_test:*"


@dataclass(frozen=True, slots=True)
class SelectionResult:
    """The outcome of a selection.

    Attributes:
        unique_ids: the selected ids, filtered by the command's resource types.
        expression: the AST that was evaluated.
        selector: the YAML selector used (`--selector`, or the `default: true` one).
        unmatched: the `--select`/`--exclude` items that matched nothing, for dbt's
            "The selection criterion '...' does not match any enabled nodes" warning.
    """

    unique_ids: frozenset[str]
    expression: Node
    selector: str | None = None
    unmatched: tuple[str, ...] = ()


def select_nodes(
    manifest: Manifest,
    graph: Graph,
    *,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    selector: str | None = None,
    selectors: Mapping[str, Any] | None = None,
    resource_types: Sequence[str] | None = None,
    exclude_resource_types: Sequence[str] | None = None,
    indirect_selection: str = "eager",
    command: str = "ls",
    state: PriorState | None = None,
    index: NodeIndex | None = None,
) -> frozenset[str]:
    """The unique ids a command selects, as dbt-core would.

    Args:
        manifest: the parsed project.
        graph: its DAG.
        select: the `--select` arguments (their union); None or empty selects
            everything (`DEFAULT_SELECTION`), or the `default: true` YAML selector.
        exclude: the `--exclude` arguments; their nodes and those nodes' tests go.
        selector: `--selector NAME`; when given, `select` and `exclude` are ignored.
        selectors: the parsed selectors.yml (raw); defaults to `manifest.selectors`.
        resource_types: `--resource-type` values (`all` and `default` allowed).
        exclude_resource_types: `--exclude-resource-type` values.
        indirect_selection: `--indirect-selection`: eager, cautious, buildable, empty.
        command: whose resource types to keep (`ls`, `build`, `run`, `test`, ...).
        state: prior state for `state:`, `result:` and `source_status:`.
        index: lookup tables of an earlier selection over the same manifest, to reuse
            (`NodeIndex(manifest)`); without it each call builds what it needs.

    Returns:
        The selected unique ids.

    Raises:
        SelectionError: an expression, selector, option or method value is invalid.
    """
    return resolve_selection(
        manifest, graph, select=select, exclude=exclude, selector=selector,
        selectors=selectors, resource_types=resource_types,
        exclude_resource_types=exclude_resource_types,
        indirect_selection=indirect_selection, command=command, state=state, index=index,
    ).unique_ids  # fmt: skip


def resolve_selection(
    manifest: Manifest,
    graph: Graph,
    *,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    selector: str | None = None,
    selectors: Mapping[str, Any] | None = None,
    resource_types: Sequence[str] | None = None,
    exclude_resource_types: Sequence[str] | None = None,
    indirect_selection: str = "eager",
    command: str = "ls",
    state: PriorState | None = None,
    index: NodeIndex | None = None,
) -> SelectionResult:
    """`select_nodes`, also returning the expression, selector and unmatched items.

    Arguments and errors are those of `select_nodes`.
    """
    mode = parse_indirect_selection(indirect_selection)
    library = SelectorLibrary(manifest.selectors if selectors is None else selectors)
    types = resolve_resource_types(command, resource_types, exclude_resource_types)
    expression, used, items = _expression(select, exclude, selector, library)
    ctx = SelectionContext(
        manifest, graph, state=state, indirect=mode, selectors=library, shared_index=index
    )
    evaluator = Evaluator(ctx)
    chosen = evaluator.pick(expression).direct
    unmatched = tuple(source_text(item) for item in items if not evaluator.pick(item).direct)
    ids = ctx.index.of_types(chosen, types)
    if not command_types(command).include_empty:
        # dbt skips a model whose file is empty (`node.empty`) everywhere but in `ls`
        ids -= ctx.index.empty_models_among(ids)
    return SelectionResult(ids, expression, used, unmatched)


def parse_indirect_selection(value: str | IndirectSelection) -> IndirectSelection:
    """The `--indirect-selection` value as an enum member.

    Example:
        >>> parse_indirect_selection("cautious")
        <IndirectSelection.CAUTIOUS: 'cautious'>

    Raises:
        SelectionError: the value is not a mode.
    """
    choices = [mode.value for mode in IndirectSelection]
    if value not in choices:
        raise SelectionError(unknown_choice("--indirect-selection mode", str(value), choices))
    return IndirectSelection(value)


def _expression(
    select: Sequence[str] | None,
    exclude: Sequence[str] | None,
    selector: str | None,
    library: SelectorLibrary,
) -> tuple[Node, str | None, list[Node]]:
    """The AST to evaluate, the YAML selector used, and the items dbt warns about."""
    name = selector or (None if select or exclude else library.default_name)
    if name:
        library.expression(name)  # fails early, naming the selector, if it is invalid
        return _reference(name), name, []
    include = parse_all(select) if select else parse(DEFAULT_SELECTION)
    items = _items(include) if select else []
    if not exclude:
        return include, None, items
    excluded = with_indirect(parse_all(exclude), IndirectSelection.EAGER)
    return Difference(include, excluded), None, items + _items(excluded)


def _reference(name: str) -> Criterion:
    """`selector:<name>`, so that cycles through this selector are reported from it."""
    source = f"selector:{name}"
    span = (0, len(source))
    return Criterion("selector", (), name, span=span, value_span=(9, span[1]), source=source)


def _items(node: Node) -> list[Node]:
    """The space-separated items of one or more parsed arguments."""
    if isinstance(node, Union):
        return [item for part in node.items for item in _items(part)]
    return [node]
