"""The adapter contract suite: one set of tests, run on every adapter.

`warehouse` is parametrised over duckdb, postgres and spark. Each test gets a fresh
schema (DuckDB: a fresh file); PostgreSQL runs in one database created for the test
session and dropped after it, Spark in one small local SparkSession for the test session.

A missing service (PostgreSQL server, pyspark, Java) skips its tests with the reason,
unless `KILN_REQUIRE_SERVICES=1` (as in CI), where it fails them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import textwrap
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kiln.adapters.base import Adapter, SchemaRef
from kiln.adapters.registry import create_adapter
from kiln.adapters.relation import Relation
from kiln.materialize import BuildRequest, build_incremental

PG_DSN = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
ADAPTERS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("spark", id="spark", marks=pytest.mark.spark),
    pytest.param("spark_connect", id="spark_connect", marks=pytest.mark.spark),
]
_schemas = itertools.count(1)


def service_missing(reason: str) -> None:
    """Skip, or fail when the run requires every service (`KILN_REQUIRE_SERVICES=1`)."""
    if os.environ.get("KILN_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


# -- services (one per test session) -------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A uniquely named database on the local server, dropped at the end."""
    try:
        import psycopg
    except ImportError:
        service_missing("psycopg is not installed (pip install 'kiln[postgres]')")
    name = f"kiln_contract_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(**PG_DSN, dbname="postgres", autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        service_missing(f"no PostgreSQL server at 127.0.0.1:5432: {exc}".splitlines()[0])
    with admin:
        admin.execute(f'create database "{name}"')
    yield name
    with psycopg.connect(**PG_DSN, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One small local SparkSession for the whole test session."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        service_missing("pyspark is not installed (pip install 'kiln[spark]')")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        service_missing("no Java for Spark (install Java 17 or set JAVA_HOME)")
    root = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("kiln-contract")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", str(root / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={root}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Spark Connect server (its own JVM, local[2]) for the test session."""
    try:
        import pyspark
        from pyspark.sql.connect.session import SparkSession  # noqa: F401 (the client)
    except ImportError as exc:
        service_missing(f"no Spark Connect client ({exc}; pip install 'kiln[spark]')")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        service_missing("no Java for Spark (install Java 17 or set JAVA_HOME)")
    root = tmp_path_factory.mktemp("spark-connect")
    port = _free_port()
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    confs = {
        "spark.connect.grpc.binding.port": port,
        "spark.sql.shuffle.partitions": 2,
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": root / "warehouse",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root}",
        "spark.sql.session.timeZone": "UTC",
    }
    command = [str(submit), "--master", "local[2]"]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    server_class = "org.apache.spark.sql.connect.service.SparkConnectServer"
    command += ["--class", server_class, "spark-internal"]
    log = (root / "server.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    try:
        _wait_for_port(port, server, root / "server.log")
        yield f"sc://localhost:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            service_missing(f"Spark Connect server exited: {log.read_text()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    service_missing(f"Spark Connect server did not listen on {port} within 120 s")


# -- one warehouse per test --------------------------------------------------------------------


@dataclass
class Warehouse:
    """An adapter on a fresh schema, with helpers to read back what a build did."""

    kind: str
    adapter: Adapter
    database: str | None
    schema: str
    target: dict[str, Any] = field(default_factory=dict)

    def rel(self, name: str) -> Relation:
        """A relation in the test's schema."""
        return self.adapter.relation(self.database, self.schema, name)

    def rows(self, relation: Relation | str) -> list[tuple[Any, ...]]:
        """Every row, sorted."""
        if isinstance(relation, str):
            relation = self.rel(relation)
        return sorted(self.adapter.fetch(f"select * from {relation}").rows, key=repr)

    def columns(self, relation: Relation | str) -> list[str]:
        """Column names, lower-cased, in the table's order."""
        if isinstance(relation, str):
            relation = self.rel(relation)
        return [c.name.lower() for c in self.adapter.get_columns(relation)]

    def types(self, relation: Relation | str) -> dict[str, str]:
        """Column name -> type, lower-cased."""
        if isinstance(relation, str):
            relation = self.rel(relation)
        return {c.name.lower(): c.data_type.lower() for c in self.adapter.get_columns(relation)}

    def kind_of(self, relation: Relation | str) -> str | None:
        """'table', 'view' or None."""
        if isinstance(relation, str):
            relation = self.rel(relation)
        found = self.adapter.get_relation(relation.database, relation.schema, relation.identifier)
        return found.type if found else None

    def leftovers(self) -> list[str]:
        """Intermediate, backup or staging relations left in the schema."""
        found = self.adapter.list_relations(SchemaRef(self.database, self.schema))
        return sorted(r.identifier for r in found if "__dbt" in r.identifier)

    def offers(self, strategy: str) -> bool:
        """Whether the adapter offers an incremental strategy."""
        return strategy in self.adapter.capabilities.incremental_strategies

    def profiles_yml(self, profile: str) -> str:
        """A profiles.yml with one `dev` target pointing at this warehouse."""
        lines = [f"{profile}:", "  target: dev", "  outputs:", "    dev:"]
        lines += [f"      {key}: {_yaml(value)}" for key, value in self.target.items()]
        return "\n".join(lines) + "\n"


def _yaml(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


@pytest.fixture(params=ADAPTERS)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """A fresh schema on each adapter."""
    kind: str = request.param
    schema = f"kc_{next(_schemas)}_{uuid.uuid4().hex[:6]}"
    target: dict[str, Any]
    if kind == "duckdb":
        target = {"type": "duckdb", "path": str(tmp_path / "contract.duckdb"), "schema": schema}
    elif kind == "postgres":
        dbname = request.getfixturevalue("postgres_database")
        target = {"type": "postgres", **PG_DSN, "dbname": dbname, "schema": schema}
    elif kind == "spark_connect":
        url = request.getfixturevalue("spark_connect_url")
        target = {"type": "spark", "method": "connect", "host": url, "schema": schema}
    else:
        request.getfixturevalue("spark_session")
        target = {"type": "spark", "method": "session", "schema": schema}
    target["threads"] = 2
    adapter = create_adapter(target)
    if kind == "spark_connect":
        # The suite must reach the server, not fall back to an in-process session.
        assert type(adapter._spark()).__module__.startswith("pyspark.sql.connect")
    adapter.create_schema(SchemaRef(adapter.database, schema))
    yield Warehouse(kind, adapter, adapter.database, schema, target)
    try:
        adapter.drop_schema(SchemaRef(adapter.database, schema))
    finally:
        adapter.close()


def write(root: Path, files: Mapping[str, str]) -> None:
    """Write a project's files (dedented) under `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


# -- building ----------------------------------------------------------------------------------


def request_for(
    relation: Relation,
    sql: str,
    config: Mapping[str, Any] | None = None,
    *,
    incremental: bool = False,
    full_refresh: bool = False,
    pre: tuple[str, ...] = (),
    post: tuple[str, ...] = (),
    **extra: Any,
) -> BuildRequest:
    """A BuildRequest for a model named like its relation."""
    return BuildRequest(
        node_id=f"model.contract.{relation.identifier}",
        relation=relation,
        sql=textwrap.dedent(sql),
        config=dict(config or {}),
        full_refresh=full_refresh,
        incremental=incremental,
        pre_hooks=pre,
        post_hooks=post,
        **extra,
    )


def run_incremental(
    wh: Warehouse, name: str, sql: str, config: Mapping[str, Any] | None = None, **kwargs: Any
) -> Any:
    """Build an incremental model as the runner would (`is_incremental()` when a table)."""
    relation = wh.rel(name)
    incremental = wh.kind_of(relation) == "table" and not kwargs.get("full_refresh", False)
    return build_incremental(
        wh.adapter, request_for(relation, sql, config, incremental=incremental, **kwargs)
    )


def union(*rows: tuple[Any, ...], names: tuple[str, ...]) -> str:
    """Portable literal rows: `select 1 as id, 'a' as s union all select 2, 'b'`.

    Example:
        >>> union((1, "a"), (2, "b"), names=("id", "s"))
        "select 1 as id, 'a' as s union all select 2, 'b'"
    """
    selects = []
    for index, row in enumerate(rows):
        cells = [_literal(v) for v in row]
        if index == 0:
            cells = [f"{c} as {n}" for c, n in zip(cells, names, strict=True)]
        selects.append("select " + ", ".join(cells))
    return " union all ".join(selects)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if value.startswith(("date ", "timestamp ", "cast(")):
            return value
        return "'" + value.replace("'", "''") + "'"
    if value is None:
        return "null"
    return str(value)
