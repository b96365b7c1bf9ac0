"""The microbatch strategy: each batch compiled on its own, and replaced in its own transaction.

The model reads an upstream table `events_src` whose event_time is `day`. As the runner's
compiler does, each batch's SQL reads the upstream through a relation limited to the batch
(`Relation.event_time_filter`), so these tests also run dbt's filtered-ref SQL on each engine.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kiln.adapters.base import InsertOverwrite
from kiln.adapters.relation import EventTimeFilter
from kiln.errors import CompilationError, DatabaseError

from .conftest import request_for, union

# Daily events; `day` is the event time (and Spark's partition column).
NAMES = ("id", "day", "v")
EVENTS = union(
    (1, "date '2023-12-31'", "old"),
    (2, "date '2024-01-01'", "a"),
    (3, "date '2024-01-02'", "b"),
    (4, "date '2024-01-03'", "c"),
    (5, "date '2024-01-05'", "late"),
    names=NAMES,
)
CONFIG = {
    "incremental_strategy": "microbatch",
    "event_time": "day",
    "batch_size": "day",
    "begin": "2024-01-01",
    "partition_by": "day",
}
JAN = {day: dt.datetime(2024, 1, day) for day in range(1, 6)}


def load_upstream(warehouse, rows=EVENTS):
    """(Re)create the upstream table the model reads."""
    source = warehouse.rel("events_src").incorporate(type="table")
    warehouse.adapter.drop_relation(source)
    warehouse.adapter.create_table_as(source, rows)
    return source


def reading(warehouse, source, calls=None):
    """Per-batch SQL as the compiler renders `select * from {{ ref('events_src') }}`."""
    aliased = warehouse.adapter.capabilities.subquery_alias

    def render(batch, incremental):
        if calls is not None:
            calls.append((batch.start, incremental))
        window = EventTimeFilter("day", *batch.bounds, aliased=aliased)
        return f"select * from {source.incorporate(event_time_filter=window)}"

    return render


def request(warehouse, batch_sql, *, start, end, config=CONFIG, full_refresh=False, **extra):
    relation = warehouse.rel("events")
    incremental = warehouse.kind_of(relation) == "table" and not full_refresh
    return request_for(
        relation,
        "select * from events_src",  # what `sql` would be; each batch uses batch_sql
        config,
        incremental=incremental,
        full_refresh=full_refresh,
        event_time_start=start,
        event_time_end=end,
        batch_sql=batch_sql,
        **extra,
    )


def build(warehouse, batch_sql, **kwargs):
    from kiln.materialize import build_incremental

    return build_incremental(warehouse.adapter, request(warehouse, batch_sql, **kwargs))


def run_batches(warehouse, batch_sql, **kwargs):
    from kiln.materialize import build_microbatch

    return build_microbatch(warehouse.adapter, request(warehouse, batch_sql, **kwargs))


def ids(warehouse):
    return sorted(row[0] for row in warehouse.rows("events"))


def days(batches):
    return [batch.start.day for batch in batches]


def test_first_run_loads_only_the_batches_in_range(warehouse):
    source = load_upstream(warehouse)
    response = build(warehouse, reading(warehouse, source), start=JAN[1], end=JAN[4])
    assert response.message == "OK 3 batches"
    assert ids(warehouse) == [2, 3, 4]
    assert warehouse.leftovers() == []


def test_each_batch_reads_only_its_window_of_the_upstream(warehouse):
    source = load_upstream(warehouse)
    calls = []
    run = run_batches(warehouse, reading(warehouse, source, calls), start=JAN[1], end=JAN[4])
    assert run.status == "success" and run.message == "SUCCESS"
    # the first batch of a first run builds the table; the others are incremental
    assert calls == [(JAN[1], False), (JAN[2], True), (JAN[3], True)]
    assert days(run.successful) == [1, 2, 3] and run.failed == []


def test_a_rerun_replaces_only_its_batches(warehouse):
    source = load_upstream(warehouse)
    build(warehouse, reading(warehouse, source), start=JAN[1], end=JAN[4])
    changed = union(
        (2, "date '2024-01-01'", "a2"),
        (30, "date '2024-01-02'", "b2"),
        (4, "date '2024-01-03'", "c2"),
        names=NAMES,
    )
    load_upstream(warehouse, changed)
    calls = []
    build(warehouse, reading(warehouse, source, calls), start=JAN[2], end=JAN[3])
    assert calls == [(JAN[2], True)]
    by_id = {row[0]: row for row in warehouse.rows("events")}
    assert sorted(by_id) == [2, 4, 30]  # day 2 replaced: 3 gone, 30 in
    assert "a" in by_id[2] and "c" in by_id[4]  # days 1 and 3 untouched


def test_without_an_explicit_range_a_first_run_starts_at_begin(warehouse):
    source = load_upstream(warehouse)
    config = {**CONFIG, "batch_size": "year"}
    response = build(warehouse, reading(warehouse, source), start=None, end=None, config=config)
    years = dt.datetime.now(dt.UTC).year - 2024 + 1
    assert response.message == f"OK {years} batches"
    assert ids(warehouse) == [2, 3, 4, 5]  # 2023 is before begin


def test_an_unfiltered_batch_replaces_its_window_as_the_engine_does(warehouse):
    """A batch whose SQL is not limited (an upstream without event_time) returns rows of
    other days too: dbt-duckdb's delete + insert keeps only the window's rows; dbt-spark
    overwrites every partition the batch returned."""
    source = load_upstream(warehouse)
    build(warehouse, reading(warehouse, source), start=JAN[1], end=JAN[4])
    changed = union(
        (20, "date '2024-01-01'", "a2"),
        (30, "date '2024-01-02'", "b2"),
        (40, "date '2024-01-03'", "c2"),
        names=NAMES,
    )
    build(warehouse, lambda batch, incremental: changed, start=JAN[2], end=JAN[3])
    if warehouse.adapter.capabilities.insert_overwrite is InsertOverwrite.INSERT_OVERWRITE:
        assert ids(warehouse) == [20, 30, 40]
    else:
        assert ids(warehouse) == [2, 4, 30]


def test_a_failing_batch_leaves_a_partial_success(warehouse):
    source = load_upstream(warehouse)
    render = reading(warehouse, source)

    def failing_on_day_2(batch, incremental):
        if batch.start == JAN[2]:
            return "select * from no_such_table_anywhere"
        return render(batch, incremental)

    events = []
    run = run_batches(warehouse, failing_on_day_2, start=JAN[1], end=JAN[4], on_batch=events.append)
    assert run.status == "partial success"
    assert run.message == "PARTIAL SUCCESS (2/3)"
    assert days(run.successful) == [1, 3] and days(run.failed) == [2]
    assert isinstance(run.errors[0], DatabaseError)
    assert ids(warehouse) == [2, 4]  # days 1 and 3 committed
    assert [(e.index, e.status) for e in events] == [
        (1, "run"), (1, "success"), (2, "run"), (2, "error"), (3, "run"), (3, "success"),
    ]  # fmt: skip
    with pytest.raises(DatabaseError):  # the all-or-nothing entry point raises it
        build(warehouse, failing_on_day_2, start=JAN[2], end=JAN[3])
    assert warehouse.leftovers() == []


def test_a_failing_first_batch_skips_the_others(warehouse):
    source = load_upstream(warehouse)
    render = reading(warehouse, source)

    def failing_on_day_1(batch, incremental):
        if batch.start == JAN[1]:
            raise CompilationError("cannot render this batch")
        return render(batch, incremental)

    events = []
    run = run_batches(warehouse, failing_on_day_1, start=JAN[1], end=JAN[4], on_batch=events.append)
    assert run.status == "error" and run.message == "ERROR"
    assert run.successful == [] and days(run.failed) == [1, 2, 3]
    assert [e.status for e in events if e.status != "run"] == ["error", "skipped", "skipped"]
    assert warehouse.kind_of("events") is None  # no table was created


def test_given_batches_are_exactly_the_ones_run(warehouse):
    """`kiln retry` hands over the failed batches of the previous run."""
    source = load_upstream(warehouse)
    build(warehouse, reading(warehouse, source), start=JAN[1], end=JAN[2])
    calls = []
    run = run_batches(
        warehouse,
        reading(warehouse, source, calls),
        start=None,
        end=None,
        batches=[(JAN[3], JAN[4])],
    )
    assert calls == [(JAN[3], True)]
    assert days(run.successful) == [3]
    assert ids(warehouse) == [2, 4]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"event_time": None}, "event_time"),
        ({"batch_size": "week"}, "batch_size"),
        ({"begin": None}, "begin"),
    ],
)
def test_invalid_config_names_the_model_and_the_fix(warehouse, change, words):
    config = {**CONFIG, **change}
    if warehouse.adapter.strategy_problem("microbatch", config):
        pytest.skip("refused earlier by the adapter")
    with pytest.raises(CompilationError) as info:
        build(warehouse, None, start=None, end=None, config=config)
    assert "'events'" in info.value.message and words in info.value.message
    assert info.value.hint


def test_partition_overwriting_engines_need_partition_by(warehouse):
    config = {k: v for k, v in CONFIG.items() if k != "partition_by"}
    problem = warehouse.adapter.strategy_problem("microbatch", config)
    if warehouse.adapter.capabilities.insert_overwrite is not InsertOverwrite.INSERT_OVERWRITE:
        assert problem is None  # the window is deleted, then inserted
        return
    assert problem and "partition_by" in problem
    with pytest.raises(CompilationError, match="partition_by"):
        build(warehouse, None, start=JAN[1], end=JAN[2], config=config)
