"""Seed CSV reading and type inference, checked against what dbt-core 1.11 + dbt-duckdb did.

The inference cases were run through real dbt (`dbt seed` into DuckDB) or agate itself;
the shop seeds are compared with the conformance goldens.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from kiln.errors import ConfigError, ParseError
from kiln.materialize.seed_csv import (
    DUCKDB_TYPE_NAMES,
    POSTGRES_TYPE_NAMES,
    SeedColumn,
    SeedData,
    SeedKind,
    TextNulls,
    dedupe_column_names,
    read_seed,
)

CONFORMANCE = Path(
    os.environ.get(
        "KILN_CONFORMANCE_DIR", Path(__file__).resolve().parents[3] / "shared" / "conformance"
    )
)
SHOP = CONFORMANCE / "projects" / "shop"
SHOP_RESULTS = CONFORMANCE / "expected" / "shop" / "results"
needs_conformance = pytest.mark.skipif(
    not SHOP.is_dir(), reason="conformance folder not found (set KILN_CONFORMANCE_DIR)"
)


def read(tmp_path: Path, text: str | bytes, **kwargs: Any) -> SeedData:
    path = tmp_path / "seed.csv"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return read_seed(path, **kwargs)


def kinds(data: SeedData) -> list[str]:
    return [column.kind.value for column in data.columns]


# --- the shop conformance seeds ----------------------------------------------------------


def shop_column_types(seed: str) -> dict[str, str] | None:
    project = yaml.safe_load((SHOP / "dbt_project.yml").read_text())
    config = project.get("seeds", {}).get("shop", {}).get(seed, {})
    types: dict[str, str] | None = config.get("+column_types")
    return types


def canonical(value: Any) -> str:
    """A value as conformance/dump_relations.py writes it."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = f"{Decimal(f'{value:.12g}'):f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


SHOP_SEEDS = ["customers", "orders", "order_items", "payments", "products"]


@needs_conformance
@pytest.mark.parametrize("seed", SHOP_SEEDS)
def test_shop_seed_types_match_dbt(seed: str) -> None:
    expected = json.loads((SHOP_RESULTS / "_relations.json").read_text())[f"main.{seed}"]
    data = read_seed(SHOP / "seeds" / f"{seed}.csv", column_types=shop_column_types(seed))
    # column_types are used verbatim ("bigint"); DuckDB reports them upper-cased.
    got = [[c.name, c.sql_type.upper() if c.overridden else c.sql_type] for c in data.columns]
    assert got == expected["columns"]


@needs_conformance
@pytest.mark.parametrize("seed", SHOP_SEEDS)
def test_shop_seed_values_match_dbt(seed: str) -> None:
    data = read_seed(SHOP / "seeds" / f"{seed}.csv", column_types=shop_column_types(seed))
    with (SHOP_RESULTS / f"main.{seed}.csv").open(newline="") as golden:
        header, *expected = list(csv.reader(golden))
    assert header == [c.name for c in data.columns]
    assert sorted([canonical(v) for v in row] for row in data.rows) == expected


@needs_conformance
def test_shop_orders_override_columns_keep_their_text() -> None:
    data = read_seed(SHOP / "seeds" / "orders.csv", column_types=shop_column_types("orders"))
    shipping = data.columns[4]
    assert shipping == SeedColumn("shipping_cents", SeedKind.TEXT, "bigint", overridden=True)
    assert data.rows[0] == ("1", "26", "2024-04-03", "shipped", "495", "2024-04-05 02:00:00")


# --- inference ---------------------------------------------------------------------------

INFERENCE = [
    # (case, csv, kinds) -- one row of kinds per file, in column order
    ("integers", "a,b,c\n1,-5,+6\n2,0,007\n", ["integer", "integer", "integer"]),
    ("trailing .0 stays integer", "a\n1.0\n2.00\n", ["integer"]),
    ("one decimal makes number", "a\n1\n1.5\n", ["number"]),
    ("exponents", "a,b\n1e3,1.5e-1\n2E2,1\n", ["integer", "number"]),
    ("agate cleans numbers", 'a,b,c,d\n"1,000",$5,50%,1_000\n2,€3,3%,2\n', ["integer"] * 4),
    ("nan and infinity are numbers", "a,b\nNaN,1.5\n2.5,inf\n", ["number", "number"]),
    ("digits with dashes are text", "a\n1-2\n", ["text"]),
    ("yyyymmdd is a number", "a\n20240105\n", ["integer"]),
    ("dates", "a,b\n2024-01-05,2024-1-5\n2024-12-31,1999-9-9\n", ["date", "date"]),
    ("impossible date is text", "a\n2024-02-30\n", ["text"]),
    ("datetime", "a\n2024-01-01 10:00:00\n2024-1-1 1:2:3\n", ["datetime"]),
    ("fractional seconds with a space are text", "a\n2024-01-01 10:00:00.123\n", ["text"]),
    ("minutes only with a space are text", "a\n2024-01-01 10:00\n", ["text"]),
    ("iso datetimes", "a\n2024-01-01T10:00:00Z\n2024-01-01T10:00:00.5+02:00\n", ["datetime"]),
    ("iso minutes", "a\n2024-01-01T10:00\n", ["datetime"]),
    ("iso basic form", "a\n20240101T100000\n", ["datetime"]),
    ("date and datetime mixed are text", "a\n2024-01-01\n2024-01-01 10:00:00\n", ["text"]),
    (
        "space and T datetimes mixed are text",
        "a\n2024-01-01 10:00:00\n2024-01-01T10:00:00\n",
        ["text"],
    ),
    ("time of day is text", "a\n10:00:00\n", ["text"]),
    ("booleans any case", "a,b\ntrue,TRUE\nfalse,False\n", ["boolean", "boolean"]),
    ("yes/no and t/f are text", "a,b\nyes,t\nno,f\n", ["text", "text"]),
    ("1/0 are integers", "a\n1\n0\n", ["integer"]),
    ("null column is integer", "a,b\n,x\nnull,y\n", ["integer", "text"]),
    ("header only is integer", "a,b\n", ["integer", "integer"]),
    ("nulls do not decide", "a,b,c\n,,\n2024-01-01,true,x\n", ["date", "boolean", "text"]),
    ("NA and none are not nulls", "a,b\n1,2\nNA,none\n", ["text", "text"]),
    ("29 digits are a float", "a\n12345678901234567890123456789\n", ["number"]),
    (
        "28 digits and a fraction are an integer",
        "a\n1234567890123456789012345678\n0.5\n",
        ["integer"],
    ),
]


@pytest.mark.parametrize(
    ("csv_text", "expected"), [c[1:] for c in INFERENCE], ids=[c[0] for c in INFERENCE]
)
def test_inferred_kinds(tmp_path: Path, csv_text: str, expected: list[str]) -> None:
    assert kinds(read(tmp_path, csv_text)) == expected


def test_duckdb_and_postgres_type_names(tmp_path: Path) -> None:
    text = "i,n,b,d,t,s\n1,1.5,true,2024-01-01,2024-01-01 10:00:00,x\n"
    duck = read(tmp_path, text)
    pg = read(tmp_path, text, type_names=POSTGRES_TYPE_NAMES)
    assert [c.sql_type for c in duck.columns] == [
        "INTEGER", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP", "VARCHAR",
    ]  # fmt: skip
    assert [c.sql_type for c in pg.columns] == [
        "integer", "double precision", "boolean", "date", "timestamp without time zone", "text",
    ]  # fmt: skip
    assert set(DUCKDB_TYPE_NAMES) == set(POSTGRES_TYPE_NAMES) == set(SeedKind)


def test_missing_kind_in_type_names_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'date'"):
        read(tmp_path, "d\n2024-01-01\n", type_names={"integer": "int"})


# --- values ------------------------------------------------------------------------------

VALUES = [
    ("integers", "a\n007\n1.0\n-5\n1e3\n", [(7,), (1,), (-5,), (1000,)]),
    ("numbers are floats", "a\n1.5\n0.1\n2\n", [(1.5,), (0.1,), (2.0,)]),
    (
        "agate number clean-up",
        'a\n"1,000.5"\n$5\n-$5\n50%\n',
        [(1000.5,), (5.0,), (-5.0,), (50.0,)],
    ),
    ("booleans", "a\nTrue\n false \n", [(True,), (False,)]),
    ("dates", "a\n2024-1-5\n 2024-12-31 \n", [(date(2024, 1, 5),), (date(2024, 12, 31),)]),
    (
        "datetimes",
        "a\n2024-01-01 10:00:00\n2024-1-2 3:4:5\n",
        [(datetime(2024, 1, 1, 10),), (datetime(2024, 1, 2, 3, 4, 5),)],
    ),
    (
        "iso offsets are dropped, as DuckDB's COPY does",
        "a\n2024-01-01T10:00:00+02:00\n2024-01-02T11:00:00.5Z\n2024-01-03T12:30:00-0530\n",
        [
            (datetime(2024, 1, 1, 10),),
            (datetime(2024, 1, 2, 11, 0, 0, 500000),),
            (datetime(2024, 1, 3, 12, 30),),
        ],
    ),
    (
        "iso fractions are floored to microseconds",
        'a\n2024-01-01T10:00:00.1234567\n"2024-01-01T10:00:00,25"\n',
        [(datetime(2024, 1, 1, 10, 0, 0, 123456),), (datetime(2024, 1, 1, 10, 0, 0, 250000),)],
    ),
    (
        "iso reduced forms",
        "a\n2024-01-01T10.5\n2024-W01-1T10:00\n2024-032T00:00\n2024-00-15T10:00\n",
        [
            (datetime(2024, 1, 1, 10, 30),),
            (datetime(2024, 1, 1, 10),),
            (datetime(2024, 2, 1),),
            (datetime(2024, 1, 15, 10),),  # isodate reads month 00 as January
        ],
    ),
    ("text keeps spaces", "a,b\n  x  ,1\ny,2\n", [("  x  ", 1), ("y", 2)]),
    (
        "nulls in typed columns",
        "a,b,c\n,null, NULL \n1,true,2024-01-01\n",
        [(None, None, None), (1, True, date(2024, 1, 1))],
    ),
]


@pytest.mark.parametrize(
    ("csv_text", "expected"), [c[1:] for c in VALUES], ids=[c[0] for c in VALUES]
)
def test_values(tmp_path: Path, csv_text: str, expected: list[tuple[Any, ...]]) -> None:
    rows = read(tmp_path, csv_text).rows
    assert rows == expected
    assert [[type(v) for v in row] for row in rows] == [[type(v) for v in row] for row in expected]


def test_text_nulls_follow_duckdb_copy_by_default(tmp_path: Path) -> None:
    data = read(tmp_path, 'a,b\nx,1\n"",2\n,3\nnull,4\nNULL,5\n  ,6\n')
    assert [row[0] for row in data.rows] == ["x", None, None, "null", "NULL", "  "]


def test_text_nulls_agate_rule_for_postgres(tmp_path: Path) -> None:
    data = read(
        tmp_path, "a,b\nx,1\n,2\nnull,3\n NULL ,4\n  ,5\nNA,6\n", text_nulls=TextNulls.AGATE
    )
    assert [row[0] for row in data.rows] == ["x", None, None, None, None, "NA"]


def test_nan_in_an_integer_column_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        read(tmp_path, 'a,b\n1,"two\nlines"\nNaN,x\n')
    assert caught.value.location is not None
    assert caught.value.location.line == 4
    assert "'NaN'" in caught.value.message


# --- file shape --------------------------------------------------------------------------


def test_bom_is_removed(tmp_path: Path) -> None:
    data = read(tmp_path, b"\xef\xbb\xbfa,b\n1,x\n")
    assert [c.name for c in data.columns] == ["a", "b"]


def test_crlf_files_and_quoted_newlines(tmp_path: Path) -> None:
    data = read(tmp_path, b'a,b\r\n1,"x\r\ny"\r\n2,z\r\n')
    assert data.rows == [(1, "x\r\ny"), (2, "z")]


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    assert read(tmp_path, "a,b\n\n1,2\n\n3,4\n\n").rows == [(1, 2), (3, 4)]


def test_blank_lines_are_null_rows_in_a_one_column_file(tmp_path: Path) -> None:
    assert read(tmp_path, "a\n1\n\n2\n\n").rows == [(1,), (None,), (2,), (None,)]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter(tmp_path: Path, delimiter: str) -> None:
    data = read(tmp_path, f"a{delimiter}b\n1,5{delimiter}x\n", delimiter=delimiter)
    assert data.rows == [(15, "x")]


def test_bad_delimiter_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="one character"):
        read(tmp_path, "a\n1\n", delimiter="||")


