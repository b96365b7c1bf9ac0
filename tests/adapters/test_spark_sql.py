"""The SQL Kiln sends to Spark, recorded on a fake SparkSession (no JVM).

The fake catalog knows the relations a test puts in `FakeSpark.tables`; the staging
table's time suffix is replaced by `<ts>`.
"""

from __future__ import annotations

import re
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from kiln.adapters.spark import SparkAdapter, SparkCredentials
from kiln.errors import CompilationError, ProfileError
from kiln.materialize import BuildRequest, build_incremental, build_table, build_view

TARGET = "`analytics`.`fct`"
TMP = "`analytics`.`fct__dbt_tmp<ts>`"
BODY = "select 2 as id, 'b' as day"
PROFILE = {"type": "spark", "method": "session", "schema": "analytics"}


class FakeFrame:
    def __init__(self, rows: list[tuple[Any, ...]] | None = None) -> None:
        self.rows = rows or []
        self.columns = ["namespace", "tableName", "isTemporary"] if rows is not None else []

    def collect(self) -> list[Any]:
        return self.rows


class FakeSpark:
    """Records SQL; answers the catalog calls the adapter makes."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.tables: dict[str, list[tuple[str, bool]]] = {}  # name -> [(column, partition)]
        self.descriptions: list[str | None] = []
        self.catalog = SimpleNamespace(
            databaseExists=lambda name: True,
            listTables=lambda db: [
                SimpleNamespace(name=n, tableType="MANAGED", isTemporary=False) for n in self.tables
            ],
            listColumns=self._columns,
        )
        self.sparkContext = SimpleNamespace(
            setJobGroup=lambda *a, **k: None,
            setJobDescription=self.descriptions.append,
            cancelJobGroup=lambda group: self.log.append(f"cancel {group}"),
        )
        self.conf = SimpleNamespace(set=lambda k, v: None)

    def sql(self, text: str, args: Any = None) -> FakeFrame:
        if text.startswith("SHOW TABLES"):  # introspection: answered, not recorded
            return FakeFrame([("analytics", name, False) for name in self.tables])
        if text.startswith("SHOW VIEWS"):
            return FakeFrame([])
        self.log.append(text)
        return FakeFrame()

    def table(self, name: str) -> Any:
        fields = [
            SimpleNamespace(name=c, dataType=SimpleNamespace(simpleString=lambda: "int"))
            for c, _ in self._known(name)
        ]
        return SimpleNamespace(schema=fields)

    def _columns(self, name: str) -> list[Any]:
        return [SimpleNamespace(name=c, isPartition=p) for c, p in self._known(name)]

    def _known(self, name: str) -> list[tuple[str, bool]]:
        # Intermediate, backup and staging tables look like the table they stand for.
        base = name.split(".")[-1].strip("`").split("__dbt")[0]
        return self.tables.get(base, [])


class RecordingSparkAdapter(SparkAdapter):
    fake: FakeSpark

    def _start_session(self) -> Any:
        return self.fake


@pytest.fixture
def adapter() -> RecordingSparkAdapter:
    made = RecordingSparkAdapter.from_target(PROFILE)
    made.fake = FakeSpark()
    return made


def emitted_sql(adapter: RecordingSparkAdapter) -> list[str]:
    sent = [re.sub(r"__dbt_tmp\d+", "__dbt_tmp<ts>", sql) for sql in adapter.fake.log]
    adapter.fake.log.clear()
    return sent


def request(config: dict[str, Any], *, incremental: bool = False) -> BuildRequest:
    relation = SparkAdapter.from_target(PROFILE).relation(None, "analytics", "fct")
    return BuildRequest("model.shop.fct", relation, BODY, config, False, incremental)


LAYOUT_CASES = [
    pytest.param({}, "USING PARQUET", id="parquet-default"),
    pytest.param({"file_format": "delta"}, "USING DELTA", id="delta"),
    pytest.param(
        {"partition_by": ["day"], "clustered_by": "id", "buckets": 4},
        "USING PARQUET PARTITIONED BY (`day`) CLUSTERED BY (`id`) INTO 4 BUCKETS",
        id="partitions-and-buckets",
    ),
    pytest.param(
        {"location_root": "/lake/marts/"},
        "USING PARQUET LOCATION '/lake/marts/fct/<stamp>'",
        id="location_root",
    ),
]


@pytest.mark.parametrize(("config", "layout"), LAYOUT_CASES)
def test_table_layout(adapter, config, layout):
    build_table(adapter, request(config))
    sent = [re.sub(r"/fct/\d{8}T\d+", "/fct/<stamp>", sql) for sql in emitted_sql(adapter)]
    assert f"CREATE TABLE `analytics`.`fct__dbt_tmp` {layout} AS (\n{BODY}\n)" in sent


def test_table_swap_renames_and_repairs_partitions(adapter):
    adapter.fake.tables = {"fct": [("id", False), ("day", True)]}
    build_table(adapter, request({"partition_by": "day"}))
    assert emitted_sql(adapter)[1:] == [
        f"ALTER TABLE {TARGET} RENAME TO `fct__dbt_backup`",
        "MSCK REPAIR TABLE `analytics`.`fct__dbt_backup` SYNC PARTITIONS",
        "ALTER TABLE `analytics`.`fct__dbt_tmp` RENAME TO `fct`",
        f"MSCK REPAIR TABLE {TARGET} SYNC PARTITIONS",
        "DROP TABLE IF EXISTS `analytics`.`fct__dbt_backup`",
    ]


def test_views_are_created_or_replaced(adapter):
    build_view(adapter, request({}))
    assert emitted_sql(adapter) == [f"CREATE OR REPLACE VIEW {TARGET} AS (\n{BODY}\n)"]


def test_insert_overwrite_is_a_dynamic_partition_overwrite(adapter):
    adapter.fake.tables = {"fct": [("id", False), ("day", True)]}
    config = {"incremental_strategy": "insert_overwrite", "partition_by": "day"}
    build_incremental(adapter, request(config, incremental=True))
    sent = emitted_sql(adapter)
    assert f"CREATE TABLE {TMP} USING PARQUET AS (\n{BODY}\n)" in sent
    assert f"INSERT OVERWRITE TABLE {TARGET} (`id`, `day`) SELECT `id`, `day` FROM {TMP}" in sent
    assert sent[-1] == f"DROP TABLE IF EXISTS {TMP}"


def test_merge_sql_for_delta_tables(adapter):
    adapter.fake.tables = {"fct": [("id", False), ("day", False)]}
    config = {"incremental_strategy": "merge", "unique_key": "id", "file_format": "delta"}
    build_incremental(adapter, request(config, incremental=True))
    merge = next(sql for sql in emitted_sql(adapter) if sql.startswith("MERGE"))
    # Spark folds identifiers case-insensitively, as users' predicates expect.
    assert merge == (
        f"MERGE INTO {TARGET} AS `dbt_internal_dest` USING {TMP} AS `dbt_internal_source` "
        "ON (`dbt_internal_source`.`id` = `dbt_internal_dest`.`id`) "
        "WHEN MATCHED THEN UPDATE SET `id` = `dbt_internal_source`.`id`, "
        "`day` = `dbt_internal_source`.`day` "
        "WHEN NOT MATCHED THEN INSERT (`id`, `day`) "
        "VALUES (`dbt_internal_source`.`id`, `dbt_internal_source`.`day`)"
    )


def test_merge_on_parquet_is_refused_before_anything_runs(adapter):
    with pytest.raises(CompilationError) as info:
        build_incremental(adapter, request({"incremental_strategy": "merge", "unique_key": "id"}))
    assert "file_format delta" in info.value.message and "'fct'" in info.value.message
    assert emitted_sql(adapter) == []


def test_delete_insert_is_not_offered(adapter):
    with pytest.raises(CompilationError, match="spark offers append, insert_overwrite"):
        build_incremental(adapter, request({"incremental_strategy": "delete+insert"}))


def test_each_node_is_tagged_with_a_job_description(adapter):
    build_table(adapter, request({}))
    assert adapter.fake.descriptions == ["kiln: model.shop.fct", "kiln"]


def test_dropped_columns_rebuild_the_table(adapter):
    adapter.fake.tables = {"fct": [("id", False), ("old", False)]}
    relation = adapter.relation(None, "analytics", "fct", "table")
    adapter.drop_columns(relation, ["old"])
    assert emitted_sql(adapter) == [
        "DROP TABLE IF EXISTS `analytics`.`fct__dbt_tmp`",
        f"CREATE TABLE `analytics`.`fct__dbt_tmp` USING PARQUET AS (SELECT `id` FROM {TARGET})",
        f"ALTER TABLE {TARGET} RENAME TO `fct__dbt_backup`",
        "ALTER TABLE `analytics`.`fct__dbt_tmp` RENAME TO `fct`",
        "DROP TABLE IF EXISTS `analytics`.`fct__dbt_backup`",
    ]


# -- profiles ----------------------------------------------------------------------------------


def test_session_master_and_connect_url():
    assert SparkCredentials.from_target({**PROFILE, "host": "local[2]"}).master_url() == "local[2]"
    assert SparkCredentials.from_target({**PROFILE, "host": "NA"}).master_url() is None
    creds = SparkCredentials.from_target({"type": "spark", "method": "connect", "host": "sc://h:1"})
    assert creds.connect_url() == "sc://h:1"


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ({**PROFILE, "method": "thrift"}, "session or connect"),
        ({"type": "spark", "method": "connect"}, "sc://"),
    ],
)
def test_bad_profiles_are_profile_errors_with_the_fix(target, words):
    with pytest.raises(ProfileError) as info:
        SparkCredentials.from_target(target)
    assert words in (info.value.hint or "")


def test_missing_pyspark_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ProfileError) as info:
        SparkAdapter.from_target(PROFILE).execute("select 1")
    assert "kiln[spark]" in (info.value.hint or "")


def test_missing_java_is_a_clear_error(monkeypatch, tmp_path):
    pytest.importorskip("pyspark")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProfileError) as info:
        SparkAdapter.from_target(PROFILE).execute("select 1")
    assert "Java" in info.value.message and "JAVA_HOME" in (info.value.hint or "")
