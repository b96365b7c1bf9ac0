"""The selection AST: what `--select`, `--exclude` and selectors.yml compile to.

Every node is a frozen dataclass with a `span` into the text it was parsed from, so an
error found while evaluating can still point at the token that caused it. Spans are
`(start, end)` offsets into the source string (code points; for the ASCII expressions
users type they are also byte offsets).

The evaluator has exactly one input type: a CLI expression and a YAML selector produce
the same trees.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Final, Literal, TypeAlias


class IndirectSelection(enum.StrEnum):
    """How tests attached to selected nodes join the selection (dbt's four modes)."""

    EAGER = "eager"
    CAUTIOUS = "cautious"
    BUILDABLE = "buildable"
    EMPTY = "empty"


class _All(enum.Enum):
    """Marker for an unbounded graph operator (`+x` rather than `2+x`)."""

    ALL = "all"

    def __repr__(self) -> str:
        return "ALL"


ALL: Final = _All.ALL
Depth: TypeAlias = int | Literal[_All.ALL]
Span: TypeAlias = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Criterion:
    """One `method(.arg)*:value` with its graph operators.

    Attributes:
        method: the method name, resolved when the text had none (fqn, path or file).
        args: the dotted arguments after the method (`config.materialized` -> `materialized`).
        value: the text after the colon; may hold fnmatch globs.
        parents: `+x` / `n+x` depth, or None without a leading `+`.
        children: `x+` / `x+n` depth, or None without a trailing `+`.
        childrens_parents: the `@` operator.
        span: where the whole criterion (operators included) sits in `source`.
        indirect: the indirect-selection mode fixed for this criterion (YAML
            `indirect_selection:` or an `--exclude`), None to use the invocation's.
        value_span: where the value sits in `source`.
        source: the text the criterion was parsed from (for error carets).
        origin: what the text came from, e.g. "selector 'nightly'" (for error messages).
    """

    method: str
    args: tuple[str, ...]
    value: str
    parents: Depth | None = None
    children: Depth | None = None
    childrens_parents: bool = False
    span: Span = (0, 0)
    indirect: IndirectSelection | None = None
    value_span: Span = field(default=(0, 0), repr=False, compare=False)
    source: str = field(default="", repr=False, compare=False)
    origin: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Union:
    """Space-separated items (or several `--select` arguments): any of them."""

    items: tuple[Node, ...]
    span: Span = (0, 0)
    indirect: IndirectSelection | None = None


@dataclass(frozen=True, slots=True)
class Intersection:
    """Comma-joined items: all of them."""

    items: tuple[Node, ...]
    span: Span = (0, 0)
    indirect: IndirectSelection | None = None


@dataclass(frozen=True, slots=True)
class Difference:
    """`include` without `exclude` (`--exclude`, or YAML `exclude:`)."""

    include: Node
    exclude: Node
    span: Span = (0, 0)
    indirect: IndirectSelection | None = None


Node: TypeAlias = Criterion | Union | Intersection | Difference


def with_indirect(node: Node, mode: IndirectSelection) -> Node:
    """The same tree with every node's indirect-selection mode fixed to `mode`.

    dbt always expands an `--exclude` eagerly, whatever `--indirect-selection` says, so
    that excluding a model also excludes its tests.

    Example:
        >>> with_indirect(Criterion("tag", (), "a"), IndirectSelection.EAGER).indirect
        <IndirectSelection.EAGER: 'eager'>
    """
    match node:
        case Criterion():
            return replace(node, indirect=mode)
        case Union(items) | Intersection(items):
            return replace(node, items=tuple(with_indirect(i, mode) for i in items), indirect=mode)
        case Difference(include, exclude):
            inc, exc = with_indirect(include, mode), with_indirect(exclude, mode)
            return replace(node, include=inc, exclude=exc, indirect=mode)


def _depth_text(depth: Depth) -> str:
    return "" if depth is ALL else str(depth)


def criterion_text(criterion: Criterion) -> str:
    """The CLI spelling of one criterion, operators included.

    Example:
        >>> criterion_text(Criterion("config", ("materialized",), "table", parents=2))
        '2+config.materialized:table'
        >>> criterion_text(Criterion("fqn", (), "orders", childrens_parents=True))
        '@fqn:orders'
    """
    method = ".".join((criterion.method, *criterion.args))
    text = f"{method}:{criterion.value}"
    if criterion.parents is not None:
        text = f"{_depth_text(criterion.parents)}+{text}"
    if criterion.childrens_parents:
        text = f"@{text}"
    if criterion.children is not None:
        text = f"{text}+{_depth_text(criterion.children)}"
    return text


def to_text(node: Node) -> str:
    """A CLI expression selecting the same nodes, where the CLI grammar can say it.

    A difference has no CLI spelling inside an expression; it is shown as
    `(include) --exclude (exclude)`, which reads well in messages.

    Example:
        >>> to_text(Union((Criterion("tag", (), "a"), Intersection((
        ...     Criterion("tag", (), "b"), Criterion("fqn", (), "c", children=1))))))
        'tag:a tag:b,fqn:c+1'
    """
    match node:
        case Criterion():
            return criterion_text(node)
        case Union(items):
            return " ".join(_grouped(i, Union) for i in items)
        case Intersection(items):
            return ",".join(_grouped(i, Intersection) for i in items)
        case Difference(include, exclude):
            return f"({to_text(include)}) --exclude ({to_text(exclude)})"


def source_text(node: Node) -> str:
    """The text `node` was parsed from, as the user wrote it (its CLI spelling otherwise).

    Example:
        >>> from kiln.select.grammar import parse
        >>> node = parse("a  b,c+")
        >>> source_text(node.items[1]), to_text(node.items[1])
        ('b,c+', 'fqn:b,fqn:c+')
    """
    first = node
    while not isinstance(first, Criterion):
        first = first.items[0] if isinstance(first, Union | Intersection) else first.include
    if not first.source or node.span == (0, 0):
        return to_text(node)
    return first.source[node.span[0] : node.span[1]]


def _grouped(node: Node, parent: type[Union] | type[Intersection]) -> str:
    # a union inside an intersection needs brackets to read right; the CLI has none,
    # so this is only for messages
    text = to_text(node)
    if parent is Intersection and isinstance(node, Union | Difference):
        return f"({text})"
    return text
