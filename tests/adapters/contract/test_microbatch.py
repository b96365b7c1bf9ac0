"""The microbatch strategy: each time batch replaced in its own transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from kiln.adapters.base import InsertOverwrite
from kiln.errors import CompilationError

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


def build(warehouse, sql, *, start, end, config=CONFIG, full_refresh=False):
    from kiln.materialize import build_incremental

    relation = warehouse.rel("events")
    incremental = warehouse.kind_of(relation) == "table" and not full_refresh
    return build_incremental(
        warehouse.adapter,
        request_for(
            relation,
            sql,
            config,
            incremental=incremental,
            full_refresh=full_refresh,
            event_time_start=start,
            event_time_end=end,
        ),
    )


def ids(warehouse):
    return sorted(row[0] for row in warehouse.rows("events"))


def test_first_run_loads_only_the_batches_in_range(warehouse):
    response = build(warehouse, EVENTS, start=dt.datetime(2024, 1, 1), end=dt.datetime(2024, 1, 4))
    assert response.message == "OK 3 batches"
    assert ids(warehouse) == [2, 3, 4]
    assert warehouse.leftovers() == []


def test_a_rerun_replaces_only_its_batches(warehouse):
    build(warehouse, EVENTS, start=dt.datetime(2024, 1, 1), end=dt.datetime(2024, 1, 4))
    changed = union(
        (2, "date '2024-01-01'", "a2"),
        (30, "date '2024-01-02'", "b2"),
        (4, "date '2024-01-03'", "c2"),
        names=NAMES,
    )
    build(warehouse, changed, start=dt.datetime(2024, 1, 2), end=dt.datetime(2024, 1, 3))
    by_id = {row[0]: row for row in warehouse.rows("events")}
    assert sorted(by_id) == [2, 4, 30]  # day 2 replaced: 3 gone, 30 in
    assert "a" in by_id[2] and "c" in by_id[4]  # days 1 and 3 untouched


def test_without_an_explicit_range_a_first_run_starts_at_begin(warehouse):
    config = {**CONFIG, "batch_size": "year"}
    response = build(warehouse, EVENTS, start=None, end=None, config=config)
    years = dt.datetime.now(dt.UTC).year - 2024 + 1
    assert response.message == f"OK {years} batches"
    assert ids(warehouse) == [2, 3, 4, 5]  # 2023 is before begin


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
        build(warehouse, EVENTS, start=None, end=None, config=config)
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
        build(
            warehouse,
            EVENTS,
            start=dt.datetime(2024, 1, 1),
            end=dt.datetime(2024, 1, 2),
            config=config,
        )
