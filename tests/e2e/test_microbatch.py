"""Microbatch models end to end: per-batch compiles, `model.batch`, partial success, retry.

The expected rows and run_results fields were recorded with dbt-core 1.11.16 and
dbt-duckdb 1.11.1 on the same models.
"""

from __future__ import annotations

import datetime as dt

import pytest

UPSTREAM = {
    # an upstream with an event_time: each batch reads only its window of it
    "models/events.sql": """\
        {{ config(materialized='table', event_time='ts') }}
        select 1 as id, timestamp '2024-01-01 10:00:00' as ts
        union all select 2, timestamp '2024-01-02 10:00:00'
        union all select 3, timestamp '2024-01-03 10:00:00'
        union all select 4, timestamp '2023-12-31 10:00:00'
        """,
    # an upstream without one: every batch reads all of it
    "models/dim.sql": """\
        {{ config(materialized='table') }}
        select 1 as k union all select 2
        """,
}
MICROBATCH = """\
    {{ config(materialized='incremental', incremental_strategy='microbatch',
              event_time='ts', batch_size='day', begin='2024-01-01') }}
    select e.id, e.ts,
      (select count(*) from {{ ref('dim') }}) as dims,
      '{{ model.batch.id }}' as batch_id,
      '{{ model.batch.event_time_start }}' as batch_start,
      '{{ model.batch.event_time_end.isoformat() }}' as batch_end,
      '{{ var("tag", "first") }}' as tag,
      {% if model.batch.event_time_start.strftime('%Y-%m-%d') == var('fail_day', '') %}
        'boom'::int
      {% else %} 0 {% endif %} as broken
    from {{ ref('events') }} e
    """
RANGE = ("--event-time-start", "2024-01-01", "--event-time-end", "2024-01-04")
DAY = [f"2024-01-0{day}T00:00:00+00:00" for day in range(1, 5)]


def jan(day, hour=0):
    return dt.datetime(2024, 1, day, hour)


@pytest.fixture
def mb_project(project):
    return project(
        {
            **UPSTREAM,
            "models/mb.sql": MICROBATCH,
            "models/child.sql": "select * from {{ ref('mb') }}",
        }
    )


def result_of(proj, name):
    return next(r for r in proj.run_results()["results"] if r["unique_id"] == f"model.e2e.{name}")


def test_each_batch_is_compiled_with_its_window_and_context(mb_project):
    proj = mb_project
    result = proj.run("run", *RANGE)

    assert result.exit_code == 0, result
    assert proj.query("select * exclude (broken) from mb order by id") == [
        (1, jan(1, 10), 2, "20240101", "2024-01-01 00:00:00+00:00", DAY[1], "first"),
        (2, jan(2, 10), 2, "20240102", "2024-01-02 00:00:00+00:00", DAY[2], "first"),
        (3, jan(3, 10), 2, "20240103", "2024-01-03 00:00:00+00:00", DAY[3], "first"),
    ]
    mb = result_of(proj, "mb")
    assert (mb["status"], mb["message"], mb["failures"]) == ("success", "SUCCESS", 0)
    assert (mb["compiled"], mb["compiled_code"], mb["adapter_response"]) == (False, None, {})
    assert mb["batch_results"] == {
        "successful": [[DAY[0], DAY[1]], [DAY[1], DAY[2]], [DAY[2], DAY[3]]],
        "failed": [],
    }
    assert result_of(proj, "events")["batch_results"] is None
    lines = result.output.splitlines()
    assert any("START sql microbatch model main.mb" in line for line in lines)
    assert any("Batch 2 of 3 START batch 2024-01-02 of main.mb ....." in line for line in lines)
    assert any("Batch 2 of 3 OK created batch 2024-01-02 of main.mb" in line for line in lines)
    assert any("OK created sql microbatch model main.mb" in line and "[SUCCESS in" in line
               for line in lines)  # fmt: skip


