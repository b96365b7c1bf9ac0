"""What counts as modified: one test per comparison, through a real manifest.json round trip.

Each case builds a prior and a current manifest that differ in one way and checks which
`state:` selectors pick the node. `pick` serializes the prior side exactly as Kiln writes
manifest.json, so an unchanged node must compare equal after that round trip.
"""

from __future__ import annotations

import pytest
from state_factories import (
    make_exposure,
    make_macro,
    make_manifest,
    make_model,
    make_seed,
    make_source,
    make_state,
    make_test,
    pick,
)

from kiln.state.compare import MODIFIED_CHECKS, CompareContext, same_body, same_configs
from kiln.state.facts import Facts

ALL_KINDS = [
    "state:modified",
    "state:modified.body",
    "state:modified.configs",
    "state:modified.relation",
    "state:modified.persisted_descriptions",
    "state:modified.macros",
    "state:modified.contract",
]


def kinds(prior, current, uid):
    """Which of the state selectors pick `uid`."""
    state = make_state(prior, current)
    return {s for s in ALL_KINDS if uid in pick(prior, current, s, state)}


def test_identical_manifests_select_nothing_after_the_round_trip():
    nodes = [
        make_model("a", unrendered_config={"materialized": "table", "tags": ["x"]}),
        make_seed("s"),
        make_test("t", on="a", config={"severity": "warn"}),
        make_source("orders", freshness={"warn_after": {"count": 1, "period": "hour"}}),
        make_exposure("dash", ["model.p.a"]),
        make_macro("m"),
    ]
    assert pick(make_manifest(*nodes), make_manifest(*nodes), "state:modified") == set()


def test_body_change_is_modified_and_body():
    prior = make_manifest(make_model("a", "select 1"))
    current = make_manifest(make_model("a", "select 2"))
    assert kinds(prior, current, "model.p.a") == {"state:modified", "state:modified.body"}


def test_sql_comment_change_is_a_body_change():
    prior = make_manifest(make_model("a", "-- one\nselect 1"))
    current = make_manifest(make_model("a", "-- two\nselect 1"))
    assert "state:modified.body" in kinds(prior, current, "model.p.a")


def test_config_change_is_modified_and_configs():
    prior = make_manifest(make_model("a", unrendered_config={"materialized": "view"}))
    current = make_manifest(make_model("a", unrendered_config={"materialized": "table"}))
    assert kinds(prior, current, "model.p.a") == {"state:modified", "state:modified.configs"}


@pytest.mark.parametrize("key", ["tags", "group"])
def test_metadata_configs_are_not_config_changes(key):
    prior = make_manifest(make_model("a", unrendered_config={key: "x"}))
    current = make_manifest(make_model("a", unrendered_config={key: "y"}))
    assert kinds(prior, current, "model.p.a") == set()


@pytest.mark.parametrize("key", ["alias", "schema", "database"])
def test_relation_configs_are_relation_changes_only(key):
    prior = make_manifest(make_model("a", unrendered_config={key: "x"}))
    current = make_manifest(make_model("a", unrendered_config={key: "y"}))
    assert kinds(prior, current, "model.p.a") == {"state:modified", "state:modified.relation"}


def test_jinja_config_compares_as_written_not_as_rendered():
    # parsing recorded the rendered env var; the code says the same thing on both sides
    code = "{{ config(schema=env_var('SCHEMA')) }} select 1"
    prior = make_manifest(make_model("a", code, unrendered_config={"schema": "prod_x"}))
    current = make_manifest(make_model("a", code, unrendered_config={"schema": "ci_x"}))
    assert kinds(prior, current, "model.p.a") == set()


def test_changed_jinja_config_expression_is_a_change():
    before = "{{ config(schema=env_var('SCHEMA')) }} select 1"
    after = "{{ config(schema=env_var('OTHER')) }} select 1"
    prior = make_manifest(make_model("a", before, unrendered_config={"schema": "x"}))
    current = make_manifest(make_model("a", after, unrendered_config={"schema": "x"}))
    assert "state:modified.body" in kinds(prior, current, "model.p.a")
    prior = make_manifest(make_model("a", before, unrendered_config={"schema": "x"}))
    current = make_manifest(make_model("a", before, unrendered_config={"schema": "y", "m": 1}))
    assert "state:modified.configs" in kinds(prior, current, "model.p.a")


