"""The `microbatch` incremental strategy: one compile and one transaction per time batch.

A microbatch model names its time column (`event_time`), the batch size (`batch_size`:
hour, day, month or year), where history starts (`begin`) and how many past batches an
incremental run reprocesses (`lookback`, default 1). A first run or `--full-refresh`
starts at `begin`; a later run reprocesses `lookback` batches before the current one. An
explicit `--event-time-start` / `--event-time-end` range wins over both. `kiln retry`
hands over exactly the batches that failed before (`BuildRequest.batches`).

Each batch is compiled on its own (`BuildRequest.batch_sql`): its `ref`s and `source`s to
upstreams that have an `event_time` read only the batch's window, and `model.batch` holds
the batch's id and bounds. The model's own rows are not filtered here. The first batch of
a first run builds the table from its rows, as a table model would; every other batch
stages its rows and replaces its window of the table in its own transaction
(`Adapter.replace_window`: delete + insert of the window, or a partition overwrite where the
engine has one). A failing batch is recorded and the run goes on, so the model can end in
dbt's "partial success"; when the first batch fails, the others are skipped, as dbt does.

Batches run one after another. dbt may run the middle batches of a model concurrently
(`concurrent_batches`); Kiln keeps them sequential, which gives the same rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kiln.adapters.base import AdapterResponse
from kiln.adapters.table_options import column_list
from kiln.errors import CompilationError, KilnError, did_you_mean
from kiln.materialize.table import build_table, run_hooks, should_full_refresh

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.adapters.relation import Relation
    from kiln.materialize import BuildRequest

logger = logging.getLogger(__name__)

BATCH_SIZES = ("hour", "day", "month", "year")

# How a batch's start is written in its id, console line and compiled file name (dbt's).
_LABEL_FORMATS = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


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


@dataclass(frozen=True, slots=True)
class Batch:
    """One `[start, end)` window of a microbatch run, in UTC without a zone (as compared
    with the event_time columns); `size` is the model's batch_size."""

    start: datetime
    end: datetime
    size: str

    @property
    def label(self) -> str:
        """The start as dbt writes it in console lines: `2024-01-01`, `2024-01-01T10`, ...

        Example:
            >>> Batch(datetime(2024, 5, 1), datetime(2024, 6, 1), "month").label
            '2024-05'
        """
        return self.start.strftime(_LABEL_FORMATS[self.size])

    @property
    def id(self) -> str:
        """`model.batch.id`: the label without dashes (`20240101`, `20240101T10`)."""
        return self.label.replace("-", "")

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """Start and end, timezone-aware (UTC), as the Jinja context and artifacts show them."""
        return self.start.replace(tzinfo=UTC), self.end.replace(tzinfo=UTC)

    def context(self) -> dict[str, Any]:
        """`model.batch` in the Jinja context of this batch."""
        start, end = self.bounds
        return {"id": self.id, "event_time_start": start, "event_time_end": end}

    def iso(self) -> list[str]:
        """`[start, end]` as run_results.json's `batch_results` writes them.

        Example:
            >>> Batch(datetime(2024, 1, 1), datetime(2024, 1, 2), "day").iso()
            ['2024-01-01T00:00:00+00:00', '2024-01-02T00:00:00+00:00']
        """
        return [moment.isoformat() for moment in self.bounds]


# Renders the model's SQL for one batch; the flag is `is_incremental()` for that batch.
BatchSql = Callable[[Batch, bool], str]


@dataclass(frozen=True, slots=True)
class BatchEvent:
    """A batch starting (`status` "run") or finished ("success", "error" or "skipped").

    `index` counts from 1; `message` is the warehouse's status text of a success
    (`OK`, `INSERT 3`) or the error of a failure.
    """

    batch: Batch
    index: int
    total: int
    status: str
    message: str = ""
    elapsed: float = 0.0
    error: KilnError | None = None