def test_a_filtered_ref_renders_as_a_subquery_and_render_opts_out(project):
    proj = project(
        {
            **UPSTREAM,
            "models/shape.sql": """\
                {{ config(materialized='incremental', incremental_strategy='microbatch',
                          event_time='ts', batch_size='day', begin='2024-01-01') }}
                select '{{ ref('events') | string | replace("'", "''") }}' as filtered,
                  '{{ ref('events').render() }}' as rendered,
                  '{{ ref('dim') }}' as unfiltered,
                  '{{ this }}' as this_,
                  timestamp '2024-01-02 00:00:00' as ts
                """,
            # outside a microbatch model nothing is filtered and there is no model.batch
            "models/plain.sql": """\
                select '{{ model.batch }}' as batch, count(*) as n from {{ ref('events') }}
                """,
        }
    )
    result = proj.run("run", "--event-time-start", "2024-01-02", "--event-time-end", "2024-01-03")

    assert result.exit_code == 0, result
    assert proj.query("select filtered, rendered, unfiltered, this_ from shape") == [
        (
            '(select * from "proj"."main"."events" where ts >= \'2024-01-02 00:00:00+00:00\''
            " and ts < '2024-01-03 00:00:00+00:00')",
            '"proj"."main"."events"',
            '"proj"."main"."dim"',
            '"proj"."main"."shape"',
        )
    ]
    assert proj.query("select batch, n from plain") == [("", 4)]


def test_sources_with_an_event_time_are_filtered_in_hourly_batches(project):
    proj = project(
        {
            "seeds/clicks.csv": "id,clicked_at\n1,2024-01-01 10:15:00\n2,2024-01-01 11:30:00\n"
            "3,2024-01-01 12:00:00\n4,2024-01-01 09:59:59\n",
            "seeds/plain.csv": "x\n1\n2\n3\n",
            "models/sources.yml": """\
                version: 2
                sources:
                  - name: raw
                    schema: main
                    tables:
                      - name: clicks
                        config:
                          event_time: clicked_at
                      - name: plain
                """,
            "models/hourly.sql": """\
                {{ config(materialized='incremental', incremental_strategy='microbatch',
                          event_time='clicked_at', batch_size='hour', begin='2024-01-01') }}
                select c.id, c.clicked_at, '{{ model.batch.id }}' as batch_id,
                  (select count(*) from {{ source('raw', 'plain') }}) as plain_rows
                from {{ source('raw', 'clicks') }} c
                """,
        }
    )
    assert proj.run("seed").exit_code == 0
    result = proj.run(
        "run", "-s", "hourly",
        "--event-time-start", "2024-01-01 10:20:00", "--event-time-end", "2024-01-01 12:00:00",
    )  # fmt: skip

    assert result.exit_code == 0, result
    assert proj.query("select * from hourly order by id") == [
        (1, jan(1, 10).replace(minute=15), "20240101T10", 3),
        (2, jan(1, 11).replace(minute=30), "20240101T11", 3),
    ]
    assert result_of(proj, "hourly")["batch_results"]["successful"] == [
        ["2024-01-01T10:00:00+00:00", "2024-01-01T11:00:00+00:00"],
        ["2024-01-01T11:00:00+00:00", "2024-01-01T12:00:00+00:00"],
    ]


def test_an_upstream_without_event_time_is_read_whole_by_every_batch(project):
    proj = project(
        {
            "models/raw.sql": """\
                {{ config(materialized='table') }}
                select 1 as id, timestamp '2024-01-01 10:00:00' as ts
                union all select 2, timestamp '2024-01-02 10:00:00'
                union all select 3, timestamp '2024-01-03 10:00:00'
                union all select 4, timestamp '2023-12-31 10:00:00'
                union all select 5, timestamp '2024-01-09 10:00:00'
                """,
            "models/mb.sql": """\
                {{ config(materialized='incremental', incremental_strategy='microbatch',
                          event_time='ts', batch_size='day', begin='2024-01-01') }}
                select id, ts, {{ is_incremental() }} as inc from {{ ref('raw') }}
                """,
        }
    )
    assert proj.run("run", *RANGE).exit_code == 0
    # As dbt-duckdb: the first batch creates the table from all the rows it read; each
    # later batch replaces its window with the rows it read in that window.
    assert proj.query("select * from mb order by id") == [
        (1, jan(1, 10), False),
        (2, jan(2, 10), True),
        (3, jan(3, 10), True),
        (4, dt.datetime(2023, 12, 31, 10), False),
        (5, jan(9, 10), False),
    ]


