"""Reading a seed CSV and inferring its column types as dbt-core 1.11 does.

dbt loads a seed through agate (``dbt_common.clients.agate_helper.from_csv``) with its own
type tester, then maps each agate type to SQL with the adapter's ``convert_*_type`` methods.
This module reproduces that inference without agate, so the tables Kiln builds have the
same column types as dbt's, and returns the rows as Python values ready to insert.

Inference rules (dbt's tester, tried in this order; the first kind every cell of a column
passes wins, and null cells pass every kind):

1. number: agate's ``Number`` (en_US): surrounding spaces and ``%`` stripped, a leading
   ``-``, currency symbols at either end and ``,`` group separators removed, then anything
   :class:`decimal.Decimal` accepts (``007``, ``1e3``, ``1_000``, ``NaN``, ``inf``). The
   column is ``integer`` unless some value has decimal places after normalisation, so
   ``1.0`` stays an integer and ``1.5`` makes the whole column ``number``.
2. date: ``%Y-%m-%d`` through ``strptime`` (``2024-1-5`` is a date, ``2024-02-30`` is not).
3. datetime: ``%Y-%m-%d %H:%M:%S`` through ``strptime`` (no fractional seconds, no zone).
4. datetime: ISO 8601 with a ``T`` separator as the ``isodate`` package parses it (basic and
   extended forms, week and ordinal dates, fractions, ``Z`` / ``+hh:mm`` offsets).
5. boolean: ``true`` / ``false`` in any case (``,`` removed first); never ``yes``/``1``/``t``.
6. text: everything else.

A null cell is an empty or blank one or the word ``null`` in any case; other agate null
words (``NA``, ``none``, ``.``) are not null for dbt. A column without data rows is
``integer`` (dbt's ``Integer`` type wins when nothing rules it out); a column whose cells
are all null is ``integer`` too. dbt never infers a time or interval column.

Values follow dbt-duckdb, which inserts with DuckDB's ``COPY``: offsets in ISO datetimes
are dropped (the wall-clock time is kept), a text cell is NULL only when empty (``null``
stays a string) unless ``text_nulls=TextNulls.AGATE`` asks for agate's rule, as dbt-postgres
loads. Blank lines are skipped, except in a one-column file where they are NULL rows.
Where dbt-duckdb's ``COPY`` would reject a value agate accepted (``1,000``, ``$5``, ``50%``,
``null`` in a typed column), Kiln loads agate's value, as dbt-postgres does.

Stricter than dbt on purpose: a row with fewer fields than the header is an error (agate
pads it, DuckDB's ``COPY`` fails), and so is a ``column_types`` key naming no column (dbt
ignores it silently).
"""

from __future__ import annotations

import csv
import enum
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from kiln.errors import ConfigError, Location, ParseError, did_you_mean

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

__all__ = [
    "DUCKDB_TYPE_NAMES",
    "POSTGRES_TYPE_NAMES",
    "SeedColumn",
    "SeedData",
    "SeedKind",
    "TextNulls",
    "dedupe_column_names",
    "read_seed",
]


class SeedKind(enum.StrEnum):
    """The kinds of column dbt's agate type tester can infer for a seed."""

    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TEXT = "text"


class TextNulls(enum.StrEnum):
    """Which text cells load as NULL.

    ``EMPTY``: only an empty cell, as DuckDB's ``COPY`` in dbt-duckdb.
    ``AGATE``: also blank cells and ``null`` in any case, as agate (dbt-postgres).
    """

    EMPTY = "empty"
    AGATE = "agate"


# What dbt-duckdb creates: it inherits SQLAdapter's convert_*_type names ("integer", "float8",
# "text", "timestamp without time zone", ...), shown here as DuckDB's information_schema does.
DUCKDB_TYPE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        SeedKind.INTEGER: "INTEGER",
        SeedKind.NUMBER: "DOUBLE",
        SeedKind.BOOLEAN: "BOOLEAN",
        SeedKind.DATE: "DATE",
        SeedKind.DATETIME: "TIMESTAMP",
        SeedKind.TEXT: "VARCHAR",
    }
)

