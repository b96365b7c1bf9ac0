"""on_schema_change (ignore, fail, append_new_columns, sync_all_columns), dbt's semantics,
for every strategy an adapter offers."""

from __future__ import annotations

import pytest

from kiln.errors import CompilationError

from .conftest import run_incremental, union

COLUMNS = ("id", "status", "amount")
V1 = union((1, "a", 10), (2, "b", 20), names=COLUMNS)
WIDER = union((3, "c", 30, True), names=(*COLUMNS, "is_large"))
NARROWER = union((4, "d"), names=("id", "status"))
STRATEGIES = ["append", "merge", "delete+insert", "insert_overwrite"]


def config_for(warehouse, strategy, mode):
    """The model config, or a skip where the adapter cannot run the strategy."""
    config = {"unique_key": "id", "incremental_strategy": strategy, "on_schema_change": mode}
    if strategy == "insert_overwrite":
        config["partition_by"] = "id"  # each id its own partition: same rows as a merge
    offered = warehouse.offers(strategy)
    if not offered or warehouse.adapter.strategy_problem(strategy, config):
        pytest.skip(f"{warehouse.kind} cannot run {strategy} on this table (see test_incremental)")
    return config


def names(warehouse, name="fct"):
    return warehouse.columns(name)


def by_id(rows, width):
    """Rows as {id: tuple}, whatever the column order of a partitioned table."""
    return {row[0]: row for row in rows if len(row) == width}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ignore_keeps_the_target_columns(warehouse, strategy):
    config = config_for(warehouse, strategy, "ignore")
    run_incremental(warehouse, "fct", V1, config)
    run_incremental(warehouse, "fct", WIDER, config)
    assert sorted(names(warehouse)) == sorted(COLUMNS)
    assert len(warehouse.rows("fct")) == 3


@pytest.mark.parametrize("strategy", ["append", "insert_overwrite"])
def test_fail_raises_and_leaves_the_table(warehouse, strategy):
    config = config_for(warehouse, strategy, "fail")
    run_incremental(warehouse, "fct", V1, config)
    with pytest.raises(CompilationError, match="out of sync") as info:
        run_incremental(warehouse, "fct", WIDER, config)
    assert "is_large" in info.value.message
    assert len(warehouse.rows("fct")) == 2
    assert sorted(names(warehouse)) == sorted(COLUMNS)
    assert warehouse.leftovers() == []


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_append_new_columns_adds_them_null_for_old_rows(warehouse, strategy):
    config = config_for(warehouse, strategy, "append_new_columns")
    run_incremental(warehouse, "fct", V1, config)
    run_incremental(warehouse, "fct", WIDER, config)
    assert sorted(names(warehouse)) == sorted([*COLUMNS, "is_large"])
    order = names(warehouse)
    rows = [dict(zip(order, row, strict=True)) for row in warehouse.rows("fct")]
    assert {r["id"]: r["is_large"] for r in rows} == {1: None, 2: None, 3: True}
    # A column the model stops producing stays, NULL in the new rows.
    run_incremental(warehouse, "fct", NARROWER, config)
    order = names(warehouse)
    rows = [dict(zip(order, row, strict=True)) for row in warehouse.rows("fct")]
    assert {r["id"]: (r["status"], r["amount"]) for r in rows}[4] == ("d", None)
    assert len(rows) == 4


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_sync_all_columns_adds_drops_and_retypes(warehouse, strategy):
    config = config_for(warehouse, strategy, "sync_all_columns")
    run_incremental(warehouse, "fct", V1, config)
    retyped = "select 3 as id, 'c' as status, cast(30 as bigint) as amount, 1 as n"
    run_incremental(warehouse, "fct", retyped, config)
    assert sorted(names(warehouse)) == ["amount", "id", "n", "status"]
    assert warehouse.types("fct")["amount"] == "bigint"
    run_incremental(warehouse, "fct", NARROWER, config)
    assert sorted(names(warehouse)) == ["id", "status"]
    order = names(warehouse)
    rows = [dict(zip(order, row, strict=True)) for row in warehouse.rows("fct")]
    assert sorted((r["id"], r["status"]) for r in rows) == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
    assert warehouse.leftovers() == []


def test_full_refresh_mode_rebuilds_when_columns_change(warehouse):
    config = config_for(warehouse, "append", "full_refresh")
    run_incremental(warehouse, "fct", V1, config)
    run_incremental(warehouse, "fct", WIDER, config)
    assert warehouse.rows("fct") == [(3, "c", 30, True)]
