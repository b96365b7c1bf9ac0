"""Apache Spark through pyspark (`pip install 'kiln[spark]'`).

Profile keys follow dbt-spark where they apply: `method` (`session` or `connect`),
`host`, `port`, `schema`, `threads`, `server_side_parameters` (Spark confs), plus
`master` and `app_name`.

- `method: session` runs Spark in this process: `SparkSession.builder.master(master)`
  (`master`, or `host` when it is a master URL; `local[*]` when neither is set). An
  already running session is reused, so a notebook or a test suite keeps one JVM.
- `method: connect` talks to a Spark Connect server: `host: sc://spark:15002`, or a
  plain host name with `port` (15002 by default).

Models may set `file_format` (parquet by default; delta, iceberg or hudi where the
session has them), `partition_by`, `clustered_by` with `buckets`, and `location_root`
(files under `<location_root>/<model>/<build time>`: renames do not move external data).
Strategies: `append`, `insert_overwrite` (dynamic partition overwrite), `merge` (delta,
iceberg and hudi tables only) and `microbatch` (partition overwrite per batch).

Spark has no transactions. A table is built next to the old one and swapped in by two
renames; a column dropped or retyped by `on_schema_change` rebuilds the table the same
way. Every statement a node runs carries the job description `kiln: <unique_id>`
(`SparkContext.setJobDescription`; a job tag under Spark Connect), so the Spark UI and
event logs attribute cost to nodes.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import shutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from kiln.adapters.base import (
    Adapter,
    Capabilities,
    Column,
    CommentStyle,
    Credentials,
    DBAPIConnection,
    InsertOverwrite,
    SchemaRef,
    col,
    ident,
    raw,
    select,
)
from kiln.adapters.relation import Relation
from kiln.adapters.table_options import TableOptions, column_list
from kiln.errors import DatabaseError, ProfileError, did_you_mean

if TYPE_CHECKING:
    from sqlglot import exp

    from kiln.adapters.table_options import NodeContext

logger = logging.getLogger(__name__)

METHODS = ("session", "connect")
MERGE_FORMATS = frozenset({"delta", "iceberg", "hudi"})
DEFAULT_FORMAT = "parquet"
_CONNECT_PORT = 15002
_MASTER_PREFIXES = ("local", "spark://", "yarn", "k8s://", "mesos://")
# Confs every Kiln session needs: INSERT OVERWRITE replaces only the partitions written.
_REQUIRED_CONF = MappingProxyType({"spark.sql.sources.partitionOverwriteMode": "dynamic"})
_group_ids = itertools.count(1)
# The last segment of a folder `_location` names: the build time.
_BUILD_FOLDER = re.compile(r"/\d{8}T\d{12}/?$")


@dataclass(frozen=True, kw_only=True)
class SparkCredentials(Credentials):
    """A `type: spark` target."""

    type: str = "spark"
    schema: str = "default"
    method: str = "session"
    host: str | None = None
    port: int | None = None
    master: str | None = None
    app_name: str = "kiln"
    server_side_parameters: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def _prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        values = super()._prepare(values)
        method = str(values.get("method") or "session")
        if method not in METHODS:
            raise ProfileError(
                f"spark method {method!r} is not supported by kiln",
                hint=f"use method: session or connect ({did_you_mean(method, METHODS)})",
            )
        values["method"] = method
        if method == "connect" and not values.get("host"):
            raise ProfileError(
                "spark method 'connect' needs a host",
                hint="set host: sc://<server>:15002 (the Spark Connect URL)",
            )
        if values.get("port") is not None:
            values["port"] = int(values["port"])
        values["schema"] = values.get("schema") or "default"
        values["server_side_parameters"] = dict(values.get("server_side_parameters") or {})
        return values

    def master_url(self) -> str | None:
        """The master for `method: session` (None: whatever Spark defaults to)."""
        if self.master:
            return self.master
        if self.host and self.host.startswith(_MASTER_PREFIXES):
            return self.host
        return None

    def connect_url(self) -> str:
        """The Spark Connect URL for `method: connect`.

        Example:
            >>> SparkCredentials(method="connect", host="spark").connect_url()
            'sc://spark:15002'
        """
        host = self.host or "localhost"
        if host.startswith("sc://"):
            return host
        return f"sc://{host}:{self.port or _CONNECT_PORT}"


class SparkConnection:
    """A thread's view of the shared SparkSession, shaped like a DB-API connection.

    It owns the thread's job group (to cancel what the thread runs) and its job
    description (to attribute cost to nodes).
    """

    def __init__(self, session: Any, connect: bool) -> None:
        self.session = session
        self.connect = connect
        self.group = f"kiln-{next(_group_ids)}"
        if connect:
            # Tags are per thread and this connection is opened on the thread that uses it.
            self._tag(None)
        else:
            context = session.sparkContext
            context.setJobGroup(self.group, "kiln", interruptOnCancel=True)

    def cursor(self) -> SparkCursor:
        """A cursor running statements on the session."""
        return SparkCursor(self.session)

    def describe(self, description: str | None) -> None:
        """Tag this thread's next jobs (None: back to the plain group)."""
        if self.connect:
            self._tag(description)
            return
        self.session.sparkContext.setJobDescription(description or "kiln")

    def cancel(self) -> None:
        """Cancel the jobs this thread started."""
        if self.connect:
            self.session.interruptTag(self.group)
        else:
            self.session.sparkContext.cancelJobGroup(self.group)

    def close(self) -> None:
        """The session is shared and outlives the adapter: nothing to close."""
        return

    def _tag(self, description: str | None) -> None:
        self.session.clearTags()
        self.session.addTag(self.group)
        if description:
            # Tags cannot contain commas; node ids never do.
            self.session.addTag(description.replace(",", "_"))


