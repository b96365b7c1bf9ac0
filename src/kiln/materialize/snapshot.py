"""Snapshots: SCD type 2 history tables, `timestamp` and `check` strategies.

Semantics follow dbt's snapshot materialization:

* the first run copies the query's rows, each with `dbt_scd_id`, `dbt_updated_at`,
  `dbt_valid_from` (the `updated_at` value, or the snapshot time for `check` without
  `updated_at`) and `dbt_valid_to` NULL (or `dbt_valid_to_current`);
* later runs compare the query with the *current* rows (valid_to NULL or the configured
  current value): a new key is inserted; a changed row (timestamp: `valid_from <
  updated_at`; check: any check column `is distinct from`, so NULL to NULL is no change,
  and any new column counts as a change) is closed with `valid_to = <its new updated_at>`
  and its new version inserted;
* hard deletes: `ignore` keeps the current row; `invalidate` closes it at the snapshot
  time; `new_record` closes it and inserts a copy with `dbt_is_deleted = 'True'` (current),
  once; a key that comes back closes that deletion record and is inserted again.

The query is staged once into a temporary table, the changes are computed into a second one
(so every comparison sees the history before this run), then applied in one transaction:
a failure leaves the history table as it was.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln.errors import CompilationError

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter, AdapterResponse, Column
    from kiln.adapters.relation import Relation

META_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_is_deleted")
STRATEGIES = ("timestamp", "check")
HARD_DELETES = ("ignore", "invalidate", "new_record")
CHANGE_TS = "kiln_change_ts"
CHANGE_TYPE = "kiln_change_type"
NOW = "cast(current_timestamp as timestamp)"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class SnapshotSpec:
    """A snapshot's config, validated."""

    strategy: str
    unique_key: tuple[str, ...]
    updated_at: str | None
    check_cols: tuple[str, ...] | str
    hard_deletes: str
    meta: dict[str, str]
    valid_to_current: str | None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], name: str) -> SnapshotSpec:
        """Validate a snapshot's config.

        Raises:
            CompilationError: the strategy, unique_key, updated_at, check_cols or
                hard_deletes settings are missing or invalid.
        """
        strategy = config.get("strategy")
        if strategy not in STRATEGIES:
            raise CompilationError(
                f"snapshot '{name}' needs strategy: timestamp or check (got {strategy!r})",
                hint="set config.strategy",
            )
        key = config.get("unique_key")
        if not key:
            raise CompilationError(
                f"snapshot '{name}' needs a unique_key",
                hint="set config.unique_key to a column or list of columns",
            )
        if strategy == "timestamp" and not config.get("updated_at"):
            raise CompilationError(
                f"snapshot '{name}' uses the timestamp strategy but has no updated_at",
                hint="set config.updated_at to a column",
            )
        check = _check_cols(config, strategy, name)
        return cls(
            strategy=str(strategy),
            unique_key=tuple(str(k) for k in key) if isinstance(key, list) else (str(key),),
            updated_at=config.get("updated_at"),
            check_cols=check if isinstance(check, str) else tuple(str(c) for c in check),
            hard_deletes=_hard_deletes(config, name),
            meta=_meta_names(config, name),
            valid_to_current=config.get("dbt_valid_to_current"),
        )


def _check_cols(config: Mapping[str, Any], strategy: str, name: str) -> Any:
    check = config.get("check_cols") or ()
    if strategy == "check" and not check:
        raise CompilationError(
            f"snapshot '{name}' uses the check strategy but has no check_cols",
            hint="set check_cols to a list of columns or 'all'",
        )
    return (check,) if isinstance(check, str) and check != "all" else check


def _hard_deletes(config: Mapping[str, Any], name: str) -> str:
    legacy = config.get("invalidate_hard_deletes")
    mode = config.get("hard_deletes")
    if legacy is not None and mode is not None:
        raise CompilationError(
            f"snapshot '{name}' sets both invalidate_hard_deletes and hard_deletes",
            hint="keep hard_deletes (invalidate_hard_deletes: true means hard_deletes: invalidate)",
        )
    if mode is None:
        return "invalidate" if legacy else "ignore"
    if mode not in HARD_DELETES:
        raise CompilationError(
            f"snapshot '{name}' has hard_deletes: {mode!r}",
            hint="valid values: " + ", ".join(HARD_DELETES),
        )
    return str(mode)