# dbt-postgres does not override SQLAdapter's names; float8 is reported as double precision.
POSTGRES_TYPE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        SeedKind.INTEGER: "integer",
        SeedKind.NUMBER: "double precision",
        SeedKind.BOOLEAN: "boolean",
        SeedKind.DATE: "date",
        SeedKind.DATETIME: "timestamp without time zone",
        SeedKind.TEXT: "text",
    }
)


@dataclass(frozen=True, slots=True)
class SeedColumn:
    """One column of a seed.

    Attributes:
        name: the column name after dbt's de-duplication.
        kind: the inferred kind; ``text`` for a column named in ``column_types``.
        sql_type: the SQL type to create the column with.
        overridden: True when ``sql_type`` comes from ``column_types``; the column's values
            are then the raw cell strings (or None) for the database to cast.
    """

    name: str
    kind: SeedKind
    sql_type: str
    overridden: bool = False


@dataclass(frozen=True, slots=True)
class SeedData:
    """A parsed seed: its columns and its rows of Python values, in file order."""

    columns: tuple[SeedColumn, ...]
    rows: list[tuple[Any, ...]]


class _NotThisKind(Exception):
    """Raised by a cell parser for a cell of another kind; at most once per column and kind."""


# agate parses Decimals under the default context; a private copy keeps that fixed.
_CTX: Final = Context()
_MAX_PRECISION: Final = _CTX.prec
_POSITIVE: Final = Decimal(1)
_NEGATIVE: Final = Decimal(-1)
_MICROSECOND: Final = Decimal(".000001")
_MILLION: Final = Decimal(1_000_000)

# agate's DEFAULT_CURRENCY_SYMBOLS, in its order: they are stripped one after the other.
_CURRENCY_SYMBOLS: Final = "؋$ƒ៛¥₡₱£€¢﷼₪₩₭₮₦฿₤₫"
_DATE_FORMAT: Final = "%Y-%m-%d"
_DATETIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


def read_seed(
    path: Path,
    *,
    column_types: Mapping[str, str] | None = None,
    delimiter: str = ",",
    type_names: Mapping[str, str] = DUCKDB_TYPE_NAMES,
    text_nulls: TextNulls = TextNulls.EMPTY,
) -> SeedData:
    """Read a seed CSV, inferring column types exactly as dbt-core 1.11 does.

    Args:
        path: the CSV file.
        column_types: the seed's ``column_types`` config: column name -> SQL type, used
            verbatim; those columns are not inferred and keep their cells as strings.
        delimiter: the seed's ``delimiter`` config, one character.
        type_names: SQL type per :class:`SeedKind` for the target adapter.
        text_nulls: which text cells become None (see :class:`TextNulls`).

    Returns:
        The columns with their kinds and SQL types, and the converted rows.

    Raises:
        ParseError: the file cannot be read or decoded, is empty, has a row with more or
            fewer fields than the header, a value that fits no SQL type of its inferred
            column, or ``column_types`` names a column the file does not have.
        ConfigError: the delimiter is not one character, or ``type_names`` lacks a kind.
    """
    overrides = dict(column_types or {})
    source = _Source(str(path), _read_text(path), delimiter)
    header, records = _read_records(source)
    names = dedupe_column_names(header)
    _check_overrides(names, overrides, source.where)
    cells_by_column: list[Sequence[str]] = (
        list(zip(*records, strict=True)) if records else [() for _ in names]
    )
    columns: list[SeedColumn] = []
    values_by_column: list[list[Any]] = []
    for name, cells in zip(names, cells_by_column, strict=True):
        if name in overrides:
            column = SeedColumn(name, SeedKind.TEXT, overrides[name], overridden=True)
            values = _text_values(cells, text_nulls)
        else:
            kind, values = _infer_column(cells, text_nulls, source)
            column = SeedColumn(name, kind, _sql_type(type_names, kind))
        columns.append(column)
        values_by_column.append(values)
    return SeedData(columns=tuple(columns), rows=list(zip(*values_by_column, strict=True)))


