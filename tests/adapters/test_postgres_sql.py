"""The SQL Kiln sends to PostgreSQL, recorded on a fake psycopg connection (no server).

Catalog queries (pg_catalog) answer from `FakeCatalog`; the temporary table's time
suffix is replaced by `<ts>`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from kiln.adapters.base import DBAPIConnection
from kiln.adapters.postgres import PostgresAdapter, PostgresCredentials
from kiln.errors import CompilationError, ProfileError
from kiln.materialize import BuildRequest, build_incremental, build_table, build_view

TARGET = '"shop"."main"."fct"'
TMP = '"fct__dbt_tmp<ts>"'
BODY = "select 2 as id, 'b' as status"
PROFILE = {"type": "postgres", "host": "db", "user": "kiln", "dbname": "shop", "schema": "main"}


@dataclass
class FakeCatalog:
    relations: list[tuple[str, str]] = field(default_factory=list)  # (name, relkind)
    columns: list[tuple[str, str]] = field(default_factory=lambda: [("id", "integer")])
    version: str = "150004"


class FakeCursor:
    def __init__(self, log: list[str], catalog: FakeCatalog) -> None:
        self.log, self.catalog = log, catalog
        self.description: Any = None
        self.rows: list[tuple[Any, ...]] = []
        self.rowcount = -1
        self.statusmessage = "OK"

    def execute(self, sql: str, params: Any = None) -> None:
        self.rows, self.description = [], None
        lowered = sql.lower()
        if "pg_class" in lowered:
            self.rows = list(self.catalog.relations)
        elif "pg_attribute" in lowered:
            self.rows = list(self.catalog.columns)
        elif "current_setting" in lowered:
            self.rows = [(self.catalog.version,)]
        else:
            self.log.append(sql)
        if self.rows or "SELECT" in sql[:10].upper():
            self.description = [("c",)] * (len(self.rows[0]) if self.rows else 1)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def close(self) -> None:
        return

    def copy(self, sql: str) -> Any:
        self.log.append(sql)
        log = self.log

        class Copy:
            def __enter__(self) -> Copy:
                return self

            def __exit__(self, *exc: object) -> None:
                return

            def write_row(self, row: Any) -> None:
                log.append(f"row {tuple(row)!r}")

        return Copy()


class FakeConnection:
    def __init__(self, log: list[str], catalog: FakeCatalog) -> None:
        self.log, self.catalog = log, catalog

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.log, self.catalog)

    def close(self) -> None:
        return


class RecordingPostgresAdapter(PostgresAdapter):
    log: list[str]
    catalog: FakeCatalog

    def open_connection(self) -> DBAPIConnection:
        return FakeConnection(self.log, self.catalog)


@pytest.fixture
def adapter() -> RecordingPostgresAdapter:
    made = RecordingPostgresAdapter.from_target(PROFILE)
    made.log, made.catalog = [], FakeCatalog()
    return made


def emitted_sql(adapter: RecordingPostgresAdapter) -> list[str]:
    sent = [re.sub(r"__dbt_tmp\d+", "__dbt_tmp<ts>", sql) for sql in adapter.log]
    adapter.log.clear()
    return sent


def request(config: dict[str, Any], *, incremental: bool = True) -> BuildRequest:
    relation = PostgresAdapter.from_target(PROFILE).relation("shop", "main", "fct")
    return BuildRequest("model.shop.fct", relation, BODY, config, False, incremental)


def app_name(label: str) -> str:
    return f"SELECT SET_CONFIG('application_name', '{label}', FALSE)"


NODE = app_name("kiln:model.shop.fct")
RESET = app_name("kiln")
STAGE = f"CREATE TEMPORARY TABLE {TMP} AS (\n{BODY}\n)"
INSERT = f'INSERT INTO {TARGET} ("id") SELECT "id" FROM {TMP}'

CASES = [
    pytest.param(
        {"incremental_strategy": "merge", "unique_key": "id"},
        [
            NODE,
            "BEGIN",
            STAGE,
            f'MERGE INTO {TARGET} AS "dbt_internal_dest" USING {TMP} AS "dbt_internal_source" '
            'ON ("dbt_internal_source"."id" = "dbt_internal_dest"."id") '
            'WHEN MATCHED THEN UPDATE SET "id" = "dbt_internal_source"."id" '
            'WHEN NOT MATCHED THEN INSERT ("id") VALUES ("dbt_internal_source"."id")',
            "COMMIT",
            f"DROP TABLE IF EXISTS {TMP} CASCADE",
            RESET,
        ],
        id="merge",
    ),
    pytest.param(
        {"incremental_strategy": "insert_overwrite", "partition_by": "id"},
        [
            NODE,
            "BEGIN",
            STAGE,
            f'DELETE FROM {TARGET} AS "dbt_internal_dest" WHERE EXISTS(SELECT 1 FROM {TMP} AS '
            '"dbt_internal_source" WHERE "dbt_internal_source"."id" IS NOT DISTINCT FROM '
            '"dbt_internal_dest"."id")',
            INSERT,
            "COMMIT",
            f"DROP TABLE IF EXISTS {TMP} CASCADE",
            RESET,
        ],
        id="insert_overwrite-emulated",
    ),
    pytest.param(
        {"incremental_strategy": "delete+insert", "unique_key": "id"},
        [
            NODE,
            "BEGIN",
            STAGE,
            f'DELETE FROM {TARGET} AS "dbt_internal_dest" WHERE ("dbt_internal_dest"."id") IN '
            f'(SELECT "id" FROM {TMP})',
            INSERT,
            "COMMIT",
            f"DROP TABLE IF EXISTS {TMP} CASCADE",
            RESET,
        ],
        id="delete+insert",
    ),
]


@pytest.mark.parametrize(("config", "expected"), CASES)
def test_incremental_sql(adapter, config, expected):
    adapter.catalog.relations = [("fct", "r")]
    build_incremental(adapter, request(config))
    assert emitted_sql(adapter) == expected


def test_table_swap_is_renames_in_one_transaction(adapter):
    adapter.catalog.relations = [("fct", "r")]
    build_table(adapter, request({}, incremental=False))
    assert emitted_sql(adapter) == [
        NODE,
        "BEGIN",
        f'CREATE TABLE "shop"."main"."fct__dbt_tmp" AS (\n{BODY}\n)',
        f'ALTER TABLE {TARGET} RENAME TO "fct__dbt_backup"',
        'ALTER TABLE "shop"."main"."fct__dbt_tmp" RENAME TO "fct"',
        'DROP TABLE IF EXISTS "shop"."main"."fct__dbt_backup" CASCADE',
        "COMMIT",
        RESET,
    ]


def test_views_are_swapped_in_not_replaced(adapter):
    # CREATE OR REPLACE VIEW cannot drop columns on PostgreSQL.
    adapter.catalog.relations = []
    build_view(adapter, request({}, incremental=False))
    sent = emitted_sql(adapter)
    assert f'CREATE VIEW "shop"."main"."fct__dbt_tmp" AS (\n{BODY}\n)' in sent
    assert not any("OR REPLACE" in sql for sql in sent)


def test_layout_configs_are_ignored_and_logged(adapter, caplog):
    caplog.set_level("INFO")
    build_table(adapter, request({"partition_by": "id", "cluster_by": ["id"]}, incremental=False))
    assert "postgres ignores partition_by, cluster_by" in caplog.text


def test_seed_rows_stream_through_copy(adapter):
    from kiln.adapters.base import Column

    relation = adapter.relation("shop", "main", "seed")
    adapter.insert_rows(relation, [Column("id", "integer"), Column("n", "text")], [(1, "a")])
    assert emitted_sql(adapter) == [
        'COPY "shop"."main"."seed" ("id", "n") FROM STDIN',
        "row (1, 'a')",
    ]


def test_schemas_are_created_without_their_database_and_once(adapter):
    relation = adapter.relation("shop", "main", "x")
    adapter.create_schema(relation)
    adapter.create_schema(relation)
    assert emitted_sql(adapter) == ['CREATE SCHEMA IF NOT EXISTS "main"']


def test_microbatch_window_is_deleted_then_inserted(adapter):
    adapter.catalog.relations = [("fct", "r")]
    config = {"incremental_strategy": "microbatch", "event_time": "ts", "batch_size": "day"}
    req = request(config)
    req = BuildRequest(
        req.node_id,
        req.relation,
        req.sql,
        config,
        False,
        True,
        event_time_start=datetime(2024, 1, 1),
        event_time_end=datetime(2024, 1, 2),
    )
    build_incremental(adapter, req)
    window = (
        "\"ts\" >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND "
        "\"ts\" < CAST('2024-01-02 00:00:00' AS TIMESTAMP)"
    )
    sent = emitted_sql(adapter)
    # the batch's rows are staged as the model returned them; only those in the window
    # replace the window (dbt-duckdb's delete + insert)
    assert STAGE in sent
    assert sent.index(f"DELETE FROM {TARGET} WHERE {window}") < sent.index(
        f"{INSERT} WHERE {window}"
    )


def test_merge_needs_postgres_15(adapter):
    adapter.catalog.version = "140011"
    adapter.catalog.relations = [("fct", "r")]
    with pytest.raises(CompilationError, match="PostgreSQL 15"):
        build_incremental(adapter, request({"incremental_strategy": "merge", "unique_key": "id"}))


# -- profiles ----------------------------------------------------------------------------------


def test_profile_keys_follow_dbt_postgres():
    creds = PostgresCredentials.from_target(
        {
            **PROFILE,
            "pass": "s3cret",
            "port": "5433",
            "sslmode": "require",
            "keepalives_idle": 30,
            "connect_timeout": 3,
            "search_path": "main, public",
            "role": "builder",
        }
    )
    kwargs = creds.connect_kwargs()
    assert kwargs["password"] == "s3cret" and kwargs["port"] == 5433
    assert kwargs["options"] == "-c search_path=main,\\ public"
    assert kwargs["application_name"] == "kiln" and kwargs["sslmode"] == "require"
    assert kwargs["keepalives_idle"] == 30 and creds.role == "builder"
    assert "s3cret" not in repr(creds)


@pytest.mark.parametrize("missing", ["user", "dbname"])
def test_missing_profile_key_is_a_profile_error(missing):
    target = {k: v for k, v in PROFILE.items() if k != missing}
    with pytest.raises(ProfileError) as info:
        PostgresCredentials.from_target(target)
    assert missing in info.value.message and "profiles.yml" in (info.value.hint or "")


def test_missing_psycopg_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    adapter = PostgresAdapter.from_target(PROFILE)
    with pytest.raises(ProfileError) as info:
        adapter.execute("select 1")
    assert "kiln[postgres]" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("error", "reason", "hint"),
    [
        (
            'connection failed: connection to server at "127.0.0.1", port 1 failed: '
            "Connection refused\n\tIs the server running on that host?",
            "Connection refused",
            "running",
        ),
        (
            'connection failed: FATAL:  password authentication failed for user "kiln"',
            'password authentication failed for user "kiln"',
            "password",
        ),
        ('connection failed: FATAL:  database "shop" does not exist', "does not exist", "dbname"),
    ],
)
def test_connection_errors_are_one_line_with_a_fix(error, reason, hint):
    adapter = PostgresAdapter.from_target(PROFILE)
    made = adapter._connect_error(Exception(error))
    assert "\n" not in made.message and reason in made.message
    assert "kiln@db:5432/shop" in made.message
    assert hint in (made.hint or "")
