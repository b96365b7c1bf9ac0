"""The SQL Kiln sends to DuckDB, recorded on a real connection, for awkward names.

Introspection queries (information_schema) are left out of the recordings; the
temporary table's time suffix is replaced by `<ts>`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiln.adapters.base import DBAPIConnection, SchemaRef
from kiln.adapters.duckdb import DuckDBAdapter
from kiln.adapters.relation import Relation
from kiln.materialize import BuildRequest, build_incremental, build_table, build_view, load_seed
from kiln.materialize.seed_csv import SeedColumn, SeedData, SeedKind

DB = '"shop dev"'
SCHEMA = f'{DB}."we""ird schema"'
TARGET = f'{SCHEMA}."Fct Orders"'
TMP = '"Fct Orders__dbt_tmp<ts>"'
BODY = "select 2 as id, 'b' as status"


class RecordingCursor:
    """A real DuckDB cursor that notes every statement it runs."""

    def __init__(self, cursor: Any, log: list[str]) -> None:
        self._cursor = cursor
        self._log = log

    def execute(self, sql: str, parameters: Any = None) -> Any:
        self._log.append(sql)
        if parameters is None:
            return self._cursor.execute(sql)
        return self._cursor.execute(sql, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class RecordingDuckDBAdapter(DuckDBAdapter):
    log: list[str]

    def open_connection(self) -> DBAPIConnection:
        return RecordingCursor(super().open_connection(), self.log)  # type: ignore[return-value]


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[RecordingDuckDBAdapter]:
    made = RecordingDuckDBAdapter.from_target(
        {"type": "duckdb", "path": str(tmp_path / "shop dev.duckdb")}
    )
    made.log = []
    made.create_schema(SchemaRef("shop dev", 'we"ird schema'))
    yield made
    made.close()


def emitted_sql(adapter: RecordingDuckDBAdapter) -> list[str]:
    """The statements sent since the last call, introspection left out."""
    sent = [
        re.sub(r"__dbt_tmp\d+", "__dbt_tmp<ts>", sql)
        for sql in adapter.log
        if "information_schema" not in sql
    ]
    adapter.log.clear()
    return sent


def target(adapter: DuckDBAdapter, name: str = "Fct Orders") -> Relation:
    return adapter.relation("shop dev", 'we"ird schema', name)


def incremental(config: dict[str, Any]) -> Callable[[DuckDBAdapter], object]:
    def build(adapter: DuckDBAdapter) -> object:
        req = BuildRequest("model.shop.x", target(adapter), BODY, config, False, True)
        return build_incremental(adapter, req)

    return build


def rebuild_table(adapter: DuckDBAdapter) -> object:
    return build_table(
        adapter, BuildRequest("model.shop.x", target(adapter), BODY, {}, False, False)
    )


def build_a_view(adapter: DuckDBAdapter) -> object:
    req = BuildRequest("model.shop.v", target(adapter, "V"), "select 1", {}, False, False)
    return build_view(adapter, req)


def seed(adapter: DuckDBAdapter) -> object:
    data = SeedData((SeedColumn("Id", SeedKind.INTEGER, "INTEGER"),), [(1,), (2,)])
    req = BuildRequest("seed.shop.s", target(adapter, "Seed"), "", {}, False, False)
    return load_seed(adapter, req, data)


STAGE = f"CREATE TEMPORARY TABLE {TMP} AS (\n{BODY}\n)"
INSERT = f'INSERT INTO {TARGET} ("id", "status") SELECT "id", "status" FROM {TMP}'
DROP_TMP = f"DROP TABLE IF EXISTS {TMP} CASCADE"

CASES = [
    pytest.param(
        rebuild_table,
        [
            "BEGIN",
            f'CREATE TABLE {SCHEMA}."Fct Orders__dbt_tmp" AS (\n{BODY}\n)',
            f'ALTER TABLE {TARGET} RENAME TO "Fct Orders__dbt_backup"',
            f'ALTER TABLE {SCHEMA}."Fct Orders__dbt_tmp" RENAME TO "Fct Orders"',
            f'DROP TABLE IF EXISTS {SCHEMA}."Fct Orders__dbt_backup" CASCADE',
            "COMMIT",
        ],
        id="table-swap",
    ),
    pytest.param(
        incremental({"unique_key": "id", "incremental_strategy": "merge"}),
        [
            "BEGIN",
            STAGE,
            f'MERGE INTO {TARGET} AS "dbt_internal_dest" USING {TMP} AS "dbt_internal_source" '
            'ON ("dbt_internal_source"."id" = "dbt_internal_dest"."id") '
            'WHEN MATCHED THEN UPDATE SET "id" = "dbt_internal_source"."id", '
            '"status" = "dbt_internal_source"."status" '
            'WHEN NOT MATCHED THEN INSERT ("id", "status") '
            'VALUES ("dbt_internal_source"."id", "dbt_internal_source"."status")',
            "COMMIT",
            DROP_TMP,
        ],
        id="merge",
    ),
    pytest.param(
        incremental(
            {
                "unique_key": "id",
                "incremental_strategy": "delete+insert",
                "incremental_predicates": ["DBT_INTERNAL_DEST.id > 0"],
            }
        ),
        [
            "BEGIN",
            STAGE,
            f'DELETE FROM {TARGET} AS "dbt_internal_dest" '
            f'WHERE ("dbt_internal_dest"."id") IN (SELECT "id" FROM {TMP}) '
            "AND (\nDBT_INTERNAL_DEST.id > 0\n)",
            INSERT,
            "COMMIT",
            DROP_TMP,
        ],
        id="delete+insert",
    ),
    pytest.param(
        incremental({"unique_key": ["id", "status"], "incremental_strategy": "delete+insert"}),
        [
            "BEGIN",
            STAGE,
            f'DELETE FROM {TARGET} AS "dbt_internal_dest" WHERE EXISTS(SELECT 1 FROM {TMP} '
            'AS "dbt_internal_source" WHERE "dbt_internal_source"."id" = "dbt_internal_dest"."id" '
            'AND "dbt_internal_source"."status" = "dbt_internal_dest"."status")',
            INSERT,
            "COMMIT",
            DROP_TMP,
        ],
        id="delete+insert-composite",
    ),
    pytest.param(
        incremental({"incremental_strategy": "append", "on_schema_change": "sync_all_columns"}),
        ["BEGIN", STAGE, INSERT, "COMMIT", DROP_TMP],
        id="append",
    ),
    pytest.param(
        build_a_view,
        ["BEGIN", f'CREATE OR REPLACE VIEW {SCHEMA}."V" AS (\nselect 1\n)', "COMMIT"],
        id="view",
    ),
    pytest.param(
        seed,
        [
            "BEGIN",
            f'CREATE TABLE {SCHEMA}."Seed" ("Id" INTEGER)',
            f'INSERT INTO {SCHEMA}."Seed" ("Id") SELECT UNNEST(CAST(? AS INTEGER[]))',
            "COMMIT",
        ],
        id="seed",
    ),
]


@pytest.mark.parametrize(("build", "expected_sql"), CASES)
def test_emitted_sql(adapter, build, expected_sql):
    rebuild_table(adapter)  # the target exists as a table
    emitted_sql(adapter)
    build(adapter)
    assert emitted_sql(adapter) == expected_sql


def test_schema_change_statements(adapter):
    adapter.execute(f"create table {TARGET} as select 1 as id, 1 as old, 'x' as status")
    emitted_sql(adapter)
    incremental({"incremental_strategy": "append", "on_schema_change": "sync_all_columns"})(adapter)
    sent = emitted_sql(adapter)
    assert f'ALTER TABLE {TARGET} DROP COLUMN "old"' in sent
    assert f'ALTER TABLE {TARGET} ALTER COLUMN "status" SET DATA TYPE VARCHAR' not in sent
    adapter.execute(f"create or replace table {TARGET} as select 1 as id, 1 as status")
    emitted_sql(adapter)
    incremental({"incremental_strategy": "append", "on_schema_change": "sync_all_columns"})(adapter)
    assert f'ALTER TABLE {TARGET} ALTER COLUMN "status" SET DATA TYPE VARCHAR' in emitted_sql(
        adapter
    )
