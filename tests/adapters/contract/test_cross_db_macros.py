"""dbt's cross-database macros give the same values on every adapter.

Each expression is rendered for the warehouse's adapter type, as a model would get it, and
evaluated there. Where engines differ on purpose the expectation says which one and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kiln.config.profiles import Target
from kiln.config.project import load_project
from kiln.errors import DatabaseError
from kiln.jinja.context import ContextFactory, VarResolver
from kiln.jinja.environment import render_string
from kiln.jinja.macros import MacroRegistry
from kiln.parse.parser import builtin_macro_files

from .conftest import Warehouse, write


def render(wh: Warehouse, tmp_path: Path, sql: str) -> str:
    """`sql` rendered as a model of the warehouse's adapter type gets it."""
    root = tmp_path / "render"
    write(root, {"dbt_project.yml": 'name: xdb\nversion: "1"\nconfig-version: 2\n'})
    project = load_project(root)
    registry = MacroRegistry(root_package=project.name)
    for package, path, text in builtin_macro_files():
        registry.add_file(package, path, text)
    target = Target("xdb", "dev", wh.target["type"], wh.schema, wh.database, 1, {})
    factory = ContextFactory(
        project=project,
        target=target,
        registry=registry,
        vars=VarResolver({}, {}, frozenset({project.name})),
        invocation_id="test",
        run_started_at=dt.datetime.now(dt.UTC),
        flags={},
    )
    return render_string(sql, factory.context({}, project.name, None, execute=False))


