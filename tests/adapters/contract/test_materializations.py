"""Views, tables and seeds behave the same on every adapter."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest

from kiln.adapters.base import SchemaRef
from kiln.errors import CompilationError, DatabaseError
from kiln.materialize import build_table, build_view, load_seed
from kiln.materialize.seed_csv import SeedColumn, SeedData, SeedKind

from .conftest import request_for, union

# -- view -------------------------------------------------------------------------------------


def test_view_is_created_then_replaced_with_other_columns(warehouse):
    target = warehouse.rel("stg")
    build_view(warehouse.adapter, request_for(target, "select 1 as id"))
    build_view(warehouse.adapter, request_for(target, "select 2 as id, 'x' as name"))
    assert warehouse.kind_of(target) == "view"
    assert warehouse.columns(target) == ["id", "name"]
    assert warehouse.rows(target) == [(2, "x")]
    assert warehouse.leftovers() == []


def test_view_replaces_a_table_and_a_table_replaces_a_view(warehouse):
    target = warehouse.rel("dim")
    build_table(warehouse.adapter, request_for(target, "select 1 as id"))
    build_view(warehouse.adapter, request_for(target, "select 3 as id"))
    assert warehouse.kind_of(target) == "view"
    build_table(warehouse.adapter, request_for(target, "select 4 as id"))
    assert warehouse.kind_of(target) == "table"
    assert warehouse.rows(target) == [(4,)]


def test_failing_view_keeps_the_old_view(warehouse):
    target = warehouse.rel("stg")
    build_view(warehouse.adapter, request_for(target, "select 3 as id"))
    with pytest.raises(DatabaseError):
        build_view(warehouse.adapter, request_for(target, "select * from no_such_table"))
    assert warehouse.rows(target) == [(3,)]


# -- table ------------------------------------------------------------------------------------


def test_table_is_built_then_rebuilt_through_an_intermediate(warehouse):
    target = warehouse.rel("dim")
    build_table(warehouse.adapter, request_for(target, "select 1 as id -- trailing comment"))
    build_table(
        warehouse.adapter, request_for(target, union((2, "b"), (3, "c"), names=("id", "s")))
    )
    assert warehouse.kind_of(target) == "table"
    assert warehouse.columns(target) == ["id", "s"]
    assert warehouse.rows(target) == [(2, "b"), (3, "c")]
    assert warehouse.leftovers() == []


def test_table_keeps_types_of_common_literals(warehouse):
    target = warehouse.rel("typed")
    sql = (
        "select 1 as i, cast(2 as bigint) as b, 'x' as s, true as f, "
        "date '2024-01-31' as d, cast(1.25 as decimal(10, 2)) as n"
    )
    build_table(warehouse.adapter, request_for(target, sql))
    assert warehouse.rows(target) == [(1, 2, "x", True, dt.date(2024, 1, 31), Decimal("1.25"))]


def test_failing_table_build_leaves_the_old_table(warehouse):
    target = warehouse.rel("dim")
    build_table(warehouse.adapter, request_for(target, "select 1 as id"))
    with pytest.raises(DatabaseError):
        build_table(warehouse.adapter, request_for(target, "select * from no_such_table"))
    assert warehouse.rows(target) == [(1,)]
    assert warehouse.leftovers() == []


def test_hooks_run_around_the_build(warehouse):
    audit = warehouse.rel("audit")
    build_table(warehouse.adapter, request_for(audit, "select 'seed' as step"))
    target = warehouse.rel("dim")
    pre = (f"insert into {audit} select 'pre'",)
    post = (f"insert into {audit} select 'post'",)
    build_table(warehouse.adapter, request_for(target, "select 1 as id", pre=pre, post=post))
    assert warehouse.rows(audit) == [("post",), ("pre",), ("seed",)]


def test_failing_post_hook_rolls_back_where_there_are_transactions(warehouse):
    if not warehouse.adapter.capabilities.transactions:
        pytest.skip(f"{warehouse.kind} has no transactions")
    target = warehouse.rel("dim")
    build_table(warehouse.adapter, request_for(target, "select 1 as id"))
    with pytest.raises(DatabaseError):
        build_table(
            warehouse.adapter,
            request_for(target, "select 5 as id", post=("select * from no_such_table",)),
        )
    assert warehouse.rows(target) == [(1,)]


def test_a_view_reads_the_rebuilt_table(warehouse):
    table, view = warehouse.rel("dim"), warehouse.rel("v")
    build_table(warehouse.adapter, request_for(table, "select 1 as id"))
    build_view(warehouse.adapter, request_for(view, f"select id + 1 as next from {table}"))
    build_table(warehouse.adapter, request_for(table, "select 41 as id"))
    # Postgres drops dependent views with the old table (as dbt-postgres); rebuild it.
    if warehouse.kind_of(view) is None:
        build_view(warehouse.adapter, request_for(view, f"select id + 1 as next from {table}"))
    assert warehouse.rows(view) == [(42,)]


def test_schema_is_created_and_dropped(warehouse):
    other = SchemaRef(warehouse.database, warehouse.schema + "_x")
    warehouse.adapter.create_schema(other)
    warehouse.adapter.create_schema(other)  # IF NOT EXISTS
    relation = warehouse.adapter.relation(warehouse.database, other.schema, "t")
    build_table(warehouse.adapter, request_for(relation, "select 1 as id"))
    warehouse.adapter.drop_schema(other)
    assert warehouse.adapter.list_relations(other) == []


# -- seeds ------------------------------------------------------------------------------------


def seed_data(adapter, *columns: tuple[str, str], rows):
    names = adapter.seed_type_names
    cols = tuple(SeedColumn(name, SeedKind(kind), names[kind]) for name, kind in columns)
    return SeedData(columns=cols, rows=rows)


def test_seed_loads_typed_rows_and_reloads(warehouse):
    adapter = warehouse.adapter
    target = warehouse.rel("customers")
    data = seed_data(
        adapter,
        ("id", "integer"),
        ("name", "text"),
        ("price", "number"),
        ("active", "boolean"),
        ("signup", "date"),
        ("seen", "datetime"),
        rows=[
            (1, "Ann", 4.99, True, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5)),
            (2, None, None, False, None, None),
        ],
    )
    response = load_seed(adapter, request_for(target, ""), data)
    assert response.rows_affected == 2
    assert warehouse.columns(target) == ["id", "name", "price", "active", "signup", "seen"]
    assert warehouse.rows(target) == [
        (1, "Ann", 4.99, True, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5)),
        (2, None, None, False, None, None),
    ]
    load_seed(adapter, request_for(target, ""), seed_data(adapter, *data_columns(), rows=[]))
    assert warehouse.rows(target) == []


def data_columns():
    return (
        ("id", "integer"),
        ("name", "text"),
        ("price", "number"),
        ("active", "boolean"),
        ("signup", "date"),
        ("seen", "datetime"),
    )


def test_seed_with_changed_columns_asks_for_a_full_refresh(warehouse):
    adapter = warehouse.adapter
    target = warehouse.rel("customers")
    load_seed(adapter, request_for(target, ""), seed_data(adapter, ("id", "integer"), rows=[(1,)]))
    wider = seed_data(adapter, ("id", "integer"), ("x", "text"), rows=[(2, "b")])
    with pytest.raises(CompilationError) as info:
        load_seed(adapter, request_for(target, ""), wider)
    assert "--full-refresh" in (info.value.hint or "")
    load_seed(adapter, request_for(target, "", full_refresh=True), wider)
    assert warehouse.rows(target) == [(2, "b")]


def test_tables_build_concurrently_on_separate_threads(warehouse):
    """One connection per thread: four models at once, as `--threads 4` runs them."""
    errors: list[BaseException] = []

    def build(i: int) -> None:
        try:
            for _ in range(2):
                relation = warehouse.rel(f"t{i}")
                build_table(warehouse.adapter, request_for(relation, f"select {i} as id"))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=build, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert [warehouse.rows(f"t{i}") for i in range(4)] == [[(i,)] for i in range(4)]