def _meta_names(config: Mapping[str, Any], name: str) -> dict[str, str]:
    given = config.get("snapshot_meta_column_names") or {}
    unknown = sorted(set(given) - set(META_COLUMNS))
    if unknown:
        raise CompilationError(
            f"snapshot '{name}': unknown snapshot_meta_column_names {', '.join(unknown)}",
            hint="valid keys: " + ", ".join(META_COLUMNS),
        )
    return {key: str(given.get(key) or key) for key in META_COLUMNS}


def build_snapshot(
    adapter: Adapter, relation: Relation, sql: str, config: Mapping[str, Any], *, where: str = ""
) -> AdapterResponse:
    """Create the snapshot table on the first run, apply changes on later runs.

    Args:
        adapter: the warehouse.
        relation: the history table.
        sql: the snapshot's compiled query.
        config: the snapshot's config.
        where: the snapshot and its file, for messages (`snapshot 'x' (snapshots/x.yml)`).

    Raises:
        CompilationError: the config is invalid or names columns the query lacks.
        DatabaseError: a statement failed (the history table is unchanged).
    """
    spec = SnapshotSpec.from_config(config, relation.identifier)
    staged = _temp(adapter, relation, "src")
    change = adapter.quote(spec.updated_at) if spec.updated_at else NOW
    if spec.updated_at and not _IDENTIFIER.match(spec.updated_at):
        change = spec.updated_at
    adapter.create_table_as(
        staged,
        f"select kiln_src.*, {change} as {CHANGE_TS} from (\n{sql}\n) as kiln_src",
        temporary=True,
    )
    try:
        source = [c for c in adapter.get_columns(staged) if c.name != CHANGE_TS]
        _check_columns(spec, [c.name for c in source], where or f"snapshot '{relation.name}'")
        existing = adapter.get_relation(relation.database, relation.schema, relation.identifier)
        if existing is None:
            with adapter.transaction():
                return adapter.create_table_as(
                    relation, _initial_sql(adapter, spec, staged, source)
                )
        return _update(adapter, spec, relation, staged, source)
    finally:
        adapter.drop_relation(staged)


def _temp(adapter: Adapter, relation: Relation, what: str) -> Relation:
    suffix = f"__kiln_snapshot_{what}_{uuid.uuid4().hex[:8]}"
    return adapter.derived_relation(relation, suffix, temporary=True).incorporate(type="table")


def _check_columns(spec: SnapshotSpec, columns: Sequence[str], where: str) -> None:
    lowered = {c.lower() for c in columns}
    wanted = [k for k in spec.unique_key if _IDENTIFIER.match(k)]
    if not isinstance(spec.check_cols, str):
        wanted += list(spec.check_cols)
    if spec.updated_at and _IDENTIFIER.match(spec.updated_at):
        wanted.append(spec.updated_at)
    missing = [c for c in dict.fromkeys(wanted) if c.lower() not in lowered]
    if missing:
        raise CompilationError(
            f"{where} names columns its query does not return: {', '.join(missing)}",
            hint="fix unique_key, updated_at or check_cols; the query returns "
            + ", ".join(columns),
        )


# ---- SQL pieces ---------------------------------------------------------------------------------


class _Sql:
    """Names and expressions shared by the snapshot statements.

    Both sides of every comparison are read through `keyed()`, which adds the unique key
    expressions as `kiln_key_<n>` columns (a key may be an expression, as in dbt).
    """

    def __init__(self, adapter: Adapter, spec: SnapshotSpec) -> None:
        self.adapter = adapter
        self.spec = spec
        self.q = adapter.quote

    def meta(self, key: str) -> str:
        return self.q(self.spec.meta[key])

    def col(self, alias: str, name: str) -> str:
        return f"{alias}.{self.q(name)}"

    def keyed(self, relation: Relation, *, current_only: bool = False) -> str:
        """`relation`'s rows plus their key columns (only current rows, if asked)."""
        keys = [
            f"{self.q(k) if _IDENTIFIER.match(k) else k} as kiln_key_{i}"
            for i, k in enumerate(self.spec.unique_key)
        ]
        where = f" where {self.is_current('r')}" if current_only else ""
        return f"select r.*, {', '.join(keys)} from {relation} as r{where}"

    def key_match(self, left: str, right: str) -> str:
        return " and ".join(
            f"{left}.kiln_key_{i} = {right}.kiln_key_{i}" for i in range(len(self.spec.unique_key))
        )

    def scd_id(self, alias: str, change: str) -> str:
        keys = [f"{alias}.kiln_key_{i}" for i in range(len(self.spec.unique_key))]
        return _hash([*keys, change])

    def valid_to_initial(self, change: str) -> str:
        # dbt's NULL has the type of the change timestamp, so both valid_* columns match.
        fallback = self.spec.valid_to_current or "null"
        return f"coalesce(nullif({change}, {change}), {fallback})"

    def is_current(self, alias: str) -> str:
        valid_to = self.col(alias, self.spec.meta["dbt_valid_to"])
        if self.spec.valid_to_current:
            return f"({valid_to} = {self.spec.valid_to_current} or {valid_to} is null)"
        return f"{valid_to} is null"

    def is_deleted(self, alias: str) -> str:
        return f"{self.col(alias, self.spec.meta['dbt_is_deleted'])} = 'True'"


