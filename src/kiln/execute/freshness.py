"""Source freshness: how old the newest row of each source table is, against its thresholds.

For every selected source table with a `freshness:` config, the newest `loaded_at_field`
value (rows limited by the `filter`) or the `loaded_at_query` result is compared with the
warehouse's current time: older than `error_after` is `error`, older than `warn_after` is
`warn`, else `pass`; a failing query is a `runtime error`. Timestamps without a time zone
are taken as UTC, as dbt does.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from kiln.artifacts import SourceFreshnessResult
from kiln.errors import ConfigError, KilnError, Location
from kiln.events.bus import Level, emit
from kiln.events.format import progress_line
from kiln.execute.result import Timing
from kiln.execute.scheduler import dbt_thread_names

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.manifest.nodes import SourceDefinition

# Seconds per `period` of a `warn_after`/`error_after` threshold.
PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
FAILED = frozenset({"error", "runtime error"})
_WORDS = {"pass": "PASS", "warn": "WARN", "error": "ERROR STALE", "runtime error": "ERROR"}


def threshold_seconds(threshold: Mapping[str, Any] | None) -> float | None:
    """A `{count, period}` threshold in seconds; None when it is not fully set.

    Example:
        >>> threshold_seconds({"count": 12, "period": "hour"})
        43200.0
        >>> threshold_seconds({"count": None, "period": "day"}) is None
        True

    Raises:
        ConfigError: the period is not minute, hour or day.
    """
    if not threshold or threshold.get("count") is None or threshold.get("period") is None:
        return None
    period = str(threshold["period"])
    if period not in PERIOD_SECONDS:
        raise ConfigError(
            f"freshness period '{period}' is not one of {', '.join(PERIOD_SECONDS)}",
            hint="write e.g. warn_after: {count: 12, period: hour}",
        )
    return float(threshold["count"]) * PERIOD_SECONDS[period]


def freshness_status(age_seconds: float, criteria: Mapping[str, Any]) -> str:
    """error past `error_after`, else warn past `warn_after`, else pass (dbt's order).

    Example:
        >>> rule = {"warn_after": {"count": 1, "period": "hour"},
        ...         "error_after": {"count": 1, "period": "day"}}
        >>> [freshness_status(s, rule) for s in (60, 7200, 90000)]
        ['pass', 'warn', 'error']
    """
    error_after = threshold_seconds(criteria.get("error_after"))
    if error_after is not None and age_seconds > error_after:
        return "error"
    warn_after = threshold_seconds(criteria.get("warn_after"))
    if warn_after is not None and age_seconds > warn_after:
        return "warn"
    return "pass"


def has_freshness(source: SourceDefinition) -> bool:
    """Whether a source table has a threshold to check."""
    criteria = source.freshness or {}
    return any(
        threshold_seconds(criteria.get(key)) is not None for key in ("warn_after", "error_after")
    )


def checkable_sources(sources: Iterable[SourceDefinition]) -> list[SourceDefinition]:
    """The sources with a freshness threshold, sorted by unique id.

    Raises:
        ConfigError: a source has a threshold but neither `loaded_at_field` nor
            `loaded_at_query`; the message names the YAML file and the source.
    """
    chosen = sorted((s for s in sources if has_freshness(s)), key=lambda s: s.unique_id)
    for source in chosen:
        if not source.loaded_at_field and not source.loaded_at_query:
            raise ConfigError(
                f"source '{source.source_name}.{source.name}' has a freshness threshold but "
                "no loaded_at_field, so its freshness cannot be computed",
                hint="set loaded_at_field (a timestamp column) or loaded_at_query on the "
                "source or the table, or remove its freshness: config",
                location=Location(source.original_file_path),
            )
    return chosen


def freshness_sql(source: SourceDefinition) -> str:
    """The query returning (max_loaded_at, snapshotted_at) for one source table.

    Example:
        >>> from kiln.manifest.nodes import SourceDefinition
        >>> src = SourceDefinition("source.p.raw.t", "p", "raw", "t", "m.yml", "m.yml",
        ...     [], "t", "raw", loaded_at_field="_loaded", freshness={"filter": "id > 0"},
        ...     relation_name='"raw"."t"')
        >>> freshness_sql(src)
        'select max(_loaded) as max_loaded_at, current_timestamp as snapshotted_at from "raw"."t" where id > 0'
    """  # noqa: E501
    if source.loaded_at_query:
        return (
            f"select ({source.loaded_at_query}) as max_loaded_at, "
            "current_timestamp as snapshotted_at"
        )
    where = (source.freshness or {}).get("filter")
    return (
        f"select max({source.loaded_at_field}) as max_loaded_at, "
        f"current_timestamp as snapshotted_at from {source.relation_name}"
        + (f" where {where}" if where else "")
    )


def as_utc(value: Any) -> dt.datetime:
    """A warehouse timestamp as an aware UTC datetime (naive values are UTC).

    Example:
        >>> as_utc(dt.datetime(2024, 1, 1, 12)).isoformat()
        '2024-01-01T12:00:00+00:00'
        >>> as_utc(None).year
        1

    Raises:
        KilnError: the value is not a timestamp.
    """
    if value is None:
        # No rows: the newest row is "infinitely" old, as in dbt.
        return dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise KilnError(
        f"expected a timestamp for the freshness check, got {type(value).__name__} {value!r}",
        hint="point loaded_at_field at a timestamp column",
    )


def check_one(adapter: Adapter, source: SourceDefinition) -> SourceFreshnessResult:
    """Query one source table and judge its freshness; a failure is a runtime error."""
    started = _iso_now()
    t0 = time.perf_counter()
    criteria = dict(source.freshness or {})
    thread = threading.current_thread().name
    try:
        response, table = adapter.execute(freshness_sql(source), fetch=True)
        row = table.rows[0] if table is not None and table.rows else (None, None)
        max_loaded_at = as_utc(row[0])
        snapshotted_at = as_utc(row[1]) if row[1] is not None else dt.datetime.now(dt.UTC)
    except KilnError as exc:
        return SourceFreshnessResult(
            source.unique_id,
            "runtime error",
            criteria=criteria,
            error=exc.message,
            thread_id=thread,
            execution_time=time.perf_counter() - t0,
        )
    age = (snapshotted_at - max_loaded_at).total_seconds()
    return SourceFreshnessResult(
        source.unique_id,
        freshness_status(age, criteria),
        criteria=criteria,
        max_loaded_at=max_loaded_at,
        snapshotted_at=snapshotted_at,
        timing=(Timing("execute", started, _iso_now()),),
        thread_id=thread,
        execution_time=time.perf_counter() - t0,
        adapter_response=response.to_dict(),
    )


def run_freshness(
    adapter: Adapter, sources: Sequence[SourceDefinition], threads: int
) -> list[SourceFreshnessResult]:
    """Check every source on a thread pool, with dbt's START / PASS / WARN lines.

    Returns:
        The results in the order of `sources`.
    """
    total = len(sources)

    def one(index: int, source: SourceDefinition) -> SourceFreshnessResult:
        label = f"freshness of {source.source_name}.{source.name}"
        emit("LogStartLine", Level.INFO, progress_line(index, total, f"START {label}", "RUN"))
        result = check_one(adapter, source)
        word = _WORDS[result.status]
        level = Level.ERROR if result.status in FAILED else Level.INFO
        if result.status == "warn":
            level = Level.WARN
        took = f"{word} in {result.execution_time:.2f}s"
        emit(
            "LogFreshnessResult",
            level,
            progress_line(index, total, f"{word} {label}", took),
            unique_id=source.unique_id,
            status=result.status,
        )
        return result

    workers = max(1, threads)
    with ThreadPoolExecutor(max_workers=workers, initializer=dbt_thread_names()) as pool:
        futures = [pool.submit(one, i + 1, s) for i, s in enumerate(sources)]
        return [f.result() for f in futures]


def freshness_exit_code(results: Iterable[SourceFreshnessResult]) -> int:
    """1 when a source is stale past `error_after` or could not be checked; warnings pass."""
    return 1 if any(r.status in FAILED for r in results) else 0


def report_problems(
    results: Iterable[SourceFreshnessResult], name_of: Callable[[str], str]
) -> None:
    """The closing lines: each error with its reason, then `Done.`."""
    for result in results:
        if result.status == "runtime error":
            emit("RunResultError", Level.ERROR, f"Error in {name_of(result.unique_id)}")
            emit("RunResultError", Level.ERROR, f"  {result.error}")
        elif result.status == "error":
            emit(
                "RunResultError",
                Level.ERROR,
                f"Source {name_of(result.unique_id)} is stale: older than its error_after",
            )
    emit("FreshnessCheckComplete", Level.INFO, "Done.")


def _iso_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
