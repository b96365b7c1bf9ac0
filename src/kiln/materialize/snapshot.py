"""Snapshots: SCD type 2 history tables, `timestamp` and `check` strategies.

The source query is staged once into a temporary table (so `now` is one instant), then the
changes are applied in one transaction: changed and deleted current rows are closed, new
versions inserted. A failure leaves the history table as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln.errors import CompilationError

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter, AdapterResponse
    from kiln.adapters.relation import Relation

_META_DEFAULTS = {
    "dbt_scd_id": "dbt_scd_id",
    "dbt_updated_at": "dbt_updated_at",
    "dbt_valid_from": "dbt_valid_from",
    "dbt_valid_to": "dbt_valid_to",
    "dbt_is_deleted": "dbt_is_deleted",
}
_CHANGE_TS = "kiln_change_ts"


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
        strategy = config.get("strategy")
        key = config.get("unique_key")
        if strategy not in ("timestamp", "check"):
            raise CompilationError(
                f"snapshot '{name}' needs strategy: timestamp or check", hint="set config.strategy"
            )
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
        check = config.get("check_cols") or ()
        if strategy == "check" and not check:
            raise CompilationError(
                f"snapshot '{name}' uses the check strategy but has no check_cols",
                hint="set check_cols to a list or 'all'",
            )
        hard = config.get("hard_deletes") or (
            "invalidate" if config.get("invalidate_hard_deletes") else "ignore"
        )
        return cls(
            strategy=str(strategy),
            unique_key=tuple(key) if isinstance(key, list) else (str(key),),
            updated_at=config.get("updated_at"),
            check_cols=check if isinstance(check, str) else tuple(check),
            hard_deletes=str(hard),
            meta={
                **_META_DEFAULTS,
                **{k: v for k, v in (config.get("snapshot_meta_column_names") or {}).items() if v},
            },
            valid_to_current=config.get("dbt_valid_to_current"),
        )


def build_snapshot(
    adapter: Adapter, relation: Relation, sql: str, config: Mapping[str, Any]
) -> AdapterResponse:
    """Create the snapshot table on the first run, apply changes on later runs."""
    spec = SnapshotSpec.from_config(config, relation.identifier)
    staged = adapter.derived_relation(relation, "__dbt_snapshot_src", temporary=True)
    adapter.drop_relation(staged)
    now = "cast(current_timestamp as timestamp)"
    change = (
        f"{adapter.quote(spec.updated_at)}"
        if spec.strategy == "timestamp" and spec.updated_at
        else now
    )
    adapter.create_table_as(
        staged,
        f"select kiln_src.*, {change} as {_CHANGE_TS} from (\n{sql}\n) as kiln_src",
        temporary=True,
    )
    try:
        columns = [c.name for c in adapter.get_columns(staged) if c.name != _CHANGE_TS]
        _check_columns(spec, columns, relation.identifier)
        existing = adapter.get_relation(relation.database, relation.schema, relation.identifier)
        with adapter.transaction():
            if existing is None:
                return adapter.create_table_as(
                    relation, _initial_sql(adapter, spec, staged, columns)
                )
            return _apply_changes(adapter, spec, relation, staged, columns)
    finally:
        adapter.drop_relation(staged)


def _check_columns(spec: SnapshotSpec, columns: Sequence[str], name: str) -> None:
    lowered = {c.lower() for c in columns}
    wanted = list(spec.unique_key) + (
        [] if isinstance(spec.check_cols, str) else list(spec.check_cols)
    )
    if spec.updated_at:
        wanted.append(spec.updated_at)
    missing = [c for c in wanted if c.lower() not in lowered]
    if missing:
        raise CompilationError(
            f"snapshot '{name}' names columns its query does not return: " + ", ".join(missing),
            hint="fix unique_key, updated_at or check_cols",
        )


def _scd_id(adapter: Adapter, spec: SnapshotSpec, alias: str) -> str:
    parts = [f"coalesce(cast({alias}.{adapter.quote(k)} as varchar), '')" for k in spec.unique_key]
    parts.append(f"coalesce(cast({alias}.{_CHANGE_TS} as varchar), '')")
    return "md5(" + " || '|' || ".join(parts) + ")"


def _valid_to_initial(spec: SnapshotSpec) -> str:
    if spec.valid_to_current:
        return f"cast({spec.valid_to_current} as timestamp)"
    return "cast(null as timestamp)"


def _projection(adapter: Adapter, spec: SnapshotSpec, columns: Sequence[str], alias: str) -> str:
    m = spec.meta
    cols = [f"{alias}.{adapter.quote(c)}" for c in columns]
    cols += [
        f"{_scd_id(adapter, spec, alias)} as {adapter.quote(m['dbt_scd_id'])}",
        f"{alias}.{_CHANGE_TS} as {adapter.quote(m['dbt_updated_at'])}",
        f"{alias}.{_CHANGE_TS} as {adapter.quote(m['dbt_valid_from'])}",
        f"{_valid_to_initial(spec)} as {adapter.quote(m['dbt_valid_to'])}",
    ]
    if spec.hard_deletes == "new_record":
        cols.append(f"'False' as {adapter.quote(m['dbt_is_deleted'])}")
    return ",\n    ".join(cols)


def _initial_sql(
    adapter: Adapter, spec: SnapshotSpec, staged: Relation, columns: Sequence[str]
) -> str:
    return f"select\n    {_projection(adapter, spec, columns, 's')}\nfrom {staged} as s"


def _is_current(adapter: Adapter, spec: SnapshotSpec, alias: str) -> str:
    col = f"{alias}.{adapter.quote(spec.meta['dbt_valid_to'])}"
    if spec.valid_to_current:
        return f"{col} = cast({spec.valid_to_current} as timestamp)"
    return f"{col} is null"


def _key_match(adapter: Adapter, spec: SnapshotSpec) -> str:
    return " and ".join(f"t.{adapter.quote(k)} = s.{adapter.quote(k)}" for k in spec.unique_key)


def _changed(adapter: Adapter, spec: SnapshotSpec, columns: Sequence[str]) -> str:
    if spec.strategy == "timestamp":
        return f"t.{adapter.quote(spec.meta['dbt_valid_from'])} < s.{_CHANGE_TS}"
    check = columns if spec.check_cols == "all" else list(spec.check_cols)
    return (
        "("
        + " or ".join(f"t.{adapter.quote(c)} is distinct from s.{adapter.quote(c)}" for c in check)
        + ")"
    )


def _apply_changes(
    adapter: Adapter, spec: SnapshotSpec, target: Relation, staged: Relation, columns: Sequence[str]
) -> AdapterResponse:
    m = spec.meta
    valid_to = adapter.quote(m["dbt_valid_to"])
    current = _is_current(adapter, spec, "t")
    adapter.execute(
        f"update {target} as t set {valid_to} = s.{_CHANGE_TS} from {staged} as s "
        f"where {_key_match(adapter, spec)} and {current} and {_changed(adapter, spec, columns)}"
    )
    if spec.hard_deletes in ("invalidate", "new_record"):
        adapter.execute(
            f"update {target} as t set {valid_to} = cast(current_timestamp as timestamp) "
            f"where {current} and not exists (select 1 from {staged} as s "
            f"where {_key_match(adapter, spec)})"
        )
    target_cols = [adapter.quote(c) for c in columns] + [
        adapter.quote(m[k])
        for k in ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")
    ]
    if spec.hard_deletes == "new_record":
        target_cols.append(adapter.quote(m["dbt_is_deleted"]))
    return adapter.execute(
        f"insert into {target} ({', '.join(target_cols)})\n"
        f"select\n    {_projection(adapter, spec, columns, 's')}\nfrom {staged} as s\n"
        f"where not exists (select 1 from {target} as t where {_key_match(adapter, spec)} "
        f"and {current})"
    )[0]
