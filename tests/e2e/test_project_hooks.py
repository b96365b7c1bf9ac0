"""Project hooks are dbt's `operation` nodes, in the manifest and in run_results."""

from __future__ import annotations

import hashlib

from kiln_project import DEFAULT_PROJECT_YML

PROJECT_YML = (
    DEFAULT_PROJECT_YML
    + """\
on-run-start:
  - create table if not exists main.runlog (n int, ev varchar)
  - "{{ log_start() }}"
on-run-end:
  - "insert into main.runlog values (3, 'end {{ results | length }}') "
"""
)
FILES = {
    "dbt_project.yml": PROJECT_YML,
    "macros/log_start.sql": (
        "{% macro log_start() %}insert into main.runlog values (1, 'start'){% endmacro %}"
    ),
    "models/m.sql": "select 1 as id",
    "models/n.sql": "select * from {{ ref('m') }}",
}
# the first start hook fails, so the runlog table is never created
FAILING_START = PROJECT_YML.replace(
    "  - create table if not exists main.runlog (n int, ev varchar)\n",
    "  - select * from no_such_table\n",
)


def test_hooks_are_operation_nodes_of_the_manifest(project):
    proj = project(FILES)
    result = proj.run("parse")
    assert result.exit_code == 0, result
    assert "Found 2 models, 3 operations" in result.output
    nodes = proj.manifest()["nodes"]
    hook = nodes["operation.e2e.e2e-on-run-start-1"]
    assert {k: hook[k] for k in ("name", "resource_type", "path", "original_file_path")} == {
        "name": "e2e-on-run-start-1",
        "resource_type": "operation",
        "path": "hooks/e2e-on-run-start-1.sql",
        "original_file_path": "./dbt_project.yml",
    }
    assert hook["fqn"] == ["e2e", "hooks", "e2e-on-run-start-1"]
    assert hook["raw_code"] == "{{ log_start() }}"
    assert hook["depends_on"] == {"macros": ["macro.e2e.log_start"], "nodes": []}
    assert hook["tags"] == ["on-run-start"] and hook["config"]["tags"] == []
    assert hook["index"] == 1 and hook["relation_name"] is None
    assert hook["checksum"]["checksum"] == hashlib.sha256(PROJECT_YML.strip().encode()).hexdigest()
    assert nodes["operation.e2e.e2e-on-run-end-0"]["tags"] == ["on-run-end"]
    assert nodes["operation.e2e.e2e-on-run-end-0"]["index"] == 0


def test_hook_results_surround_the_nodes_in_run_results(project):
    proj = project(FILES)
    result = proj.run("run")
    assert result.exit_code == 0, result
    results = proj.run_results()["results"]
    assert [r["unique_id"] for r in results] == [
        "operation.e2e.e2e-on-run-start-0",
        "operation.e2e.e2e-on-run-start-1",
        "model.e2e.m",
        "model.e2e.n",
        "operation.e2e.e2e-on-run-end-0",
    ]
    end = results[-1]
    assert (end["status"], end["message"], end["thread_id"]) == (
        "success",
        "e2e.on-run-end.0 passed",
        "main",
    )
    # rendered as is (dbt keeps the trailing space); `results` holds the two models
    assert end["compiled_code"] == "insert into main.runlog values (3, 'end 2') "
    assert end["failures"] == 0 and end["adapter_response"] == {}
    assert [t["name"] for t in end["timing"]] == ["compile", "execute"]
    assert proj.query("select n, ev from main.runlog order by n") == [(1, "start"), (3, "end 2")]
    assert "Finished running 3 project hooks, 2 view models" in result.output
    assert "PASS=5 WARN=0 ERROR=0 SKIP=0" in result.output


def test_a_failing_start_hook_skips_the_next_hooks_and_fails_the_run(project):
    proj = project({**FILES, "dbt_project.yml": FAILING_START})
    result = proj.run("run")
    assert result.exit_code == 1, result
    by_id = {r["unique_id"]: r for r in proj.run_results()["results"]}
    first = by_id["operation.e2e.e2e-on-run-start-0"]
    assert first["status"] == "error" and first["failures"] == 1
    assert first["message"].startswith("e2e.on-run-start.0 failed, error:\n ")
    assert "no_such_table" in first["message"]
    second = by_id["operation.e2e.e2e-on-run-start-1"]
    assert (second["status"], second["message"], second["timing"]) == (
        "skipped",
        "e2e.on-run-start.1 skipped",
        [],
    )
    # as in dbt (without skip_nodes_if_on_run_start_fails), the models still run
    assert by_id["model.e2e.n"]["status"] == "success"
    assert proj.query("select id from main.n") == [(1,)]
    assert "SKIP hook: e2e.on-run-start.1" in result.output


def test_compile_renders_the_hooks_but_not_an_empty_one(project):
    with_empty = PROJECT_YML.replace("on-run-end:", '  - ""\non-run-end:')
    proj = project({**FILES, "dbt_project.yml": with_empty})
    result = proj.run("compile")
    assert result.exit_code == 0, result
    by_id = {r["unique_id"]: r for r in proj.run_results()["results"]}
    assert sorted(uid for uid in by_id if uid.startswith("operation.")) == [
        "operation.e2e.e2e-on-run-end-0",
        "operation.e2e.e2e-on-run-start-0",
        "operation.e2e.e2e-on-run-start-1",
    ]
    start = by_id["operation.e2e.e2e-on-run-start-1"]
    assert (start["status"], start["compiled_code"]) == (
        "success",
        "insert into main.runlog values (1, 'start')",
    )
    # no run results exist when compiling
    end_sql = by_id["operation.e2e.e2e-on-run-end-0"]["compiled_code"]
    assert end_sql == "insert into main.runlog values (3, 'end 0') "
    written = proj.root / "target/compiled/e2e/dbt_project.yml/hooks/e2e-on-run-start-1.sql"
    assert written.read_text() == start["compiled_code"]


def test_the_skip_nodes_flag_skips_every_node_after_a_failing_start_hook(project):
    flagged = FAILING_START + "flags:\n  skip_nodes_if_on_run_start_fails: true\n"
    proj = project({**FILES, "dbt_project.yml": flagged})
    result = proj.run("run")
    assert result.exit_code == 1, result
    by_id = {r["unique_id"]: r for r in proj.run_results()["results"]}
    for uid in ("model.e2e.m", "model.e2e.n"):
        assert (by_id[uid]["status"], by_id[uid]["message"]) == ("skipped", None)
    assert "1 of 2 SKIP relation main.m" in result.output
    assert proj.query(
        "select count(*) from information_schema.tables where table_name in ('m', 'n')"
    ) == [(0,)]
