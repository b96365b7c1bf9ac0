"""Unit tests: run a model's SQL on literal input rows and compare with the expected rows.

Each `given` input becomes a CTE of literal rows, cast to the column types of the relation
it stands for when that relation exists (columns the rows leave out are NULL, as in dbt).
The model is compiled with `ref`/`source`/`this` pointing at those CTEs, its result is
staged in a temporary table, and the expected rows, cast to the result's column types, are
compared with it as multisets over the expected columns only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kiln.errors import CompilationError
from kiln.parse.unit_tests import parse_input

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter, Column
    from kiln.adapters.relation import Relation
    from kiln.manifest.nodes import UnitTest

CTE_PREFIX = "__dbt__cte__"
# How many differing rows the failure message shows, per side.
MAX_DIFF_ROWS = 20

InputKey = tuple[str, ...]
RelationLookup = Callable[[InputKey], "Relation | None"]


@dataclass(frozen=True, slots=True)
class Fixture:
    """One `given` input as a CTE: which ref/source it replaces, its name and its SQL."""

    key: InputKey
    cte_name: str
    sql: str


@dataclass(frozen=True, slots=True)
class UnitTestOutcome:
    """pass or fail; a failure carries the diff between actual and expected rows."""

    status: str
    message: str | None
    failures: int


def input_key(text: str) -> InputKey:
    """The lookup key of a `given` input: `("ref", name)`, `("source", s, t)` or `("this",)`.

    Example:
        >>> input_key("ref('pkg', 'orders')")
        ('ref', 'orders')
        >>> input_key("source('raw', 'orders')")
        ('source', 'raw', 'orders')
    """
    parsed = parse_input(text)
    if parsed is None:
        raise CompilationError(f"`{text}` is not ref(...), source(...) or this")
    kind, args = parsed
    if kind == "ref":
        return ("ref", args[-1])
    return (kind, *args)


def _cte_name(key: InputKey) -> str:
    if key[0] == "this":
        return f"{CTE_PREFIX}this"
    return CTE_PREFIX + "__".join(key[1:])


# ---- fixtures: literal rows as SQL ------------------------------------------------------------


def build_fixtures(adapter: Adapter, test: UnitTest, lookup: RelationLookup) -> list[Fixture]:
    """One CTE per `given` input, typed like the relation it replaces when that exists.

    Args:
        adapter: the warehouse (for quoting and for reading the inputs' columns).
        test: the unit test.
        lookup: the existing relation behind an input key, or None.

    Raises:
        CompilationError: a row names a column the input relation does not have, or an
            input has no rows and no relation to take its columns from.
    """
    fixtures = []
    for given in test.given:
        key = input_key(str(given["input"]))
        where = f"unit test '{test.name}', input {given['input']}"
        relation = lookup(key)
        columns = adapter.get_columns(relation) if relation is not None else []
        sql = fixture_sql(adapter, given, columns, where)
        fixtures.append(Fixture(key, _cte_name(key), sql))
    return fixtures


def fixture_sql(
    adapter: Adapter, fixture: Mapping[str, Any], columns: Sequence[Column], where: str
) -> str:
    """The SQL of a given/expect fixture: its rows cast to `columns` (when known).

    Raises:
        CompilationError: see `build_fixtures`.
    """
    fmt = fixture.get("format") or "dict"
    rows = fixture.get("rows")
    if fmt == "sql":
        return str(rows or "")
    records = _csv_records(str(rows or "")) if fmt == "csv" else list(rows or [])
    return rows_sql(adapter, records, columns, where)


def rows_sql(
    adapter: Adapter, rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], where: str
) -> str:
    """`select ... union all select ...` over literal rows; columns the rows omit are NULL.

    Raises:
        CompilationError: see `build_fixtures`.
    """
    names, types = _row_columns(rows, columns, where)
    if not rows:
        nulls = ", ".join(f"cast(null as {types[n]}) as {adapter.quote(n)}" for n in names)
        return f"select {nulls} where false"
    selects = []
    for row in rows:
        lowered = {str(k).lower(): v for k, v in row.items()}
        values = [_typed(lowered.get(n.lower()), types.get(n)) for n in names]
        selects.append(
            "select "
            + ", ".join(f"{v} as {adapter.quote(n)}" for v, n in zip(values, names, strict=True))
        )
    return "\nunion all\n".join(selects)


def _row_columns(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], where: str
) -> tuple[list[str], dict[str, str]]:
    """The column names to select and their types (empty when no relation is known)."""
    if columns:
        known = {c.name.lower() for c in columns}
        unknown = sorted({str(k) for r in rows for k in r if str(k).lower() not in known})
        if unknown:
            raise CompilationError(
                f"{where}: the rows name columns the input does not have: {', '.join(unknown)}",
                hint="valid columns: " + ", ".join(c.name for c in columns),
            )
        return [c.name for c in columns], {c.name: c.data_type for c in columns}
    names = list(dict.fromkeys(str(k) for r in rows for k in r))
    if not names:
        raise CompilationError(
            f"{where}: no rows and no relation to take the columns from",
            hint="give at least one row, or build the input first (kiln run -s +<model>)",
        )
    return names, {}


def _typed(value: Any, data_type: str | None) -> str:
    literal = sql_literal(value)
    if data_type is None or literal == "null":
        return literal if data_type is None else f"cast(null as {data_type})"
    return f"cast({literal} as {data_type})"


def sql_literal(value: Any) -> str:
    """A Python value from YAML or CSV as a SQL literal.

    Example:
        >>> sql_literal("it's"), sql_literal(None), sql_literal(True), sql_literal(2.5)
        ("'it''s'", 'null', 'true', '2.5')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return f"'{value.isoformat(sep=' ') if isinstance(value, dt.datetime) else value}'"
    text = str(value).replace("'", "''")
    return f"'{text}'"


def _csv_records(text: str) -> list[dict[str, Any]]:
    """CSV fixture rows; empty cells are NULL and numbers are numbers (as agate reads them)."""
    reader = csv.DictReader(io.StringIO(text.strip()))
    return [{k.strip(): _csv_value(v) for k, v in row.items() if k} for row in reader]


def _csv_value(text: str | None) -> Any:
    if text is None or text.strip() == "" or text.strip().lower() == "null":
        return None
    text = text.strip()
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            continue
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return text


# ---- the Jinja values that point refs at fixtures ---------------------------------------------


class _FixtureRefs:
    """`ref` and `source` that answer with fixture CTE names, collecting the CTEs used."""

    def __init__(
        self, test: UnitTest, fixtures: Sequence[Fixture], ctes: list[tuple[str, str]]
    ) -> None:
        self.test = test
        self.by_key = {f.key: f for f in fixtures}
        self.ctes = ctes

    def use(self, key: InputKey, written: str) -> str:
        fixture = self.by_key.get(key)
        if fixture is None:
            raise CompilationError(
                f"unit test '{self.test.name}' gives no rows for {written}, which model "
                f"'{self.test.model}' reads",
                hint=f"add `- input: {written}` with its rows under given:",
            )
        if all(name != fixture.cte_name for name, _ in self.ctes):
            self.ctes.append((fixture.cte_name, fixture.sql))
        return fixture.cte_name

    def ref(self, *args: Any, **_: Any) -> str:
        return self.use(("ref", str(args[-1])), f"ref('{args[-1]}')")

    def source(self, source_name: str, table_name: str) -> str:
        written = f"source('{source_name}', '{table_name}')"
        return self.use(("source", source_name, table_name), written)


def context_overrides(
    test: UnitTest,
    fixtures: Sequence[Fixture],
    ctes: list[tuple[str, str]],
    real_this: Relation,
) -> dict[str, Any]:
    """`ref`, `source`, `this`, `is_incremental` and overridden macros for the tested model.

    Each fixture used is appended to `ctes` (once), so the caller can inject them.

    Raises:
        CompilationError: (when rendering) the model reads an input the test gives no rows for.
    """
    refs = _FixtureRefs(test, fixtures, ctes)
    macros = (test.overrides or {}).get("macros") or {}
    this: Any = refs.use(("this",), "this") if ("this",) in refs.by_key else real_this
    values: dict[str, Any] = {
        "ref": refs.ref,
        "source": refs.source,
        "this": this,
        "is_incremental": _constant(bool(macros.get("is_incremental", False))),
    }
    values.update({name: _constant(v) for name, v in macros.items() if name != "is_incremental"})
    return values


def lookup_overrides(test: UnitTest, var: Any, env_var: Any) -> dict[str, Any]:
    """`var` and `env_var` answering from the test's `overrides` first, then as usual."""
    overrides = test.overrides or {}
    out: dict[str, Any] = {}
    if overrides.get("vars"):
        out["var"] = _Overridden(var, overrides["vars"])
    if overrides.get("env_vars"):
        out["env_var"] = _Overridden(env_var, overrides["env_vars"])
    return out


class _Overridden:
    """A `var`/`env_var` callable with some names answered from a mapping."""

    def __init__(self, base: Any, values: Mapping[str, Any]) -> None:
        self.base = base
        self.values = values

    def __call__(self, name: str, *default: Any) -> Any:
        if name in self.values:
            return self.values[name]
        return self.base(name, *default)

    def has_var(self, name: str) -> bool:
        return name in self.values or bool(self.base.has_var(name))


def _constant(value: Any) -> Callable[..., Any]:
    return lambda *_args, **_kwargs: value


# ---- comparing ---------------------------------------------------------------------------------


def run_unit_test(adapter: Adapter, test: UnitTest, sql: str, near: Relation) -> UnitTestOutcome:
    """Run the compiled model SQL and compare its rows with the expected ones.

    Args:
        adapter: the warehouse.
        test: the unit test (its `expect` rows).
        sql: the model's SQL, compiled against the fixtures.
        near: the model's relation (names the temporary table).

    Raises:
        DatabaseError: the model's SQL fails on the fixtures.
    """
    actual = adapter.derived_relation(
        near, f"__kiln_unit_{uuid.uuid4().hex[:8]}", temporary=True
    ).incorporate(type="table")
    adapter.create_table_as(actual, sql, temporary=True)
    try:
        columns = adapter.get_columns(actual)
        return _compare(adapter, test, actual, columns)
    finally:
        adapter.drop_relation(actual)


def _compare(
    adapter: Adapter, test: UnitTest, actual: Relation, columns: Sequence[Column]
) -> UnitTestOutcome:
    expect = test.expect
    where = f"unit test '{test.name}', expect"
    if (expect.get("format") or "dict") == "sql":
        expected_sql = str(expect.get("rows") or "")
        names = [
            str(n)
            for n in adapter.fetch(f"select * from ({expected_sql}) e where false").column_names
        ]
    else:
        records = (
            _csv_records(str(expect.get("rows") or ""))
            if expect.get("format") == "csv"
            else list(expect.get("rows") or [])
        )
        wanted = {str(k).lower() for r in records for k in r}
        missing = sorted(wanted - {c.name.lower() for c in columns})
        if missing:
            return _failed(
                f"expected columns the model does not return: {', '.join(missing)} "
                f"(it returns {', '.join(c.name for c in columns)})"
            )
        chosen = [c for c in columns if c.name.lower() in wanted] or list(columns)
        expected_sql = rows_sql(adapter, records, chosen, where)
        names = [c.name for c in chosen]
    select = ", ".join(adapter.quote(n) for n in names)
    got = adapter.fetch(f"select {select} from {actual}").rows
    want = adapter.fetch(f"select {select} from ({expected_sql}) as expected").rows
    return _judge(names, got, want)


def _judge(
    names: Sequence[str], got: Sequence[tuple[Any, ...]], want: Sequence[tuple[Any, ...]]
) -> UnitTestOutcome:
    extra = Counter(got) - Counter(want)
    missing = Counter(want) - Counter(got)
    if not extra and not missing:
        return UnitTestOutcome("pass", None, 0)
    return _failed(diff_text(names, extra, missing))


def _failed(message: str) -> UnitTestOutcome:
    return UnitTestOutcome("fail", message, 1)


def diff_text(
    names: Sequence[str], extra: Counter[tuple[Any, ...]], missing: Counter[tuple[Any, ...]]
) -> str:
    """The failure message: rows only in the actual result (+++) or only expected (---).

    Example:
        >>> print(diff_text(["id"], Counter({(2,): 1}), Counter({(3,): 1})))
        actual differs from expected:
        <BLANKLINE>
        @@ ,id
        +++,2
        ---,3
    """
    lines = ["actual differs from expected:", "", "@@ ," + ",".join(names)]
    for marker, rows in (("+++", extra), ("---", missing)):
        shown = sorted(rows.elements(), key=repr)
        for row in shown[:MAX_DIFF_ROWS]:
            lines.append(f"{marker}," + ",".join("NULL" if v is None else str(v) for v in row))
        if len(shown) > MAX_DIFF_ROWS:
            lines.append(f"{marker} ... and {len(shown) - MAX_DIFF_ROWS} more rows")
    return "\n".join(lines)