@dataclass
class MicrobatchRun:
    """What a microbatch build did, batch by batch (dbt's `batch_results`)."""

    successful: list[Batch] = field(default_factory=list)
    failed: list[Batch] = field(default_factory=list)
    errors: list[KilnError] = field(default_factory=list)
    rows: int = 0

    @property
    def status(self) -> str:
        """dbt's node status: success, error (no batch succeeded) or partial success."""
        if not self.failed:
            return "success"
        return "partial success" if self.successful else "error"

    @property
    def message(self) -> str:
        """dbt's node message: `SUCCESS`, `ERROR` or `PARTIAL SUCCESS (2/3)`."""
        status = self.status
        if status == "partial success":
            done = len(self.successful)
            return f"PARTIAL SUCCESS ({done}/{done + len(self.failed)})"
        return status.upper()

    def response(self) -> AdapterResponse:
        """The build as one response, for callers that want all or nothing.

        Raises:
            KilnError: the first batch error; the batches that succeeded stay committed.
        """
        if self.errors:
            raise self.errors[0]
        count = len(self.successful)
        return AdapterResponse(f"OK {count} batches", rows_affected=self.rows)


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


def ceiling(moment: datetime, size: str) -> datetime:
    """The end of the batch `moment` falls in, or `moment` itself when it starts a batch.

    Example:
        >>> ceiling(datetime(2024, 5, 17, 13, 45), "day"), ceiling(datetime(2024, 5, 17), "day")
        (datetime.datetime(2024, 5, 18, 0, 0), datetime.datetime(2024, 5, 17, 0, 0))
    """
    start = truncate(moment, size)
    return start if start == moment else offset(start, size, 1)