def test_column_names_are_deduplicated_like_agate(tmp_path: Path) -> None:
    data = read(tmp_path, "a,a,,b,a_2\n1,2,3,4,5\n")
    assert [c.name for c in data.columns] == ["a", "a_2", "c", "b", "a_2_2"]


def test_dedupe_column_names_letters_past_z() -> None:
    assert dedupe_column_names([""] * 28)[25:] == ("z", "aa", "bb")


# --- column_types ------------------------------------------------------------------------


def test_column_types_are_verbatim_and_keep_text(tmp_path: Path) -> None:
    data = read(
        tmp_path,
        "id,code,day\n1,007,2024-01-01\n2,null,\n",
        column_types={"code": "varchar(3)", "day": "date"},
    )
    assert data.columns == (
        SeedColumn("id", SeedKind.INTEGER, "INTEGER"),
        SeedColumn("code", SeedKind.TEXT, "varchar(3)", overridden=True),
        SeedColumn("day", SeedKind.TEXT, "date", overridden=True),
    )
    assert data.rows == [(1, "007", "2024-01-01"), (2, "null", None)]


def test_column_types_use_deduplicated_names(tmp_path: Path) -> None:
    data = read(tmp_path, "a,a\n1,2\n", column_types={"a_2": "bigint"})
    assert [c.sql_type for c in data.columns] == ["INTEGER", "bigint"]


