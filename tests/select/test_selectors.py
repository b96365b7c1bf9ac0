"""YAML selectors compile to the same AST as CLI expressions; errors name the selector."""

from __future__ import annotations

from typing import Any

import pytest
from select_factories import short
from select_shop import SELECTORS

from kiln.errors import SelectionError
from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Manifest
from kiln.select import SelectorLibrary, parse, resolve_selection, select_nodes, to_text
from kiln.select.ast import Difference, IndirectSelection


def library(*entries: dict[str, Any]) -> SelectorLibrary:
    return SelectorLibrary({"selectors": list(entries)})


def compiled(definition: Any) -> str:
    return to_text(library({"name": "s", "definition": definition}).expression("s"))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("finance_nightly", "(+tag:finance) --exclude (tag:staging)"),
        ("core_tables", "path:models/marts/core,config.materialized:table"),
        ("orders_lineage", "+fqn:fct_orders+ source:raw.orders+1"),
        ("customers_cautious", "fqn:dim_customers"),
    ],
)
def test_shop_selectors_compile_to_cli_expressions(name: str, text: str) -> None:
    assert to_text(SelectorLibrary(SELECTORS).expression(name)) == text


def test_exclude_in_a_union_applies_to_the_whole_union() -> None:
    node = SelectorLibrary(SELECTORS).expression("finance_nightly")
    assert isinstance(node, Difference)


def test_indirect_selection_is_kept_per_criterion() -> None:
    node = SelectorLibrary(SELECTORS).expression("customers_cautious")
    assert node.indirect is IndirectSelection.CAUTIOUS


@pytest.mark.parametrize(
    ("definition", "text"),
    [
        ("tag:nightly+", "tag:nightly+"),
        ({"tag": "nightly"}, "tag:nightly"),
        ({"config.materialized": "table"}, "config.materialized:table"),
        ({"method": "tag", "value": "a", "parents": True, "parents_depth": 2}, "2+tag:a"),
        ({"method": "tag", "value": "a", "children_depth": 2}, "tag:a"),
        ({"method": "tag", "value": "a", "childrens_parents": True}, "@tag:a"),
        ({"method": "config.enabled", "value": True}, "config.enabled:true"),
        ({"method": "tag", "value": "a", "exclude": ["tag:b"]}, "(tag:a) --exclude (tag:b)"),
        ({"intersection": ["tag:a", {"union": ["tag:b", "tag:c"]}]}, "tag:a,(tag:b tag:c)"),
        ({"union": ["tag:a", {"exclude": ["tag:b", "tag:c"]}]}, "(tag:a) --exclude (tag:b tag:c)"),
    ],
)
def test_definition_forms(definition: Any, text: str) -> None:
    assert compiled(definition) == text


def test_a_string_definition_is_parsed_as_cli_syntax() -> None:
    assert compiled("a b,c") == to_text(parse("a b,c"))


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"method": "tagg", "value": "a"}, "unknown selection method 'tagg': did you mean 'tag'?"),
        ({"method": "tag", "value": "a", "parent": True}, "unknown key 'parent'"),
        ({"method": "tag"}, "expected `method` and `value` keys"),
        ({"method": "tag", "value": ["a"]}, "`value` must be a string"),
        ({"method": "tag", "value": "a", "parents": True, "parents_depth": "x"}, "whole number"),
        ({"method": "tag", "value": "a", "indirect_selection": "eagr"}, "did you mean 'eager'?"),
        ({"method": "tag", "value": "a", "childrens_parents": True, "children": True}, "cannot"),
        ({"union": "tag:a"}, "`union` needs a list"),
        ({"union": [{"exclude": ["a"]}, {"exclude": ["b"]}]}, "only one `exclude`"),
        ({"union": [{"exclude": ["a"]}]}, "nothing to exclude from"),
        ({"exclude": ["a"]}, "`exclude` belongs in a union or intersection"),
        ({"union": ["a"], "description": "x"}, "must be the definition's only key"),
        ({"method": "selector", "value": "nope"}, "unknown selector 'nope'"),
        ("tagg:a", "unknown selection method 'tagg'"),
        (42, "expected a string or a mapping"),
    ],
)
def test_definition_errors_name_the_selector(definition: Any, message: str) -> None:
    with pytest.raises(SelectionError) as caught:
        compiled(definition)
    assert caught.value.message.startswith("selector 's': ")
    assert message in caught.value.message


