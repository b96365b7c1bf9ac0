"""Incremental strategies: the same rows on every adapter that offers the strategy.

A strategy an adapter does not offer, or that the model's table cannot take (MERGE on
parquet), is refused with a CompilationError naming the model and the fix.
"""

from __future__ import annotations

import logging

import pytest

from kiln.errors import CompilationError, DatabaseError
from kiln.materialize import build_incremental, build_view

from .conftest import request_for, run_incremental, union

COLUMNS = ("id", "status", "amount")
V1 = union((1, "a", 10), (2, "b", 20), names=COLUMNS)
V2 = union((2, "B", 21), (3, "c", 30), names=COLUMNS)


def refused(warehouse, strategy, config=None):
    """Assert the adapter refuses the strategy with a one-line error; True if it did."""
    config = {"incremental_strategy": strategy, **(config or {})}
    offered = warehouse.offers(strategy)
    problem = warehouse.adapter.strategy_problem(strategy, config) if offered else None
    if offered and problem is None:
        return False
    # Refused from the first run on, before anything is built (as dbt-spark validates).
    with pytest.raises(CompilationError) as info:
        run_incremental(warehouse, "fct", V1, config)
    assert "'fct'" in info.value.message and "\n" not in info.value.message
    assert info.value.hint
    assert warehouse.kind_of("fct") is None
    return True


def test_first_run_builds_a_table(warehouse):
    run_incremental(warehouse, "fct", V1, {"unique_key": "id"})
    assert warehouse.kind_of("fct") == "table"
    assert warehouse.rows("fct") == [(1, "a", 10), (2, "b", 20)]


def test_append_inserts_every_new_row(warehouse):
    config = {"incremental_strategy": "append"}
    run_incremental(warehouse, "log", V1, config)
    run_incremental(warehouse, "log", V2, config)
    assert warehouse.rows("log") == [(1, "a", 10), (2, "B", 21), (2, "b", 20), (3, "c", 30)]
    assert warehouse.leftovers() == []


@pytest.mark.parametrize("strategy", ["merge", "delete+insert"])
def test_keyed_strategies_replace_matching_rows(warehouse, strategy):
    config = {"unique_key": "id", "incremental_strategy": strategy}
    if refused(warehouse, strategy, config):
        return
    run_incremental(warehouse, "fct", V1, config)
    run_incremental(warehouse, "fct", V2, config)
    assert warehouse.rows("fct") == [(1, "a", 10), (2, "B", 21), (3, "c", 30)]
    assert warehouse.leftovers() == []


@pytest.mark.parametrize("strategy", ["merge", "delete+insert"])
def test_composite_unique_key(warehouse, strategy):
    config = {"unique_key": ["day", "shop"], "incremental_strategy": strategy}
    if refused(warehouse, strategy, config):
        return
    names = ("day", "shop", "n")
    run_incremental(
        warehouse, "daily", union((1, "x", 1), (1, "y", 2), (2, "x", 3), names=names), config
    )
    run_incremental(warehouse, "daily", union((1, "y", 20), (2, "y", 30), names=names), config)
    assert warehouse.rows("daily") == [(1, "x", 1), (1, "y", 20), (2, "x", 3), (2, "y", 30)]


@pytest.mark.parametrize("strategy", ["merge", "delete+insert"])
def test_incremental_predicates_limit_what_is_replaced(warehouse, strategy):
    config = {
        "unique_key": "id",
        "incremental_strategy": strategy,
        "incremental_predicates": ["DBT_INTERNAL_DEST.amount > 15"],
    }
    if refused(warehouse, strategy, config):
        return
    run_incremental(warehouse, "fct", V1, config)
    run_incremental(warehouse, "fct", union((2, "z", 99), names=COLUMNS), config)
    assert warehouse.rows("fct") == [(1, "a", 10), (2, "z", 99)]


@pytest.mark.parametrize(
    "columns_config",
    [{"merge_update_columns": ["status"]}, {"merge_exclude_columns": ["amount"]}],
    ids=["update_columns", "exclude_columns"],
)
def test_merge_writes_only_the_chosen_columns(warehouse, columns_config):
    config = {"unique_key": "id", "incremental_strategy": "merge", **columns_config}
    if refused(warehouse, "merge", config):
        return
    run_incremental(warehouse, "fct", V1, config)
    run_incremental(warehouse, "fct", V2, config)
    assert warehouse.rows("fct") == [(1, "a", 10), (2, "B", 20), (3, "c", 30)]


def test_merge_without_unique_key_names_the_model_and_the_fix(warehouse):
    config = {"incremental_strategy": "merge"}
    if refused(warehouse, "merge", config):
        return
    run_incremental(warehouse, "fct", V1, config)
    with pytest.raises(CompilationError) as info:
        run_incremental(warehouse, "fct", V2, config)
    assert "'fct'" in info.value.message and "unique_key" in info.value.message
    assert "unique_key" in (info.value.hint or "")
    assert warehouse.rows("fct") == [(1, "a", 10), (2, "b", 20)]


def test_insert_overwrite_replaces_the_partitions_of_the_new_rows(warehouse):
    config = {"incremental_strategy": "insert_overwrite", "partition_by": "day"}
    if refused(warehouse, "insert_overwrite", config):
        return
    names = ("id", "day")
    first = union((1, "d1"), (2, "d1"), (3, "d2"), (4, None), names=names)
    run_incremental(warehouse, "events", first, config)
    run_incremental(
        warehouse, "events", union((5, "d2"), (6, "d3"), (7, None), names=names), config
    )
    assert sorted(warehouse.rows("events")) == [
        (1, "d1"),
        (2, "d1"),
        (5, "d2"),
        (6, "d3"),
        (7, None),
    ]