def _hash(parts: Sequence[str]) -> str:
    return "md5(" + " || '|' || ".join(f"coalesce(cast({p} as varchar), '')" for p in parts) + ")"


def _initial_sql(
    adapter: Adapter, spec: SnapshotSpec, staged: Relation, source: Sequence[Column]
) -> str:
    s = _Sql(adapter, spec)
    change = f"s.{CHANGE_TS}"
    cols = [s.col("s", c.name) for c in source]
    cols += [
        f"{s.scd_id('s', change)} as {s.meta('dbt_scd_id')}",
        f"{change} as {s.meta('dbt_updated_at')}",
        f"{change} as {s.meta('dbt_valid_from')}",
        f"{s.valid_to_initial(change)} as {s.meta('dbt_valid_to')}",
    ]
    if spec.hard_deletes == "new_record":
        cols.append(f"'False' as {s.meta('dbt_is_deleted')}")
    return "select\n    " + ",\n    ".join(cols) + f"\nfrom ({s.keyed(staged)}) as s"


# ---- later runs ---------------------------------------------------------------------------------


def _update(
    adapter: Adapter,
    spec: SnapshotSpec,
    target: Relation,
    staged: Relation,
    source: Sequence[Column],
) -> AdapterResponse:
    existing = {c.name.lower(): c.name for c in adapter.get_columns(target)}
    added = [c for c in source if c.name.lower() not in existing]
    changes = _temp(adapter, target, "changes")
    s = _Sql(adapter, spec)
    target_cols = [*existing.values(), *(c.name for c in added)]
    row_changed = _row_changed(s, source, existing, bool(added))
    adapter.create_table_as(
        changes,
        _changes_sql(s, target, staged, source, list(existing.values()), target_cols, row_changed),
        temporary=True,
    )
    try:
        with adapter.transaction():
            if added:
                adapter.add_columns(target, added)
            adapter.execute(_close_sql(s, target, changes))
            insert_cols = ", ".join(adapter.quote(c) for c in target_cols)
            return adapter.execute(
                f"insert into {target} ({insert_cols})\n"
                f"select {insert_cols} from {changes} where {CHANGE_TYPE} = 'insert'"
            )[0]
    finally:
        adapter.drop_relation(changes)


def _row_changed(
    s: _Sql, source: Sequence[Column], existing: Mapping[str, str], column_added: bool
) -> str:
    if s.spec.strategy == "timestamp":
        return f"{s.col('t', s.spec.meta['dbt_valid_from'])} < s.{CHANGE_TS}"
    if s.spec.check_cols == "all":
        check = [c.name for c in source]
    else:
        check = [c for c in s.spec.check_cols if c.lower() in existing]
        column_added = len(check) < len(s.spec.check_cols)
    # dbt treats any column new to the history table as a change of every row.
    if column_added or not check:
        return "true"
    return (
        "(" + " or ".join(f"{s.col('t', c)} is distinct from {s.col('s', c)}" for c in check) + ")"
    )


def _changes_sql(
    s: _Sql,
    target: Relation,
    staged: Relation,
    source: Sequence[Column],
    existing: Sequence[str],
    target_cols: Sequence[str],
    row_changed: str,
) -> str:
    """Every change of this run: rows to insert, and current rows to close (by scd id)."""
    current = s.keyed(target, current_only=True)
    parts = [
        _insertions(s, source, target_cols, row_changed),
        _updates(s, target_cols, row_changed),
    ]
    if s.spec.hard_deletes != "ignore":
        parts.append(_deletes(s, target_cols))
    if s.spec.hard_deletes == "new_record":
        parts.append(_deletion_records(s, target_cols, existing))
    return f"with t as ({current}),\ns as ({s.keyed(staged)})\n" + "\nunion all\n".join(parts)


