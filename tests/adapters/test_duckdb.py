"""The DuckDB adapter against a real DuckDB file in a temp dir."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from kiln.adapters.base import AdapterResponse, Column, SchemaRef
from kiln.adapters.duckdb import DuckDBAdapter, DuckDBCredentials, database_name
from kiln.adapters.registry import BUILTIN, create_adapter, load_adapter_class
from kiln.errors import DatabaseError, InternalError, ProfileError


@pytest.fixture
def adapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DuckDBAdapter]:
    monkeypatch.chdir(tmp_path)
    made = create_adapter({"type": "duckdb", "path": "shop_dev.duckdb", "threads": 4})
    assert isinstance(made, DuckDBAdapter)
    yield made
    made.close()


def rows(adapter: DuckDBAdapter, sql: str) -> list[tuple[object, ...]]:
    return adapter.fetch(sql).rows


# -- profile -------------------------------------------------------------------------------


def test_database_is_the_file_stem_and_path_is_resolved_from_cwd(adapter, tmp_path):
    assert adapter.database == "shop_dev"
    assert adapter.schema == "main"
    assert adapter.threads == 4
    assert adapter.creds.path == str(tmp_path / "shop_dev.duckdb")
    assert rows(adapter, "select current_database()") == [("shop_dev",)]
    assert (tmp_path / "shop_dev.duckdb").exists()


def test_memory_database_is_named_memory():
    made = create_adapter({"type": "duckdb"})
    assert made.database == "memory"
    assert rows(made, "select current_database()") == [("memory",)]
    made.close()


@pytest.mark.parametrize(
    ("path", "expected"),
    [(":memory:", "memory"), ("a/b/shop_prod.duckdb", "shop_prod"), ("x.db", "x")],
)
def test_database_name(path, expected):
    assert database_name(path) == expected


def test_database_that_contradicts_path_is_a_profile_error():
    with pytest.raises(ProfileError, match="'shop_dev'"):
        DuckDBCredentials.from_target(
            {"type": "duckdb", "path": "shop_dev.duckdb", "database": "x"}
        )


def test_default_database_and_schema_classmethods_read_the_target():
    target = {"type": "duckdb", "path": "data/shop_prod.duckdb"}
    assert DuckDBAdapter.default_database(target) == "shop_prod"
    assert DuckDBAdapter.default_schema(target) == "main"


def test_settings_apply_on_every_threads_connection(tmp_path):
    made = create_adapter(
        {"type": "duckdb", "path": str(tmp_path / "s.duckdb"), "settings": {"threads": 2}}
    )
    seen: list[object] = []
    worker = threading.Thread(
        target=lambda: seen.extend(rows(made, "select current_setting('threads')"))
    )
    worker.start()
    worker.join()
    assert seen == [(2,)]
    assert rows(made, "select current_setting('threads')") == [(2,)]
    made.close()


# -- registry ------------------------------------------------------------------------------


def test_registry_loads_duckdb_lazily_by_name():
    assert BUILTIN["duckdb"] == "kiln.adapters.duckdb:DuckDBAdapter"
    assert load_adapter_class("duckdb") is DuckDBAdapter


def test_unknown_adapter_suggests_the_closest_name():
    with pytest.raises(ProfileError) as info:
        load_adapter_class("duckbd")
    assert "did you mean 'duckdb'" in (info.value.hint or "")


def test_target_without_type_is_a_profile_error():
    with pytest.raises(ProfileError, match="no 'type'"):
        create_adapter({"path": "x.duckdb"})


# -- statements ------------------------------------------------------------------------------


def test_execute_returns_rows_affected_and_fetched_rows(adapter):
    response, table = adapter.execute("create table t as select * from range(3) r(a)")
    assert response == AdapterResponse("OK", rows_affected=3)
    assert table is None
    response, table = adapter.execute("select a from t order by a", fetch=True)
    assert table is not None
    assert table.column_names == ("a",)
    assert table.rows == [(0,), (1,), (2,)]


def test_adapter_response_to_dict_leaves_out_unset_fields():
    assert AdapterResponse("OK").to_dict() == {"_message": "OK"}
    full = AdapterResponse("INSERT 3", code="INSERT", rows_affected=3, bytes_processed=10)
    assert full.to_dict() == {
        "_message": "INSERT 3",
        "code": "INSERT",
        "rows_affected": 3,
        "bytes_processed": 10,
    }


def test_engine_errors_become_database_errors_with_duckdbs_message(adapter):
    with pytest.raises(DatabaseError, match="Table with name nope does not exist") as info:
        adapter.execute("select * from nope")
    assert isinstance(info.value.__cause__, duckdb.CatalogException)


def test_rollback_discards_work_and_commit_keeps_it(adapter):
    adapter.execute("create table t (a int)")
    with pytest.raises(DatabaseError), adapter.transaction():
        adapter.execute("insert into t values (1)")
        adapter.execute("select * from nope")
    assert not adapter.in_transaction
    with adapter.transaction():
        adapter.execute("insert into t values (2)")
    assert rows(adapter, "select a from t") == [(2,)]


def test_nested_begin_is_refused_but_nested_transaction_joins(adapter):
    adapter.begin()
    with pytest.raises(InternalError):
        adapter.begin()
    with adapter.transaction():
        adapter.execute("create table t (a int)")
    assert adapter.in_transaction
    adapter.rollback()
    assert adapter.get_relation(None, None, "t") is None


def test_each_thread_has_its_own_connection_and_transaction(adapter):
    adapter.execute("create table t (a int)")
    adapter.begin()
    adapter.execute("insert into t values (1)")
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.extend(rows(adapter, "select count(*) from t")))
    worker.start()
    worker.join()
    assert seen == [(0,)]  # the other thread does not see uncommitted rows
    adapter.commit()
    assert rows(adapter, "select count(*) from t") == [(1,)]


def test_close_releases_the_file_and_the_adapter_reopens(adapter, tmp_path):
    adapter.execute("create table t as select 1 as a")
    adapter.close()
    other = duckdb.connect(str(tmp_path / "shop_dev.duckdb"))
    assert other.execute("select a from t").fetchall() == [(1,)]
    other.close()
    assert rows(adapter, "select a from t") == [(1,)]


_MANY_TABLES = """
import sys
from kiln.adapters.registry import create_adapter
adapter = create_adapter({"type": "duckdb", "path": sys.argv[1], "settings": %s})
for i in range(600):
    adapter.execute(f"create table t{i} as select range as i, 'x' || range as s from range(300)")
