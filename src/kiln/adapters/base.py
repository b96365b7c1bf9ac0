"""The `Adapter` contract: what every warehouse provides, and what Kiln builds on top of it.

A warehouse adapter subclasses `Adapter`, fills in the four required methods
(`open_connection`, `list_relations`, `get_columns`, `classify_error`) and the class
constants, and overrides a protected `_hook` only where the generated SQL is wrong for
that engine. Public methods validate and log; hooks build sqlglot trees. Every statement
Kiln writes is rendered in one place, `Adapter._to_sql`; compiled model SQL is spliced in
verbatim as a `SqlFragment`, never re-generated.

The contract, part by part:

- **Connections and threads.** One connection (and cursor) per thread, opened lazily by
  `open_connection` on the thread's first statement and kept until `close`. An adapter
  instance is shared by the scheduler's threads; nothing but the connection and its
  transaction state is per thread. The driver is imported inside `open_connection`.
- **Quoting.** `quote_char` and the sqlglot `dialect` decide how identifiers render;
  `_to_sql` quotes every identifier Kiln writes. `normalize_identifier` folds an unquoted
  name as the engine would (lower case on Postgres), for names users write unquoted.
- **Introspection.** `list_relations(schema)` and `get_columns(relation)` return empty
  lists for missing objects, never raise for them. `get_relation` answers from a
  `RelationCache`: each schema is listed once, then every statement `_run` sends updates
  it (`_track`); user SQL that may change relations, a rollback or a cascading drop on an
  engine that drops dependents clears it.
- **DDL.** `create_schema`/`drop_schema`, `create_table_as`/`create_view_as`/
  `create_table`, `rename_relation`, `drop_relation`, `truncate_relation` and
  `swap_relation` (put a freshly built relation in place of the old one). A swap is atomic
  where `capabilities.atomic_rename` (renames inside a transaction); elsewhere the window
  between the two renames is as short as the engine allows.
- **DML.** `insert_into`, `insert_rows` (bound values), `delete_where`, `merge`,
  `insert_overwrite` (replace the partitions present in the new rows: `INSERT OVERWRITE`
  where the engine has it, a null-safe partition delete then insert elsewhere).
- **Transactions.** `begin`/`commit`/`rollback` and the `transaction()` block act on the
  calling thread's connection, and are no-ops where `not capabilities.transactions`.
- **Cancel.** `cancel_open` interrupts what other threads are running (Ctrl-C).
- **Node scope.** `node_scope(node_id, config)` marks the statements a thread runs for
  one node: engines tag them for cost attribution (Spark job descriptions, the Postgres
  `application_name`), and `create_table_as` reads the node's layout configs.
- **Responses.** Statements return an `AdapterResponse`: the engine's status text, a
  code, rows affected, and query id or bytes processed where the engine reports them.
- **Capabilities.** `Capabilities` says what the engine can do (transactions, merge,
  atomic rename, clone, create-or-replace, layout configs, incremental strategies), so
  materializations never branch on an adapter's name.
"""

from __future__ import annotations

import abc
import enum
import functools
import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from kiln.adapters.relation import Relation
from kiln.adapters.relation_cache import RelationCache, SchemaKey
from kiln.adapters.table_options import NodeContext, TableOptions
from kiln.errors import DatabaseError, InternalError, KilnError, ProfileError

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect

logger = logging.getLogger(__name__)

# dbt's aliases for the two sides of a MERGE / delete+insert; users' incremental_predicates
# refer to them, so they must keep these names.
DEST_ALIAS = "DBT_INTERNAL_DEST"
SOURCE_ALIAS = "DBT_INTERNAL_SOURCE"


class CommentStyle(enum.StrEnum):
    """How relation and column descriptions reach the warehouse."""

    IN_DDL = "in_ddl"
    COMMENT_STATEMENT = "comment_statement"
    NONE = "none"


class InsertOverwrite(enum.StrEnum):
    """How the engine replaces a slice of a table."""

    DELETE_INSERT = "delete_insert"
    INSERT_OVERWRITE = "insert_overwrite"
    MERGE = "merge"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an engine can do; an adapter states only what differs from these defaults.

    Attributes:
        transactions: BEGIN/COMMIT/ROLLBACK exist; False makes them no-ops.
        ddl_in_transactions: CREATE/DROP/ALTER roll back with the transaction.
        atomic_rename: a swap (two renames) is invisible to readers until it completes.
        clone: the engine can copy a table without copying its data (zero-copy clone).
        table_options: the layout configs honoured (`partition_by`, `file_format`, ...);
            the others are logged as ignored.
        insert_overwrite: how `insert_overwrite` replaces partitions.
        incremental_strategies: the strategies models may ask for.
        subquery_alias: a subquery in FROM must have an alias (PostgreSQL before 16), so a
            `ref` limited to a microbatch batch gets one, as dbt's `require_alias` does.
        case_sensitive_names: quoted schema and relation names differing only by case
            are different objects.
        drops_dependents: `DROP ... CASCADE` also drops the views built on the dropped
            relation, so Kiln cannot tell from the statement alone what is gone.
    """

    transactions: bool = True
    ddl_in_transactions: bool = True
    create_or_replace_table: bool = False
    create_or_replace_view: bool = False
    rename_across_schemas: bool = False
    merge: bool = True
    insert_overwrite: InsertOverwrite = InsertOverwrite.DELETE_INSERT
    drop_cascade: bool = True
    max_identifier_length: int | None = None
    comments: CommentStyle = CommentStyle.COMMENT_STATEMENT
    materialized_views: bool = False
    temporary_tables: bool = True
    catalogs: bool = True
    incremental_strategies: frozenset[str] = frozenset(
        {"append", "delete+insert", "merge", "insert_overwrite", "microbatch"}
    )
    default_incremental_strategy: str = "append"
    atomic_rename: bool = True
    clone: bool = False
    table_options: frozenset[str] = frozenset()
    subquery_alias: bool = False
    case_sensitive_names: bool = False
    drops_dependents: bool = False


@dataclass(frozen=True, slots=True)
class SqlFragment:
    """SQL written by the user (a compiled model, a predicate): spliced verbatim, never parsed."""

    text: str


@dataclass(frozen=True, slots=True)
class SchemaRef:
    """A schema inside a database (catalog)."""

    database: str | None
    schema: str

    @classmethod
    def of(cls, relation: Relation) -> SchemaRef:
        """The schema a relation lives in."""
        return cls(relation.database, relation.schema or "")


@dataclass(frozen=True, slots=True)
class Column:
    """A column as the warehouse reports it, with the helpers dbt macros use."""

    name: str
    data_type: str
    quote_char: str = '"'

    @property
    def column(self) -> str:
        """dbt's name for `name`."""
        return self.name

    @property
    def dtype(self) -> str:
        """dbt's name for `data_type`."""
        return self.data_type

    @property
    def quoted(self) -> str:
        """The name in the adapter's quotes.

        Example:
            >>> Column('we"ird', "INTEGER").quoted
            '"we""ird"'
        """
        q = self.quote_char
        return f"{q}{self.name.replace(q, q + q)}{q}"


