"""PostgreSQL through psycopg 3 (`pip install 'kiln[postgres]'`).

Profile keys follow dbt-postgres: `host`, `port`, `user`, `password` (or `pass`),
`dbname` (or `database`), `schema`, `threads`, `sslmode`, `keepalives_idle`,
`connect_timeout`, `search_path`, `role`, plus `application_name` (default `kiln`).

Each thread opens its own connection (autocommit; Kiln sends BEGIN/COMMIT itself).
PostgreSQL has transactional DDL, so a table swap (two renames) and an incremental
change are atomic. While a node runs, its connection's `application_name` is
`<application_name>:<unique_id>`, so `pg_stat_activity` and server logs attribute
load and cost to the node.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Self

from kiln.adapters.base import (
    Adapter,
    AdapterResponse,
    Capabilities,
    Column,
    CommentStyle,
    Credentials,
    DBAPIConnection,
    ResultTable,
    SchemaRef,
    aliased,
    col,
    ident,
    raw,
    select,
)
from kiln.adapters.relation import Relation
from kiln.errors import DatabaseError, ProfileError

if TYPE_CHECKING:
    from sqlglot import exp

    from kiln.adapters.table_options import NodeContext

# pg_class.relkind -> Kiln's relation type.
_RELKINDS = {"r": "table", "p": "table", "f": "external", "v": "view", "m": "materialized_view"}
# PostgreSQL 15 brought MERGE.
_MERGE_VERSION = 150000
# SQLSTATE classes whose errors come and go (serialization, deadlock, shutdown, connection).
_TRANSIENT_STATES = ("40001", "40P01", "57P01", "57P02", "57P03", "08")


@dataclass(frozen=True, kw_only=True)
class PostgresCredentials(Credentials):
    """A `type: postgres` target."""

    type: str = "postgres"
    schema: str = "public"
    host: str = "localhost"
    port: int = 5432
    user: str = ""
    password: str = field(default="", repr=False)
    sslmode: str | None = None
    keepalives_idle: int = 0
    connect_timeout: int = 10
    search_path: str | None = None
    role: str | None = None
    application_name: str = "kiln"

    @classmethod
    def from_target(cls, target: Mapping[str, Any]) -> Self:
        """Build from a profiles.yml target, accepting dbt-postgres' aliases.

        Raises:
            ProfileError: `user` or `dbname` is missing, or a value is invalid.
        """
        values = dict(target)
        if "pass" in values:
            values.setdefault("password", values.pop("pass"))
        if "dbname" in values:
            values.setdefault("database", values.pop("dbname"))
        for key in ("user", "database"):
            if not values.get(key):
                name = "dbname" if key == "database" else key
                raise ProfileError(
                    f"the postgres target has no {name!r}",
                    hint=f"add {name}: ... to the target in profiles.yml",
                )
        return super().from_target(values)

    @classmethod
    def _prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        values = super()._prepare(values)
        for key in ("port", "keepalives_idle", "connect_timeout"):
            if key in values:
                values[key] = int(values[key])
        values["password"] = str(values.get("password") or "")
        values["schema"] = values.get("schema") or "public"
        return values

    def connect_kwargs(self) -> dict[str, Any]:
        """psycopg.connect keyword arguments (libpq parameters)."""
        kwargs: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.database,
            "connect_timeout": self.connect_timeout,
            "application_name": self.application_name,
        }
        if self.password:
            kwargs["password"] = self.password
        if self.sslmode:
            kwargs["sslmode"] = self.sslmode
        if self.keepalives_idle:
            kwargs["keepalives_idle"] = self.keepalives_idle
        if self.search_path:
            # dbt-postgres passes the search path as a server option, escaping spaces.
            kwargs["options"] = "-c search_path=" + self.search_path.replace(" ", "\\ ")
        return kwargs


class PostgresAdapter(Adapter):
    """PostgreSQL through psycopg 3, a connection per thread."""

    name: ClassVar[str] = "postgres"
    dialect: ClassVar[str] = "postgres"
    capabilities: ClassVar[Capabilities] = Capabilities(
        # CREATE OR REPLACE VIEW cannot drop or retype columns: views are swapped in too.
        create_or_replace_view=False,
        max_identifier_length=63,
        comments=CommentStyle.COMMENT_STATEMENT,
        materialized_views=True,
        subquery_alias=True,
        case_sensitive_names=True,
        drops_dependents=True,
    )
    credentials: ClassVar[type[Credentials]] = PostgresCredentials
    param_marker: ClassVar[str] = "%s"
    creds: PostgresCredentials

    def __init__(self, creds: Credentials) -> None:
        if not isinstance(creds, PostgresCredentials):
            raise ProfileError(f"PostgresAdapter needs postgres credentials, got {creds.type!r}")
        super().__init__(creds)
        self._version: int | None = None
        self._version_lock = threading.Lock()

    # -- required ------------------------------------------------------------------------

    def open_connection(self) -> DBAPIConnection:
        """A new autocommit connection, with the profile's role applied.

        Raises:
            ProfileError: psycopg is not installed.
            DatabaseError: the server cannot be reached or refuses the credentials.
        """
        try:
            import psycopg
        except ImportError as exc:
            raise ProfileError(
                "the postgres adapter needs psycopg 3",
                hint="install the extra: pip install 'kiln[postgres]'",
            ) from exc
        try:
            conn = psycopg.connect(**self.creds.connect_kwargs(), autocommit=True)
        except psycopg.Error as exc:
            raise self._connect_error(exc) from exc
        if self.creds.role:
            conn.execute(self._to_sql(_set_config("role", self.creds.role)))
        connection: DBAPIConnection = conn
        return connection

    def list_relations(self, schema: SchemaRef) -> list[Relation]:
        """Tables, views and materialized views of one schema, from pg_catalog."""
        from sqlglot import exp

        if schema.database and schema.database != self.database:
            return []  # PostgreSQL cannot look into another database
        kinds = [exp.Literal.string(k) for k in _RELKINDS]
        conditions: list[exp.Expression] = [
            exp.EQ(this=col("nspname", "n"), expression=exp.Literal.string(schema.schema)),
            exp.In(this=col("relkind", "c"), expressions=kinds),
        ]
        query = select(
            [col("relname", "c"), col("relkind", "c")],
            aliased(_catalog_table("pg_class"), "c"),
            where=conditions,
        )
        namespaces = exp.Join(
            this=aliased(_catalog_table("pg_namespace"), "n"),
            on=exp.EQ(this=col("oid", "n"), expression=col("relnamespace", "c")),
        )
        query.set("joins", [namespaces])
        rows = self._run(query, fetch=True)[1]
        assert rows is not None
        return [
            self.relation(self.database, schema.schema, str(name), _RELKINDS[str(kind)])
            for name, kind in rows.rows
        ]

    def get_columns(self, relation: Relation) -> list[Column]:
        """Columns in ordinal order, typed as `format_type` spells them (`numeric(18,2)`)."""
        from sqlglot import exp

        if relation.database and relation.database != self.database:
            return []
        name = self._to_sql(self._table(relation.incorporate(database=None)))
        regclass = exp.Anonymous(this="to_regclass", expressions=[exp.Literal.string(name)])
        type_name = exp.Anonymous(
            this="format_type", expressions=[col("atttypid"), col("atttypmod")]
        )
        query = select(
            [col("attname"), type_name],
            _catalog_table("pg_attribute"),
            where=[
                exp.EQ(this=col("attrelid"), expression=regclass),
                exp.GT(this=col("attnum"), expression=exp.Literal.number(0)),
                exp.Not(this=col("attisdropped")),
            ],
            order_by=[col("attnum")],
        )
        rows = self._run(query, fetch=True)[1]
        assert rows is not None
        return [Column(str(n), str(t), self.quote_char) for n, t in rows.rows]

    def classify_error(self, exc: Exception) -> DatabaseError:
        """The server's message (first line) and, for well-known states, what to do."""
        sqlstate = str(getattr(exc, "sqlstate", None) or "")
        message = _first_line(exc)
        hint = None
        if sqlstate.startswith(_TRANSIENT_STATES):
            hint = "a transient error: retry the run"
        elif sqlstate == "57014":
            hint = "the query was cancelled"
        elif sqlstate == "42501":
            hint = f"grant user {self.creds.user!r} the privilege, or use another role"
        if sqlstate:
            message = f"{message} (SQLSTATE {sqlstate})"
        return DatabaseError(message, hint=hint)

    # -- capabilities that depend on the server --------------------------------------------

    def strategy_problem(self, strategy: str, config: Mapping[str, Any]) -> str | None:
        """MERGE needs PostgreSQL 15 or later (dbt's `Versioned` support)."""
        if strategy == "merge" and self.server_version() < _MERGE_VERSION:
            return f"MERGE needs PostgreSQL 15 or later (server version {self.server_version()})"
        return None

    def server_version(self) -> int:
        """`server_version_num` (e.g. 150004), asked once."""
        from sqlglot import exp

        with self._version_lock:
            if self._version is None:
                setting = exp.Anonymous(
                    this="current_setting", expressions=[exp.Literal.string("server_version_num")]
                )
                table = self._run(select([setting]), fetch=True)[1]
                assert table is not None
                self._version = int(table.rows[0][0])
            return self._version

    # -- connection hooks ----------------------------------------------------------------------

    def _connect_error(self, exc: Exception) -> DatabaseError:
        """A one-line connection failure saying where, as whom, and what to check."""
        creds = self.creds
        reason = _connect_reason(exc)
        where = f"{creds.user}@{creds.host}:{creds.port}/{creds.database}"
        lowered = reason.lower()
        if "password" in lowered or "authentication" in lowered:
            hint = "check user and password of the postgres target in profiles.yml"
        elif "does not exist" in lowered and "database" in lowered:
            hint = f"create database {creds.database!r} or fix dbname in profiles.yml"
        elif "role" in lowered and "does not exist" in lowered:
            hint = f"create role {creds.user!r} or fix user in profiles.yml"
        else:
            hint = "check that PostgreSQL is running at that host and port (profiles.yml)"
        return DatabaseError(f"could not connect to PostgreSQL as {where}: {reason}", hint=hint)

    def _fetch_table(self, cursor: Any) -> ResultTable:
        if cursor.description is None:  # a statement without a result set
            return ResultTable((), [])
        return super()._fetch_table(cursor)

    def _response(self, cursor: Any) -> AdapterResponse:
        """psycopg's status (`INSERT 0 3`), its command as the code, and the row count."""
        status = str(getattr(cursor, "statusmessage", None) or "OK")
        code = " ".join(word for word in status.split() if not word.isdigit()) or None
        count = getattr(cursor, "rowcount", -1)
        return AdapterResponse(status, code=code, rows_affected=count if count >= 0 else None)

    def _cancel(self, connection: Any) -> None:
        cancel = getattr(connection, "cancel_safe", None) or connection.cancel
        cancel()

    def _start_node(self, node: NodeContext) -> None:
        label = f"{self.creds.application_name}:{node.node_id}"
        self._run(_set_config("application_name", label[:63]))

    def _end_node(self) -> None:
        self._run(_set_config("application_name", self.creds.application_name))

    # -- SQL hooks ---------------------------------------------------------------------------

    def _insert_rows(
        self, relation: Relation, columns: Sequence[Column], rows: Sequence[Sequence[Any]]
    ) -> None:
        """COPY ... FROM STDIN: values stream as data, never as SQL, with no batch limit."""
        from sqlglot import exp

        names = [ident(c.name) for c in columns]
        target = exp.Schema(this=self._table(relation), expressions=names)
        statement = self._to_sql(exp.Copy(this=target, kind=True, files=[raw("STDIN")]))
        handle = self._handle()
        handle.running = True
        try:
            with handle.cursor.copy(statement) as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        except Exception as exc:
            raise self.classify_error(exc) from exc
        finally:
            handle.running = False

    def _schema_table(self, schema: SchemaRef | Relation) -> exp.Table:
        """Schemas are named without their database: `CREATE SCHEMA "db"."s"` is invalid."""
        from sqlglot import exp

        name = schema.schema if isinstance(schema, SchemaRef) else schema.schema or ""
        return exp.Table(db=ident(name))


def _catalog_table(name: str) -> exp.Table:
    from sqlglot import exp

    return exp.Table(this=ident(name), db=ident("pg_catalog"))


def _set_config(name: str, value: str) -> exp.Expression:
    """`SELECT set_config(name, value, false)`: a session setting, with the value bound as text."""
    from sqlglot import exp

    call = exp.Anonymous(
        this="set_config",
        expressions=[exp.Literal.string(name), exp.Literal.string(value), exp.false()],
    )
    return select([call])


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _connect_reason(exc: Exception) -> str:
    """libpq's reason without its preamble (`connection failed: connection to server ...`)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in lines:
        if "FATAL:" in line:
            return line.split("FATAL:", 1)[1].strip()
    for line in lines:
        reason = line.rsplit("failed:", 1)[-1].strip()
        if "failed:" in line and reason:
            return reason  # "Connection refused", "timeout expired", ...
    return lines[-1] if lines else type(exc).__name__