class SparkCursor:
    """Runs SQL on a SparkSession; commands run at once, queries when fetched."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._frame: Any = None

    @property
    def description(self) -> list[tuple[str, ...]] | None:
        """One entry per result column, as PEP 249 has it (names only)."""
        if self._frame is None:
            return None
        return [(name,) for name in self._frame.columns]

    @property
    def rowcount(self) -> int:
        """Spark does not report affected rows."""
        return -1

    def execute(self, operation: str, parameters: Any = None) -> None:
        """Run one statement (positional `?` parameters bound by Spark)."""
        if parameters:
            self._frame = self._session.sql(operation, args=list(parameters))
        else:
            self._frame = self._session.sql(operation)

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Collect the rows of the last statement."""
        if self._frame is None:
            return []
        return [tuple(row) for row in self._frame.collect()]

    def close(self) -> None:
        """Drop the reference to the last result."""
        self._frame = None


class SparkAdapter(Adapter):
    """Spark SQL on a SparkSession (in-process) or a Spark Connect server."""

    name: ClassVar[str] = "spark"
    dialect: ClassVar[str] = "spark"
    quote_char: ClassVar[str] = "`"
    capabilities: ClassVar[Capabilities] = Capabilities(
        transactions=False,
        ddl_in_transactions=False,
        create_or_replace_view=True,
        merge=True,  # on table formats that have it: see strategy_problem
        insert_overwrite=InsertOverwrite.INSERT_OVERWRITE,
        drop_cascade=False,
        comments=CommentStyle.IN_DDL,
        temporary_tables=False,
        catalogs=False,
        atomic_rename=False,
        incremental_strategies=frozenset({"append", "insert_overwrite", "merge", "microbatch"}),
        default_incremental_strategy="append",
        table_options=frozenset({"file_format", "partition_by", "clustered_by", "location_root"}),
    )
    credentials: ClassVar[type[Credentials]] = SparkCredentials
    # dbt-spark's `convert_*_type`.
    seed_type_names: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "integer": "bigint",
            "number": "double",
            "boolean": "boolean",
            "date": "date",
            "datetime": "timestamp",
            "text": "string",
        }
    )
    creds: SparkCredentials

    def __init__(self, creds: Credentials) -> None:
        if not isinstance(creds, SparkCredentials):
            raise ProfileError(f"SparkAdapter needs spark credentials, got {creds.type!r}")
        super().__init__(creds)
        self._session: Any = None
        self._session_lock = threading.Lock()

    # -- required ------------------------------------------------------------------------

    def open_connection(self) -> DBAPIConnection:
        """This thread's handle on the shared session (started on first use).

        Raises:
            ProfileError: pyspark is not installed, or Java cannot be found.
            DatabaseError: Spark could not start or the Connect server cannot be reached.
        """
        with self._session_lock:
            if self._session is None:
                self._session = self._start_session()
        connection: DBAPIConnection = SparkConnection(self._session, self.creds.method == "connect")
        return connection

    def list_relations(self, schema: SchemaRef) -> list[Relation]:
        """Tables and views of one schema (`SHOW TABLES` and `SHOW VIEWS`).

        Two listing commands rather than the catalog API, which reads every table's
        metadata and fails when another thread drops a table meanwhile.
        """
        if not self._spark().catalog.databaseExists(schema.schema):
            return []
        tables = self._show("TABLES", schema.schema)
        views = {str(row[1]) for row in self._show("VIEWS", schema.schema)}
        return [
            self.relation(None, schema.schema, name, "view" if name in views else "table")
            for name in (str(row[1]) for row in tables if not row[2])
        ]

    def get_columns(self, relation: Relation) -> list[Column]:
        """Columns in table order (partition columns last), typed as Spark names them."""
        name = self._to_sql(self._table(relation))
        try:
            schema = self._spark().table(name).schema
        except Exception as exc:
            if _is_missing(exc):
                return []
            raise self.classify_error(exc) from exc
        return [Column(f.name, f.dataType.simpleString(), self.quote_char) for f in schema]

    def classify_error(self, exc: Exception) -> DatabaseError:
        """Spark's message without its query dump; a hint where the cause is well known."""
        message = _first_line(exc)
        hint = None
        if "MERGE INTO TABLE is not supported" in message:
            hint = "MERGE needs a delta, iceberg or hudi table (file_format)"
        elif "does not support DELETE" in message or "does not support DROP COLUMN" in message:
            hint = "the table format has no such operation; use file_format: delta"
        elif "cancelled" in message.lower():
            hint = "the query was cancelled"
        return DatabaseError(message, hint=hint)

    # -- strategies and layout ----------------------------------------------------------------

    def strategy_problem(self, strategy: str, config: Mapping[str, Any]) -> str | None:
        """MERGE needs a table format that has it; microbatch overwrites partitions."""
        file_format = str(config.get("file_format") or DEFAULT_FORMAT)
        if strategy == "merge" and file_format not in MERGE_FORMATS:
            return (
                f"MERGE INTO needs file_format delta, iceberg or hudi "
                f"(this model's is {file_format})"
            )
        if strategy == "microbatch" and not column_list(config.get("partition_by")):
            return "microbatch overwrites partitions on Spark: set partition_by"
        return None

    # -- session ---------------------------------------------------------------------------

    def _spark(self) -> Any:
        connection: SparkConnection = self._handle().connection
        return connection.session

    def _start_session(self) -> Any:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise ProfileError(
                "the spark adapter needs pyspark",
                hint="install the extra: pip install 'kiln[spark]'",
            ) from exc
        creds = self.creds
        builder = SparkSession.builder.appName(creds.app_name)
        if creds.method == "connect":
            builder = _connect_builder().appName(creds.app_name).remote(creds.connect_url())
        else:
            _require_java()
            master = creds.master_url()
            if master:
                builder = builder.master(master)
        try:
            session = builder.getOrCreate()
            for key, value in {**creds.server_side_parameters, **_REQUIRED_CONF}.items():
                session.conf.set(key, str(value))
        except Exception as exc:
            raise self._start_error(exc) from exc
        return session

    def _start_error(self, exc: Exception) -> DatabaseError:
        reason = _first_line(exc)
        if self.creds.method == "connect":
            return DatabaseError(
                f"could not reach Spark Connect at {self.creds.connect_url()}: {reason}",
                hint="check that the Spark Connect server is running and host/port are right "
                "(the client needs: pip install 'pyspark[connect]')",
            )
        return DatabaseError(
            f"could not start Spark (master {self.creds.master_url() or 'default'}): {reason}",
            hint="check the master URL, JAVA_HOME (Java 17) and server_side_parameters",
        )

    def _show(self, what: str, schema: str) -> list[tuple[Any, ...]]:
        """Rows of `SHOW TABLES|VIEWS IN schema`: (namespace, name, is_temporary)."""
        from sqlglot import exp

        where = self._to_sql(self._schema_table(SchemaRef(None, schema)))
        table = self._run(exp.Command(this=f"SHOW {what} IN", expression=raw(where)), fetch=True)[1]
        assert table is not None
        return table.rows

    # -- node scope ------------------------------------------------------------------------

    def _start_node(self, node: NodeContext) -> None:
        connection: SparkConnection = self._handle().connection
        connection.describe(f"kiln: {node.node_id}")

    def _end_node(self) -> None:
        connection: SparkConnection = self._handle().connection
        connection.describe(None)

    def _cancel(self, connection: Any) -> None:
        connection.cancel()

    # -- swaps -----------------------------------------------------------------------------

    def _swap_relation(self, new: Relation, target: Relation, existing: Relation | None) -> None:
        """Old -> backup, new -> target, drop backup; partition paths re-read after each rename.

        Spark's built-in catalog keeps a renamed table's partitions at their old paths, so
        dropping the backup would delete the new table's files. `MSCK REPAIR TABLE ...
        SYNC PARTITIONS` after each rename drops the stale entries and finds the moved ones.
        """
        backup = None
        if existing is not None:
            backup = self.derived_relation(existing, "__dbt_backup")
            self.drop_relation(backup.incorporate(type=None))
            self._rename_and_repair(existing, backup)
        self._rename_and_repair(new, target)
        if backup is not None:
            self.drop_relation(backup)

    def drop_relation(self, relation: Relation) -> None:
        """Drop it; a table Kiln wrote under `location_root` also loses its files.

        Spark keeps an external table's files when the table is dropped, so without this
        every rebuild would leave the previous build's folder behind. Only folders Kiln
        named (`<location_root>/<model>/<build time>`) are removed, never a user's path.
        """
        node = self.current_node
        location = None
        if node is not None and node.config.get("location_root") and not relation.is_view:
            location = self._built_location(relation)
        super().drop_relation(relation)
        if location is not None:
            self._remove_folder(location)

    def _built_location(self, relation: Relation) -> str | None:
        """The folder of an external table, if Kiln named it (else None)."""
        name = self._to_sql(self._table(relation))
        try:
            rows = self._spark().sql(f"DESCRIBE TABLE EXTENDED {name}").collect()
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise self.classify_error(exc) from exc
        details = {str(row[0]).strip(): str(row[1] or "").strip() for row in rows}
        location = details.get("Location", "")
        if details.get("Type", "").upper() != "EXTERNAL" or not _BUILD_FOLDER.search(location):
            return None
        return location

    def _remove_folder(self, location: str) -> None:
        """Delete a folder through the cluster's Hadoop file system (session mode only)."""
        if self.creds.method == "connect":
            # A Connect client has no handle on the server's file systems.
            logger.warning(
                "the previous build's files remain at %s: remove them with the lake's "
                "retention (Spark Connect cannot delete files)",
                location,
            )
            return
        session = self._spark()
        jvm = session.sparkContext._jvm
        path = jvm.org.apache.hadoop.fs.Path(location)
        path.getFileSystem(session.sparkContext._jsc.hadoopConfiguration()).delete(path, True)

    def _rename_and_repair(self, relation: Relation, to: Relation) -> None:
        self.rename_relation(relation, to)
        if not relation.is_view and self._partition_columns(to):
            self._run(self._repair_sql(to))

    def _partition_columns(self, relation: Relation) -> list[str]:
        name = self._to_sql(self._table(relation))
        try:
            columns = self._spark().catalog.listColumns(name)
        except Exception as exc:
            if _is_missing(exc):
                return []
            raise self.classify_error(exc) from exc
        return [c.name for c in columns if c.isPartition]

    def _repair_sql(self, relation: Relation) -> exp.Expression:
        from sqlglot import exp

        table = self._to_sql(self._table(relation))
        return exp.Command(this="MSCK REPAIR TABLE", expression=raw(f"{table} SYNC PARTITIONS"))

    # -- SQL hooks ---------------------------------------------------------------------------

    def _create_table_as_sql(
        self,
        relation: Relation,
        body: exp.Expression,
        temporary: bool,
        options: TableOptions | None = None,
    ) -> exp.Expression:
        """`CREATE TABLE ... USING fmt [PARTITIONED BY] [CLUSTERED BY] [LOCATION] AS body`."""
        from sqlglot import exp

        props = self._layout(relation, options or TableOptions())
        return exp.Create(
            this=self._table(relation),
            kind="TABLE",
            expression=exp.Paren(this=body),
            properties=exp.Properties(expressions=props),
        )

    def _create_table_sql(self, relation: Relation, columns: Sequence[Column]) -> exp.Expression:
        """`CREATE TABLE t (...) USING parquet`: without USING Spark wants a Hive table."""
        from sqlglot import exp

        defs = [exp.ColumnDef(this=ident(c.name), kind=raw(c.data_type)) for c in columns]
        schema = exp.Schema(this=self._table(relation), expressions=defs)
        props = self._layout(relation, TableOptions())
        return exp.Create(this=schema, kind="TABLE", properties=exp.Properties(expressions=props))

    def _drop_schema_sql(self, schema: SchemaRef | Relation) -> exp.Expression:
        """Schemas drop with CASCADE (tables cannot)."""
        from sqlglot import exp

        tables = [self._schema_table(schema)]
        return exp.Drop(tables=tables, kind="SCHEMA", exists=True, cascade=True)

    def _alter_column_type_sql(
        self, relation: Relation, column_name: str, new_type: str
    ) -> list[exp.Expression]:
        """Rebuild the table with the column cast (Spark tables cannot change a type)."""
        from sqlglot import exp

        exprs: list[exp.Expression] = []
        for column in self.get_columns(relation):
            if column.name.casefold() == column_name.casefold():
                cast = exp.Cast(this=col(column.name), to=raw(new_type))
                exprs.append(exp.Alias(this=cast, alias=ident(column.name)))
            else:
                exprs.append(col(column.name))
        return self._rebuild_sql(relation, exprs)

    def _drop_columns_sql(self, relation: Relation, names: Sequence[str]) -> list[exp.Expression]:
        """Rebuild the table without the columns (parquet tables cannot drop columns)."""
        dropped = {name.casefold() for name in names}
        keep = [col(c.name) for c in self.get_columns(relation) if c.name.casefold() not in dropped]
        return self._rebuild_sql(relation, list(keep))

    def _rebuild_sql(self, relation: Relation, exprs: list[exp.Expression]) -> list[exp.Expression]:
        """Copy into `<name>__dbt_tmp` with the node's layout, then swap by renames."""

        node = self.current_node
        options = self.table_options(node.config) if node is not None else TableOptions()
        new = self.derived_relation(relation, "__dbt_tmp").incorporate(type="table")
        backup = self.derived_relation(relation, "__dbt_backup").incorporate(type="table")
        query = select(exprs, self._table(relation))
        statements = [
            self._drop_sql(new),
            self._create_table_as_sql(new, query, False, options),
            self._rename_sql(relation, backup.identifier),
        ]
        if self._partition_columns(relation):  # see _swap_relation
            statements.append(self._repair_sql(backup))
        statements.append(self._rename_sql(new, relation.identifier))
        if options.partition_by:
            statements.append(self._repair_sql(relation))
        statements.append(self._drop_sql(backup))
        return statements

    def _insert_rows(
        self, relation: Relation, columns: Sequence[Column], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Values travel as a DataFrame of text, cast by Spark: no SQL literals, any size."""
        from sqlglot import exp

        texts = [[_text(value) for value in row] for row in rows]
        names = [f"c{i}" for i in range(len(columns))]
        casts = [
            self._to_sql(
                exp.Alias(this=exp.Cast(this=col(n), to=raw(c.data_type)), alias=ident(c.name))
            )
            for n, c in zip(names, columns, strict=True)
        ]
        schema = ", ".join(f"{n} string" for n in names)
        target = self._to_sql(self._table(relation))
        handle = self._handle()
        handle.running = True
        try:
            frame = self._spark().createDataFrame(texts, schema=schema).selectExpr(*casts)
            frame.write.insertInto(target)
        except Exception as exc:
            raise self.classify_error(exc) from exc
        finally:
            handle.running = False

    def _layout(self, relation: Relation, options: TableOptions) -> list[exp.Expression]:
        from sqlglot import exp

        props: list[exp.Expression] = [
            exp.FileFormatProperty(this=raw(options.file_format or DEFAULT_FORMAT))
        ]
        if options.partition_by:
            partitions = exp.Schema(expressions=[ident(c) for c in options.partition_by])
            props.append(exp.PartitionedByProperty(this=partitions))
        if options.clustered_by:
            props.append(
                exp.ClusteredByProperty(
                    expressions=[col(c) for c in options.clustered_by],
                    buckets=exp.Literal.number(options.buckets or 1),
                )
            )
        if options.location_root:
            location = _location(options.location_root, relation.identifier)
            props.append(exp.LocationProperty(this=exp.Literal.string(location)))
        return props


def _location(root: str, identifier: str) -> str:
    """Where a table under `location_root` writes: `<root>/<model>/<build time>`.

    Renames do not move an external table's files, so each build writes to a folder of
    its own; the model's folder keeps every version (older ones can be removed once
    the swap is done). Example: `/lake/fct_orders/20240101T120000123456`.
    """
    base = identifier.split("__dbt_")[0]
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
    return f"{root.rstrip('/')}/{base}/{stamp}"


def _connect_builder() -> Any:
    """The Spark Connect client's own builder.

    pyspark's generic builder refuses a remote session while a local one runs in the
    process (a notebook, a test suite); the client's builder has no such rule.
    """
    try:
        from pyspark.sql.connect.session import SparkSession
    except ImportError as exc:
        raise ProfileError(
            f"method: connect needs the Spark Connect client ({_first_line(exc)})",
            hint="install it: pip install 'kiln[spark]' (pyspark[connect])",
        ) from exc
    return SparkSession.builder


def _require_java() -> None:
    """Fail early and clearly when no Java can start Spark's JVM."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return
    if shutil.which("java"):
        return
    raise ProfileError(
        "Spark needs Java, and none was found (JAVA_HOME unset, no java on PATH)",
        hint="install Java 17 and set JAVA_HOME, or use method: connect",
    )


def _is_missing(exc: Exception) -> bool:
    text = str(exc)
    return "TABLE_OR_VIEW_NOT_FOUND" in text or "SCHEMA_NOT_FOUND" in text or "not found" in text


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _text(value: Any) -> str | None:
    """A seed value as Spark can cast it from text."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