def _select(
    change_type: str, values: Mapping[str, str], target_cols: Sequence[str], s: _Sql
) -> str:
    """One branch of the changes union: every target column, in the target's order."""
    lowered = {k.lower(): v for k, v in values.items()}
    cols = [f"{lowered.get(c.lower(), 'null')} as {s.q(c)}" for c in target_cols]
    return f"select '{change_type}' as {CHANGE_TYPE}, " + ", ".join(cols)


def _source_values(s: _Sql, alias: str, source: Sequence[Column]) -> dict[str, str]:
    return {c.name: s.col(alias, c.name) for c in source}


def _insertions(
    s: _Sql, source: Sequence[Column], target_cols: Sequence[str], row_changed: str
) -> str:
    change = f"s.{CHANGE_TS}"
    values = _source_values(s, "s", source)
    values |= {
        s.spec.meta["dbt_scd_id"]: s.scd_id("s", change),
        s.spec.meta["dbt_updated_at"]: change,
        s.spec.meta["dbt_valid_from"]: change,
        s.spec.meta["dbt_valid_to"]: s.valid_to_initial(change),
    }
    changed = row_changed
    if s.spec.hard_deletes == "new_record":
        values[s.spec.meta["dbt_is_deleted"]] = "'False'"
        changed = f"({row_changed} or {s.is_deleted('t')})"
    first_key = "t.kiln_key_0"
    return (
        f"{_select('insert', values, target_cols, s)}\n"
        f"from s left join t on {s.key_match('t', 's')}\n"
        f"where {first_key} is null or {changed}"
    )


def _updates(s: _Sql, target_cols: Sequence[str], row_changed: str) -> str:
    changed = row_changed
    if s.spec.hard_deletes == "new_record":
        changed = f"({row_changed} or {s.is_deleted('t')})"
    values = {
        s.spec.meta["dbt_scd_id"]: s.col("t", s.spec.meta["dbt_scd_id"]),
        s.spec.meta["dbt_valid_to"]: f"s.{CHANGE_TS}",
    }
    return (
        f"{_select('update', values, target_cols, s)}\n"
        f"from s join t on {s.key_match('t', 's')}\nwhere {changed}"
    )


def _gone(s: _Sql) -> str:
    """Current rows whose key the query no longer returns (not yet marked deleted)."""
    where = f"not exists (select 1 from s where {s.key_match('t', 's')})"
    if s.spec.hard_deletes == "new_record":
        where += f" and not coalesce({s.is_deleted('t')}, false)"
    return f"from t\nwhere {where}"


def _deletes(s: _Sql, target_cols: Sequence[str]) -> str:
    values = {
        s.spec.meta["dbt_scd_id"]: s.col("t", s.spec.meta["dbt_scd_id"]),
        s.spec.meta["dbt_valid_to"]: NOW,
    }
    return f"{_select('delete', values, target_cols, s)}\n{_gone(s)}"


def _deletion_records(s: _Sql, target_cols: Sequence[str], existing: Sequence[str]) -> str:
    m = s.spec.meta
    # a copy of the deleted row; columns new in this run are NULL (the row never had them)
    values = {c: s.col("t", c) for c in existing}
    values |= {
        m["dbt_scd_id"]: _hash([s.col("t", m["dbt_scd_id"]), NOW]),
        m["dbt_updated_at"]: NOW,
        m["dbt_valid_from"]: NOW,
        m["dbt_valid_to"]: s.col("t", m["dbt_valid_to"]),
        m["dbt_is_deleted"]: "'True'",
    }
    return f"{_select('insert', values, target_cols, s)}\n{_gone(s)}"


def _close_sql(s: _Sql, target: Relation, changes: Relation) -> str:
    scd_id, valid_to = s.meta("dbt_scd_id"), s.meta("dbt_valid_to")
    return (
        f"update {target} as t set {valid_to} = c.{valid_to}\n"
        f"from {changes} as c\n"
        f"where c.{scd_id} = t.{scd_id} and c.{CHANGE_TYPE} in ('update', 'delete') "
        f"and {s.is_current('t')}"
    )
