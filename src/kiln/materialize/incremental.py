"""Incremental models: stage the new rows, reconcile the schema, apply a strategy.

The first run, `--full-refresh`, and a model whose relation is a view are built as tables
(`table.replace_with_table`). Otherwise, in one transaction: pre-hooks, the compiled SQL
into a temporary `<name>__dbt_tmp<time>` table, `on_schema_change`, the strategy
(`append`, `delete+insert`, `merge`, `insert_overwrite`), post-hooks. Strategies are plain
functions in `STRATEGIES`; which ones a warehouse offers is its
`Capabilities.incremental_strategies`, and `Adapter.strategy_problem` refuses one a model's
table cannot take (MERGE on a format without it). `microbatch` runs one transaction per
time batch (`kiln.materialize.microbatch`). Where the engine has no transactions (Spark) the
steps run in order and a failure leaves the rows written so far.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kiln.adapters.table_options import column_list
from kiln.errors import CompilationError, KilnError, did_you_mean
from kiln.materialize.table import (
    build_table,
    replace_with_table,
    run_hooks,
    should_full_refresh,
)

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter, AdapterResponse, Column
    from kiln.adapters.relation import Relation
    from kiln.materialize import BuildRequest

logger = logging.getLogger(__name__)

SCHEMA_CHANGE_MODES = ("ignore", "fail", "append_new_columns", "sync_all_columns", "full_refresh")


@dataclass(frozen=True, slots=True)
class IncrementalStep:
    """What a strategy needs: where the new rows are and which columns to move."""

    target: Relation
    staging: Relation
    dest_columns: tuple[str, ...]  # the target's columns a strategy writes (dbt's dest_columns)
    source_columns: tuple[str, ...]  # the columns the model's SQL produced
    unique_key: tuple[str, ...]
    predicates: tuple[str, ...]
    config: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """How the new rows' columns differ from the target's (names compared case-insensitively)."""

    added: tuple[Column, ...]  # in the new rows only
    removed: tuple[Column, ...]  # in the target only
    retyped: tuple[Column, ...]  # in both, with the new rows' type

    @property
    def changed(self) -> bool:
        """Whether anything differs."""
        return bool(self.added or self.removed or self.retyped)

    @classmethod
    def between(cls, source: Sequence[Column], target: Sequence[Column]) -> SchemaChange:
        """Compare the staged columns with the target's."""
        target_by_name = {c.name.casefold(): c for c in target}
        source_names = {c.name.casefold() for c in source}
        retyped = []
        for column in source:
            old = target_by_name.get(column.name.casefold())
            if old is not None and old.data_type.upper() != column.data_type.upper():
                retyped.append(replace(column, name=old.name))
        return cls(
            added=tuple(c for c in source if c.name.casefold() not in target_by_name),
            removed=tuple(c for c in target if c.name.casefold() not in source_names),
            retyped=tuple(retyped),
        )

    def describe(self) -> str:
        """The differences, as dbt logs them."""
        return (
            f"Source columns not in target: {[c.name for c in self.added]}; "
            f"target columns not in source: {[c.name for c in self.removed]}; "
            f"new column types: {[(c.name, c.data_type) for c in self.retyped]}"
        )


def build_incremental(adapter: Adapter, req: BuildRequest) -> AdapterResponse:
    """Build an incremental model.

    Raises:
        CompilationError: an unknown strategy, conflicting merge configs, or
            `on_schema_change='fail'` with a changed schema.
        DatabaseError: the warehouse rejected a statement; the table is unchanged (for
            microbatch: the first failed batch; the batches that succeeded stay).
    """
    with adapter.node_scope(req.node_id, req.config):
        strategy = resolve_strategy(adapter, req.config, model=_model_name(req))
        if strategy == "microbatch":
            from kiln.materialize.microbatch import run_batches

            # all or nothing here; the node runner calls `build_microbatch` to report
            # each batch and a partial success
            return run_batches(adapter, req).response()
        return _build(adapter, req, strategy)


