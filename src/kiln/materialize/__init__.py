"""Materializations: turn a compiled node into the adapter calls that build it atomically.

Each is written once against the `Adapter` contract; a warehouse difference lives in its
adapter, never in an `if adapter.name == ...` here. The node runner renders the SQL and
hooks and decides `is_incremental()`; a materialization only builds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kiln.adapters.relation import Relation
from kiln.materialize.incremental import build_incremental
from kiln.materialize.microbatch import build_microbatch
from kiln.materialize.seed import load_seed
from kiln.materialize.table import build_table
from kiln.materialize.view import build_view

if TYPE_CHECKING:
    from kiln.materialize.microbatch import BatchEvent, BatchSql


@dataclass(frozen=True)
class BuildRequest:
    """One node to build.

    Attributes:
        node_id: the node's unique_id.
        relation: the relation to build.
        sql: the compiled SELECT, run verbatim.
        config: the node's config (`unique_key`, `incremental_strategy`, `on_schema_change`,
            `incremental_predicates`, `merge_update_columns`, `merge_exclude_columns`, ...).
        full_refresh: `--full-refresh` applies to this node.
        incremental: the runner's `is_incremental()`: the relation exists as a table and
            this is not a full refresh.
        pre_hooks: rendered SQL run before the build, in its transaction.
        post_hooks: rendered SQL run after the build, in its transaction.
        event_time_start: `--event-time-start`, for microbatch models (UTC).
        event_time_end: `--event-time-end`, for microbatch models (UTC).
        batch_sql: microbatch models: renders the model for one batch (its refs limited to
            the batch, `model.batch` set). Without it every batch runs `sql` as it is.
        on_batch: microbatch models: told when each batch starts and ends.
        batches: microbatch models: run exactly these (start, end) windows (UTC) instead of
            the range of the config and flags (`kiln retry` re-running failed batches).
        now: microbatch models: the moment the run covers up to (default: the clock).
    """

    node_id: str
    relation: Relation
    sql: str
    config: Mapping[str, Any]
    full_refresh: bool
    incremental: bool
    pre_hooks: Sequence[str] = ()
    post_hooks: Sequence[str] = ()
    event_time_start: datetime | None = None
    event_time_end: datetime | None = None
    batch_sql: BatchSql | None = None
    on_batch: Callable[[BatchEvent], None] | None = None
    batches: Sequence[tuple[datetime, datetime]] | None = None
    now: datetime | None = None


__all__ = [
    "BuildRequest",
    "build_incremental",
    "build_microbatch",
    "build_table",
    "build_view",
    "load_seed",
]
