"""Execution semantics: failures, skips, fail-fast, atomic rebuilds, the journal, artifacts."""

from __future__ import annotations

import re

from .conftest import journal_results

FAILING = "select 1 as id, 10 / missing_column as broken"


def test_failing_model_exits_1_with_duckdb_error_and_skips_its_children(project):
    proj = project(
        {
            "models/bad.sql": FAILING,
            "models/child.sql": "select * from {{ ref('bad') }}",
            "models/grandchild.sql": "select * from {{ ref('child') }}",
            "models/independent.sql": "select 1 as id",
        }
    )

    result = proj.run("run")

    assert result.exit_code == 1, result
    assert "Traceback" not in result.output
    by_id = {r["unique_id"]: r for r in proj.run_results()["results"]}
    assert by_id["model.e2e.bad"]["status"] == "error"
    assert 'Binder Error: Referenced column "missing_column"' in by_id["model.e2e.bad"]["message"]
    assert by_id["model.e2e.child"]["status"] == "skipped"
    assert by_id["model.e2e.grandchild"]["status"] == "skipped"
    assert by_id["model.e2e.independent"]["status"] == "success"
    assert proj.relations() == {"independent": "VIEW"}
    assert "missing_column" in result.output
    assert "ERROR=1 SKIP=2" in result.output


def test_fail_fast_stops_scheduling_after_the_first_failure(project):
    proj = project(
        {
            "models/a_bad.sql": FAILING,
            **{f"models/z{i}.sql": f"select {i} as id" for i in range(3)},
        }
    )

    result = proj.run("run", "--fail-fast", "--threads", "1")

    assert result.exit_code == 1, result
    statuses = proj.statuses()
    assert statuses["model.e2e.a_bad"] == "error"
    assert not [uid for uid, status in statuses.items() if status == "success"]
    assert proj.relations() == {}


def test_without_fail_fast_independent_models_still_run_after_a_failure(project):
    proj = project(
        {
            "models/a_bad.sql": FAILING,
            **{f"models/z{i}.sql": f"select {i} as id" for i in range(3)},
        }
    )

    result = proj.run("run", "--threads", "1")

    assert result.exit_code == 1, result
    assert proj.relations() == {"z0": "VIEW", "z1": "VIEW", "z2": "VIEW"}


def test_failed_rebuild_of_a_table_leaves_the_old_table_and_rows_in_place(project):
    proj = project(
        {"models/t.sql": "{{ config(materialized='table') }} select range as id from range(3)"}
    )
    assert proj.run("run").exit_code == 0

    proj.write(
        {
            "models/t.sql": (
                "{{ config(materialized='table') }}"
                " select range as id, range / missing_column as x from range(10)"
            )
        }
    )
    result = proj.run("run")

    assert result.exit_code == 1, result
    assert proj.statuses() == {"model.e2e.t": "error"}
    assert proj.query("select id from main.t order by id") == [(0,), (1,), (2,)]
    assert proj.relations() == {"t": "BASE TABLE"}, "no temp or backup relation left behind"


def test_failed_incremental_run_leaves_the_old_rows_in_place(project):
    model = (
        "{{ config(materialized='incremental', unique_key='id') }}\n"
        "select range as id, 'v1' as v from range(3)\n"
        "{% if is_incremental() %} where range / missing_column > 0 {% endif %}"
    )
    proj = project({"models/inc.sql": model})
    assert proj.run("run").exit_code == 0

    result = proj.run("run")

    assert result.exit_code == 1, result
    assert proj.statuses() == {"model.e2e.inc": "error"}
    assert proj.query("select id, v from main.inc order by id") == [(0, "v1"), (1, "v1"), (2, "v1")]
    assert proj.relations() == {"inc": "BASE TABLE"}


def test_incremental_delete_insert_failing_on_insert_does_not_keep_the_delete(project):
    # The new rows have a text `v` that cannot be cast into the existing integer column, so
    # the insert fails after the delete of matching keys: the delete must be rolled back.
    model = (
        "{{ config(materialized='incremental', incremental_strategy='delete+insert',"
        " unique_key='id') }}\n"
        "{% if is_incremental() %} select 1 as id, 'not a number' as v\n"
        "{% else %} select * from (values (1, 10), (2, 20)) t(id, v) {% endif %}"
    )
    proj = project({"models/inc.sql": model})
    assert proj.run("run").exit_code == 0

    result = proj.run("run")

    assert result.exit_code == 1, result
    assert proj.statuses() == {"model.e2e.inc": "error"}
    assert "Conversion Error" in proj.run_results()["results"][0]["message"]
    assert proj.query("select id, v from main.inc order by id") == [(1, 10), (2, 20)]