def _build(adapter: Adapter, req: BuildRequest, strategy: str) -> AdapterResponse:
    target = req.relation.incorporate(type="table")
    existing = adapter.get_relation(target.database, target.schema, target.identifier)
    if not req.incremental or should_full_refresh(req) or existing is None or existing.is_view:
        return build_table(adapter, req)
    staging = adapter.temp_relation(target)
    try:
        with adapter.transaction():
            run_hooks(adapter, req.pre_hooks)
            adapter.create_table_as(staging, req.sql, temporary=True)
            response = _apply(adapter, req, strategy, target, staging)
            run_hooks(adapter, req.post_hooks)
    except BaseException:
        _drop_quietly(adapter, staging)
        raise
    adapter.drop_relation(staging)
    return response


def _apply(
    adapter: Adapter, req: BuildRequest, strategy: str, target: Relation, staging: Relation
) -> AdapterResponse:
    """Reconcile the schema, then run the strategy (replacing the table in `full_refresh` mode)."""
    step = reconcile(adapter, req, target, staging)
    if step is None:
        return replace_with_table(adapter, target, req.sql)
    return STRATEGIES[strategy](adapter, step)


def reconcile(
    adapter: Adapter, req: BuildRequest, target: Relation, staging: Relation
) -> IncrementalStep | None:
    """Apply `on_schema_change` and describe what the strategy moves.

    Returns:
        The step for the strategy, or None when the table must be rebuilt
        (`on_schema_change: full_refresh` with added or removed columns).

    Raises:
        CompilationError: `on_schema_change: fail` and the columns differ.
    """
    mode = _schema_change_mode(req.config)
    source = adapter.get_columns(staging)
    current = adapter.get_columns(target)
    change = SchemaChange.between(source, current)
    if mode == "full_refresh" and (change.added or change.removed):
        return None
    dest = current if mode in ("ignore", "full_refresh") else source
    if mode not in ("ignore", "full_refresh") and change.changed:
        _sync_schema(adapter, target, change, mode)
    return IncrementalStep(
        target=target,
        staging=staging,
        dest_columns=tuple(c.name for c in dest),
        source_columns=tuple(c.name for c in source),
        unique_key=_resolve_names(_as_list(req.config.get("unique_key")), dest),
        predicates=tuple(_predicates(req.config)),
        config=req.config,
    )


def _sync_schema(adapter: Adapter, target: Relation, change: SchemaChange, mode: str) -> None:
    """dbt's on_schema_change: fail, add new columns, or also drop and retype."""
    if mode == "fail":
        raise CompilationError(
            f"The source and target schemas on this incremental model are out of sync "
            f"({target}). {change.describe()}",
            hint="set on_schema_change to append_new_columns or sync_all_columns, "
            "or run with --full-refresh",
        )
    logger.info("schema change (%s) in %s: %s", mode, target, change.describe())
    if change.added:
        adapter.add_columns(target, change.added)
    if mode == "sync_all_columns":
        if change.removed:
            adapter.drop_columns(target, [c.name for c in change.removed])
        for column in change.retyped:
            adapter.alter_column_type(target, column.name, column.data_type)


# -- strategies -----------------------------------------------------------------------------


def append(adapter: Adapter, step: IncrementalStep) -> AdapterResponse:
    """Insert every new row."""
    return adapter.insert_into(step.target, step.staging, step.dest_columns)


def delete_insert(adapter: Adapter, step: IncrementalStep) -> AdapterResponse:
    """Delete the target rows whose key is among the new rows, then insert the new rows.

    Without a `unique_key` this is `append`, as in dbt.
    """
    if step.unique_key:
        adapter.delete_where(
            step.target,
            source=step.staging,
            unique_key=step.unique_key,
            predicates=step.predicates,
        )
    return adapter.insert_into(step.target, step.staging, step.dest_columns)


def merge(adapter: Adapter, step: IncrementalStep) -> AdapterResponse:
    """Update matching rows and insert the others (dbt-duckdb's UPDATE/INSERT BY NAME).

    Only columns present on both sides are written: target columns the model no longer
    produces keep their values (NULL in new rows), as DuckDB's BY NAME does.

    Raises:
        CompilationError: the model has no `unique_key`.
    """
    if not step.unique_key:
        raise CompilationError(
            f"incremental model {step.target.identifier!r} uses the merge strategy but has "
            "no unique_key",
            hint="set unique_key to the column(s) that identify a row, "
            "or use incremental_strategy 'append'",
        )
    produced = {name.casefold() for name in step.source_columns}
    common = [name for name in step.dest_columns if name.casefold() in produced]
    return adapter.merge(
        step.target,
        step.staging,
        unique_key=step.unique_key,
        update_columns=_merge_update_columns(step.config, common),
        insert_columns=common,
        predicates=step.predicates,
    )


