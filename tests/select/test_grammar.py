"""The lexer keeps offsets, the parser round-trips, and bad input only raises SelectionError.

Parse-only AST cases are in `fixtures/grammar.txt`, error messages in `fixtures/errors.txt`.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from select_shop import shop_manifest

from kiln.errors import SelectionError
from kiln.manifest.graph import Graph
from kiln.select import parse, select_nodes, to_text
from kiln.select.ast import ALL, Criterion, Difference, Intersection, Node, Union
from kiln.select.grammar import TokenKind, implicit_method, parse_all, tokenize
from kiln.select.methods import METHODS


def test_tokens_carry_their_offsets() -> None:
    source = "@a+ tag:b,2+c"
    assert [(t.kind, t.start, t.end) for t in tokenize(source)] == [
        (TokenKind.AT, 0, 1),
        (TokenKind.TEXT, 1, 2),
        (TokenKind.PLUS, 2, 3),
        (TokenKind.SPACE, 3, 4),
        (TokenKind.TEXT, 4, 9),
        (TokenKind.COMMA, 9, 10),
        (TokenKind.TEXT, 10, 11),
        (TokenKind.PLUS, 11, 12),
        (TokenKind.TEXT, 12, 13),
        (TokenKind.EOF, 13, 13),
    ]


def test_spans_slice_back_to_the_source() -> None:
    source = "  +tag:a,config.materialized:view   b+1 "
    node = parse(source)
    assert isinstance(node, Union)
    first, second = node.items
    assert isinstance(first, Intersection) and isinstance(second, Criterion)
    assert [source[slice(*item.span)] for item in first.items] == [
        "+tag:a",
        "config.materialized:view",
    ]
    assert source[slice(*second.span)] == "b+1"
    assert source[slice(*second.value_span)] == "b"


def test_leading_and_trailing_whitespace_is_ignored() -> None:
    assert parse("  a  ") == Criterion("fqn", (), "a", span=(2, 3))


def test_windows_separators_count_as_paths_only_on_windows() -> None:
    assert implicit_method("models/staging") == "path"
    assert implicit_method("orders.csv") == "file"


def test_several_arguments_are_a_union() -> None:
    node = parse_all(["a", "b c"])
    assert isinstance(node, Union)
    assert to_text(node) == "fqn:a fqn:b fqn:c"


def test_depths_reach_the_ast() -> None:
    node = parse("3+x+")
    assert isinstance(node, Criterion)
    assert (node.parents, node.children) == (3, ALL)


# -- properties -----------------------------------------------------------------------

# values that mean something in the shop project, and arbitrary ones
_known = st.sampled_from([
    "stg_orders", "stg_*", "*revenue", "shop.marts.*", "raw", "raw.orders", "raw.*s", "finance",
    "staging", "models/staging", "models/*/fct_*.sql", "_marts.yml", "table", "view", "test",
    "generic", "singular", "latest", "protected", "core_tables", "*", "shop", "orders",
])  # fmt: skip
_values = _known | st.text(alphabet="abcxyz_019.*?/[]", min_size=1, max_size=10)
_methods = st.sampled_from(sorted(set(METHODS) - {"config"})) | st.just("config.materialized")
_depth = st.none() | st.just("") | st.integers(0, 5).map(str)


@st.composite
def atoms(draw: st.DrawFn) -> str:
    method = draw(st.none() | _methods)
    value = draw(_values)
    text = value if method is None else f"{method}:{value}"
    parents, children, at = draw(_depth), draw(_depth), draw(st.booleans())
    if parents is not None:
        text = f"{parents}+{text}"
    if at and children is None:
        text = f"@{text}"
    elif children is not None:
        text = f"{text}+{children}"
    return text


expressions = st.lists(st.lists(atoms(), min_size=1, max_size=3).map(",".join), min_size=1,
                       max_size=3).map(" ".join)  # fmt: skip


def unspanned(node: Node) -> Node:
    """The tree with every span zeroed, to compare structure only."""
    match node:
        case Criterion():
            return replace(node, span=(0, 0))
        case Union(items) | Intersection(items):
            return replace(node, items=tuple(unspanned(i) for i in items), span=(0, 0))
        case Difference(include, exclude):
            return replace(node, include=unspanned(include), exclude=unspanned(exclude))


@settings(database=None)
@given(expressions)
def test_well_formed_expressions_round_trip(text: str) -> None:
    node = parse(text)
    assert unspanned(parse(to_text(node))) == unspanned(node)


@settings(database=None)
@given(st.text(alphabet=st.sampled_from(list("ab:.,+@ 12*/\t")), max_size=20))
def test_any_text_parses_or_raises_selection_error(text: str) -> None:
    with contextlib.suppress(SelectionError):
        parse(text)


@settings(max_examples=200, deadline=None, database=None)
@given(expressions, expressions)
def test_well_formed_expressions_evaluate_or_raise_selection_error(
    select: str, exclude: str
) -> None:
    manifest = shop_manifest()
    graph = Graph.from_manifest(manifest)
    for kwargs in ({"select": [select]}, {"select": [select], "exclude": [exclude]}):
        with contextlib.suppress(SelectionError):
            select_nodes(manifest, graph, resource_types=["all"], **kwargs)