def query(wh: Warehouse, tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    return list(wh.adapter.fetch(render(wh, tmp_path, sql)).rows)


def call(name: str, *args: Any) -> str:
    """`{{ dbt.<name>(<args>) }}` with Python values as Jinja literals.

    Example:
        >>> print(call("right", "'abc'", 2))
        {{ dbt.right("'abc'", 2) }}
    """
    return "{{ dbt." + name + "(" + ", ".join(repr(arg) for arg in args) + ") }}"


def d(day: str) -> str:
    return f"cast('{day}' as date)"


def ts(moment: str) -> str:
    return f"cast('{moment}' as timestamp)"


def text(value: str) -> str:
    return f"'{value}'"


def same(value: Any, expected: Any) -> bool:
    """Equal, reading a midnight timestamp as its date and a zoned time as UTC.

    DuckDB and PostgreSQL add intervals to a date as a timestamp, and PostgreSQL truncates
    a date to a timestamp with time zone; the day is what the macros promise.
    """
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    if type(expected) is dt.date and isinstance(value, dt.datetime):
        return value.time() == dt.time() and value.date() == expected
    if isinstance(value, bool) != isinstance(expected, bool):
        return False  # True == 1 in Python, not in SQL
    return bool(value == expected)


# name -> (expression, expected value) on every adapter, unless a dict gives it per adapter
CASES: dict[str, tuple[str, Any]] = {
    "dateadd_day": (call("dateadd", "day", 3, d("2024-01-30")), dt.date(2024, 2, 2)),
    "dateadd_month_clamps": (call("dateadd", "month", 1, d("2024-01-31")), dt.date(2024, 2, 29)),
    "dateadd_quarter": (call("dateadd", "quarter", 1, d("2024-01-15")), dt.date(2024, 4, 15)),
    "dateadd_week_back": (call("dateadd", "week", -1, d("2024-01-10")), dt.date(2024, 1, 3)),
    "dateadd_year_from_leap_day": (
        call("dateadd", "year", 1, d("2024-02-29")),
        dt.date(2025, 2, 28),
    ),
    "dateadd_hour": (
        call("dateadd", "hour", 5, ts("2024-01-01 22:00:00")),
        dt.datetime(2024, 1, 2, 3),
    ),
    "dateadd_millisecond": (
        call("dateadd", "millisecond", 5, ts("2024-01-01 00:00:00")),
        dt.datetime(2024, 1, 1, 0, 0, 0, 5000),
    ),
    "datediff_day": (call("datediff", d("2024-01-30"), d("2024-02-02"), "day"), 3),
    "datediff_day_back": (call("datediff", d("2024-02-02"), d("2024-01-30"), "day"), -3),
    "datediff_month_boundary": (call("datediff", d("2024-01-31"), d("2024-02-01"), "month"), 1),
    "datediff_month_same_month": (call("datediff", d("2024-02-01"), d("2024-02-29"), "month"), 0),
    "datediff_months_back": (call("datediff", d("2024-03-31"), d("2023-12-01"), "month"), -3),
    "datediff_year_boundary": (call("datediff", d("2023-12-31"), d("2024-01-01"), "year"), 1),
    "datediff_quarter": (call("datediff", d("2024-03-31"), d("2024-04-01"), "quarter"), 1),
    "datediff_week_sat_to_sun": (call("datediff", d("2024-01-06"), d("2024-01-07"), "week"), 1),
    "datediff_week_sun_to_sat": (call("datediff", d("2024-01-07"), d("2024-01-13"), "week"), 0),
    "datediff_week_back_sundays": (call("datediff", d("2024-01-14"), d("2024-01-07"), "week"), -1),
    "datediff_weeks_back": (call("datediff", d("2024-01-21"), d("2024-01-01"), "week"), -3),
    "datediff_hour": (
        call("datediff", ts("2024-01-01 23:59:00"), ts("2024-01-02 00:01:00"), "hour"),
        1,
    ),
    "datediff_minute": (
        call("datediff", ts("2024-01-01 23:59:59"), ts("2024-01-02 00:00:01"), "minute"),
        1,
    ),
    "datediff_second": (
        call("datediff", ts("2024-01-01 00:00:00.900"), ts("2024-01-01 00:00:01.100"), "second"),
        1,
    ),
    "datediff_date_to_timestamp": (
        call("datediff", d("2024-01-01"), ts("2024-01-01 10:00:00"), "hour"),
        10,
    ),
    "date_trunc_month": (call("date_trunc", "month", d("2024-02-17")), dt.date(2024, 2, 1)),
    "date_trunc_week_is_monday": (
        call("date_trunc", "week", ts("2024-02-17 10:00:00")),
        dt.date(2024, 2, 12),
    ),
    "last_day_month": (call("last_day", d("2024-02-10"), "month"), dt.date(2024, 2, 29)),
    "last_day_quarter": (call("last_day", d("2024-02-10"), "quarter"), dt.date(2024, 3, 31)),
    "last_day_year": (call("last_day", d("2024-02-10"), "year"), dt.date(2024, 12, 31)),
    "date": (call("date", 2024, 2, 29), dt.date(2024, 2, 29)),
    "concat": (call("concat", [text("a"), text("b"), text("c")]), "abc"),
    "concat_with_null": (call("concat", [text("a"), "null"]), None),
    "hash": (call("hash", text("kiln")), hashlib.md5(b"kiln").hexdigest()),
    "hash_of_a_number": (call("hash", "42"), hashlib.md5(b"42").hexdigest()),
    "length": (call("length", text("hello")), 5),
    "position": (call("position", text("l"), text("hello")), 3),
    "position_missing": (call("position", text("z"), text("hello")), 0),
    "replace": (call("replace", text("hello"), text("l"), text("L")), "heLLo"),
    "right": (call("right", text("hello"), 3), "llo"),
    "split_part": (call("split_part", text("a,b,c"), text(","), 2), "b"),
    "split_part_negative": (call("split_part", text("a,b,c"), text(","), -1), "c"),
    "split_part_empty_piece": (call("split_part", text("a,,c"), text(","), 2), ""),
    "escape_single_quotes": ("'" + call("escape_single_quotes", "it's") + "'", "it's"),
    "string_literal": (call("string_literal", "x y"), "x y"),
    "cast_bool_to_text": (call("cast_bool_to_text", "1 = 1"), "true"),
    "equals": (call("equals", "1", "1"), True),
    "equals_other": (call("equals", "1", "2"), False),
    "equals_null": (call("equals", "null", "1"), None),
    "type_int": ("cast('42' as {{ dbt.type_int() }})", 42),
    "type_bigint": ("cast('9000000000' as {{ dbt.type_bigint() }})", 9000000000),
    "type_float": ("cast('1.5' as {{ dbt.type_float() }})", 1.5),
    "type_numeric": ("cast('3.14159265' as {{ dbt.type_numeric() }})", Decimal("3.141593")),
    "type_boolean": ("cast('true' as {{ dbt.type_boolean() }})", True),
    "type_string": ("cast(42 as {{ dbt.type_string() }})", "42"),
    "type_timestamp": (
        "cast('2024-01-02 03:04:05' as {{ dbt.type_timestamp() }})",
        dt.datetime(2024, 1, 2, 3, 4, 5),
    ),
    "cast": ("{{ dbt.cast(\"'7'\", dbt.type_int()) }}", 7),
    "safe_cast": ("{{ dbt.safe_cast(\"'12'\", dbt.type_int()) }}", 12),
    "array_construct": (call("array_construct", ["1", "2"]), [1, 2]),
    "array_construct_empty": ("{{ dbt.array_construct() }}", []),
    "array_append": ("{{ dbt.array_append(dbt.array_construct(['1', '2']), '3') }}", [1, 2, 3]),
    "array_concat": (
        "{{ dbt.array_concat(dbt.array_construct(['1', '2']), dbt.array_construct(['3'])) }}",
        [1, 2, 3],
    ),
}

# DuckDB indexes the list of pieces, as dbt-duckdb does: NULL past the end.
PAST_THE_END = {"duckdb": None, "postgres": "", "spark": ""}


def test_cross_database_macros_give_the_same_values(warehouse, tmp_path):
    cases = dict(CASES)
    past_the_end = PAST_THE_END[warehouse.target["type"]]
    cases["split_part_past_the_end"] = (
        call("split_part", text("a,b,c"), text(","), 5),
        past_the_end,
    )
    columns = ",\n".join(f"{expression} as {name}" for name, (expression, _) in cases.items())
    try:
        [row] = query(warehouse, tmp_path, f"select {columns}")
    except DatabaseError:
        pytest.fail(_failing_expressions(warehouse, tmp_path, cases))
    got = dict(zip(cases, row, strict=True))
    wrong = {
        name: (got[name], expected)
        for name, (_, expected) in cases.items()
        if not same(got[name], expected)
    }
    assert wrong == {}, "(got, expected) by case"


def _failing_expressions(wh: Warehouse, tmp_path: Path, cases: dict[str, tuple[str, Any]]) -> str:
    """Which expressions the warehouse rejects, with its first error line."""
    failures = []
    for name, (expression, _) in cases.items():
        try:
            query(wh, tmp_path, f"select {expression} as {name}")
        except DatabaseError as exc:
            failures.append(f"{name}: {str(exc).splitlines()[0]}")
    return "expressions the warehouse rejects:\n" + "\n".join(failures)


def test_safe_cast_of_bad_input_is_null_where_the_engine_can_try(warehouse, tmp_path):
    sql = "select {{ dbt.safe_cast(\"'abc'\", dbt.type_int()) }}"
    if warehouse.target["type"] == "postgres":
        # no try-cast before PostgreSQL 16 (pg_input_is_valid): a plain cast, as dbt-postgres
        with pytest.raises(DatabaseError):
            query(warehouse, tmp_path, sql)
    else:
        assert query(warehouse, tmp_path, sql) == [(None,)]


GROUP = (
    "select 'g' as g, 'b' as s, true as f union all select 'g', 'a', false "
    "union all select 'g', 'c', false union all select 'g', null, false"
)


def test_aggregates_over_a_group(warehouse, tmp_path):
    sql = f"""
        select
            {{{{ dbt.any_value('g') }}}} as any_g,
            {{{{ dbt.bool_or('f') }}}} as some_f,
            {{{{ dbt.bool_or("s = 'z'") }}}} as some_z
        from ({GROUP}) t
        group by g
    """
    assert query(warehouse, tmp_path, sql) == [("g", True, False)]


def test_listagg_with_delimiter_order_and_limit(warehouse, tmp_path):
    sql = f"""
        select
            {{{{ dbt.listagg('s', order_by_clause='order by s') }}}} as plain,
            {{{{ dbt.listagg('s', "' | '", 'order by s desc') }}}} as descending,
            {{{{ dbt.listagg('s', "'-'", 'order by s desc', 2) }}}} as first_two,
            {{{{ dbt.listagg('s', "','", 'order by s', 5) }}}} as limit_past_the_end
        from ({GROUP}) t
    """
    assert query(warehouse, tmp_path, sql) == [("a,b,c", "c | b | a", "c-b", "a,b,c")]


@pytest.mark.parametrize(
    ("operator", "rows"),
    [("except", [(1,)]), ("intersect", [(2,), (3,)])],
)
def test_set_operators_return_distinct_rows(warehouse, tmp_path, operator, rows):
    left = "select 1 as x union all select 2 union all select 2 union all select 3"
    right = "select 2 as x union all select 3 union all select 4"
    sql = f"select x from ({left}) l {{{{ dbt.{operator}() }}}} select x from ({right}) r"
    assert sorted(query(warehouse, tmp_path, sql)) == rows


def test_current_timestamps_are_now(warehouse, tmp_path):
    sql = (
        "select {{ dbt.current_timestamp() }}, {{ dbt.current_timestamp_backcompat() }}, "
        "{{ dbt.current_timestamp_in_utc_backcompat() }}, {{ dbt.snapshot_get_time() }}"
    )
    [(now, backcompat, utc, snapshot)] = query(warehouse, tmp_path, sql)
    utc_now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert all(isinstance(value, dt.datetime) for value in (now, backcompat, utc, snapshot))
    assert backcompat.tzinfo is None and utc.tzinfo is None and snapshot.tzinfo is None
    assert abs(_as_utc(now) - utc_now) < dt.timedelta(minutes=5)
    # the session's wall clock: within a day of UTC whatever the session's time zone
    assert abs(backcompat - utc_now) < dt.timedelta(hours=15)
    assert snapshot == backcompat
    if warehouse.target["type"] == "duckdb":
        assert utc == backcompat  # as dbt-duckdb: the session's wall clock
    else:
        assert abs(utc - utc_now) < dt.timedelta(minutes=5)


def _as_utc(value: dt.datetime) -> dt.datetime:
    """A zoned time as naive UTC; a naive one (Spark's session time, UTC here) as it is."""
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


PROJECT_YML = 'name: contract\nversion: "1"\nconfig-version: 2\nprofile: contract\n'


def test_a_model_built_with_cross_database_macros(warehouse, tmp_path, run_kiln):
    root = tmp_path / "project"
    model = """\
        {{ config(materialized='table') }}
        with orders as (
            select 1 as id, cast('2024-01-30' as date) as ordered_on, 'a,b' as tags
            union all select 2, cast('2024-02-27' as date), 'c'
        )
        select
            id,
            cast({{ dbt.dateadd('day', 3, 'ordered_on') }} as date) as due_on,
            {{ datediff('ordered_on', "cast('2024-03-01' as date)", 'day') }} as days_left,
            {{ last_day('ordered_on', 'month') }} as month_end,
            {{ dbt.split_part('tags', "','", 1) }} as first_tag,
            cast(id as {{ dbt.type_string() }}) as id_text,
            {{ dbt.hash('id') }} as id_hash,
            {{ dbt.concat(["'#'", dbt.cast('id', type_string())]) }} as label
        from orders
    """
    write(
        root,
        {
            "dbt_project.yml": PROJECT_YML,
            "models/orders_due.sql": model,
            "profiles.yml": warehouse.profiles_yml("contract"),
        },
    )
    warehouse.adapter.close()  # the CLI opens its own connections

    result = run_kiln(["run", "--profiles-dir", str(root)], cwd=root)

    assert result.exit_code == 0, result.output
    md5 = [hashlib.md5(b"1").hexdigest(), hashlib.md5(b"2").hexdigest()]
    assert warehouse.rows("orders_due") == [
        (1, dt.date(2024, 2, 2), 31, dt.date(2024, 1, 31), "a", "1", md5[0], "#1"),
        (2, dt.date(2024, 3, 1), 3, dt.date(2024, 2, 29), "c", "2", md5[1], "#2"),
    ]
