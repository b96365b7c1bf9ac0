"""The `microbatch` incremental strategy: one transaction per time batch.

A microbatch model names its time column (`event_time`), the batch size (`batch_size`:
hour, day, month or year), where history starts (`begin`) and how many past batches an
incremental run reprocesses (`lookback`, default 1). A first run or `--full-refresh`
creates the table empty, then fills it batch by batch from `begin`; a later run replaces
the batches from `lookback` batches before the current one up to now. An explicit
`--event-time-start` / `--event-time-end` range wins over both.

Each batch selects the model's rows whose `event_time` falls in the batch, then replaces
that window of the table (delete + insert, or a partition overwrite where the engine has
one) in its own transaction, so a failure keeps every batch committed before it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from kiln.adapters.base import AdapterResponse
from kiln.adapters.table_options import column_list
from kiln.errors import CompilationError, did_you_mean
from kiln.materialize.table import build_table, run_hooks, should_full_refresh

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.adapters.relation import Relation
    from kiln.materialize import BuildRequest

logger = logging.getLogger(__name__)

BATCH_SIZES = ("hour", "day", "month", "year")


@dataclass(frozen=True, slots=True)
class MicrobatchSpec:
    """A microbatch model's config, validated."""

    event_time: str
    batch_size: str
    begin: datetime | None
    lookback: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], model: str) -> MicrobatchSpec:
        """Validate `event_time`, `batch_size`, `begin` and `lookback`.

        Raises:
            CompilationError: a missing or invalid value, naming the model and the fix.
        """
        event_time = config.get("event_time")
        if not event_time:
            raise CompilationError(
                f"microbatch model {model!r} has no event_time",
                hint="set event_time to the column holding each row's time",
            )
        size = str(config.get("batch_size") or "")
        if size not in BATCH_SIZES:
            raise CompilationError(
                f"microbatch model {model!r} has batch_size {size or None!r}",
                hint=f"set batch_size to one of {', '.join(BATCH_SIZES)} "
                f"({did_you_mean(size, BATCH_SIZES)})",
            )
        lookback = config.get("lookback")
        return cls(
            event_time=str(event_time),
            batch_size=size,
            begin=_parse_time(config.get("begin"), "begin", model),
            lookback=1 if lookback is None else int(lookback),
        )


def truncate(moment: datetime, size: str) -> datetime:
    """The start of the batch `moment` falls in.

    Example:
        >>> truncate(datetime(2024, 5, 17, 13, 45), "month")
        datetime.datetime(2024, 5, 1, 0, 0)
    """
    moment = moment.replace(minute=0, second=0, microsecond=0)
    if size == "hour":
        return moment
    moment = moment.replace(hour=0)
    if size == "day":
        return moment
    moment = moment.replace(day=1)
    return moment if size == "month" else moment.replace(month=1)


