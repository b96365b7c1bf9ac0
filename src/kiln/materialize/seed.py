"""Seeds: load a parsed CSV into a table.

First load or `--full-refresh`: (drop and) create the table with the seed's SQL types.
A re-run keeps the table (and its grants) and replaces its rows, as dbt does; when the
seed's columns no longer match the table, it asks for `--full-refresh`, since inserting
into the old columns would fail or misplace values. All of it runs in one transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln.adapters.base import AdapterResponse, Column
from kiln.errors import CompilationError
from kiln.materialize.table import run_hooks, should_full_refresh

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from kiln.adapters.base import Adapter
    from kiln.adapters.relation import Relation
    from kiln.materialize import BuildRequest
    from kiln.materialize.seed_csv import SeedData


def load_seed(adapter: Adapter, req: BuildRequest, data: SeedData) -> AdapterResponse:
    """Create or refill a seed's table and insert its rows.

    Returns:
        dbt's seed response: `INSERT <n>` (or `CREATE <n>` on a full refresh).

    Raises:
        CompilationError: the relation is a view, or the columns changed without a full refresh.
        DatabaseError: the warehouse rejected a statement; the old table is unchanged.
    """
    target = req.relation.incorporate(type="table")
    existing = adapter.get_relation(target.database, target.schema, target.identifier)
    if existing is not None and existing.is_view:
        raise CompilationError(f"Cannot seed to '{existing}', it is a view")
    columns = _columns(adapter, data, req.config)
    full_refresh = should_full_refresh(req)
    with adapter.transaction():
        run_hooks(adapter, req.pre_hooks)
        if existing is None or full_refresh:
            if existing is not None:
                adapter.drop_relation(existing)
            adapter.create_table(target, columns)
        else:
            _check_columns(adapter, existing, columns)
            adapter.truncate_relation(existing)
        adapter.insert_rows(target, columns, data.rows)
        run_hooks(adapter, req.post_hooks)
    code = "CREATE" if full_refresh else "INSERT"
    rows = len(data.rows)
    return AdapterResponse(f"{code} {rows}", code=code, rows_affected=rows)


def _columns(adapter: Adapter, data: SeedData, config: Mapping[str, Any]) -> list[Column]:
    # quote_columns: false leaves names to the engine's folding (e.g. lower case in Postgres).
    quote = config.get("quote_columns")
    names = [c.name for c in data.columns]
    if quote is False:
        names = [adapter.normalize_identifier(name) for name in names]
    return [
        Column(name, c.sql_type, adapter.quote_char)
        for name, c in zip(names, data.columns, strict=True)
    ]


def _check_columns(adapter: Adapter, existing: Relation, columns: Sequence[Column]) -> None:
    current = [c.name.casefold() for c in adapter.get_columns(existing)]
    wanted = [c.name.casefold() for c in columns]
    if current != wanted:
        raise CompilationError(
            f"the columns of seed {existing} changed (table: {current}, file: {wanted})",
            hint="run `kiln seed --full-refresh` to recreate the table",
        )