def test_build_skips_children_of_a_failing_test(project):
    proj = project(
        {
            "models/m.sql": "select 1 as id union all select 1",
            "models/child.sql": "select * from {{ ref('m') }}",
            "models/schema.yml": """\
            version: 2
            models:
              - name: m
                columns:
                  - name: id
                    data_tests: [unique]
            """,
        }
    )

    result = proj.run("build")

    assert result.exit_code == 1, result
    assert _results(proj)["model.e2e.m"]["status"] == "success"
    (test,) = [r for uid, r in _results(proj).items() if uid.startswith("test.")]
    assert test["status"] == "fail"
    assert test["failures"] == 1
    assert _results(proj)["model.e2e.child"]["status"] == "skipped"
    assert proj.relations() == {"m": "VIEW"}


def _results(proj) -> dict[str, dict]:
    return {r["unique_id"]: r for r in proj.run_results()["results"]}


def test_journal_has_one_line_per_finished_node(project):
    proj = project(
        {
            "models/a.sql": "select 1 as id",
            "models/bad.sql": FAILING,
            "models/child.sql": "select * from {{ ref('bad') }}",
        }
    )

    result = proj.run("run")

    assert result.exit_code == 1, result
    lines = (proj.root / "target" / "run_results.jsonl").read_text().splitlines()
    records = journal_results(proj)
    assert sorted((r["unique_id"], r["status"]) for r in records) == [
        ("model.e2e.a", "success"),
        ("model.e2e.bad", "error"),
        ("model.e2e.child", "skipped"),
    ]
    # plus one start and one end marker, nothing else
    assert len(lines) == len(records) + 2


def test_run_results_json_has_dbt_fields_for_each_node(project):
    proj = project(
        {
            "seeds/s.csv": "id\n1\n2\n",
            "models/t.sql": "{{ config(materialized='table') }} select * from range(3) r(id)",
        }
    )

    result = proj.run("build", "--threads", "2")

    assert result.exit_code == 0, result
    rr = proj.run_results()
    assert rr["metadata"]["dbt_schema_version"] == (
        "https://schemas.getdbt.com/dbt/run-results/v6.json"
    )
    assert rr["elapsed_time"] > 0
    assert rr["args"]["which"] == "build"
    assert rr["args"]["threads"] == 2
    by_id = {r["unique_id"]: r for r in rr["results"]}
    table = by_id["model.e2e.t"]
    assert table["status"] == "success"
    assert [t["name"] for t in table["timing"]] == ["compile", "execute"]
    for timing in table["timing"]:
        assert timing["started_at"] <= timing["completed_at"]
    assert re.fullmatch(r"Thread-\d+ \(worker\)", table["thread_id"])  # dbt's thread names
    assert table["execution_time"] > 0
    assert table["adapter_response"]["rows_affected"] == 3
    assert table["compiled_code"].strip() == "select * from range(3) r(id)"
    assert table["relation_name"] == '"proj"."main"."t"'
    seed = by_id["seed.e2e.s"]
    assert seed["adapter_response"]["rows_affected"] == 2
    assert seed["relation_name"] == '"proj"."main"."s"'


def test_artifacts_validate_against_dbt_schemas_and_parse_with_dbt_artifacts_parser(
    project, valid_against
):
    from dbt_artifacts_parser.parser import parse_manifest, parse_run_results

    proj = project(
        {
            "seeds/s.csv": "id,name\n1,a\n",
            "models/m.sql": (
                "{{ config(materialized='table', tags=['x']) }} select * from {{ ref('s') }}"
            ),
            "models/e.sql": "{{ config(materialized='ephemeral') }} select 1 as id",
            "models/v.sql": "select * from {{ ref('e') }}",
            "models/bad.sql": FAILING,
            "models/schema.yml": """\
            version: 2
            sources:
              - name: crm
                schema: main
                tables: [{name: people}]
            models:
              - name: m
                description: a table
                columns:
                  - name: id
                    data_tests: [unique, not_null]
            exposures:
              - name: dash
                type: dashboard
                owner: {name: ann}
                depends_on: [ref('m')]
            """,
        }
    )

    result = proj.run("build")

    assert result.exit_code == 1, result
    manifest, run_results = proj.manifest(), proj.run_results()
    valid_against(manifest, "manifest_v12")
    valid_against(run_results, "run_results_v6")
    parsed_manifest = parse_manifest(manifest)
    parsed_results = parse_run_results(run_results)
    assert "model.e2e.m" in parsed_manifest.nodes
    assert {r.unique_id for r in parsed_results.results} >= {
        "seed.e2e.s",
        "model.e2e.m",
        "model.e2e.v",
        "model.e2e.bad",
    }