def insert_overwrite(adapter: Adapter, step: IncrementalStep) -> AdapterResponse:
    """Replace the `partition_by` partitions the new rows fall in (every row without one).

    Spark overwrites partitions in place; the others delete the matching partitions
    (NULL matching NULL) and insert, in the model's transaction.
    """
    by_name = {name.casefold(): name for name in step.dest_columns}
    wanted = column_list(step.config.get("partition_by"))
    partitions = tuple(by_name.get(name.casefold(), name) for name in wanted)
    return adapter.insert_overwrite(step.target, step.staging, step.dest_columns, partitions)


Strategy = Callable[["Adapter", IncrementalStep], "AdapterResponse"]

STRATEGIES: dict[str, Strategy] = {
    "append": append,
    "delete+insert": delete_insert,
    "merge": merge,
    "insert_overwrite": insert_overwrite,
}

# Strategies that run in batches rather than as one step (see `kiln.materialize.microbatch`).
BATCHED_STRATEGIES = frozenset({"microbatch"})


def resolve_strategy(
    adapter: Adapter, config: Mapping[str, Any], *, model: str | None = None
) -> str:
    """The strategy a model uses (`default` is the adapter's default).

    Raises:
        CompilationError: the strategy is unknown, the warehouse does not offer it, or the
            model's table cannot take it.
    """
    name = str(config.get("incremental_strategy") or "default")
    if name == "default":
        name = adapter.capabilities.default_incremental_strategy
    known = STRATEGIES.keys() | BATCHED_STRATEGIES
    offered = sorted(adapter.capabilities.incremental_strategies & known)
    where = f" in model {model!r}" if model else ""
    if name not in offered:
        raise CompilationError(
            f"Invalid incremental strategy provided: {name!r}{where} ({adapter.name} offers "
            f"{', '.join(offered)})",
            hint=did_you_mean(name, offered),
        )
    problem = adapter.strategy_problem(name, config)
    if problem is not None:
        raise CompilationError(
            f"incremental strategy {name!r}{where} cannot run on {adapter.name}: {problem}",
            hint=f"choose another incremental_strategy ({', '.join(offered)}) or change "
            "the model's table format",
        )
    return name


# -- config helpers ---------------------------------------------------------------------------


def _schema_change_mode(config: Mapping[str, Any]) -> str:
    mode = str(config.get("on_schema_change") or "ignore")
    if mode not in SCHEMA_CHANGE_MODES:
        # dbt logs and falls back rather than failing the model.
        logger.info("Invalid value for on_schema_change (%s) specified; using 'ignore'.", mode)
        return "ignore"
    return mode


def _merge_update_columns(config: Mapping[str, Any], common: list[str]) -> list[str]:
    include = _as_list(config.get("merge_update_columns"))
    exclude = _as_list(config.get("merge_exclude_columns"))
    if include and exclude:
        raise CompilationError(
            "Model cannot specify merge_update_columns and merge_exclude_columns",
            hint="keep only one of the two configs",
        )
    by_name = {name.casefold(): name for name in common}
    if include:
        return [by_name.get(name.casefold(), name) for name in include]
    excluded = {name.casefold() for name in exclude}
    return [name for name in common if name.casefold() not in excluded]


def _predicates(config: Mapping[str, Any]) -> list[str]:
    # `predicates` is the older name dbt still reads.
    value = config.get("incremental_predicates") or config.get("predicates")
    return _as_list(value)


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _resolve_names(names: list[str], columns: Sequence[Column]) -> tuple[str, ...]:
    """Key names as the table spells them (DuckDB and dbt match columns case-insensitively)."""
    by_name = {c.name.casefold(): c.name for c in columns}
    return tuple(by_name.get(name.casefold(), name) for name in names)


def _model_name(req: BuildRequest) -> str:
    return req.node_id.rsplit(".", 1)[-1] or req.relation.identifier


def _drop_quietly(adapter: Adapter, relation: Relation) -> None:
    """Clean up after a failure without hiding it."""
    try:
        adapter.drop_relation(relation)
    except KilnError as exc:
        logger.debug("could not drop %s: %s", relation, exc.message)