@dataclass(frozen=True, slots=True)
class AdapterResponse:
    """What the warehouse said about one statement (run_results' `adapter_response`)."""

    _message: str = "OK"
    code: str | None = None
    rows_affected: int | None = None
    query_id: str | None = None
    bytes_processed: int | None = None

    @property
    def message(self) -> str:
        """The status text (`OK`, `INSERT 3`)."""
        return self._message

    def to_dict(self) -> dict[str, Any]:
        """The run_results shape: unset fields are left out, as dbt does.

        Example:
            >>> AdapterResponse("OK", rows_affected=3).to_dict()
            {'_message': 'OK', 'rows_affected': 3}
        """
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True, slots=True)
class ResultTable:
    """Rows fetched by a query."""

    column_names: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True, kw_only=True)
class Credentials:
    """A profile target, typed. Subclasses add their warehouse's keys."""

    type: str
    schema: str = ""
    database: str | None = None
    threads: int = 1

    @classmethod
    def from_target(cls, target: Mapping[str, Any]) -> Self:
        """Build from a profiles.yml target; keys the class does not know are ignored.

        Raises:
            ProfileError: a value is missing or invalid.
        """
        known = {f.name for f in fields(cls)}
        ignored = sorted(set(target) - known)
        if ignored:
            logger.debug("profile keys not used by %s: %s", cls.__name__, ", ".join(ignored))
        try:
            return cls(**cls._prepare({k: v for k, v in target.items() if k in known}))
        except (TypeError, ValueError) as exc:
            raise ProfileError(f"invalid {target.get('type')} target: {exc}") from exc

    @classmethod
    def _prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Fill defaults and normalise values before construction (override per warehouse)."""
        if "threads" in values:
            values["threads"] = int(values["threads"])
        return values


class DBAPICursor(Protocol):
    """The part of a PEP 249 cursor Kiln uses."""

    @property
    def description(self) -> Any: ...

    @property
    def rowcount(self) -> int: ...

    def execute(self, operation: str, parameters: Any = ...) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def close(self) -> None: ...


class DBAPIConnection(Protocol):
    """The part of a PEP 249 connection Kiln uses."""

    def cursor(self) -> Any: ...

    def close(self) -> None: ...


@dataclass(eq=False)
class _Handle:
    """One thread's connection and cursor."""

    connection: Any
    cursor: DBAPICursor
    thread_name: str
    in_transaction: bool = False
    running: bool = False