def test_column_types_naming_no_column(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        read(tmp_path, "order_id,status\n1,x\n", column_types={"stauts": "varchar"})
    error = caught.value
    assert error.location is not None and error.location.line == 1
    assert "'stauts'" in error.message
    assert error.hint == "did you mean 'status'?"


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("csv_text", "line", "found"),
    [
        ("a,b\n1,2\n3\n", 3, "1 field but the header has 2 columns"),
        ("a,b\n1,2\n3,4,5\n", 3, "3 fields"),
        ('a,b\n1,"x\ny"\n\n3,4,5\n', 5, "3 fields"),
    ],
    ids=["too few", "too many", "after a quoted newline and a blank line"],
)
def test_ragged_row(tmp_path: Path, csv_text: str, line: int, found: str) -> None:
    with pytest.raises(ParseError) as caught:
        read(tmp_path, csv_text)
    error = caught.value
    assert error.location is not None
    assert (error.location.path, error.location.line) == (str(tmp_path / "seed.csv"), line)
    assert found in error.message
    assert error.hint is not None and "exactly 2 fields" in error.hint


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"\xef\xbb\xbf", "is empty"), (b"\na,b\n", "first line")],
    ids=["empty", "only a BOM", "blank header"],
)
def test_no_header(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        read(tmp_path, content)
    assert caught.value.location is not None and caught.value.location.line == 1


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="cannot read") as caught:
        read_seed(tmp_path / "missing.csv")
    assert caught.value.location is not None
    assert caught.value.location.path == str(tmp_path / "missing.csv")


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="UTF-8") as caught:
        read(tmp_path, b"a\nok\ncaf\xe9\n")
    assert caught.value.location is not None and caught.value.location.line == 3


# --- size --------------------------------------------------------------------------------


def test_large_seed(tmp_path: Path) -> None:
    lines = ["id,price,day,flag,name"]
    lines += [f"{i},{i % 100}.25,2024-01-{i % 28 + 1:02d},{i % 2 == 0},n{i}" for i in range(50_000)]
    data = read(tmp_path, "\n".join(lines) + "\n")
    assert kinds(data) == ["integer", "number", "date", "boolean", "text"]
    assert data.rows[49_999] == (49_999, 99.25, date(2024, 1, 20), False, "n49999")