def offset(moment: datetime, size: str, count: int) -> datetime:
    """`moment` moved by `count` batches (of an aligned `moment`).

    Example:
        >>> offset(datetime(2024, 11, 1), "month", 3)
        datetime.datetime(2025, 2, 1, 0, 0)
    """
    from datetime import timedelta

    if size == "hour":
        return moment + timedelta(hours=count)
    if size == "day":
        return moment + timedelta(days=count)
    if size == "month":
        months = moment.year * 12 + moment.month - 1 + count
        return moment.replace(year=months // 12, month=months % 12 + 1)
    return moment.replace(year=moment.year + count)


def batches(start: datetime, end: datetime, size: str) -> list[tuple[datetime, datetime]]:
    """Aligned [start, end) windows covering `start` up to `end`.

    Example:
        >>> [b[0].day for b in batches(datetime(2024, 1, 1, 6), datetime(2024, 1, 3), "day")]
        [1, 2]
    """
    windows = []
    current = truncate(start, size)
    while current < end:
        following = offset(current, size, 1)
        windows.append((current, following))
        current = following
    return windows


def batch_range(
    spec: MicrobatchSpec,
    *,
    now: datetime,
    first_run: bool,
    start: datetime | None = None,
    end: datetime | None = None,
    model: str = "",
) -> tuple[datetime, datetime]:
    """The time range a run covers (dbt's rules; explicit start and end win).

    Raises:
        CompilationError: a first run without `begin` or `--event-time-start`.
    """
    if start is None:
        if first_run:
            if spec.begin is None:
                raise CompilationError(
                    f"microbatch model {model!r} has no begin",
                    hint="set begin to the earliest event time to load, e.g. '2024-01-01'",
                )
            start = spec.begin
        else:
            start = offset(truncate(now, spec.batch_size), spec.batch_size, -spec.lookback)
            if spec.begin is not None:
                start = max(start, spec.begin)
    return start, end if end is not None else now


def build_microbatch(adapter: Adapter, req: BuildRequest) -> AdapterResponse:
    """Build a microbatch model, one transaction per batch.

    Raises:
        CompilationError: an invalid microbatch config.
        DatabaseError: a batch failed; earlier batches stay committed.
    """
    model = req.node_id.rsplit(".", 1)[-1]
    spec = MicrobatchSpec.from_config(req.config, model)
    target = req.relation.incorporate(type="table")
    existing = adapter.get_relation(target.database, target.schema, target.identifier)
    rebuild = not req.incremental or should_full_refresh(req) or existing is None
    rebuild = rebuild or (existing is not None and existing.is_view)
    start, end = batch_range(
        spec,
        now=datetime.now(UTC).replace(tzinfo=None),
        first_run=rebuild,
        start=_naive(req.event_time_start),
        end=_naive(req.event_time_end),
        model=model,
    )
    windows = batches(start, end, spec.batch_size)
    if rebuild:
        empty = replace(req, sql=adapter.empty_sql(req.sql).text, pre_hooks=(), post_hooks=())
        build_table(adapter, empty)
    logger.info("%s: %d %s batch(es) from %s", model, len(windows), spec.batch_size, start)
    rows = 0
    for index, window in enumerate(windows):
        hooks = (
            req.pre_hooks if index == 0 else (),
            req.post_hooks if index == len(windows) - 1 else (),
        )
        rows += _run_batch(adapter, req, spec, target, window, hooks)
    return AdapterResponse(f"OK {len(windows)} batches", rows_affected=rows)


def _run_batch(
    adapter: Adapter,
    req: BuildRequest,
    spec: MicrobatchSpec,
    target: Relation,
    window: tuple[datetime, datetime],
    hooks: tuple[Sequence[str], Sequence[str]],
) -> int:
    from kiln.materialize.incremental import _drop_quietly, reconcile

    staging = adapter.temp_relation(target)
    batch_sql = adapter.window_sql(req.sql, spec.event_time, *window)
    try:
        with adapter.transaction():
            run_hooks(adapter, hooks[0])
            adapter.create_table_as(staging, batch_sql, temporary=True)
            step = reconcile(adapter, req, target, staging)
            if step is None:
                raise CompilationError(
                    f"microbatch model {target.identifier!r} cannot use "
                    "on_schema_change 'full_refresh'",
                    hint="use append_new_columns or sync_all_columns, or run --full-refresh",
                )
            partitions = column_list(req.config.get("partition_by"))
            response = adapter.replace_window(
                target,
                staging,
                step.dest_columns,
                (spec.event_time, *window),
                partitions,
            )
            run_hooks(adapter, hooks[1])
    except BaseException:
        _drop_quietly(adapter, staging)
        raise
    adapter.drop_relation(staging)
    return response.rows_affected or 0


def _parse_time(value: Any, key: str, model: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _naive(value)
    if isinstance(value, date):  # YAML reads `begin: 2024-01-01` as a date
        return datetime(value.year, value.month, value.day)
    try:
        return _naive(datetime.fromisoformat(str(value)))
    except ValueError as exc:
        raise CompilationError(
            f"microbatch model {model!r} has an invalid {key}: {value!r}",
            hint=f"write {key} as an ISO date or timestamp, e.g. '2024-01-01'",
        ) from exc


def _naive(value: datetime | None) -> datetime | None:
    """UTC without a zone, as the batches are compared with the event_time column."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)
