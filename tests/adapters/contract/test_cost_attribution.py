"""Statements are tagged with the node they serve, and running queries can be cancelled."""

from __future__ import annotations

import threading
import time

import pytest

from kiln.errors import DatabaseError

# How each engine exposes the tag, read on the thread inside the node scope.
TAG_READERS = {
    "postgres": lambda wh: wh.adapter.fetch("select current_setting('application_name')").rows[0][
        0
    ],
    "spark": lambda wh: wh.adapter._spark().sparkContext.getLocalProperty("spark.job.description"),
}
EXPECTED = {"postgres": "kiln:model.shop.fct", "spark": "kiln: model.shop.fct"}
LONG_QUERIES = {
    "duckdb": "select count(*) from range(10000000000) a",
    "postgres": "select pg_sleep(20)",
    "spark": "select count(*) from range(0, 100000000000, 1, 2) where id % 7 = 3",
}


def test_statements_carry_the_node_they_serve(warehouse):
    read = TAG_READERS.get(warehouse.kind)
    if read is None:
        pytest.skip(f"{warehouse.kind} has no per-statement tag")
    with warehouse.adapter.node_scope("model.shop.fct", {}):
        assert read(warehouse) == EXPECTED[warehouse.kind]
    assert read(warehouse) != EXPECTED[warehouse.kind]


def test_cancel_open_interrupts_a_running_query(warehouse):
    errors: list[BaseException] = []

    def run() -> None:
        try:
            warehouse.adapter.execute(LONG_QUERIES[warehouse.kind], fetch=True)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run, name="long-query")
    started = time.monotonic()
    worker.start()
    cancelled: set[str] = set()
    # Ask again until the query stops: a cancel sent before the engine started the job
    # (Spark plans first) has nothing to interrupt yet.
    while worker.is_alive() and time.monotonic() - started < 20:
        time.sleep(0.5)
        cancelled.update(warehouse.adapter.cancel_open())
    worker.join(timeout=30)
    assert cancelled == {"long-query"}
    assert not worker.is_alive() and time.monotonic() - started < 25
    assert len(errors) == 1 and isinstance(errors[0], DatabaseError)