@dataclass(frozen=True, slots=True)
class _Source:
    """The seed's decoded text, kept to find line numbers when reporting an error."""

    where: str
    text: str
    delimiter: str


def dedupe_column_names(header: Sequence[str]) -> tuple[str, ...]:
    """Name the columns as agate does: blank names get a letter, repeats a ``_N`` suffix.

    Args:
        header: the header row as read.

    Returns:
        One unique name per header field.

    Example:
        >>> dedupe_column_names(["id", "id", "", "id_2"])
        ('id', 'id_2', 'c', 'id_2_2')
    """
    names: list[str] = []
    for index, raw in enumerate(header):
        base = raw or _letter_name(index)
        name, copies = base, 1
        while name in names:
            copies += 1
            name = f"{base}_{copies}"
        names.append(name)
    return tuple(names)


def _letter_name(index: int) -> str:
    """agate's name for an unnamed column: a, b, ..., z, aa, bb, ..."""
    letter = chr(ord("a") + index % 26)
    return letter * (index // 26 + 1)


def _sql_type(type_names: Mapping[str, str], kind: SeedKind) -> str:
    """The adapter's SQL type for a kind."""
    try:
        return type_names[kind]
    except KeyError:
        raise ConfigError(
            f"type_names has no SQL type for seed column kind {kind.value!r}",
            hint="give a type for each of: " + ", ".join(k.value for k in SeedKind),
        ) from None


def _read_text(path: Path) -> str:
    """The file's text: UTF-8 with one leading byte-order mark removed, as dbt reads it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(
            f"cannot read the seed file: {exc.strerror or exc}",
            hint="check that the file exists and is readable",
            location=Location(str(path)),
        ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(
            f"the seed file is not valid UTF-8 (byte {exc.start})",
            hint="save the file as UTF-8",
            location=Location(str(path), line),
        ) from exc
    return text.removeprefix("\ufeff")


def _read_records(source: _Source) -> tuple[list[str], list[list[str]]]:
    """Split the text into the header and the data records, one field per column each."""
    reader = _csv_reader(source)
    try:
        header = next(reader, None)
        if not header:
            raise _no_header(source)
        records = _keep_records(list(reader), len(header))
    except csv.Error as exc:
        raise ParseError(
            f"malformed CSV: {exc}",
            hint="check the quoting of the values on this line",
            location=Location(source.where, reader.line_num or 1),
        ) from exc
    width = len(header)
    if any(len(record) != width for record in records):
        index = next(i for i, record in enumerate(records) if len(record) != width)
        raise _ragged_row(source, index, len(records[index]), width)
    return header, records


def _no_header(source: _Source) -> ParseError:
    """The error for an empty file or a blank first line."""
    if not source.text.strip():
        return ParseError(
            "the seed file is empty",
            hint="write the column names on the first line, then one line per row",
            location=Location(source.where, 1),
        )
    return ParseError(
        "the first line of the seed file is blank, but it must hold the column names",
        hint="remove the blank line or write the column names on it",
        location=Location(source.where, 1),
    )


def _csv_reader(source: _Source) -> CsvReader:
    """A reader with the seed's delimiter and Python's default quoting, as agate uses."""
    if len(source.delimiter) != 1:
        raise ConfigError(
            f"the seed delimiter must be one character, got {source.delimiter!r}",
            hint="set `delimiter` to a single character such as ',', ';' or '\\t'",
            location=Location(source.where),
        )
    # newline="" keeps CR LF inside quoted fields, as DuckDB's COPY loads them.
    return csv.reader(io.StringIO(source.text, newline=""), delimiter=source.delimiter)


def _keep_records(records: list[list[str]], width: int) -> list[list[str]]:
    """Drop blank lines as DuckDB's COPY does, which reads them as NULL in a 1-column file."""
    if width == 1:
        return [record or [""] for record in records]
    return [record for record in records if record]


def _record_line(source: _Source, index: int) -> int:
    """The line where kept data record ``index`` starts, found by reading the file again.

    Only errors need line numbers, so the normal path does not track them.
    """
    reader = _csv_reader(source)
    width = len(next(reader))
    kept = -1
    previous_end = reader.line_num
    for record in reader:
        line = previous_end + 1
        previous_end = reader.line_num
        if record or width == 1:
            kept += 1
            if kept == index:
                return line
    return previous_end


def _ragged_row(source: _Source, index: int, found: int, width: int) -> ParseError:
    """The error for a record whose field count differs from the header's."""
    return ParseError(
        f"this row has {found} field{'s' if found != 1 else ''} "
        f"but the header has {width} column{'s' if width != 1 else ''}",
        hint=f"give every row exactly {width} fields (empty fields for missing values) "
        "and quote values that contain the delimiter",
        location=Location(source.where, _record_line(source, index)),
    )


def _check_overrides(names: Sequence[str], overrides: Mapping[str, str], where: str) -> None:
    """Reject ``column_types`` keys naming no column (dbt would silently ignore them)."""
    for key in overrides:
        if key not in names:
            raise ParseError(
                f"column_types names column {key!r}, which the seed file does not have",
                hint=did_you_mean(key, names),
                location=Location(where, 1),
            )


def _infer_column(
    cells: Sequence[str], text_nulls: TextNulls, source: _Source
) -> tuple[SeedKind, list[Any]]:
    """The first kind (in dbt's order) every cell parses as, with the parsed values."""
    if not cells:
        return SeedKind.INTEGER, []
    numbers = _parse_all(_cast_number, cells)
    if numbers is not None:
        return _numeric_column(numbers, cells, source)
    for kind, cast in _TEMPORAL_AND_BOOLEAN:
        values = _parse_all(cast, cells)
        if values is not None:
            return kind, values
    return SeedKind.TEXT, _text_values(cells, text_nulls)


def _parse_all(cast: Callable[[str], Any], cells: Sequence[str]) -> list[Any] | None:
    """Every cell parsed by ``cast``, or None when it rejects one."""
    try:
        return list(map(cast, cells))
    except _NotThisKind:
        return None


def _text_values(cells: Sequence[str], text_nulls: TextNulls) -> list[str | None]:
    """Text cells as loaded, with the nulls the target loader would produce."""
    if text_nulls is TextNulls.EMPTY:
        return [cell if cell else None for cell in cells]
    return [None if _is_null_word(cell.strip()) else cell for cell in cells]


def _is_null_word(stripped: str) -> bool:
    """dbt's null values ("" and "null", any case), on an already stripped cell."""
    return not stripped or (len(stripped) == 4 and stripped.lower() == "null")


# ---------------------------------------------------------------------------------------
# numbers


def _cast_number(cell: str) -> Decimal | None:
    """agate's Number.cast (en_US, dbt's null values) on one cell."""
    # Plain [-]digits[.digits] need none of agate's clean-up and give the same Decimal;
    # the length bound keeps them under 28 digits, past which agate's multiplication rounds.
    body = cell[1:] if cell[:1] == "-" else cell
    if (
        len(cell) <= _MAX_PRECISION
        and body.isascii()
        and (body.isdigit() or body.replace(".", "", 1).isdigit())
    ):
        return Decimal(cell)
    text = cell.strip()
    if _is_null_word(text):
        return None
    text = text.strip("%")
    negative = text[:1] == "-"
    if negative:
        text = text[1:]
    # The symbols are stripped one after another; that only matters when an end is one.
    if text and (text[0] in _CURRENCY_SYMBOLS or text[-1] in _CURRENCY_SYMBOLS):
        for symbol in _CURRENCY_SYMBOLS:
            text = text.strip(symbol)
    try:
        return _CTX.multiply(Decimal(text.replace(",", "")), _NEGATIVE if negative else _POSITIVE)
    except (ArithmeticError, ValueError):
        raise _NotThisKind from None


def _numeric_column(
    values: list[Decimal | None], cells: Sequence[str], source: _Source
) -> tuple[SeedKind, list[Any]]:
    """Split agate's Number into dbt's integer (no decimal places) and number (float8)."""
    if _has_decimal_places(values, cells):
        return SeedKind.NUMBER, [None if v is None else float(v) for v in values]
    # A value with decimals here was hidden by agate's precision clamp: round it.
    if any("." in cell for cell in cells):
        values = [_round_half_up(v) for v in values]
    try:
        return SeedKind.INTEGER, [None if v is None else int(v) for v in values]
    except (ValueError, OverflowError):
        index = next(i for i, v in enumerate(values) if v is not None and not v.is_finite())
        raise ParseError(
            f"{cells[index].strip()!r} is not an integer, but dbt types this column "
            "integer because none of its numbers has decimal places",
            hint="write one of the column's numbers with decimals (1.5) "
            "or set the column's type in column_types",
            location=Location(source.where, _record_line(source, index)),
        ) from None


def _round_half_up(value: Decimal | None) -> Decimal | None:
    """The value rounded to an integer as DuckDB casts; None, NaN and infinities unchanged."""
    if value is None or not value.is_finite():
        return value
    return value.to_integral_value(ROUND_HALF_UP)


def _has_decimal_places(values: Sequence[Decimal | None], cells: Sequence[str]) -> bool:
    """Whether agate's MaxPrecision of the column is non-zero, which makes dbt pick float8."""
    joined = "\n".join(cells)
    if "e" in joined or "E" in joined or max(map(len, cells)) >= _MAX_PRECISION:
        return _max_precision(values) != 0
    # Without exponents a value has at most len(cell) whole digits, so agate's clamp
    # cannot apply and the places are non-zero exactly when some value has decimals.
    if "." not in joined:
        return False
    return any(
        value is not None and value.is_finite() and value != value.to_integral_value()
        for value, cell in zip(values, cells, strict=True)
        if "." in cell
    )


def _max_precision(values: Sequence[Decimal | None]) -> int:
    """agate's MaxPrecision: the most decimal places of a normalised value.

    Values that are NaN or infinite *as floats* are skipped (so 1e400 too), and the result
    is clamped to the context precision, which can make it 0 or negative; dbt tests it for
    truth, so a negative count means float8.
    """
    max_whole, max_places = 1, 0
    for value in values:
        if value is None or math.isnan(value) or math.isinf(value):
            continue
        _, digits, exponent = value.normalize(_CTX).as_tuple()
        places = -exponent if isinstance(exponent, int) else 0
        max_whole = max(max_whole, len(digits) - places)
        max_places = max(max_places, places)
    if max_whole + max_places > _MAX_PRECISION:
        max_places = _MAX_PRECISION - max_whole
    return max_places


# ---------------------------------------------------------------------------------------
# dates, datetimes, booleans


def _has_datetime_shape(text: str, separator: str) -> bool:
    """Whether ``text`` has the layout of ``YYYY-MM-DD?HH:MM:SS`` (digits not checked)."""
    return (
        len(text) == 19
        and text[4] == "-"
        and text[7] == "-"
        and text[10] == separator
        and text[13] == ":"
        and text[16] == ":"
        and text[11:13] < "24"  # newer Pythons' fromisoformat may read 24:00 as midnight
    )


# The fast paths below hand the canonical shapes to fromisoformat (C, ASCII digits only).
# Any string it rejects goes on to the exact parser, which decides; any it accepts in
# those shapes, strptime and isodate accept with the same value.


def _cast_date(cell: str) -> date | None:
    """agate's Date with dbt's ``%Y-%m-%d`` format on one cell."""
    text = cell.strip()
    if _is_null_word(text):
        return None
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    try:
        return datetime.strptime(text, _DATE_FORMAT).date()
    except ValueError:
        raise _NotThisKind from None


def _cast_datetime(cell: str) -> datetime | None:
    """agate's DateTime with dbt's ``%Y-%m-%d %H:%M:%S`` format on one cell."""
    text = cell.strip()
    if _is_null_word(text):
        return None
    if _has_datetime_shape(text, " "):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    try:
        return datetime.strptime(text, _DATETIME_FORMAT)
    except ValueError:
        raise _NotThisKind from None


def _cast_iso_datetime(cell: str) -> datetime | None:
    """dbt's ISODateTime (``isodate.parse_datetime``) on one cell, offset dropped."""
    text = cell.strip()
    if _is_null_word(text):
        return None
    if text[19:] in ("", "Z") and _has_datetime_shape(text[:19], "T"):
        try:
            return datetime.fromisoformat(text[:19])
        except ValueError:
            pass
    try:
        return _parse_iso_datetime(text)
    except (ValueError, ArithmeticError):
        raise _NotThisKind from None


def _cast_boolean(cell: str) -> bool | None:
    """agate's Boolean with dbt's values: only ``true`` and ``false``, commas ignored."""
    text = cell.replace(",", "").strip()
    if _is_null_word(text):
        return None
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise _NotThisKind


_TEMPORAL_AND_BOOLEAN: Final[tuple[tuple[SeedKind, Callable[[str], Any]], ...]] = (
    (SeedKind.DATE, _cast_date),
    (SeedKind.DATETIME, _cast_datetime),
    (SeedKind.DATETIME, _cast_iso_datetime),
    (SeedKind.BOOLEAN, _cast_boolean),
)


# ---------------------------------------------------------------------------------------
# ISO 8601, as the isodate package (0.7) parses it: only reached for cells that are not
# in the canonical YYYY-MM-DDTHH:MM:SS[Z] shape, so the regular expressions stay off the
# hot path.

_D = "[0-9]"
_ISO_DATE_PATTERNS: Final = tuple(
    re.compile(rf"\A{pattern}\Z")
    for pattern in (
        rf"(?P<year>{_D}{{4}})-(?P<month>{_D}{{2}})-(?P<day>{_D}{{2}})",
        rf"(?P<year>{_D}{{4}})(?P<month>{_D}{{2}})(?P<day>{_D}{{2}})",
        rf"(?P<year>{_D}{{4}})-W(?P<week>{_D}{{2}})-(?P<wday>{_D})",
        rf"(?P<year>{_D}{{4}})W(?P<week>{_D}{{2}})(?P<wday>{_D})",
        rf"(?P<year>{_D}{{4}})-(?P<yday>{_D}{{3}})",
        rf"(?P<year>{_D}{{4}})(?P<yday>{_D}{{3}})",
        rf"(?P<year>{_D}{{4}})-W(?P<week>{_D}{{2}})",
        rf"(?P<year>{_D}{{4}})W(?P<week>{_D}{{2}})",
        rf"(?P<year>{_D}{{4}})-(?P<month>{_D}{{2}})",
        rf"(?P<year>{_D}{{4}})(?P<month>{_D}{{2}})",
        rf"(?P<year>{_D}{{4}})",
        rf"(?P<century>{_D}{{2}})",
    )
)
_FRACTION = rf"(?:[,.]{_D}+)?"
_TZ = rf"(?:Z|[+-]{_D}{{2}}(?::?{_D}{{2}})?)?"
# Tried in order: the first match decides which component carries the fraction.
_ISO_TIME_PATTERNS: Final = tuple(
    re.compile(rf"\A{pattern}{_TZ}\Z")
    for pattern in (
        rf"(?P<hour>{_D}{{2}}):(?P<minute>{_D}{{2}}):(?P<second>{_D}{{2}}{_FRACTION})",
        rf"(?P<hour>{_D}{{2}})(?P<minute>{_D}{{2}})(?P<second>{_D}{{2}}{_FRACTION})",
        rf"(?P<hour>{_D}{{2}}):(?P<minute>{_D}{{2}}{_FRACTION})",
        rf"(?P<hour>{_D}{{2}})(?P<minute>{_D}{{2}}{_FRACTION})",
        rf"(?P<hour>{_D}{{2}}{_FRACTION})",
    )
)


def _parse_iso_datetime(text: str) -> datetime:
    """``isodate.parse_datetime`` without the offset.

    Raises:
        ValueError: not an ISO 8601 datetime isodate accepts.
        ArithmeticError: a component out of range (isodate fails the same way).
    """
    parts = text.split("T")
    if len(parts) != 2:
        raise ValueError("exactly one 'T' separates the date and the time")
    return datetime.combine(_parse_iso_date(parts[0]), _parse_iso_time(parts[1]))


def _parse_iso_date(text: str) -> date:
    """isodate's ``parse_date`` with four-digit years, incomplete dates filled with 1."""
    for pattern in _ISO_DATE_PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        parts = match.groupdict()
        if "century" in parts:
            return date(int(parts["century"]) * 100 + 1, 1, 1)
        start = date(int(parts["year"]), 1, 1)
        if "week" in parts:
            return _iso_week_date(start, int(parts["week"]), int(parts.get("wday") or 1))
        if "yday" in parts:
            return start + timedelta(days=int(parts["yday"]) - 1)
        if "month" in parts:
            # isodate reads month 00 as January ("int(month) or 1").
            return date(start.year, int(parts["month"]) or 1, int(parts.get("day") or 1))
        return start
    raise ValueError(f"not an ISO 8601 date: {text!r}")


def _iso_week_date(start: date, week: int, weekday: int) -> date:
    """isodate's week-date arithmetic from January 1st, kept as is for identical results."""
    _, first_week, first_weekday = start.isocalendar()
    return start + timedelta(
        weeks=week - (1 if first_week == 1 else 0), days=weekday - first_weekday
    )


def _parse_iso_time(text: str) -> time:
    """isodate's ``parse_time``: the fraction goes to the last component given."""
    for pattern in _ISO_TIME_PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        parts = {k: v.replace(",", ".") for k, v in match.groupdict().items()}
        if "second" in parts:
            return _time_of(int(parts["hour"]), int(parts["minute"]), Decimal(parts["second"]))
        if "minute" in parts:
            minute = Decimal(parts["minute"])
            seconds = _CTX.multiply(_CTX.subtract(minute, int(minute)), Decimal(60))
            return _time_of(int(parts["hour"]), int(minute), seconds)
        return _time_from_hours(Decimal(parts["hour"]))
    raise ValueError(f"not an ISO 8601 time: {text!r}")


def _time_of(hour: int, minute: int, seconds: Decimal) -> time:
    """A time with the seconds floored to microseconds, as isodate does."""
    second = seconds.quantize(_MICROSECOND, rounding=ROUND_FLOOR, context=_CTX)
    micro = _CTX.multiply(_CTX.subtract(second, int(second)), _MILLION)
    return time(hour, minute, int(second), int(micro.to_integral_value(context=_CTX)))


def _time_from_hours(hours: Decimal) -> time:
    """A time from fractional hours; isodate rounds (not floors) the microseconds here."""
    minutes = _CTX.multiply(_CTX.subtract(hours, int(hours)), Decimal(60))
    seconds = _CTX.multiply(_CTX.subtract(minutes, int(minutes)), Decimal(60))
    micro = _CTX.multiply(_CTX.subtract(seconds, int(seconds)), _MILLION)
    return time(int(hours), int(minutes), int(seconds), int(micro.to_integral_value(context=_CTX)))
