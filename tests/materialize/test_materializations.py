"""Materializations on a real DuckDB file: rows and columns after every build."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from kiln.adapters.duckdb import DuckDBAdapter
from kiln.adapters.registry import create_adapter
from kiln.adapters.relation import Relation
from kiln.errors import CompilationError, DatabaseError
from kiln.materialize import (
    BuildRequest,
    build_incremental,
    build_table,
    build_view,
    load_seed,
)
from kiln.materialize.seed_csv import SeedColumn, SeedData, SeedKind

CONFORMANCE = Path("/work/shared/conformance")


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[DuckDBAdapter]:
    made = create_adapter({"type": "duckdb", "path": str(tmp_path / "shop_dev.duckdb")})
    assert isinstance(made, DuckDBAdapter)
    yield made
    made.close()


def rel(adapter: DuckDBAdapter, name: str) -> Relation:
    return adapter.relation("shop_dev", "main", name)


def request(
    relation: Relation,
    sql: str,
    config: Mapping[str, Any] | None = None,
    *,
    incremental: bool = False,
    full_refresh: bool = False,
    pre: tuple[str, ...] = (),
    post: tuple[str, ...] = (),
) -> BuildRequest:
    return BuildRequest(
        node_id=f"model.shop.{relation.identifier}",
        relation=relation,
        sql=sql,
        config=dict(config or {}),
        full_refresh=full_refresh,
        incremental=incremental,
        pre_hooks=pre,
        post_hooks=post,
    )


def rows(adapter: DuckDBAdapter, relation: Relation) -> list[tuple[Any, ...]]:
    return sorted(adapter.fetch(f"select * from {relation}").rows, key=repr)


def columns(adapter: DuckDBAdapter, relation: Relation) -> list[tuple[str, str]]:
    return [(c.name, c.data_type) for c in adapter.get_columns(relation)]


def kind(adapter: DuckDBAdapter, relation: Relation) -> str | None:
    found = adapter.get_relation(relation.database, relation.schema, relation.identifier)
    return found.type if found else None


def leftovers(adapter: DuckDBAdapter) -> list[str]:
    names = adapter.fetch("select table_name from information_schema.tables").rows
    return sorted(n for (n,) in names if "__dbt" in n)


# -- view ------------------------------------------------------------------------------------


def test_view_is_created_then_replaced(adapter):
    target = rel(adapter, "stg")
    build_view(adapter, request(target, "select 1 as id"))
    response = build_view(adapter, request(target, "select 2 as id, 'x' as name"))
    assert response.message == "OK"
    assert kind(adapter, target) == "view"
    assert rows(adapter, target) == [(2, "x")]


def test_view_replaces_a_table_and_a_failing_view_keeps_the_old_one(adapter):
    target = rel(adapter, "stg")
    build_table(adapter, request(target, "select 1 as id"))
    build_view(adapter, request(target, "select 3 as id"))
    assert kind(adapter, target) == "view"
    with pytest.raises(DatabaseError, match="nope"):
        build_view(adapter, request(target, "select * from nope"))
    assert rows(adapter, target) == [(3,)]


# -- table -----------------------------------------------------------------------------------


def test_table_is_built_and_rebuilt_through_an_intermediate(adapter):
    target = rel(adapter, "dim")
    first = build_table(adapter, request(target, "select 1 as id -- trailing comment"))
    assert first.rows_affected == 1
    build_table(adapter, request(target, "select * from range(2, 5) r(id)"))
    assert kind(adapter, target) == "table"
    assert rows(adapter, target) == [(2,), (3,), (4,)]
    assert leftovers(adapter) == []


def test_table_replaces_a_view(adapter):
    target = rel(adapter, "dim")
    build_view(adapter, request(target, "select 1 as id"))
    build_table(adapter, request(target, "select 2 as id"))
    assert kind(adapter, target) == "table"
    assert rows(adapter, target) == [(2,)]


def test_failing_table_build_leaves_the_old_table_and_rows(adapter):
    target = rel(adapter, "dim")
    build_table(adapter, request(target, "select * from range(3) r(id)"))
    with pytest.raises(DatabaseError, match="nope"):
        build_table(adapter, request(target, "select * from nope"))
    assert rows(adapter, target) == [(0,), (1,), (2,)]
    assert leftovers(adapter) == []


def test_hooks_run_around_the_build_and_a_failing_post_hook_rolls_it_back(adapter):
    adapter.execute("create table main.audit (step varchar)")
    target = rel(adapter, "dim")
    pre = ("insert into main.audit values ('pre')",)
    post = (f"update {target} set id = id * 10", "insert into main.audit values ('post')")
    build_table(adapter, request(target, "select 1 as id", pre=pre, post=post))
    assert rows(adapter, target) == [(10,)]
    assert rows(adapter, rel(adapter, "audit")) == [("post",), ("pre",)]
    with pytest.raises(DatabaseError):
        build_table(
            adapter, request(target, "select 5 as id", pre=pre, post=("select * from nope",))
        )
    assert rows(adapter, target) == [(10,)]
    assert len(rows(adapter, rel(adapter, "audit"))) == 2  # the pre-hook was rolled back too


def test_a_downstream_view_follows_the_rebuilt_table(adapter):
    target = rel(adapter, "dim")
    build_table(adapter, request(target, "select 1 as id"))
    build_view(adapter, request(rel(adapter, "v"), f"select id + 1 as next from {target}"))
    build_table(adapter, request(target, "select 41 as id"))
    assert rows(adapter, rel(adapter, "v")) == [(42,)]


def test_tables_build_concurrently_on_separate_threads(adapter):
    errors: list[BaseException] = []

    def build(i: int) -> None:
        try:
            for _ in range(3):
                build_table(adapter, request(rel(adapter, f"t{i}"), f"select {i} as id"))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=build, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert [rows(adapter, rel(adapter, f"t{i}")) for i in range(4)] == [[(i,)] for i in range(4)]


# -- incremental ------------------------------------------------------------------------------

ORDERS_V1 = "select * from (values (1, 'a', 10), (2, 'b', 20)) v(id, status, amount)"
ORDERS_V2 = "select * from (values (2, 'B', 21), (3, 'c', 30)) v(id, status, amount)"


def run_incremental(adapter, target, sql, config=None, **kwargs):
    exists = kind(adapter, target) == "table"
    incremental = exists and not kwargs.get("full_refresh", False)
    return build_incremental(
        adapter, request(target, sql, config, incremental=incremental, **kwargs)
    )


def test_first_run_builds_a_table(adapter):
    target = rel(adapter, "fct")
    run_incremental(adapter, target, ORDERS_V1, {"unique_key": "id"})
    assert kind(adapter, target) == "table"
    assert rows(adapter, target) == [(1, "a", 10), (2, "b", 20)]


def test_append_inserts_every_new_row(adapter):
    target = rel(adapter, "log")
    config = {"incremental_strategy": "append"}
    run_incremental(adapter, target, ORDERS_V1, config)
    response = run_incremental(adapter, target, ORDERS_V2, config)
    assert response.rows_affected == 2
    assert rows(adapter, target) == [(1, "a", 10), (2, "B", 21), (2, "b", 20), (3, "c", 30)]
    assert leftovers(adapter) == []


@pytest.mark.parametrize("strategy", ["merge", "delete+insert", None])
def test_keyed_strategies_replace_matching_rows(adapter, strategy):
    target = rel(adapter, "fct")
    config = {"unique_key": "id", "incremental_strategy": strategy}
    run_incremental(adapter, target, ORDERS_V1, config)
    run_incremental(adapter, target, ORDERS_V2, config)
    assert rows(adapter, target) == [(1, "a", 10), (2, "B", 21), (3, "c", 30)]


@pytest.mark.parametrize("strategy", ["merge", "delete+insert"])
def test_composite_unique_key(adapter, strategy):
    target = rel(adapter, "daily")
    config = {"unique_key": ["day", "shop"], "incremental_strategy": strategy}
    first = "select * from (values (1, 'x', 1), (1, 'y', 2), (2, 'x', 3)) v(day, shop, n)"
    second = "select * from (values (1, 'y', 20), (2, 'y', 30)) v(day, shop, n)"
    run_incremental(adapter, target, first, config)
    run_incremental(adapter, target, second, config)
    assert rows(adapter, target) == [(1, "x", 1), (1, "y", 20), (2, "x", 3), (2, "y", 30)]


def test_unique_key_matches_columns_case_insensitively(adapter):
    target = rel(adapter, "fct")
    config = {"unique_key": "ID", "incremental_strategy": "delete+insert"}
    run_incremental(adapter, target, ORDERS_V1, config)
    run_incremental(adapter, target, ORDERS_V2, config)
    assert len(rows(adapter, target)) == 3


def test_delete_insert_window_leaves_older_rows_stale(adapter):
    # daily_revenue in the conformance project: only days in the window are re-processed.
    target = rel(adapter, "daily_revenue")
    config = {"unique_key": "day", "incremental_strategy": "delete+insert"}
    run_incremental(adapter, target, "select * from (values (1, 5), (9, 5)) v(day, total)", config)
    run_incremental(adapter, target, "select * from (values (9, 7), (10, 1)) v(day, total)", config)
    assert rows(adapter, target) == [(1, 5), (10, 1), (9, 7)]


def test_incremental_predicates_limit_what_is_replaced(adapter):
    target = rel(adapter, "fct")
    for strategy in ("merge", "delete+insert"):
        adapter.execute(f"drop table if exists {target}")
        config = {
            "unique_key": "id",
            "incremental_strategy": strategy,
            "incremental_predicates": ["DBT_INTERNAL_DEST.amount > 15"],
        }
        run_incremental(adapter, target, ORDERS_V1, config)
        run_incremental(
            adapter,
            target,
            "select * from (values (1, 'z', 99), (2, 'z', 99)) v(id, status, amount)",
            config,
        )
        # id 1 (amount 10) is outside the predicate, so it is not replaced.
        assert (1, "a", 10) in rows(adapter, target), strategy
        assert (2, "z", 99) in rows(adapter, target), strategy


def test_merge_update_and_exclude_columns(adapter):
    target = rel(adapter, "fct")
    config = {
        "unique_key": "id",
        "incremental_strategy": "merge",
        "merge_update_columns": ["status"],
    }
    run_incremental(adapter, target, ORDERS_V1, config)
    run_incremental(adapter, target, ORDERS_V2, config)
    assert rows(adapter, target) == [(1, "a", 10), (2, "B", 20), (3, "c", 30)]
    adapter.execute(f"drop table {target}")
    config = {
        "unique_key": "id",
        "incremental_strategy": "merge",
        "merge_exclude_columns": ["amount"],
    }
    run_incremental(adapter, target, ORDERS_V1, config)
    run_incremental(adapter, target, ORDERS_V2, config)
    assert rows(adapter, target) == [(1, "a", 10), (2, "B", 20), (3, "c", 30)]


def test_merge_with_both_column_configs_is_refused(adapter):
    target = rel(adapter, "fct")
    config = {
        "unique_key": "id",
        "incremental_strategy": "merge",
        "merge_update_columns": ["status"],
        "merge_exclude_columns": ["amount"],
    }
    run_incremental(adapter, target, ORDERS_V1, config)
    with pytest.raises(CompilationError, match="merge_update_columns"):
        run_incremental(adapter, target, ORDERS_V2, config)
    assert rows(adapter, target) == [(1, "a", 10), (2, "b", 20)]


def test_full_refresh_rebuilds_from_scratch(adapter):
    target = rel(adapter, "fct")
    config = {"unique_key": "id", "incremental_strategy": "merge"}
    run_incremental(adapter, target, ORDERS_V1, config)
    run_incremental(adapter, target, "select 9 as id, 'n' as note", config, full_refresh=True)
    assert rows(adapter, target) == [(9, "n")]
    assert columns(adapter, target) == [("id", "INTEGER"), ("note", "VARCHAR")]


def test_incremental_over_a_view_rebuilds_as_a_table(adapter):
    target = rel(adapter, "fct")
    build_view(adapter, request(target, "select 1 as id"))
    build_incremental(adapter, request(target, ORDERS_V1, {"unique_key": "id"}, incremental=True))
    assert kind(adapter, target) == "table"
    assert len(rows(adapter, target)) == 2


def test_invalid_strategy_is_a_compilation_error_with_a_suggestion(adapter):
    target = rel(adapter, "fct")
    with pytest.raises(CompilationError) as info:
        run_incremental(adapter, target, ORDERS_V1, {"incremental_strategy": "merg"})
    assert "did you mean 'merge'" in (info.value.hint or "")
    assert kind(adapter, target) is None


def test_failing_incremental_leaves_the_table_intact(adapter):
    target = rel(adapter, "fct")
    config = {"unique_key": "id", "incremental_strategy": "merge"}
    run_incremental(adapter, target, ORDERS_V1, config)
    with pytest.raises(DatabaseError):
        # The merge fails on a type error after the staging table was built.
        run_incremental(adapter, target, "select 'not a number' as id, 'x' as status", config)
    with pytest.raises(DatabaseError):
        run_incremental(adapter, target, ORDERS_V2, config, post=("select * from nope",))
    assert rows(adapter, target) == [(1, "a", 10), (2, "b", 20)]
    assert leftovers(adapter) == []


def test_incremental_hooks_run_in_the_transaction(adapter):
    target = rel(adapter, "fct")
    config = {"unique_key": "id", "incremental_strategy": "delete+insert"}
    run_incremental(adapter, target, ORDERS_V1, config)
    post = (f"update {target} set amount = -amount where id = 3",)
    run_incremental(adapter, target, ORDERS_V2, config, post=post)
    assert (3, "c", -30) in rows(adapter, target)


# -- on_schema_change ----------------------------------------------------------------------------

WIDER = "select * from (values (3, 'c', 30, true)) v(id, status, amount, is_large)"
NARROWER = "select * from (values (3, 'c')) v(id, status)"


@pytest.mark.parametrize("strategy", ["append", "merge", "delete+insert"])
def test_ignore_keeps_the_target_columns(adapter, strategy):
    target = rel(adapter, "fct")
    config = {"unique_key": "id", "incremental_strategy": strategy}
    run_incremental(adapter, target, ORDERS_V1, config)
    run_incremental(adapter, target, WIDER, config)
    assert [name for name, _ in columns(adapter, target)] == ["id", "status", "amount"]
    assert (3, "c", 30) in rows(adapter, target)


def test_fail_raises_and_leaves_the_table(adapter):
    target = rel(adapter, "fct")
    config = {"unique_key": "id", "on_schema_change": "fail"}
    run_incremental(adapter, target, ORDERS_V1, config)
    with pytest.raises(CompilationError, match="out of sync") as info:
        run_incremental(adapter, target, WIDER, config)
    assert "is_large" in info.value.message
    assert rows(adapter, target) == [(1, "a", 10), (2, "b", 20)]
    assert leftovers(adapter) == []


@pytest.mark.parametrize("strategy", ["append", "merge", "delete+insert"])
def test_append_new_columns_adds_them_null_for_old_rows(adapter, strategy):
    target = rel(adapter, "fct")
    config = {
        "unique_key": "id",
        "incremental_strategy": strategy,
        "on_schema_change": "append_new_columns",
    }
    run_incremental(adapter, target, ORDERS_V1, config)
    run_incremental(adapter, target, WIDER, config)
    assert columns(adapter, target) == [
        ("id", "INTEGER"),
        ("status", "VARCHAR"),
        ("amount", "INTEGER"),
        ("is_large", "BOOLEAN"),
    ]
    assert rows(adapter, target) == [(1, "a", 10, None), (2, "b", 20, None), (3, "c", 30, True)]
    # A column the model stops producing stays, NULL in the new rows.
    run_incremental(adapter, target, NARROWER.replace("3", "4"), config)
    assert (4, "c", None, None) in rows(adapter, target)


@pytest.mark.parametrize("strategy", ["append", "merge", "delete+insert"])
def test_sync_all_columns_adds_drops_and_retypes(adapter, strategy):
    target = rel(adapter, "fct")
    config = {
        "unique_key": "id",
        "incremental_strategy": strategy,
        "on_schema_change": "sync_all_columns",
    }
    run_incremental(adapter, target, ORDERS_V1, config)
    run_incremental(
        adapter, target, "select 3 as id, 'c' as status, 30.5::double as amount, 1 as n", config
    )
    assert columns(adapter, target) == [
        ("id", "INTEGER"),
        ("status", "VARCHAR"),
        ("amount", "DOUBLE"),
        ("n", "INTEGER"),
    ]
    run_incremental(adapter, target, NARROWER.replace("3", "4"), config)
    assert columns(adapter, target) == [("id", "INTEGER"), ("status", "VARCHAR")]
    assert rows(adapter, target) == [(1, "a"), (2, "b"), (3, "c"), (4, "c")]


def test_full_refresh_mode_rebuilds_when_columns_change(adapter):
    target = rel(adapter, "fct")
    config = {"unique_key": "id", "on_schema_change": "full_refresh"}
    run_incremental(adapter, target, ORDERS_V1, config)
    run_incremental(adapter, target, WIDER, config)
    assert rows(adapter, target) == [(3, "c", 30, True)]


# -- seeds -----------------------------------------------------------------------------------


def seed_data(*names_types: tuple[str, str], rows: list[tuple[Any, ...]]) -> SeedData:
    cols = tuple(SeedColumn(name, SeedKind.TEXT, sql_type) for name, sql_type in names_types)
    return SeedData(columns=cols, rows=rows)


def seed_request(relation: Relation, *, full_refresh: bool = False, **config: Any) -> BuildRequest:
    return request(relation, "", config, full_refresh=full_refresh)


def test_seed_creates_the_table_with_the_given_types(adapter):
    target = rel(adapter, "customers")
    data = seed_data(("id", "INTEGER"), ("name", "VARCHAR"), rows=[(1, "Ann"), (2, None)])
    response = load_seed(adapter, seed_request(target), data)
    assert response.to_dict() == {"_message": "INSERT 2", "code": "INSERT", "rows_affected": 2}
    assert columns(adapter, target) == [("id", "INTEGER"), ("name", "VARCHAR")]
    assert rows(adapter, target) == [(1, "Ann"), (2, None)]


def test_seed_rerun_truncates_and_keeps_the_table(adapter):
    target = rel(adapter, "customers")
    data = seed_data(("id", "INTEGER"), rows=[(1,), (2,)])
    load_seed(adapter, seed_request(target), data)
    adapter.execute(f"create view main.keeps as select * from {target}")
    oid_before = adapter.fetch(
        "select table_oid from duckdb_tables() where table_name = 'customers'"
    )
    load_seed(adapter, seed_request(target), seed_data(("id", "INTEGER"), rows=[(3,)]))
    oid_after = adapter.fetch(
        "select table_oid from duckdb_tables() where table_name = 'customers'"
    )
    assert oid_before.rows == oid_after.rows
    assert rows(adapter, target) == [(3,)]


def test_seed_full_refresh_recreates_with_new_columns(adapter):
    target = rel(adapter, "customers")
    load_seed(adapter, seed_request(target), seed_data(("id", "INTEGER"), rows=[(1,)]))
    data = seed_data(("id", "BIGINT"), ("country", "VARCHAR"), rows=[(1, "FR"), (41, "DE")])
    response = load_seed(adapter, seed_request(target, full_refresh=True), data)
    assert response.code == "CREATE" and response.message == "CREATE 2"
    assert columns(adapter, target) == [("id", "BIGINT"), ("country", "VARCHAR")]
    assert rows(adapter, target) == [(1, "FR"), (41, "DE")]


def test_seed_with_changed_columns_asks_for_a_full_refresh(adapter):
    target = rel(adapter, "customers")
    load_seed(adapter, seed_request(target), seed_data(("id", "INTEGER"), rows=[(1,)]))
    with pytest.raises(CompilationError) as info:
        load_seed(
            adapter, seed_request(target), seed_data(("id", "INTEGER"), ("x", "INTEGER"), rows=[])
        )
    assert "--full-refresh" in (info.value.hint or "")
    assert rows(adapter, target) == [(1,)]


def test_seed_into_a_view_is_refused(adapter):
    target = rel(adapter, "customers")
    adapter.execute(f"create view {target} as select 1 as id")
    with pytest.raises(CompilationError, match="it is a view"):
        load_seed(adapter, seed_request(target), seed_data(("id", "INTEGER"), rows=[(1,)]))


def test_empty_seed_creates_an_empty_table(adapter):
    target = rel(adapter, "empty")
    response = load_seed(adapter, seed_request(target), seed_data(("id", "INTEGER"), rows=[]))
    assert response.rows_affected == 0
    assert rows(adapter, target) == []


def test_failing_seed_load_keeps_the_old_rows(adapter):
    target = rel(adapter, "customers")
    load_seed(adapter, seed_request(target), seed_data(("id", "INTEGER"), rows=[(1,)]))
    with pytest.raises(DatabaseError):
        load_seed(adapter, seed_request(target), seed_data(("id", "INTEGER"), rows=[("x",)]))
    assert rows(adapter, target) == [(1,)]


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="conformance suite not present")
def test_conformance_seeds_match_dbt_duckdb_dump(adapter, tmp_path):
    import sys

    from kiln.materialize.seed_csv import read_seed

    sys.path.insert(0, str(CONFORMANCE))
    try:
        import dump_relations
    finally:
        sys.path.remove(str(CONFORMANCE))
    column_types = {
        "orders": {
            "order_id": "integer",
            "customer_id": "integer",
            "order_date": "date",
            "status": "varchar",
            "shipping_cents": "bigint",
            "updated_at": "timestamp",
        }
    }
    names = sorted(p.stem for p in (CONFORMANCE / "projects/shop/seeds").glob("*.csv"))
    for name in names:
        path = CONFORMANCE / "projects/shop/seeds" / f"{name}.csv"
        data = read_seed(path, column_types=column_types.get(name))
        load_seed(adapter, seed_request(rel(adapter, name)), data)
    adapter.close()
    only = [f"main.{name}" for name in names]
    dumped = dump_relations.dump_database(str(tmp_path / "shop_dev.duckdb"), only)
    expected = dump_relations.read_dump(str(CONFORMANCE / "expected/shop/results"))
    assert sorted(dumped) == only
    for key in only:
        assert dumped[key] == expected[key], key


def test_full_refresh_config_false_overrides_the_flag(adapter):
    target = rel(adapter, "fct")
    config = {"unique_key": "id", "incremental_strategy": "merge", "full_refresh": False}
    run_incremental(adapter, target, ORDERS_V1, config)
    req = request(target, ORDERS_V2, config, incremental=True, full_refresh=True)
    build_incremental(adapter, req)
    assert rows(adapter, target) == [(1, "a", 10), (2, "B", 21), (3, "c", 30)]