def offset(moment: datetime, size: str, count: int) -> datetime:
    """`moment` moved by `count` batches (of an aligned `moment`).

    Example:
        >>> offset(datetime(2024, 11, 1), "month", 3)
        datetime.datetime(2025, 2, 1, 0, 0)
    """
    if size == "hour":
        return moment + timedelta(hours=count)
    if size == "day":
        return moment + timedelta(days=count)
    if size == "month":
        months = moment.year * 12 + moment.month - 1 + count
        return moment.replace(year=months // 12, month=months % 12 + 1)
    return moment.replace(year=moment.year + count)


def batches(start: datetime, end: datetime, size: str) -> list[tuple[datetime, datetime]]:
    """Aligned windows from `start` up to `end`; the last one ends at `end`.

    There is always at least one window, as in dbt (an empty range gives one empty batch).

    Example:
        >>> [b[0].day for b in batches(datetime(2024, 1, 1, 6), datetime(2024, 1, 3), "day")]
        [1, 2]
    """
    current = truncate(start, size)
    windows = [(current, offset(current, size, 1))]
    while windows[-1][1] < end:
        current = windows[-1][1]
        windows.append((current, offset(current, size, 1)))
    windows[-1] = (windows[-1][0], end)
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
    """The time range a run covers, by dbt's rules.

    The end is `end` (else `now`) moved up to a batch boundary. The start is `start`
    (else `begin` on a first run, else `lookback` batches before the batch ending at the
    end), moved down to a batch boundary. Like dbt, an incremental run does not stop at
    `begin`.

    Raises:
        CompilationError: a first run without `begin` or `--event-time-start`.
    """
    size = spec.batch_size
    last = ceiling(end if end is not None else now, size)
    if start is None:
        if first_run:
            if spec.begin is None:
                raise CompilationError(
                    f"microbatch model {model!r} has no begin",
                    hint="set begin to the earliest event time to load, e.g. '2024-01-01'",
                )
            start = spec.begin
        else:
            # The batch ending at `last` is the current one; lookback counts past it.
            start = offset(last, size, -(spec.lookback + 1))
    return truncate(start, size), last


def build_microbatch(adapter: Adapter, req: BuildRequest) -> MicrobatchRun:
    """Build a microbatch model batch by batch, recording how each batch went.

    A batch that fails does not stop the others (except the first, which skips them all);
    the returned run says which succeeded. `req.on_batch` hears each batch start and end.

    Raises:
        CompilationError: an invalid microbatch config, or a strategy the warehouse or
            the model's table cannot use; raised before any batch runs.
    """
    from kiln.materialize.incremental import resolve_strategy

    with adapter.node_scope(req.node_id, req.config):
        # the warehouse must offer microbatch and the table take it (Spark: partition_by)
        resolve_strategy(adapter, req.config, model=_model_name(req))
        return run_batches(adapter, req)


def run_batches(adapter: Adapter, req: BuildRequest) -> MicrobatchRun:
    """The batches of a microbatch model, once its strategy is known to be usable.

    Raises:
        CompilationError: an invalid microbatch config (no batch has run).
    """
    model = _model_name(req)
    spec = MicrobatchSpec.from_config(req.config, model)
    target = req.relation.incorporate(type="table")
    existing = adapter.get_relation(target.database, target.schema, target.identifier)
    rebuild = not req.incremental or should_full_refresh(req) or existing is None
    rebuild = rebuild or (existing is not None and existing.is_view)
    windows = _windows(req, spec, first_run=rebuild, model=model)
    logger.info("%s: %d %s batch(es) from %s", model, len(windows), spec.batch_size,
                windows[0].start if windows else None)  # fmt: skip
    run = MicrobatchRun()
    notify = req.on_batch or (lambda event: None)
    first_failed = False
    for index, batch in enumerate(windows):
        position = (index + 1, len(windows))
        if first_failed:
            # dbt skips every batch after a failed first one (there may be no table yet)
            run.failed.append(batch)
            notify(BatchEvent(batch, *position, "skipped", "SKIPPED"))
            continue
        notify(BatchEvent(batch, *position, "run"))
        hooks = (
            req.pre_hooks if index == 0 else (),
            req.post_hooks if index == len(windows) - 1 else (),
        )
        started = time.perf_counter()
        try:
            response = _build_batch(
                adapter, req, spec, target, batch, hooks, incremental=index > 0 or not rebuild
            )
        except KilnError as exc:
            first_failed = index == 0
            run.failed.append(batch)
            run.errors.append(exc)
            elapsed = time.perf_counter() - started
            notify(BatchEvent(batch, *position, "error", exc.message, elapsed, exc))
            continue
        run.successful.append(batch)
        run.rows += response.rows_affected or 0
        elapsed = time.perf_counter() - started
        notify(BatchEvent(batch, *position, "success", response.message, elapsed))
    return run


def _windows(
    req: BuildRequest, spec: MicrobatchSpec, *, first_run: bool, model: str
) -> list[Batch]:
    if req.batches is not None:
        return [Batch(_as_utc(s), _as_utc(e), spec.batch_size) for s, e in req.batches]
    now = _naive(req.now) or datetime.now(UTC).replace(tzinfo=None)
    start, end = batch_range(
        spec,
        now=now,
        first_run=first_run,
        start=_naive(req.event_time_start),
        end=_naive(req.event_time_end),
        model=model,
    )
    return [Batch(s, e, spec.batch_size) for s, e in batches(start, end, spec.batch_size)]


def _build_batch(
    adapter: Adapter,
    req: BuildRequest,
    spec: MicrobatchSpec,
    target: Relation,
    batch: Batch,
    hooks: tuple[Sequence[str], Sequence[str]],
    *,
    incremental: bool,
) -> AdapterResponse:
    sql = req.batch_sql(batch, incremental) if req.batch_sql is not None else req.sql
    if not incremental:
        # A first run's first batch creates the table from its rows, as dbt's does.
        return build_table(adapter, replace(req, sql=sql, pre_hooks=hooks[0], post_hooks=hooks[1]))
    return _replace_batch(adapter, req, spec, target, batch, sql, hooks)


def _replace_batch(
    adapter: Adapter,
    req: BuildRequest,
    spec: MicrobatchSpec,
    target: Relation,
    batch: Batch,
    sql: str,
    hooks: tuple[Sequence[str], Sequence[str]],
) -> AdapterResponse:
    from kiln.materialize.incremental import _drop_quietly, reconcile

    staging = adapter.temp_relation(target)
    try:
        with adapter.transaction():
            run_hooks(adapter, hooks[0])
            adapter.create_table_as(staging, sql, temporary=True)
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
                (spec.event_time, batch.start, batch.end),
                partitions,
            )
            run_hooks(adapter, hooks[1])
    except BaseException:
        _drop_quietly(adapter, staging)
        raise
    adapter.drop_relation(staging)
    return response


def _model_name(req: BuildRequest) -> str:
    return req.node_id.rsplit(".", 1)[-1]


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


def _as_utc(value: datetime) -> datetime:
    naive = _naive(value)
    assert naive is not None
    return naive
