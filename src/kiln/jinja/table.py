"""A small agate-like table for `run_query` and `load_result` results."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


class Row(tuple[Any, ...]):
    """A row readable by position or by column name (`row['id']`, `row.id`)."""

    _names: tuple[str, ...]

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except ValueError:
            raise AttributeError(name) from None

    def keys(self) -> tuple[str, ...]:
        return self._names

    def values(self) -> tuple[Any, ...]:
        return tuple(self)

    def items(self) -> list[tuple[str, Any]]:
        return list(zip(self._names, self, strict=True))


class Column:
    """One column: `.name` and `.values()`."""

    def __init__(self, name: str, values: list[Any]) -> None:
        self.name = name
        self._values = values

    def values(self) -> tuple[Any, ...]:
        return tuple(self._values)

    def __getitem__(self, index: int) -> Any:
        return self._values[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class _Columns:
    def __init__(self, columns: list[Column]) -> None:
        self._columns = columns

    def __getitem__(self, key: int | str) -> Column:
        if isinstance(key, str):
            for col in self._columns:
                if col.name == key:
                    return col
            raise KeyError(key)
        return self._columns[key]

    def __iter__(self) -> Iterator[Column]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def keys(self) -> list[str]:
        return [c.name for c in self._columns]

    def values(self) -> list[Column]:
        return list(self._columns)


class Table:
    """Rows and columns of a query result, shaped like the agate API dbt macros use."""

    def __init__(self, column_names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.column_names = tuple(column_names)
        self.rows = [Row(r, self.column_names) for r in rows]
        self.columns = _Columns(
            [Column(name, [r[i] for r in rows]) for i, name in enumerate(self.column_names)]
        )

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> Row:
        return self.rows[index]

    def __bool__(self) -> bool:
        return True

    def print_table(self, max_rows: int = 20, **_: Any) -> str:
        lines = [" | ".join(self.column_names)]
        lines += [" | ".join(str(v) for v in row) for row in self.rows[:max_rows]]
        return "\n".join(lines)
