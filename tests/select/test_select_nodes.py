"""`select_nodes` / `resolve_selection`: defaults, commands, state hook, records' edge cases."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from select_factories import (
    graph_of,
    ids,
    make_manifest,
    make_model,
    make_seed,
    make_test,
    short,
)

from kiln.errors import SelectionError
from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Manifest
from kiln.select import (
    DEFAULT_SELECTION,
    SelectionContext,
    evaluate,
    parse,
    resolve_selection,
    select_nodes,
)


def _manifest(*records: object) -> tuple[Manifest, Graph]:
    manifest = make_manifest(*records)  # type: ignore[arg-type]
    return manifest, graph_of(manifest)


def test_no_select_means_the_default_selection(shop: Manifest, shop_graph: Graph) -> None:
    everything = select_nodes(shop, shop_graph, resource_types=["all"])
    assert everything == select_nodes(
        shop, shop_graph, select=[DEFAULT_SELECTION], resource_types=["all"]
    )
    assert len(everything) == 64
    assert select_nodes(shop, shop_graph, select=[], resource_types=["all"]) == everything


def test_disabled_and_unknown_records_are_never_selected() -> None:
    manifest, graph = _manifest(
        make_model("a"), make_model("b", config={"enabled": False}, depends_on=["model.shop.a"])
    )
    assert select_nodes(manifest, graph, select=["a+"]) == ids("model:a")


def test_graph_operators_start_from_enabled_nodes_and_walk_through_disabled_ones() -> None:
    manifest, graph = _manifest(
        make_model("a"),
        make_model("b", config={"enabled": False}, depends_on=["model.shop.a"]),
        make_model("c", depends_on=["model.shop.b"]),
        make_test("t", depends_on=["model.shop.b"]),
    )
    assert select_nodes(manifest, graph, select=["b+", "@b", "+b"]) == set()
    assert select_nodes(manifest, graph, select=["a+"]) == ids("model:a", "model:c", "test:t")


def test_empty_models_are_listed_but_not_run() -> None:
    manifest, graph = _manifest(make_model("a"), make_model("empty", raw_code="  \n"))
    assert select_nodes(manifest, graph, command="ls") == ids("model:a", "model:empty")
    assert select_nodes(manifest, graph, command="run") == ids("model:a")


def test_unknown_command_is_an_error(shop: Manifest, shop_graph: Graph) -> None:
    with pytest.raises(SelectionError, match="unknown command 'rn': did you mean 'run'"):
        select_nodes(shop, shop_graph, command="rn")


def test_items_matching_nothing_are_reported(shop: Manifest, shop_graph: Graph) -> None:
    result = resolve_selection(
        shop, shop_graph, select=["stg_orders nope", "tag:none,stg_orders"], exclude=["gone"]
    )
    assert result.unmatched == ("nope", "tag:none,stg_orders", "gone")


def test_versioned_models_match_by_name_and_version() -> None:
    manifest, graph = _manifest(
        make_model("dim", version=1, latest_version=2),
        make_model("dim", version=2, latest_version=2),
        make_model("dim", version=3, latest_version=2),
        make_model("plain"),
    )
    assert short(select_nodes(manifest, graph, select=["dim"])) == [
        "model:dim.v1",
        "model:dim.v2",
        "model:dim.v3",
    ]
    for spelling in ("dim_v2", "dim.v2", "shop.dim.v2"):
        assert short(select_nodes(manifest, graph, select=[spelling])) == ["model:dim.v2"]
    by_kind = {
        kind: short(select_nodes(manifest, graph, select=[f"version:{kind}"]))
        for kind in ("latest", "old", "prerelease", "none")
    }
    assert by_kind == {
        "latest": ["model:dim.v2"],
        "old": ["model:dim.v1"],
        "prerelease": ["model:dim.v3"],
        "none": ["model:plain"],
    }


def test_dotted_names_and_shared_names_select_by_fqn_rules() -> None:
    dotted = make_model("orders.v", folder="marts")  # fqn (shop, marts, orders.v)
    solo = make_model("solo")
    solo.fqn = ["solo"]
    manifest, graph = _manifest(
        dotted, solo, make_model("x", folder="a"), make_model("x2", folder="b.c"),
        make_seed("x"),
    )  # fmt: skip

    def fqn(selector: str) -> list[str]:
        return short(select_nodes(manifest, graph, select=[f"fqn:{selector}"]))

    assert fqn("x") == ["model:x", "seed:x"]
    assert fqn("a.x") == fqn("shop.a.x") == ["model:x"]
    assert fqn("marts.orders") == fqn("orders.v") == fqn("marts.orders.*") == ["model:orders.v"]
    assert fqn("orders") == []
    assert fqn("b.c") == fqn("b.c.x2") == fqn("shop.b.*") == ["model:x2"]
    assert fqn("solo") == fqn("so*") == ["model:solo"]


def test_paths_written_with_a_leading_dot_slash_are_normalized() -> None:
    model = make_model("a", folder="staging")
    model.original_file_path = "./models/staging/a.sql"
    manifest, graph = _manifest(model)
    for expression in ("path:models/staging", "path:models/staging/a.sql", "file:a.sql"):
        assert short(select_nodes(manifest, graph, select=[expression])) == ["model:a"]


def test_group_and_access() -> None:
    manifest, graph = _manifest(
        make_model("a", group="finance", access="public"),
        make_model("b", config={"group": "finance"}, access="private"),
        make_model("c"),
    )
    assert select_nodes(manifest, graph, select=["group:fin*"]) == ids("model:a", "model:b")
    assert select_nodes(manifest, graph, select=["access:public"]) == ids("model:a")
    assert select_nodes(manifest, graph, select=["access:protected"]) == ids("model:c")


def test_config_values_compare_as_dbt_does() -> None:
    manifest, graph = _manifest(
        make_model("a", config={"full_refresh": True, "meta": {"owner": "ops"}, "batch": 5}),
        make_model("b", config={"full_refresh": False, "tags": ["x", "y"]}),
    )

    def pick(expression: str) -> list[str]:
        return short(select_nodes(manifest, graph, select=[expression]))

    assert pick("config.full_refresh:TRUE") == ["model:a"]
    assert pick("config.full_refresh:false") == ["model:b"]
    assert pick("config.meta.owner:ops") == ["model:a"]
    assert pick("config.batch:5") == ["model:a"]
    assert pick("config.tags:y") == ["model:b"]
    assert pick("config.meta.owner.deeper:ops") == []
    assert pick("config.missing:x") == []


class FakeState:
    """A prior-state hook that reports fixed ids per (method, value)."""

    def __init__(self, answers: dict[tuple[str, str], Iterable[str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

    def select(self, method: str, value: str, ctx: SelectionContext) -> Iterable[str]:
        self.calls.append((method, value))
        return self.answers.get((method, value), ())


def test_state_methods_go_through_the_hook(shop: Manifest, shop_graph: Graph) -> None:
    state = FakeState({("state", "modified"): ["model.shop.dim_products", "model.shop.gone"]})
    chosen = select_nodes(shop, shop_graph, select=["state:modified+"], state=state)
    assert short(chosen) == [
        "model:dim_products",
        "test:not_null_dim_products_product_id",
        "test:unique_dim_products_product_id",
    ]
    assert select_nodes(shop, shop_graph, select=["result:error"], state=state) == frozenset()
    assert state.calls == [("state", "modified"), ("result", "error")]


def test_state_without_prior_state_says_what_to_pass(shop: Manifest, shop_graph: Graph) -> None:
    with pytest.raises(SelectionError, match="pass --state <dir>"):
        select_nodes(shop, shop_graph, select=["tag:staging state:new"])


def test_evaluate_on_a_hand_built_tree_points_into_its_spelling(
    shop: Manifest, shop_graph: Graph
) -> None:
    from kiln.select.ast import Criterion

    ctx = SelectionContext(shop, shop_graph)
    assert evaluate(parse("orders"), ctx) == ids("seed:orders")
    with pytest.raises(SelectionError) as caught:
        evaluate(Criterion("test_type", (), "nope", parents=1), ctx)
    assert caught.value.message.splitlines()[1:] == ["  1+test_type:nope", "              ^^^^"]


def test_seeds_sharing_a_name_with_a_source_table() -> None:
    manifest, graph = _manifest(make_seed("orders"), make_model("orders_v", folder="orders"))
    assert select_nodes(manifest, graph, select=["orders"]) == ids("seed:orders", "model:orders_v")


def test_tests_on_tests_parents_only_join_when_all_are_there() -> None:
    manifest, graph = _manifest(
        make_model("a"),
        make_model("b"),
        make_test("rel_a_b", "0123456789", depends_on=["model.shop.a", "model.shop.b"],
                  yml="models/x.yml", test_name="relationships"),
    )  # fmt: skip
    assert short(select_nodes(manifest, graph, select=["a"], indirect_selection="cautious")) == [
        "model:a"
    ]
    both = select_nodes(manifest, graph, select=["a", "b"], indirect_selection="cautious")
    assert "test:rel_a_b" in short(both)
    assert "test:rel_a_b" in short(select_nodes(manifest, graph, select=["a"]))