def test_insert_overwrite_without_partitions_replaces_every_row(warehouse):
    config = {"incremental_strategy": "insert_overwrite"}
    if refused(warehouse, "insert_overwrite", config):
        return
    run_incremental(warehouse, "snap", V1, config)
    run_incremental(warehouse, "snap", V2, config)
    assert warehouse.rows("snap") == [(2, "B", 21), (3, "c", 30)]


def test_full_refresh_rebuilds_with_the_new_columns(warehouse):
    config = {"unique_key": "id", "incremental_strategy": "append"}
    run_incremental(warehouse, "fct", V1, config)
    run_incremental(warehouse, "fct", "select 9 as id, 'n' as note", config, full_refresh=True)
    assert warehouse.columns("fct") == ["id", "note"]
    assert warehouse.rows("fct") == [(9, "n")]


def test_incremental_over_a_view_rebuilds_as_a_table(warehouse):
    target = warehouse.rel("fct")
    build_view(warehouse.adapter, request_for(target, "select 1 as id"))
    build_incremental(warehouse.adapter, request_for(target, V1, {}, incremental=True))
    assert warehouse.kind_of(target) == "table"
    assert len(warehouse.rows(target)) == 2


def test_failing_model_sql_leaves_the_table_and_no_staging(warehouse):
    config = {"incremental_strategy": "append"}
    run_incremental(warehouse, "fct", V1, config)
    with pytest.raises(DatabaseError):
        run_incremental(warehouse, "fct", "select * from no_such_table", config)
    assert warehouse.rows("fct") == [(1, "a", 10), (2, "b", 20)]
    assert warehouse.leftovers() == []


def test_failing_post_hook_rolls_back_the_change(warehouse):
    if not warehouse.adapter.capabilities.transactions:
        pytest.skip(f"{warehouse.kind} has no transactions")
    config = {"incremental_strategy": "append"}
    run_incremental(warehouse, "fct", V1, config)
    with pytest.raises(DatabaseError):
        run_incremental(warehouse, "fct", V2, config, post=("select * from no_such_table",))
    assert warehouse.rows("fct") == [(1, "a", 10), (2, "b", 20)]


def test_unknown_strategy_lists_the_offered_ones(warehouse):
    with pytest.raises(CompilationError) as info:
        run_incremental(warehouse, "fct", V1, {"incremental_strategy": "merg"})
    assert "'fct'" in info.value.message and "append" in info.value.message
    assert warehouse.kind_of("fct") is None


def test_default_strategy_is_the_adapters(warehouse):
    default = warehouse.adapter.capabilities.default_incremental_strategy
    run_incremental(warehouse, "fct", V1, {"unique_key": "id"})
    run_incremental(warehouse, "fct", V2, {"unique_key": "id"})
    expected = 4 if default == "append" else 3
    assert len(warehouse.rows("fct")) == expected


# -- layout configs -----------------------------------------------------------------------------


def test_partition_by_is_honoured_or_logged_as_ignored(warehouse, caplog):
    config = {"incremental_strategy": "append", "partition_by": ["day"]}
    caplog.set_level(logging.INFO, logger="kiln.adapters.base")
    run_incremental(warehouse, "events", union((1, "d1"), names=("id", "day")), config)
    run_incremental(warehouse, "events", union((2, "d2"), names=("id", "day")), config)
    assert warehouse.rows("events") == [(1, "d1"), (2, "d2")]
    honoured = "partition_by" in warehouse.adapter.capabilities.table_options
    ignored = any("ignores partition_by" in r.getMessage() for r in caplog.records)
    assert ignored != honoured
    if honoured:
        assert warehouse.adapter._partition_columns(warehouse.rel("events")) == ["day"]


def test_clustered_by_buckets_where_the_engine_has_buckets(warehouse):
    if "clustered_by" not in warehouse.adapter.capabilities.table_options:
        pytest.skip(f"{warehouse.kind} has no bucketing")
    config = {"clustered_by": "id", "buckets": 4, "file_format": "parquet"}
    run_incremental(warehouse, "bucketed", V1, config)
    described = warehouse.adapter.fetch(f"describe table extended {warehouse.rel('bucketed')}")
    info = {str(row[0]): str(row[1]) for row in described.rows}
    assert info["Num Buckets"] == "4" and "id" in info["Bucket Columns"]
    assert info["Provider"].lower() == "parquet"


def test_location_root_keeps_one_build_folder_per_model(warehouse, tmp_path):
    if "location_root" not in warehouse.adapter.capabilities.table_options:
        pytest.skip(f"{warehouse.kind} has no external locations")
    lake = tmp_path / "lake"
    config = {"location_root": str(lake), "partition_by": "day"}
    first = union((1, "d1"), (2, "d2"), names=("id", "day"))
    run_incremental(warehouse, "events", first, config)
    run_incremental(warehouse, "events", union((3, "d3"), names=("id", "day")), config)
    run_incremental(warehouse, "events", first, config, full_refresh=True)
    assert warehouse.rows("events") == [(1, "d1"), (2, "d2")]
    described = warehouse.adapter.fetch(f"describe table extended {warehouse.rel('events')}")
    info = {str(row[0]): str(row[1]) for row in described.rows}
    assert info["Location"].startswith(f"file:{lake}/events/")
    folders = sorted(p.name for p in (lake / "events").iterdir())
    assert info["Location"].endswith(folders[-1])
    # The Connect client cannot delete the server's files: the old build stays (logged).
    assert len(folders) == (2 if warehouse.target["method"] == "connect" else 1)
    assert warehouse.leftovers() == []