adapter.close()
# VmHWM is this process's own peak: getrusage would report the forking pytest's if larger
with open("/proc/self/status") as status:
    print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) // 1024)
"""


def _peak_mb_closing_many_tables(path: Path, settings: dict[str, str]) -> int:
    import subprocess
    import sys

    script = _MANY_TABLES % (settings,)
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


def test_closing_a_file_checkpoints_without_caching_every_written_block(tmp_path):
    # Each small table is one 256 KB block once checkpointed: with no limit, DuckDB keeps
    # all 600 of them (~150 MB) in memory as the database closes.
    lean = _peak_mb_closing_many_tables(tmp_path / "lean.duckdb", {})
    cached = _peak_mb_closing_many_tables(tmp_path / "cached.duckdb", {"memory_limit": "8GB"})
    assert lean < cached - 60, (lean, cached)
    assert not (tmp_path / "lean.duckdb.wal").exists()
    reopened = duckdb.connect(str(tmp_path / "lean.duckdb"))
    assert reopened.execute("select count(*), max(s) from t599").fetchall() == [(300, "x99")]
    reopened.close()


# -- introspection ------------------------------------------------------------------------------


def test_get_relation_matches_case_insensitively_with_its_type(adapter):
    adapter.execute('create table main."Orders" as select 1 as id')
    adapter.execute("create view main.v_orders as select * from main.Orders")
    table = adapter.get_relation("SHOP_DEV", "MAIN", "orders")
    assert table is not None
    assert (table.database, table.schema, table.identifier, table.type) == (
        "shop_dev",
        "main",
        "Orders",
        "table",
    )
    view = adapter.get_relation("shop_dev", "main", "V_ORDERS")
    assert view is not None and view.is_view
    assert adapter.get_relation("shop_dev", "main", "missing") is None
    assert adapter.get_relation("shop_dev", "no_such_schema", "orders") is None


def test_list_relations_covers_one_schema(adapter):
    adapter.create_schema(SchemaRef("shop_dev", "staging"))
    adapter.execute("create table staging.a (x int)")
    adapter.execute("create view staging.b as select 1 as y")
    adapter.execute("create table main.c (x int)")
    found = adapter.list_relations(SchemaRef("shop_dev", "staging"))
    assert sorted((r.identifier, r.type) for r in found) == [("a", "table"), ("b", "view")]


def test_get_columns_in_ordinal_order_with_information_schema_types(adapter):
    adapter.execute(
        "create table t as select 1::integer as id, 2.5::decimal(18,2) as amount, "
        "'x' as name, [1, 2] as tags, now()::timestamp as at"
    )
    columns = adapter.get_columns(adapter.relation("shop_dev", "main", "T"))
    assert [(c.name, c.data_type) for c in columns] == [
        ("id", "INTEGER"),
        ("amount", "DECIMAL(18,2)"),
        ("name", "VARCHAR"),
        ("tags", "INTEGER[]"),
        ("at", "TIMESTAMP"),
    ]
    assert columns[0].quoted == '"id"'
    assert columns[1].dtype == columns[1].data_type == "DECIMAL(18,2)"
    assert adapter.get_columns(adapter.relation("shop_dev", "main", "missing")) == []


def test_relation_uses_the_adapters_quoting(adapter):
    relation = adapter.relation("shop_dev", "main", 'we"ird', "table")
    assert relation.render() == '"shop_dev"."main"."we""ird"'
    assert adapter.quote("a b") == '"a b"'


# -- DDL and DML -----------------------------------------------------------------------------


def test_schemas_are_created_and_dropped(adapter):
    ref = SchemaRef("shop_dev", "analytics")
    adapter.create_schema(ref)
    adapter.create_schema(ref)  # idempotent
    adapter.execute("create table analytics.t (a int)")
    adapter.drop_schema(ref)
    assert rows(
        adapter, "select count(*) from duckdb_schemas() where schema_name = 'analytics'"
    ) == [(0,)]


def test_swap_replaces_a_view_with_a_table(adapter):
    target = adapter.relation("shop_dev", "main", "m")
    adapter.create_view_as(target, "select 1 as old")
    new = adapter.relation("shop_dev", "main", "m__dbt_tmp", "table")
    adapter.create_table_as(new, "select 2 as fresh")
    with adapter.transaction():
        adapter.swap_relation(new, target)
    swapped = adapter.get_relation("shop_dev", "main", "m")
    assert swapped is not None and swapped.is_table
    assert rows(adapter, "select * from main.m") == [(2,)]
    names = {r.identifier for r in adapter.list_relations(SchemaRef("shop_dev", "main"))}
    assert names == {"m"}


def test_rename_and_drop_look_up_an_unknown_type(adapter):
    adapter.execute("create view main.v as select 1 as a")
    adapter.rename_relation(
        adapter.relation("shop_dev", "main", "v"), adapter.relation("shop_dev", "main", "w")
    )
    renamed = adapter.get_relation("shop_dev", "main", "w")
    assert renamed is not None and renamed.is_view
    adapter.drop_relation(adapter.relation("shop_dev", "main", "w"))
    adapter.drop_relation(adapter.relation("shop_dev", "main", "w"))  # missing: no-op
    assert adapter.get_relation("shop_dev", "main", "w") is None


def test_rename_into_another_schema_is_refused(adapter):
    with pytest.raises(InternalError):
        adapter.rename_relation(
            adapter.relation("shop_dev", "main", "a", "table"),
            adapter.relation("shop_dev", "other", "a", "table"),
        )


def test_insert_rows_binds_values_of_every_seed_type(adapter):
    from datetime import date, datetime
    from decimal import Decimal

    relation = adapter.relation("shop_dev", "main", "typed", "table")
    columns = [
        Column("i", "INTEGER"),
        Column("d", "DOUBLE"),
        Column("b", "BOOLEAN"),
        Column("day", "DATE"),
        Column("at", "TIMESTAMP"),
        Column("s", "VARCHAR"),
        Column("big", "BIGINT"),
        Column("money", "DECIMAL(18,2)"),
    ]
    adapter.create_table(relation, columns)
    data = [
        (
            1,
            1.5,
            True,
            date(2024, 1, 2),
            datetime(2024, 1, 2, 3, 4, 5),
            "a'b",
            "12",
            Decimal("1.25"),
        ),
        (None, None, None, None, None, None, None, None),
    ]
    response = adapter.insert_rows(relation, columns, data)
    assert response.rows_affected == 2
    assert rows(adapter, "select * from main.typed order by i nulls last") == [
        data[0][:6] + (12, Decimal("1.25")),
        data[1],
    ]


def test_add_drop_and_retype_columns(adapter):
    relation = adapter.relation("shop_dev", "main", "t", "table")
    adapter.execute("create table main.t as select 1 as a, 'x' as b")
    adapter.add_columns(relation, [Column("c", "DECIMAL(10,2)")])
    adapter.drop_columns(relation, ["b"])
    adapter.alter_column_type(relation, "a", "VARCHAR")
    assert [(c.name, c.data_type) for c in adapter.get_columns(relation)] == [
        ("a", "VARCHAR"),
        ("c", "DECIMAL(10,2)"),
    ]
    assert rows(adapter, "select * from main.t") == [("1", None)]


# -- attach and cancel -------------------------------------------------------------------------


def test_attach_creates_the_file_and_makes_it_queryable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made = create_adapter(
        {
            "type": "duckdb",
            "path": "shop_dev.duckdb",
            "attach": [{"path": "shop_prod.duckdb", "alias": "shop_prod"}],
        }
    )
    made.execute('create table "shop_prod"."main"."orders" as select 7 as id')
    assert (tmp_path / "shop_prod.duckdb").exists()
    prod = made.get_relation("shop_prod", "main", "orders")
    assert prod is not None and prod.render() == '"shop_prod"."main"."orders"'
    assert rows(made, 'select id from "shop_prod"."main"."orders"') == [(7,)]
    made.close()


def test_read_only_attachment_refuses_writes(tmp_path):
    duckdb.connect(str(tmp_path / "ro.duckdb")).close()
    made = create_adapter(
        {
            "type": "duckdb",
            "path": str(tmp_path / "main.duckdb"),
            "attach": [{"path": str(tmp_path / "ro.duckdb"), "alias": "ro", "read_only": True}],
        }
    )
    with pytest.raises(DatabaseError, match="read-only"):
        made.execute("create table ro.main.t (a int)")
    made.close()


def test_cancel_open_interrupts_a_running_query(adapter):
    outcome: list[BaseException] = []

    def long_query() -> None:
        try:
            adapter.execute("select count(*) from range(1000000000000) a")
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=long_query, name="Thread-7")
    worker.start()
    cancelled: list[str] = []
    deadline = time.monotonic() + 30
    while worker.is_alive() and time.monotonic() < deadline:
        # The query may not have reached the engine yet: retry until it stops.
        cancelled += adapter.cancel_open()
        worker.join(0.05)
    assert not worker.is_alive()
    assert "Thread-7" in cancelled
    assert len(outcome) == 1 and isinstance(outcome[0], DatabaseError)
    assert "Interrupted" in outcome[0].message
    assert rows(adapter, "select 1") == [(1,)]  # the adapter keeps working


def test_create_schema_accepts_a_relation_for_its_schema(adapter):
    adapter.create_schema(adapter.relation("shop_dev", "marts", "anything"))
    assert rows(adapter, "select count(*) from duckdb_schemas() where schema_name = 'marts'") == [
        (1,)
    ]


def test_seed_type_names_are_what_dbt_duckdb_creates():
    from kiln.materialize.seed_csv import DUCKDB_TYPE_NAMES, SeedKind

    assert {kind: DuckDBAdapter.seed_type_names[kind] for kind in SeedKind} == dict(
        DUCKDB_TYPE_NAMES
    )