class Adapter(abc.ABC):
    """The contract between Kiln and a warehouse.

    One connection (and cursor) per thread, opened on first use. Transactions are per
    thread too: `begin` / `commit` / `rollback` act on the calling thread's connection.

    Args:
        creds: the parsed profile target.
    """

    name: ClassVar[str]
    dialect: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    credentials: ClassVar[type[Credentials]] = Credentials
    quote_char: ClassVar[str] = '"'
    # Placeholder for bound parameters in the driver's paramstyle.
    param_marker: ClassVar[str] = "?"
    # Rows per INSERT statement when loading seeds through bound parameters.
    insert_batch_size: ClassVar[int] = 10_000
    # SQL type per inferred seed column kind (dbt's `convert_*_type`); these are SQLAdapter's.
    seed_type_names: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "integer": "integer",
            "number": "float8",
            "boolean": "boolean",
            "date": "date",
            "datetime": "timestamp without time zone",
            "text": "text",
        }
    )

    def __init__(self, creds: Credentials) -> None:
        self.creds = creds
        self._local = threading.local()
        self._handles: list[_Handle] = []
        self._lock = threading.Lock()
        # Schemas this adapter created: the runner asks once per node, from several threads,
        # and concurrent CREATE SCHEMA IF NOT EXISTS races on some engines (Postgres).
        self._created_schemas: set[tuple[str | None, str]] = set()
        self._schema_lock = threading.Lock()
        self._relations = RelationCache()

    # -- construction -----------------------------------------------------------------

    @classmethod
    def from_target(cls, target: Mapping[str, Any]) -> Self:
        """An adapter for a profiles.yml target (a mapping with `type`)."""
        return cls(cls.credentials.from_target(target))

    @classmethod
    def default_database(cls, target: Mapping[str, Any]) -> str | None:
        """The database a target uses when it names none."""
        return cls.credentials.from_target(target).database

    @classmethod
    def default_schema(cls, target: Mapping[str, Any]) -> str:
        """The schema a target uses when it names none."""
        return cls.credentials.from_target(target).schema

    @property
    def database(self) -> str | None:
        """The target's database (catalog)."""
        return self.creds.database

    @property
    def schema(self) -> str:
        """The target's schema."""
        return self.creds.schema

    @property
    def threads(self) -> int:
        """How many threads the target asks for."""
        return self.creds.threads

    # -- required -----------------------------------------------------------------------

    @abc.abstractmethod
    def open_connection(self) -> DBAPIConnection:
        """Open a connection for the calling thread (import the driver here, lazily)."""

    @abc.abstractmethod
    def list_relations(self, schema: SchemaRef) -> list[Relation]:
        """Every table and view in a schema (empty when the schema does not exist)."""

    @abc.abstractmethod
    def get_columns(self, relation: Relation) -> list[Column]:
        """The columns of a relation in ordinal order (empty when it does not exist)."""

    @abc.abstractmethod
    def classify_error(self, exc: Exception) -> DatabaseError:
        """Turn a driver exception into Kiln's error, keeping the engine's message."""

    # -- connections and statements -------------------------------------------------------

    def execute(
        self, sql: str, *, fetch: bool = False, bindings: Sequence[Any] | None = None
    ) -> tuple[AdapterResponse, ResultTable | None]:
        """Run one statement on this thread's connection.

        Args:
            sql: the statement, sent as written.
            fetch: return the rows it produced.
            bindings: values for the driver's parameter markers.

        Returns:
            The response and, when `fetch`, the rows.

        Raises:
            DatabaseError: the warehouse rejected the statement.
        """
        logger.debug("SQL: %s", sql)
        result = self._send(sql, fetch, bindings)
        if not _reads_only(sql):
            self._relations.clear()  # user SQL may create or drop anything
        return result

    def fetch(self, sql: str) -> ResultTable:
        """Run a query and return its rows."""
        _, table = self.execute(sql, fetch=True)
        assert table is not None  # fetch=True always returns a table
        return table

    def _send(
        self, sql: str, fetch: bool, bindings: Sequence[Any] | None
    ) -> tuple[AdapterResponse, ResultTable | None]:
        handle = self._handle()
        handle.running = True
        try:
            cursor = handle.cursor
            if bindings is None:
                cursor.execute(sql)
            else:
                cursor.execute(sql, bindings)
            table = self._fetch_table(cursor) if fetch else None
            response = self._response(cursor)
        except KilnError:
            raise
        except Exception as exc:
            raise self.classify_error(exc) from exc
        finally:
            handle.running = False
        return response, table

    def _run(
        self,
        expr: exp.Expression,
        *,
        fetch: bool = False,
        bindings: Sequence[Any] | None = None,
    ) -> tuple[AdapterResponse, ResultTable | None]:
        """Render a statement Kiln built, run it and keep the relation cache current."""
        result = self._send(self._to_sql(expr), fetch, bindings)
        self._track(expr)
        return result

    def _track(self, expr: exp.Expression) -> None:
        """Follow a statement's effect on the relation cache; forget all when unsure."""
        from sqlglot import exp

        if isinstance(expr, _keeps_relations()):
            return
        if isinstance(expr, exp.Command) and str(expr.this).upper().startswith(_READ_COMMANDS):
            return
        kind = str(expr.args.get("kind") or "").upper()
        cascades = bool(expr.args.get("cascade")) and self.capabilities.drops_dependents
        if isinstance(expr, exp.Create) and kind == "SCHEMA":
            return
        if isinstance(expr, exp.Alter) and not any(
            isinstance(a, exp.AlterRename) for a in expr.args.get("actions") or ()
        ):
            return  # column changes
        if isinstance(expr, exp.Create) and kind in ("TABLE", "VIEW"):
            target = expr.this.this if isinstance(expr.this, exp.Schema) else expr.this
            temporary = any(True for _ in expr.find_all(exp.TemporaryProperty))
            if temporary or self._cache_relation(target, kind.lower()):
                return
        elif isinstance(expr, exp.Drop) and kind in ("TABLE", "VIEW") and not cascades:
            tables = expr.args.get("tables") or []
            if len(tables) == 1 and self._uncache_relation(tables[0]):
                return
        elif isinstance(expr, exp.Drop) and kind == "SCHEMA" and not cascades:
            table = (expr.args.get("tables") or [None])[0]
            if isinstance(table, exp.Table) and table.db:
                self._relations.forget(self._schema_key(table.catalog or None, table.db))
                return
        elif isinstance(expr, exp.Alter) and kind in ("TABLE", "VIEW"):
            actions = expr.args.get("actions") or []
            if len(actions) == 1 and self._uncache_relation(expr.this):
                new = expr.this.copy()
                new.set("this", actions[0].this.this.copy())
                if self._cache_relation(new, kind.lower()):
                    return
        self._relations.clear()

    def _cache_relation(self, table: exp.Expression, type: str) -> bool:
        """Add a created relation to the cache; False when the statement names no schema."""
        from sqlglot import exp

        if not isinstance(table, exp.Table) or not table.db:
            return False
        key = self._schema_key(table.catalog or None, table.db)
        relation = self.relation(table.catalog or self.database, table.db, table.name, type)
        self._relations.add(key, relation)
        return True

    def _uncache_relation(self, table: exp.Expression) -> bool:
        """Remove a dropped relation from the cache; False when it names no schema."""
        from sqlglot import exp

        if not isinstance(table, exp.Table) or not table.db:
            return False
        self._relations.remove(self._schema_key(table.catalog or None, table.db), table.name)
        return True

    def _handle(self) -> _Handle:
        handle: _Handle | None = getattr(self._local, "handle", None)
        if handle is not None:
            return handle
        try:
            conn = self.open_connection()
        except KilnError:
            raise
        except Exception as exc:
            raise self.classify_error(exc) from exc
        handle = _Handle(conn, self._cursor(conn), threading.current_thread().name)
        self._local.handle = handle
        with self._lock:
            self._handles.append(handle)
        return handle

    def _cursor(self, conn: Any) -> Any:
        """The object statements run on (override where the connection is its own cursor)."""
        return conn.cursor()

    def _fetch_table(self, cursor: Any) -> ResultTable:
        names = tuple(str(d[0]) for d in (cursor.description or ()))
        return ResultTable(names, [tuple(r) for r in cursor.fetchall()])

    def _response(self, cursor: Any) -> AdapterResponse:
        """The response for the statement just run (override to add the engine's status)."""
        count = getattr(cursor, "rowcount", -1)
        return AdapterResponse("OK", rows_affected=count if count >= 0 else None)

    # -- transactions -----------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """Whether this thread's connection has a transaction open."""
        handle: _Handle | None = getattr(self._local, "handle", None)
        return handle is not None and handle.in_transaction

    def begin(self) -> None:
        """Open a transaction on this thread (a no-op where the engine has none).

        Raises:
            InternalError: a transaction is already open on this thread.
        """
        if not self.capabilities.transactions:
            return
        handle = self._handle()
        if handle.in_transaction:
            raise InternalError(f"a transaction is already open on thread {handle.thread_name}")
        from sqlglot import exp

        self._run(exp.Transaction())
        handle.in_transaction = True

    def commit(self) -> None:
        """Commit this thread's transaction, if one is open."""
        handle: _Handle | None = getattr(self._local, "handle", None)
        if handle is None or not handle.in_transaction:
            return
        from sqlglot import exp

        try:
            self._run(exp.Commit())
        except BaseException:
            self._relations.clear()
            raise
        finally:
            # A failed COMMIT ends the transaction too; the engine has rolled it back.
            handle.in_transaction = False

    def rollback(self) -> None:
        """Roll back this thread's transaction, if one is open; never raises."""
        handle: _Handle | None = getattr(self._local, "handle", None)
        if handle is None or not handle.in_transaction:
            return
        from sqlglot import exp

        # The rolled-back DDL may already be in the cache.
        self._relations.clear()
        try:
            self._run(exp.Rollback())
        except KilnError as exc:
            logger.debug("rollback failed: %s", exc.message)
        finally:
            handle.in_transaction = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run a block in a transaction: commit on success, roll back on any error.

        Inside an already open transaction the block joins it.
        """
        if self.in_transaction or not self.capabilities.transactions:
            yield
            return
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    # -- node scope -------------------------------------------------------------------------

    @contextmanager
    def node_scope(self, node_id: str, config: Mapping[str, Any] | None = None) -> Iterator[None]:
        """Mark the statements this thread runs inside the block as serving one node.

        Engines tag them for cost attribution (`_start_node`); `create_table_as` reads the
        node's layout configs. Scopes nest: the innermost one wins until it ends.
        """
        outer: NodeContext | None = getattr(self._local, "node", None)
        if outer is not None and outer.node_id == node_id:
            yield  # the same node again (an incremental model's first run builds a table)
            return
        node = NodeContext(node_id, dict(config or {}))
        self._local.node = node
        self._start_node(node)
        try:
            yield
        finally:
            self._local.node = outer
            if outer is not None:
                self._start_node(outer)
            else:
                self._end_node()

    @property
    def current_node(self) -> NodeContext | None:
        """The node this thread is running statements for, if any."""
        node: NodeContext | None = getattr(self._local, "node", None)
        return node

    def _start_node(self, node: NodeContext) -> None:
        """Tag this thread's next statements with the node (override per engine)."""
        return

    def _end_node(self) -> None:
        """Remove the tag set by `_start_node` (override per engine)."""
        return

    def table_options(self, config: Mapping[str, Any]) -> TableOptions:
        """The layout configs of a model this engine honours; the others are logged.

        Raises:
            ConfigError: a layout config has an invalid value.
        """
        options = TableOptions.from_config(config)
        honoured = self.capabilities.table_options
        ignored = [name for name in options.set_names() if name not in honoured]
        if ignored:
            logger.info(
                "%s ignores %s: the engine has no such table option",
                self.name,
                ", ".join(ignored),
            )
        return options.keep(honoured)

    def strategy_problem(self, strategy: str, config: Mapping[str, Any]) -> str | None:
        """Why a model with this config cannot use an offered strategy, or None.

        Override where support depends on the table (e.g. MERGE needs a table format).
        """
        return None

    # -- names and relations ------------------------------------------------------------------

    def quote(self, identifier: str) -> str:
        """An identifier in the adapter's quotes.

        Example:
            >>> from kiln.adapters.duckdb import DuckDBAdapter
            >>> DuckDBAdapter.from_target({"type": "duckdb"}).quote('a"b')
            '"a""b"'
        """
        q = self.quote_char
        return f"{q}{identifier.replace(q, q + q)}{q}"

    def normalize_identifier(self, name: str) -> str:
        """An unquoted identifier as the engine stores it (e.g. lower-cased by Postgres)."""
        from sqlglot import exp
        from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

        normalized = normalize_identifiers(exp.to_identifier(name), dialect=self.dialect)
        return str(normalized.name)

    def relation(
        self, database: str | None, schema: str | None, identifier: str, type: str | None = None
    ) -> Relation:
        """A relation rendered with this adapter's quoting."""
        catalogs = self.capabilities.catalogs
        return Relation(
            database if catalogs else None,
            schema,
            identifier,
            type,
            quote_char=self.quote_char,
            include_database=catalogs,
        )

    def derived_relation(
        self, relation: Relation, suffix: str, *, temporary: bool = False
    ) -> Relation:
        """A sibling named `<identifier><suffix>` (`__dbt_tmp`, `__dbt_backup`).

        The base name is shortened to fit `max_identifier_length`. A temporary relation
        has no database or schema where the engine has temporary tables.
        """
        limit = self.capabilities.max_identifier_length
        base = relation.identifier
        if limit is not None and len(base) + len(suffix) > limit:
            base = base[: max(1, limit - len(suffix))]
        kind = relation.type or "table"
        if temporary and self.capabilities.temporary_tables:
            return self.relation(None, None, base + suffix, kind)
        return self.relation(relation.database, relation.schema, base + suffix, kind)

    def temp_relation(self, relation: Relation) -> Relation:
        """A unique temporary relation for staging an incremental run (dbt's `__dbt_tmp`)."""
        stamp = datetime.now().strftime("%H%M%S%f")
        return self.derived_relation(
            relation.incorporate(type="table"), f"__dbt_tmp{stamp}", temporary=True
        )

    def get_relation(
        self, database: str | None, schema: str | None, identifier: str
    ) -> Relation | None:
        """Find a table or view; names match case-insensitively, an exact match wins.

        Raises:
            DatabaseError: two relations differ only by case.
        """
        ref = SchemaRef(database or self.database, schema or self.schema)
        candidates = self._relations_named(ref, identifier)
        exact = [r for r in candidates if r.identifier == identifier]
        if exact:
            return exact[0]
        folded = [r for r in candidates if r.identifier.casefold() == identifier.casefold()]
        if len(folded) > 1:
            names = ", ".join(r.render() for r in folded)
            raise DatabaseError(f"{identifier!r} matches several relations: {names}")
        return folded[0] if folded else None

    def _relations_named(self, schema: SchemaRef, identifier: str) -> list[Relation]:
        """Relations of a schema whose name matches case-insensitively, from the cache.

        A schema is listed on its first lookup and again after the cache was cleared.
        """
        key = self._schema_key(schema.database, schema.schema)
        found = self._relations.named(key, identifier)
        if found is not None:
            return found
        version = self._relations.version
        listing = self.list_relations(schema)
        self._relations.store(key, listing, version)
        folded = identifier.casefold()
        return [r for r in listing if r.identifier.casefold() == folded]

    def _schema_key(self, database: str | None, schema: str) -> SchemaKey:
        catalog = (database or self.database or "") if self.capabilities.catalogs else ""
        if self.capabilities.case_sensitive_names:
            return catalog, schema
        return catalog.casefold(), schema.casefold()

    # -- schemas -------------------------------------------------------------------------------

    def create_schema(self, schema: SchemaRef | Relation) -> None:
        """Create a schema if it does not exist (a relation stands for its schema).

        Calls from several threads are serialised, and a schema created outside a
        transaction is not asked for again.
        """
        from sqlglot import exp

        ref = schema if isinstance(schema, SchemaRef) else SchemaRef.of(schema)
        key = (ref.database, ref.schema)
        with self._schema_lock:
            if key in self._created_schemas:
                return
            self._run(exp.Create(this=self._schema_table(schema), kind="SCHEMA", exists=True))
            if not self.in_transaction:
                self._created_schemas.add(key)

    def drop_schema(self, schema: SchemaRef | Relation) -> None:
        """Drop a schema and everything in it, if it exists (a relation stands for its schema)."""

        ref = schema if isinstance(schema, SchemaRef) else SchemaRef.of(schema)
        with self._schema_lock:
            self._created_schemas.discard((ref.database, ref.schema))
        self._run(self._drop_schema_sql(schema))

    # -- relations: DDL --------------------------------------------------------------------------

    def create_table_as(
        self,
        relation: Relation,
        sql: str | SqlFragment,
        temporary: bool = False,
        *,
        options: TableOptions | None = None,
    ) -> AdapterResponse:
        """`CREATE [TEMPORARY] TABLE relation AS (sql)`, with the user's SQL verbatim.

        Args:
            relation: the table to create.
            sql: the SELECT that fills it.
            temporary: a staging table, dropped by the caller (never laid out).
            options: the physical layout; by default the current node's honoured configs.
        """
        if temporary:
            options = TableOptions()
        elif options is None:
            node = self.current_node
            options = self.table_options(node.config) if node is not None else TableOptions()
        body = _fragment(sql)
        return self._run(self._create_table_as_sql(relation, body, temporary, options))[0]

    def create_view_as(
        self, relation: Relation, sql: str | SqlFragment, *, replace: bool = False
    ) -> AdapterResponse:
        """`CREATE [OR REPLACE] VIEW relation AS (sql)`, with the user's SQL verbatim.

        Raises:
            InternalError: `replace` where the engine has no CREATE OR REPLACE VIEW.
        """
        if replace and not self.capabilities.create_or_replace_view:
            raise InternalError(f"{self.name} has no CREATE OR REPLACE VIEW")
        return self._run(self._create_view_sql(relation, _fragment(sql), replace))[0]

    def create_table(self, relation: Relation, columns: Sequence[Column]) -> AdapterResponse:
        """`CREATE TABLE relation (column type, ...)`."""

        return self._run(self._create_table_sql(relation, columns))[0]

    def rename_relation(self, from_relation: Relation, to_relation: Relation) -> None:
        """Rename a table or view; only the identifier changes.

        Raises:
            InternalError: the target is in another schema and the engine cannot move it.
        """
        same_database = (
            not self.capabilities.catalogs or from_relation.database == to_relation.database
        )
        same_place = same_database and from_relation.schema == to_relation.schema
        if not same_place and not self.capabilities.rename_across_schemas:
            raise InternalError(f"cannot rename {from_relation} to another schema ({to_relation})")
        source = self._typed(from_relation)
        if source is not None:
            self._run(self._rename_sql(source, to_relation.identifier))

    def drop_relation(self, relation: Relation) -> None:
        """Drop a table or view if it exists (its type is looked up when unknown)."""
        typed = self._typed(relation)
        if typed is not None:
            self._run(self._drop_sql(typed))

    def truncate_relation(self, relation: Relation) -> None:
        """Delete every row of a table, keeping the table."""
        from sqlglot import exp

        self._run(exp.TruncateTable(expressions=[self._table(relation)]))

    def swap_relation(self, new: Relation, target: Relation) -> None:
        """Put `new` in place of `target` (which may be missing, a table or a view).

        Call it inside `transaction()` so that a failure leaves `target` as it was.
        """
        existing = self.get_relation(target.database, target.schema, target.identifier)
        self._swap_relation(new.incorporate(type=new.type or "table"), target, existing)

    def _swap_relation(self, new: Relation, target: Relation, existing: Relation | None) -> None:
        """Default swap: old -> backup, new -> target, drop backup."""
        backup = None
        if existing is not None:
            backup = self.derived_relation(existing, "__dbt_backup")
            self.drop_relation(backup.incorporate(type=None))
            self.rename_relation(existing, backup)
        self.rename_relation(new, target)
        if backup is not None:
            self.drop_relation(backup)

    # -- relations: DML ----------------------------------------------------------------------------

    def insert_into(
        self, target: Relation, source: Relation, columns: Sequence[str]
    ) -> AdapterResponse:
        """`INSERT INTO target (columns) SELECT columns FROM source`."""
        from sqlglot import exp

        query = select([col(c) for c in columns], self._table(source))
        into = exp.Schema(this=self._table(target), expressions=[ident(c) for c in columns])
        return self._run(exp.Insert(this=into, expression=query))[0]

    def insert_rows(
        self, relation: Relation, columns: Sequence[Column], rows: Sequence[Sequence[Any]]
    ) -> AdapterResponse:
        """Load Python values into a table (seeds); values are bound, never inlined."""
        if not rows:
            return AdapterResponse("OK", rows_affected=0)
        width = len(columns)
        bad = next((i for i, row in enumerate(rows) if len(row) != width), None)
        if bad is not None:
            raise InternalError(f"row {bad} of {relation} has {len(rows[bad])} values, not {width}")
        self._insert_rows(relation, columns, rows)
        return AdapterResponse("OK", rows_affected=len(rows))

    def _insert_rows(
        self, relation: Relation, columns: Sequence[Column], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Default load: multi-row VALUES statements with bound parameters, in batches."""
        from sqlglot import exp

        into = exp.Schema(this=self._table(relation), expressions=[ident(c.name) for c in columns])
        row_expr = exp.Tuple(expressions=[raw(self.param_marker) for _ in columns])
        for start in range(0, len(rows), self.insert_batch_size):
            chunk = rows[start : start + self.insert_batch_size]
            values = exp.Values(expressions=[row_expr.copy() for _ in chunk])
            bindings = [value for row in chunk for value in row]
            self._run(exp.Insert(this=into, expression=values), bindings=bindings)

    def delete_where(
        self,
        target: Relation,
        *,
        source: Relation | None = None,
        unique_key: Sequence[str] = (),
        predicates: Sequence[str] = (),
    ) -> AdapterResponse:
        """Delete the rows of `target` whose key appears in `source`, within `predicates`.

        Predicates are user SQL and may name the target as `DBT_INTERNAL_DEST`.

        Raises:
            InternalError: neither a key nor a predicate was given (that would empty the table).
        """
        if not predicates and not (unique_key and source is not None):
            raise InternalError(f"refusing to delete every row of {target}")
        sql = self._delete_sql(target, source, list(unique_key), [_fragment(p) for p in predicates])
        return self._run(sql)[0]

    def merge(
        self,
        target: Relation,
        source: Relation,
        *,
        unique_key: Sequence[str],
        update_columns: Sequence[str],
        insert_columns: Sequence[str],
        predicates: Sequence[str] = (),
    ) -> AdapterResponse:
        """MERGE `source` into `target` on `unique_key` (no key: insert only).

        Raises:
            InternalError: the engine has no MERGE.
        """
        if not self.capabilities.merge:
            raise InternalError(f"{self.name} has no MERGE statement")
        sql = self._merge_sql(
            target,
            source,
            list(unique_key),
            list(update_columns),
            list(insert_columns),
            [_fragment(p) for p in predicates],
        )
        return self._run(sql)[0]

    def insert_overwrite(
        self,
        target: Relation,
        source: Relation,
        columns: Sequence[str],
        partition_by: Sequence[str] = (),
    ) -> AdapterResponse:
        """Replace the partitions of `target` that `source` has rows for, with those rows.

        Without `partition_by` every row of `target` is replaced (dbt-spark's rule).
        `capabilities.insert_overwrite` says how: `INSERT OVERWRITE` (dynamic partition
        overwrite) or a delete of the matching partitions, NULL matching NULL, then an
        insert. Call it inside `transaction()` where the engine has transactions.
        """
        if self.capabilities.insert_overwrite is InsertOverwrite.INSERT_OVERWRITE:
            sql = self._insert_overwrite_sql(target, source, list(columns), list(partition_by))
            return self._run(sql)[0]
        self._run(self._delete_partitions_sql(target, source, list(partition_by)))
        return self.insert_into(target, source, columns)

    def replace_window(
        self,
        target: Relation,
        source: Relation,
        columns: Sequence[str],
        window: tuple[str, datetime, datetime],
        partition_by: Sequence[str] = (),
    ) -> AdapterResponse:
        """Replace the rows of `target` in a time window with the rows of `source`.

        `window` is (event_time column, start, end), end excluded: the window's rows are
        deleted, then the rows of `source` in the window inserted (dbt-duckdb's microbatch
        statements; rows a batch produced outside its window are left out). Where the
        engine overwrites partitions (`InsertOverwrite.INSERT_OVERWRITE`), the partitions
        `source` has rows for are overwritten with all of its rows (dbt-spark's), so the
        window must align with `partition_by`.
        """
        if self.capabilities.insert_overwrite is InsertOverwrite.INSERT_OVERWRITE:
            return self.insert_overwrite(target, source, columns, partition_by)
        from sqlglot import exp

        column, start, end = window
        self._run(
            exp.Delete(
                this=self._table(target),
                where=exp.Where(this=self._window_condition(column, start, end)),
            )
        )
        rows = select(
            [col(c) for c in columns],
            self._table(source),
            where=[self._window_condition(column, start, end)],
        )
        into = exp.Schema(this=self._table(target), expressions=[ident(c) for c in columns])
        return self._run(exp.Insert(this=into, expression=rows))[0]

    def _window_condition(self, column: str, start: datetime, end: datetime) -> exp.Expression:
        from sqlglot import exp

        def stamp(value: datetime) -> exp.Expression:
            text = exp.Literal.string(value.strftime("%Y-%m-%d %H:%M:%S"))
            return exp.Cast(this=text, to=exp.DataType.build("timestamp"))

        return _and(
            [
                exp.GTE(this=col(column), expression=stamp(start)),
                exp.LT(this=col(column), expression=stamp(end)),
            ]
        )

    # -- columns ---------------------------------------------------------------------------------

    def add_columns(self, relation: Relation, columns: Sequence[Column]) -> None:
        """Add columns (NULL in existing rows)."""
        from sqlglot import exp

        for column in columns:
            action = exp.ColumnDef(this=ident(column.name), kind=raw(column.data_type))
            self._run(exp.Alter(this=self._table(relation), kind="TABLE", actions=[action]))

    def drop_columns(self, relation: Relation, names: Sequence[str]) -> None:
        """Drop columns."""
        for statement in self._drop_columns_sql(relation, names):
            self._run(statement)

    def _drop_columns_sql(self, relation: Relation, names: Sequence[str]) -> list[exp.Expression]:
        """Default: one `ALTER TABLE ... DROP COLUMN` per column."""
        from sqlglot import exp

        statements: list[exp.Expression] = []
        for name in names:
            action = exp.Drop(tables=[col(name)], kind="COLUMN")
            statements.append(exp.Alter(this=self._table(relation), kind="TABLE", actions=[action]))
        return statements

    def alter_column_type(self, relation: Relation, column_name: str, new_type: str) -> None:
        """Change a column's type, keeping its values (cast)."""
        for statement in self._alter_column_type_sql(relation, column_name, new_type):
            self._run(statement)

    def _alter_column_type_sql(
        self, relation: Relation, column_name: str, new_type: str
    ) -> list[exp.Expression]:
        """Default: dbt's four steps (add a temporary column, copy, drop, rename)."""
        from sqlglot import exp

        table = self._table(relation)
        tmp = f"{column_name}__dbt_alter"
        add = exp.ColumnDef(this=ident(tmp), kind=raw(new_type))
        copy = exp.Update(
            this=table.copy(), expressions=[exp.EQ(this=col(tmp), expression=col(column_name))]
        )
        drop = exp.Drop(
            tables=[col(column_name)], kind="COLUMN", cascade=self.capabilities.drop_cascade
        )
        rename = exp.RenameColumn(this=col(tmp), to=col(column_name))
        return [
            exp.Alter(this=table.copy(), kind="TABLE", actions=[add]),
            copy,
            exp.Alter(this=table.copy(), kind="TABLE", actions=[drop]),
            exp.Alter(this=table.copy(), kind="TABLE", actions=[rename]),
        ]

    # -- cancel and close --------------------------------------------------------------------------

    def cancel_open(self) -> list[str]:
        """Interrupt the queries running on other threads' connections.

        Returns:
            The names of the threads whose query was interrupted.
        """
        with self._lock:
            running = [h for h in self._handles if h.running]
        cancelled = []
        for handle in running:
            try:
                self._cancel(handle.connection)
                cancelled.append(handle.thread_name)
            except Exception as exc:  # a cancel that fails must not hide the original error
                logger.debug("cancel on %s failed: %s", handle.thread_name, exc)
        return cancelled

    def _cancel(self, connection: Any) -> None:
        """Interrupt the query running on a connection (override per driver)."""
        cancel = getattr(connection, "cancel", None)
        if cancel is not None:
            cancel()

    def close(self) -> None:
        """Close every thread's connection; the next statement opens a new one."""
        with self._lock:
            handles, self._handles = self._handles, []
            self._local = threading.local()
        for handle in handles:
            for closable in (handle.cursor, handle.connection):
                try:
                    closable.close()
                except Exception as exc:  # closing twice or after a failure is harmless
                    logger.debug("close failed on %s: %s", handle.thread_name, exc)
        self._close_shared()

    def _close_shared(self) -> None:
        """Release what the connections share (override where there is such a thing)."""
        return

    # -- SQL trees: hooks ----------------------------------------------------------------------

    def _create_table_as_sql(
        self,
        relation: Relation,
        body: exp.Expression,
        temporary: bool,
        options: TableOptions | None = None,
    ) -> exp.Expression:
        """`CREATE [TEMPORARY] TABLE ... AS (body)`; engines with layouts add `options`."""
        from sqlglot import exp

        props = None
        if temporary and self.capabilities.temporary_tables:
            props = exp.Properties(expressions=[exp.TemporaryProperty()])
        table = self._table(relation)
        return exp.Create(
            this=table, kind="TABLE", expression=exp.Paren(this=body), properties=props
        )

    def _create_table_sql(self, relation: Relation, columns: Sequence[Column]) -> exp.Expression:
        from sqlglot import exp

        defs = [exp.ColumnDef(this=ident(c.name), kind=raw(c.data_type)) for c in columns]
        schema = exp.Schema(this=self._table(relation), expressions=defs)
        return exp.Create(this=schema, kind="TABLE")

    def _drop_schema_sql(self, schema: SchemaRef | Relation) -> exp.Expression:
        from sqlglot import exp

        cascade = self.capabilities.drop_cascade
        tables = [self._schema_table(schema)]
        return exp.Drop(tables=tables, kind="SCHEMA", exists=True, cascade=cascade)

    def _insert_overwrite_sql(
        self, target: Relation, source: Relation, columns: list[str], partition_by: list[str]
    ) -> exp.Expression:
        """`INSERT OVERWRITE TABLE target SELECT columns FROM source` (dynamic partitions)."""
        from sqlglot import exp

        query = select([col(c) for c in columns], self._table(source))
        into = exp.Schema(this=self._table(target), expressions=[ident(c) for c in columns])
        return exp.Insert(this=into, expression=query, overwrite=True)

    def _delete_partitions_sql(
        self, target: Relation, source: Relation, partition_by: list[str]
    ) -> exp.Expression:
        """`DELETE FROM target` where a source row has the same partition values (or all)."""
        from sqlglot import exp

        dest, src = self.normalize_identifier(DEST_ALIAS), self.normalize_identifier(SOURCE_ALIAS)
        target_table = aliased(self._table(target), dest)
        if not partition_by:
            return exp.Delete(this=target_table)
        match = _and(
            [exp.NullSafeEQ(this=col(c, src), expression=col(c, dest)) for c in partition_by]
        )
        source_table = aliased(self._table(source), src)
        exists = exp.Exists(this=select([exp.Literal.number(1)], source_table, where=[match]))
        return exp.Delete(this=target_table, where=exp.Where(this=exists))

    def _create_view_sql(
        self, relation: Relation, body: exp.Expression, replace: bool
    ) -> exp.Expression:
        from sqlglot import exp

        table = self._table(relation)
        return exp.Create(this=table, kind="VIEW", replace=replace, expression=exp.Paren(this=body))

    def _rename_sql(self, relation: Relation, new_identifier: str) -> exp.Expression:
        from sqlglot import exp

        kind = "VIEW" if relation.is_view else "TABLE"
        action = exp.AlterRename(this=exp.Table(this=ident(new_identifier)))
        return exp.Alter(this=self._table(relation), kind=kind, actions=[action])

    def _drop_sql(self, relation: Relation) -> exp.Expression:
        from sqlglot import exp

        kind = "VIEW" if relation.is_view else "TABLE"
        cascade = self.capabilities.drop_cascade
        return exp.Drop(tables=[self._table(relation)], kind=kind, exists=True, cascade=cascade)

    def _delete_sql(
        self,
        target: Relation,
        source: Relation | None,
        keys: list[str],
        predicates: list[exp.Expression],
    ) -> exp.Expression:
        """Single key: `(k) IN (SELECT k ...)`; composite: `EXISTS` over all key columns."""
        from sqlglot import exp

        dest, src = self.normalize_identifier(DEST_ALIAS), self.normalize_identifier(SOURCE_ALIAS)
        conditions: list[exp.Expression] = []
        if keys and source is not None:
            conditions.append(self._key_in_source(source, keys, dest, src))
        conditions.extend(exp.Paren(this=p) for p in predicates)
        target_table = aliased(self._table(target), dest)
        return exp.Delete(this=target_table, where=exp.Where(this=_and(conditions)))

    def _key_in_source(
        self, source: Relation, keys: list[str], dest: str, src: str
    ) -> exp.Expression:
        from sqlglot import exp

        if len(keys) == 1:
            query = exp.Subquery(this=select([col(keys[0])], self._table(source)))
            return exp.In(this=exp.Paren(this=col(keys[0], dest)), query=query)
        match = _and([exp.EQ(this=col(k, src), expression=col(k, dest)) for k in keys])
        source_table = aliased(self._table(source), src)
        return exp.Exists(this=select([exp.Literal.number(1)], source_table, where=[match]))

    def _merge_sql(
        self,
        target: Relation,
        source: Relation,
        keys: list[str],
        update_columns: list[str],
        insert_columns: list[str],
        predicates: list[exp.Expression],
    ) -> exp.Expression:
        from sqlglot import exp

        dest, src = self.normalize_identifier(DEST_ALIAS), self.normalize_identifier(SOURCE_ALIAS)
        on: list[exp.Expression] = [
            exp.Paren(this=exp.EQ(this=col(k, src), expression=col(k, dest))) for k in keys
        ] or [exp.Paren(this=exp.false())]
        on.extend(exp.Paren(this=p) for p in predicates)
        whens = []
        if keys and update_columns:
            sets = [exp.EQ(this=col(c), expression=col(c, src)) for c in update_columns]
            whens.append(exp.When(matched=True, then=exp.Update(expressions=sets)))
        insert = exp.Insert(
            this=exp.Tuple(expressions=[col(c) for c in insert_columns]),
            expression=exp.Tuple(expressions=[col(c, src) for c in insert_columns]),
        )
        whens.append(exp.When(matched=False, then=insert))
        return exp.Merge(
            this=aliased(self._table(target), dest),
            using=aliased(self._table(source), src),
            on=_and(on),
            whens=exp.Whens(expressions=whens),
        )

    # -- SQL trees: rendering -----------------------------------------------------------------

    def _table(self, relation: Relation) -> exp.Table:
        from sqlglot import exp

        database = relation.database if relation.include_database else None
        return exp.Table(
            this=ident(relation.identifier),
            db=ident(relation.schema) if relation.schema else None,
            catalog=ident(database) if database and relation.schema else None,
        )

    def _schema_table(self, schema: SchemaRef | Relation) -> exp.Table:
        from sqlglot import exp

        if isinstance(schema, Relation):
            schema = SchemaRef.of(schema)
        catalog = schema.database if self.capabilities.catalogs else None
        return exp.Table(db=ident(schema.schema), catalog=ident(catalog) if catalog else None)

    def _typed(self, relation: Relation) -> Relation | None:
        """The relation with its type filled in; None when it does not exist."""
        if relation.type is not None:
            return relation
        return self.get_relation(relation.database, relation.schema, relation.identifier)

    def _to_sql(self, expr: exp.Expression) -> str:
        """The one place Kiln's statements become text (and are logged, VALUES redacted)."""
        dialect = _sqlglot_dialect(self.dialect)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("SQL: %s", dialect.generate(_redacted(expr), identify=True))
        # Every tree is built for one statement, so the generator may use it without a copy.
        return str(dialect.generate(expr, copy=False, identify=True))


# -- tree helpers ------------------------------------------------------------------------------


@functools.cache
def _keeps_relations() -> tuple[type[object], ...]:
    """Statements that neither create, drop nor rename a relation."""
    from sqlglot import exp

    return (
        exp.Query,
        exp.Insert,
        exp.Delete,
        exp.Update,
        exp.Merge,
        exp.Transaction,
        exp.Commit,
        exp.Rollback,
        exp.Set,
        exp.TruncateTable,
        exp.Copy,
        exp.Describe,
    )


# Commands (statements sqlglot keeps as text) that read, or touch only partitions.
_READ_COMMANDS = ("SHOW ", "DESCRIBE ", "MSCK REPAIR ")


# Whitespace and comments before a statement's first keyword.
SQL_PREAMBLE = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_READ_ONLY = re.compile(r"(select|with|show|describe|explain|values)\b", re.IGNORECASE)
_INTO = re.compile(r"\binto\b", re.IGNORECASE)


def _reads_only(sql: str) -> bool:
    """Whether user SQL surely leaves relations alone (`SELECT ... INTO` creates a table)."""
    start = SQL_PREAMBLE.match(sql)
    first = _READ_ONLY.match(sql, start.end() if start else 0)
    return first is not None and not _INTO.search(sql)


@functools.cache
def _sqlglot_dialect(name: str) -> Dialect:
    """One sqlglot dialect object per engine (looking one up by name builds a new one)."""
    from sqlglot.dialects.dialect import Dialect

    return Dialect.get_or_raise(name)


def ident(name: str) -> exp.Identifier:
    """An identifier; `_to_sql` quotes every identifier it renders."""
    from sqlglot import exp

    return exp.Identifier(this=name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    """A column reference, optionally qualified by a table alias."""
    from sqlglot import exp

    return exp.Column(this=ident(name), table=ident(table) if table else None)


def select(
    columns: Sequence[exp.Expression],
    source: exp.Expression | None = None,
    where: Sequence[exp.Expression] = (),
    order_by: Sequence[exp.Expression] = (),
) -> exp.Select:
    """`SELECT columns [FROM source] [WHERE a AND b ...] [ORDER BY ...]`.

    Built node by node rather than with sqlglot's chained builders, which deep-copy the
    query at every step: the parts here are always fresh, and the copies were most of
    Kiln's per-node cost in a run.
    """
    from sqlglot import exp

    query = exp.Select(expressions=list(columns))
    if source is not None:
        query.set("from_", exp.From(this=source))
    if where:
        # AND binds tighter than OR: an OR condition keeps its own parentheses.
        parts = [exp.Paren(this=w) if isinstance(w, exp.Or) else w for w in where]
        query.set("where", exp.Where(this=_and(parts)))
    if order_by:
        query.set("order", exp.Order(expressions=[exp.Ordered(this=o) for o in order_by]))
    return query


def aliased(table: exp.Table, alias: str) -> exp.Table:
    """`table AS alias`."""
    from sqlglot import exp

    table.set("alias", exp.TableAlias(this=ident(alias)))
    return table


def raw(text: str) -> exp.Expression:
    """Text the engine produced or the user wrote (a type, a marker), emitted as is."""
    from sqlglot import exp

    return exp.Var(this=text)


def _fragment(sql: str | SqlFragment) -> exp.Expression:
    """User SQL, spliced verbatim; newlines keep a trailing `-- comment` from eating `)`."""
    text = sql.text if isinstance(sql, SqlFragment) else sql
    return raw(f"\n{text.strip()}\n")


def _and(conditions: Sequence[exp.Expression]) -> exp.Expression:
    from sqlglot import exp

    result = conditions[0]
    for condition in conditions[1:]:
        result = exp.And(this=result, expression=condition)
    return result


def _redacted(expr: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    if not any(True for _ in expr.find_all(exp.Values)):
        return expr
    return expr.transform(lambda n: raw("VALUES (...)") if isinstance(n, exp.Values) else n)
