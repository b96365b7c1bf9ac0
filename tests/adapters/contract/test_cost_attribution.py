"""Statements are tagged with the node they serve, and running queries can be cancelled."""

from __future__ import annotations

import threading
import time

import pytest

from kiln.errors import DatabaseError

from .conftest import write

# How each engine exposes the tag, read on the thread inside the node scope.
TAG_READERS = {
    "postgres": lambda wh: wh.adapter.fetch("select current_setting('application_name')").rows[0][
        0
    ],
    "spark": lambda wh: wh.adapter._spark().sparkContext.getLocalProperty("spark.job.description"),
    # Spark Connect has no job description: the node rides on the thread's job tags.
    "spark_connect": lambda wh: next(
        (tag for tag in wh.adapter._spark().getTags() if tag.startswith("kiln: ")), None
    ),
}
EXPECTED = {
    "postgres": "kiln:model.shop.fct",
    "spark": "kiln: model.shop.fct",
    "spark_connect": "kiln: model.shop.fct",
}
LONG_QUERIES = {
    "duckdb": "select count(*) from range(10000000000) a",
    "postgres": "select pg_sleep(20)",
    "spark": "select count(*) from range(0, 100000000000, 1, 2) where id % 7 = 3",
    "spark_connect": "select count(*) from range(0, 100000000000, 1, 2) where id % 7 = 3",
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


TAGGED_PROJECT = {
    "dbt_project.yml": """\
        name: contract
        version: "1.0.0"
        config-version: 2
        profile: contract
        on-run-start:
          - "create table if not exists {{ target.schema }}.seen (label text)"
        seeds:
          contract:
            +post-hook: "insert into {{ target.schema }}.seen select {{ label }}"
        snapshots:
          contract:
            +post-hook: "insert into {{ target.schema }}.seen select {{ label }}"
        """,
    "macros/label.sql": "{% macro label() %}current_setting('application_name'){% endmacro %}",
    "seeds/s.csv": "id\n1\n",
    "snapshots/snap.yml": """\
        snapshots:
          - name: snap
            relation: ref('s')
            config: {unique_key: id, strategy: check, check_cols: all}
        """,
    # Fails (returns a row) unless the test's own statement is attributed to it.
    "tests/runs_as_itself.sql": (
        "select 1 as wrong where {{ label() }} <> 'kiln:test.contract.runs_as_itself'"
    ),
}


def test_seeds_snapshots_and_tests_are_attributed_too(warehouse, tmp_path, run_kiln):
    if warehouse.kind != "postgres":
        pytest.skip("read back through PostgreSQL's application_name")
    root = tmp_path / "project"
    files = {**TAGGED_PROJECT, "profiles.yml": warehouse.profiles_yml("contract")}
    files["dbt_project.yml"] = files["dbt_project.yml"].replace("{{ label }}", "{{ label() }}")
    write(root, files)
    warehouse.adapter.close()

    result = run_kiln(["build", "--profiles-dir", str(root)], cwd=root)
    assert result.exit_code == 0, result.output
    # the seed, the snapshot, the test and (as dbt counts it) the on-run-start hook
    assert "PASS=4 WARN=0 ERROR=0" in result.output
    assert sorted(warehouse.rows("seen")) == [
        ("kiln:seed.contract.s",),
        ("kiln:snapshot.contract.snap",),
    ]