def test_description_counts_only_where_persisted():
    docs = {"persist_docs": {"relation": True}}
    prior = make_manifest(
        make_model("a", description="one"), make_model("b", description="one", config=docs)
    )
    current = make_manifest(
        make_model("a", description="two"), make_model("b", description="two", config=docs)
    )
    assert kinds(prior, current, "model.p.a") == set()
    assert kinds(prior, current, "model.p.b") == {
        "state:modified",
        "state:modified.persisted_descriptions",
    }


def test_column_descriptions_count_where_columns_are_persisted():
    docs = {"persist_docs": {"columns": True}}

    def columns(text):
        return {"id": {"name": "id", "description": text}}

    prior = make_manifest(make_model("a", config=docs, columns=columns("one")))
    current = make_manifest(make_model("a", config=docs, columns=columns("two")))
    assert "state:modified.persisted_descriptions" in kinds(prior, current, "model.p.a")


def test_seed_contents_are_compared_by_checksum():
    prior = make_manifest(make_seed("s", checksum="aaa"))
    current = make_manifest(make_seed("s", checksum="bbb"))
    assert kinds(prior, current, "seed.p.s") == {"state:modified", "state:modified.body"}


def test_large_seed_rule_path_checksums():
    def facts(name, value):
        return Facts("seed.p.s", "seed", checksum=(name, value))

    # dbt records a seed over 1 MiB by its path: same path, no visible change
    assert same_body(facts("path", "seeds/s.csv"), facts("path", "seeds/s.csv"))
    # a seed that grew past the limit (hash before, path now) is a change
    assert not same_body(facts("sha256", "abc"), facts("path", "seeds/s.csv"))


def test_upstream_macro_change_reaches_through_other_macros():
    prior = make_manifest(
        make_macro("outer", calls=["inner"]),
        make_macro("inner", "old"),
        make_model("a", depends_on_macros=["macro.p.outer"]),
        make_model("b"),
    )
    current = make_manifest(
        make_macro("outer", calls=["inner"]),
        make_macro("inner", "new"),
        make_model("a", depends_on_macros=["macro.p.outer"]),
        make_model("b"),
    )
    assert kinds(prior, current, "model.p.a") == {"state:modified", "state:modified.macros"}
    assert kinds(prior, current, "model.p.b") == set()


def test_removed_macro_counts_as_a_macro_change():
    prior = make_manifest(make_macro("gone"), make_model("a", depends_on_macros=["macro.p.gone"]))
    current = make_manifest(make_model("a", depends_on_macros=["macro.p.gone"]))
    assert "state:modified.macros" in kinds(prior, current, "model.p.a")


def test_new_node_is_in_every_sub_selector_but_macros():
    prior = make_manifest(make_model("a"))
    current = make_manifest(make_model("a"), make_model("b"))
    assert kinds(prior, current, "model.p.b") == set(ALL_KINDS) - {"state:modified.macros"}
    assert pick(prior, current, "state:new") == {"model.p.b"}
    assert pick(prior, current, "state:old") == {"model.p.a"}


def test_deleted_node_selects_nothing():
    prior = make_manifest(make_model("a"), make_model("b"))
    current = make_manifest(make_model("a"))
    assert pick(prior, current, "state:modified") == set()


def test_unmodified_is_the_complement_of_modified():
    prior = make_manifest(make_model("a"), make_model("b"))
    current = make_manifest(make_model("a", "select 2"), make_model("b"), make_model("c"))
    assert pick(prior, current, "state:unmodified") == {"model.p.b"}


def test_generic_test_config_change_is_body_and_configs():
    prior = make_manifest(make_model("a"), make_test("t", on="a", config={"severity": "warn"}))
    current = make_manifest(make_model("a"), make_test("t", on="a", config={"severity": "error"}))
    assert kinds(prior, current, "test.p.t") == {
        "state:modified",
        "state:modified.body",
        "state:modified.configs",
    }


def test_moving_a_model_is_modified_without_sub_kind():
    prior = make_manifest(make_model("a", fqn=["p", "staging", "a"]))
    current = make_manifest(make_model("a", fqn=["p", "marts", "a"]))
    assert kinds(prior, current, "model.p.a") == {"state:modified"}


