"""A snapshot run that fails while applying its changes leaves the history as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiln.adapters.duckdb import DuckDBAdapter
from kiln.adapters.registry import create_adapter
from kiln.errors import DatabaseError
from kiln.materialize.snapshot import build_snapshot

CONFIG = {
    "strategy": "check",
    "unique_key": "id",
    "check_cols": "all",
    "hard_deletes": "invalidate",
}


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[DuckDBAdapter]:
    made = create_adapter({"type": "duckdb", "path": str(tmp_path / "snap.duckdb")})
    assert isinstance(made, DuckDBAdapter)
    yield made
    made.close()


def history(adapter: DuckDBAdapter) -> list[tuple[Any, ...]]:
    return sorted(adapter.fetch("select id, v, dbt_valid_to is null from main.snap").rows)


def test_failure_after_closing_rows_rolls_everything_back(adapter, monkeypatch):
    target = adapter.relation(None, "main", "snap")
    build_snapshot(adapter, target, "select 1 as id, 'a' as v union all select 2, 'b'", CONFIG)
    before = history(adapter)
    real_execute = adapter.execute

    def failing_insert(sql: str, **kwargs: Any) -> Any:
        if sql.startswith("insert into"):
            raise DatabaseError("disk full")
        return real_execute(sql, **kwargs)

    monkeypatch.setattr(adapter, "execute", failing_insert)
    with pytest.raises(DatabaseError, match="disk full"):
        build_snapshot(adapter, target, "select 1 as id, 'changed' as v", CONFIG)
    monkeypatch.undo()

    assert history(adapter) == before == [(1, "a", True), (2, "b", True)]
    leftovers = adapter.fetch("select table_name from information_schema.tables").rows
    assert [name for (name,) in leftovers] == ["snap"]


def test_new_source_column_is_added_and_counts_as_a_change(adapter):
    target = adapter.relation(None, "main", "snap")
    build_snapshot(adapter, target, "select 1 as id, 'a' as v", CONFIG)

    build_snapshot(adapter, target, "select 1 as id, 'a' as v, 7 as extra", CONFIG)

    rows = sorted(
        adapter.fetch("select id, v, extra, dbt_valid_to is null from main.snap").rows,
        key=repr,
    )
    assert rows == [(1, "a", 7, True), (1, "a", None, False)]