def test_unknown_selector_suggests_the_closest_name() -> None:
    with pytest.raises(SelectionError, match="did you mean 'core_tables'"):
        SelectorLibrary(SELECTORS).expression("core_table")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"selectors": [{"name": "a"}]}, "has no `definition`"),
        ({"selectors": [{"definition": "a"}]}, "needs a `name`"),
        ({"selectors": [{"name": "a", "definition": "a", "defualt": True}]}, "unknown key"),
        ({"selectors": [{"name": "a", "definition": "a", "default": "yes"}]}, "true or false"),
        ({"selectors": [{"name": "a", "definition": "a"}] * 2}, "defined twice"),
        (
            {"selectors": [{"name": n, "definition": n, "default": True} for n in "ab"]},
            "several selectors have `default: true`: a, b",
        ),
    ],
)
def test_selectors_file_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectionError, match=message):
        SelectorLibrary(raw)


def test_manifest_shaped_selectors_are_accepted() -> None:
    lib = SelectorLibrary({"nightly": {"definition": "tag:nightly", "default": "True"}})
    assert lib.names == ("nightly",)
    assert lib.default_name == "nightly"


def test_selector_references_resolve_and_cycles_are_reported(
    shop: Manifest, shop_graph: Graph
) -> None:
    raw = {
        "selectors": [
            {"name": "core", "definition": {"method": "selector", "value": "tables"}},
            {"name": "tables", "definition": "config.materialized:table,models/marts/core"},
            {"name": "loop_a", "definition": {"method": "selector", "value": "loop_b"}},
            {"name": "loop_b", "definition": "selector:loop_a"},
        ]
    }
    core = select_nodes(shop, shop_graph, selector="core", selectors=raw)
    assert core == select_nodes(shop, shop_graph, selector="core_tables")
    with pytest.raises(SelectionError, match="refers to itself: loop_a -> loop_b -> loop_a"):
        select_nodes(shop, shop_graph, selector="loop_a", selectors=raw)


def test_the_default_selector_applies_only_without_select_or_exclude(
    shop: Manifest, shop_graph: Graph
) -> None:
    raw = {"selectors": [{"name": "seeds", "definition": "resource_type:seed", "default": True}]}
    result = resolve_selection(shop, shop_graph, selectors=raw, resource_types=["all"])
    assert result.selector == "seeds"
    assert short(result.unique_ids) == [f"seed:{n}" for n in sorted(
        ("customers", "order_items", "orders", "payments", "products"))]  # fmt: skip
    chosen = resolve_selection(shop, shop_graph, selectors=raw, select=["orders"])
    assert (chosen.selector, short(chosen.unique_ids)) == (None, ["seed:orders"])


def test_selector_wins_over_select(shop: Manifest, shop_graph: Graph) -> None:
    both = select_nodes(shop, shop_graph, selector="core_tables", select=["orders"])
    assert both == select_nodes(shop, shop_graph, selector="core_tables")


def test_a_selector_value_error_points_into_its_criterion(
    shop: Manifest, shop_graph: Graph
) -> None:
    raw = {"selectors": [{"name": "bad", "definition": {"resource_type": "modle"}}]}
    with pytest.raises(SelectionError) as caught:
        select_nodes(shop, shop_graph, selector="bad", selectors=raw)
    assert caught.value.message.splitlines() == [
        "selector 'bad': unknown resource type 'modle': did you mean 'model'? (valid: analysis,"
        " doc, exposure, fixture, function, group, macro, metric, model, operation, rpc,"
        " saved_query, seed, semantic_model, snapshot, source, sql_operation, test, unit_test)",
        "  resource_type:modle",
        "                ^^^^^",
    ]