def test_contract_changes():
    enforced = {"contract": {"enforced": True}, "materialized": "table"}

    def model(data_type):
        columns = {"id": {"name": "id", "data_type": data_type, "constraints": []}}
        return make_model("a", config=enforced, columns=columns)

    same = kinds(make_manifest(model("int")), make_manifest(model("int")), "model.p.a")
    assert same == set()
    changed = kinds(make_manifest(model("int")), make_manifest(model("bigint")), "model.p.a")
    assert changed == {"state:modified", "state:modified.contract"}
    newly = kinds(make_manifest(make_model("a")), make_manifest(model("int")), "model.p.a")
    assert "state:modified.contract" in newly


def test_model_access_change_is_modified():
    prior = make_manifest(make_model("a", access="protected"))
    current = make_manifest(make_model("a", access="public"))
    assert kinds(prior, current, "model.p.a") == {"state:modified"}


def test_source_freshness_is_a_config_change():
    hour = {"warn_after": {"count": 24, "period": "hour"}}
    half = {"warn_after": {"count": 12, "period": "hour"}}
    prior = make_manifest(make_source("orders", freshness=hour))
    current = make_manifest(make_source("orders", freshness=half))
    assert kinds(prior, current, "source.p.raw.orders") == {
        "state:modified",
        "state:modified.configs",
    }


def test_source_identifier_is_a_relation_change():
    prior = make_manifest(make_source("orders", identifier="orders"))
    current = make_manifest(make_source("orders", identifier="orders_v2"))
    assert kinds(prior, current, "source.p.raw.orders") == {
        "state:modified",
        "state:modified.relation",
    }


def test_new_source_and_exposure_are_new_but_not_modified():
    # dbt's `same_contents(None)` answers True for sources and exposures
    prior = make_manifest(make_model("a"))
    current = make_manifest(
        make_model("a"), make_source("orders"), make_exposure("dash", ["model.p.a"])
    )
    assert pick(prior, current, "state:modified") == set()
    assert pick(prior, current, "state:new") == {"source.p.raw.orders", "exposure.p.dash"}


def test_exposure_owner_change_is_modified():
    prior = make_manifest(make_model("a"), make_exposure("dash", ["model.p.a"]))
    current = make_manifest(
        make_model("a"), make_exposure("dash", ["model.p.a"], owner={"email": "b@example.com"})
    )
    assert pick(prior, current, "state:modified") == {"exposure.p.dash"}


def test_graph_operators_apply_to_state_matches():
    prior = make_manifest(make_model("a"), make_model("b", depends_on_nodes=["model.p.a"]))
    current = make_manifest(
        make_model("a", "select 2"), make_model("b", depends_on_nodes=["model.p.a"])
    )
    assert pick(prior, current, "state:modified+") == {"model.p.a", "model.p.b"}
    assert pick(prior, current, "+state:modified.body") == {"model.p.a"}


def test_every_documented_selector_is_in_the_table():
    documented = {
        "new", "old", "modified", "unmodified", "modified.body", "modified.configs",
        "modified.relation", "modified.persisted_descriptions", "modified.macros",
        "modified.contract", "modified.vars",
    }  # fmt: skip
    assert documented <= set(MODIFIED_CHECKS)


def test_removed_nodes_go_through_the_table_as_none():
    old = Facts("model.p.a", "model")
    assert not any(check(old, None, CompareContext()) for check in MODIFIED_CHECKS.values())


def test_same_configs_tolerates_json_spelling():
    # a date read from YAML is a string once written to manifest.json
    import datetime as dt

    before = Facts("model.p.a", "model", unrendered_config={"start": "2024-01-01"})
    after = Facts("model.p.a", "model", unrendered_config={"start": dt.date(2024, 1, 1)})
    assert same_configs(before, after)


def test_breaking_contract_changes_are_named():
    from kiln.state.compare import breaking_changes
    from kiln.state.facts import Contract

    before = Facts(
        "m", "model", contract=Contract(True, (("a", "int", ("not_null",)), ("b", "text", ())))
    )
    after = Facts("m", "model", contract=Contract(True, (("a", "bigint", ()),)))
    assert breaking_changes(before, after) == [
        "column b removed",
        "column a type int -> bigint",
        "column a lost its not_null constraint",
    ]
    # adding a column or a constraint breaks nothing; the type change does
    assert breaking_changes(after, before) == ["column a type bigint -> int"]