def test_a_failing_batch_is_a_partial_success_and_retry_reruns_only_it(mb_project):
    proj = mb_project
    first = proj.run("run", *RANGE, "--vars", "{fail_day: '2024-01-02'}")

    assert first.exit_code == 1, first
    assert proj.statuses() == {
        "model.e2e.dim": "success",
        "model.e2e.events": "success",
        "model.e2e.mb": "partial success",
        "model.e2e.child": "skipped",
    }
    mb = result_of(proj, "mb")
    assert mb["message"] == "PARTIAL SUCCESS (2/3)"
    assert mb["batch_results"] == {
        "successful": [[DAY[0], DAY[1]], [DAY[2], DAY[3]]],
        "failed": [[DAY[1], DAY[2]]],
    }
    assert proj.query("select id from mb order by id") == [(1,), (3,)]
    out = first.output
    assert "Batch 2 of 3 ERROR creating batch 2024-01-02 of main.mb" in out
    assert "Batch 3 of 3 OK created batch 2024-01-03 of main.mb" in out
    assert "PARTIALLY created sql microbatch model main.mb" in out
    assert "[PARTIAL SUCCESS (2/3) in " in out
    assert "Completed with 1 partial success and 0 warnings" in out
    assert "ERROR=1 SKIP=1" in out

    retried = proj.run("retry", "--vars", "{fail_day: '', tag: retry}")

    assert retried.exit_code == 0, retried
    assert "Batch 1 of 1 START batch 2024-01-02 of main.mb" in retried.output
    assert proj.statuses() == {"model.e2e.mb": "success", "model.e2e.child": "success"}
    # only the failed batch ran again: its row carries the retry's tag
    assert proj.query("select id, batch_id, tag from mb order by id") == [
        (1, "20240101", "first"),
        (2, "20240102", "retry"),
        (3, "20240103", "first"),
    ]
    # dbt lists the re-run batches first, then those that had already succeeded
    assert result_of(proj, "mb")["batch_results"] == {
        "successful": [[DAY[1], DAY[2]], [DAY[0], DAY[1]], [DAY[2], DAY[3]]],
        "failed": [],
    }
    assert proj.query("select count(*) from child") == [(3,)]


def test_a_failing_first_batch_skips_the_rest_and_retry_runs_them_all(mb_project):
    proj = mb_project
    first = proj.run("run", *RANGE, "--vars", "{fail_day: '2024-01-01'}")

    assert first.exit_code == 1, first
    mb = result_of(proj, "mb")
    assert (mb["status"], mb["message"]) == ("error", "ERROR")
    assert mb["batch_results"] == {
        "successful": [],
        "failed": [[DAY[0], DAY[1]], [DAY[1], DAY[2]], [DAY[2], DAY[3]]],
    }
    assert "Batch 2 of 3 SKIP batch 2024-01-02 of main.mb" in first.output
    assert "[SKIPPED in " in first.output
    assert "mb" not in proj.relations()

    retried = proj.run("retry", "--vars", "{fail_day: ''}")

    assert retried.exit_code == 0, retried
    assert "Batch 3 of 3 OK created batch 2024-01-03 of main.mb" in retried.output
    assert proj.query("select id from mb order by id") == [(1,), (2,), (3,)]
    # the recorded range was read back from run_results.json's args
    assert proj.run_results()["args"]["event_time_start"].startswith("2024-01-01")
