"""Each CLI command, run on a small project: what it writes, prints and builds."""

from __future__ import annotations

import json
import re

from .conftest import journal_results

PROPERTIES = """\
version: 2
sources:
  - name: crm
    schema: main
    tables:
      - name: people
models:
  - name: b
    columns:
      - name: id
        data_tests: [not_null]
exposures:
  - name: dashboard
    type: dashboard
    owner: {name: ann, email: ann@example.com}
    depends_on: [ref('b')]
"""

CHAIN = {
    "models/a.sql": "select 1 as id union all select 2",
    "models/b.sql": "select id from {{ ref('a') }}",
    "models/c.sql": "select id * 10 as id from {{ ref('b') }}",
}


def _lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.strip()]


def test_parse_writes_a_v12_manifest_with_nodes_sources_and_exposures(project):
    proj = project({**CHAIN, "models/schema.yml": PROPERTIES})

    result = proj.run("parse")

    assert result.exit_code == 0, result
    manifest = proj.manifest()
    meta = manifest["metadata"]
    assert meta["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/manifest/v12.json"
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["dbt_version"])
    assert meta["project_name"] == "e2e"
    assert meta["adapter_type"] == "duckdb"
    assert {"model.e2e.a", "model.e2e.b", "model.e2e.c"} <= set(manifest["nodes"])
    tests = [uid for uid in manifest["nodes"] if uid.startswith("test.")]
    assert len(tests) == 1
    assert tests[0].startswith("test.e2e.not_null_b_id.")
    assert list(manifest["sources"]) == ["source.e2e.crm.people"]
    assert list(manifest["exposures"]) == ["exposure.e2e.dashboard"]
    assert manifest["exposures"]["exposure.e2e.dashboard"]["depends_on"]["nodes"] == ["model.e2e.b"]
    assert manifest["child_map"]["model.e2e.a"] == ["model.e2e.b"]
    assert proj.relations() == {}, "parse must not touch the warehouse"


def test_compile_writes_sql_with_refs_resolved_to_quoted_relation_names(project):
    proj = project(CHAIN)

    result = proj.run("compile")

    assert result.exit_code == 0, result
    compiled = proj.root / "target" / "compiled" / "e2e" / "models" / "b.sql"
    assert compiled.read_text().strip() == 'select id from "proj"."main"."a"'
    assert (proj.root / "target" / "compiled" / "e2e" / "models" / "c.sql").is_file()
    assert proj.relations() == {}, "compile must not build relations"


def test_ls_output_name_lists_selected_names(project):
    proj = project({**CHAIN, "models/schema.yml": PROPERTIES})

    result = proj.run("ls", "--select", "a+", "--resource-type", "model", "--output", "name")

    assert result.exit_code == 0, result
    assert _lines(result) == ["a", "b", "c"]


def test_ls_output_path_lists_original_file_paths(project):
    proj = project(CHAIN)

    result = proj.run("ls", "--select", "b c", "--output", "path")

    assert result.exit_code == 0, result
    assert _lines(result) == ["models/b.sql", "models/c.sql"]


def test_ls_output_selector_lists_fqns_sources_and_exposures(project):
    proj = project({**CHAIN, "models/schema.yml": PROPERTIES})

    result = proj.run("ls", "--exclude", "resource_type:test", "--output", "selector")

    assert result.exit_code == 0, result
    assert sorted(_lines(result)) == [
        "e2e.a",
        "e2e.b",
        "e2e.c",
        "exposure:e2e.dashboard",
        "source:e2e.crm.people",
    ]


def test_ls_output_json_with_output_keys_prints_only_those_keys(project):
    proj = project(CHAIN)

    result = proj.run(
        "ls", "-s", "+b", "--output", "json", "--output-keys", "name resource_type depends_on"
    )

    assert result.exit_code == 0, result
    records = [json.loads(line) for line in _lines(result)]
    assert records == [
        {"name": "a", "resource_type": "model", "depends_on": {"nodes": [], "macros": []}},
        {
            "name": "b",
            "resource_type": "model",
            "depends_on": {"nodes": ["model.e2e.a"], "macros": []},
        },
    ]


def test_ls_output_json_default_keys_include_unique_id_and_config(project):
    proj = project(CHAIN)

    result = proj.run("ls", "-s", "a", "--output", "json")

    assert result.exit_code == 0, result
    (record,) = [json.loads(line) for line in _lines(result)]
    assert record["unique_id"] == "model.e2e.a"
    assert record["original_file_path"] == "models/a.sql"
    assert record["config"]["materialized"] == "view"


def test_show_with_limit_prints_that_many_rows(project):
    proj = project({"models/nums.sql": "select range as n from range(100, 110)"})

    result = proj.run("show", "--select", "nums", "--limit", "2")

    assert result.exit_code == 0, result
    rows = [line for line in _lines(result) if re.fullmatch(r"\|\s*\d+\s*\|", line)]
    assert [int(r.strip("| ")) for r in rows] == [100, 101]
    assert proj.relations() == {}, "show must not build the model"


def test_seed_loads_csv_rows_into_a_table(project):
    proj = project({"seeds/colors.csv": "id,color\n1,red\n2,blue\n", **CHAIN})

    result = proj.run("seed")

    assert result.exit_code == 0, result
    assert proj.query("select id, color from main.colors order by id") == [(1, "red"), (2, "blue")]
    assert proj.relations() == {"colors": "BASE TABLE"}, "seed must not build models"
    assert proj.statuses() == {"seed.e2e.colors": "success"}


def test_run_select_builds_only_the_selected_model(project):
    proj = project(CHAIN)

    result = proj.run("run", "--select", "a")

    assert result.exit_code == 0, result
    assert proj.relations() == {"a": "VIEW"}
    assert proj.statuses() == {"model.e2e.a": "success"}


def test_run_exclude_leaves_out_the_excluded_models(project):
    proj = project(CHAIN)

    result = proj.run("run", "--exclude", "c")

    assert result.exit_code == 0, result
    assert proj.relations() == {"a": "VIEW", "b": "VIEW"}
    assert set(proj.statuses()) == {"model.e2e.a", "model.e2e.b"}


def test_build_runs_seeds_before_models_and_tests_after_them(project):
    proj = project(
        {
            "seeds/raw.csv": "id\n1\n2\n",
            "models/m.sql": "select id from {{ ref('raw') }}",
            "models/schema.yml": """\
            version: 2
            models:
              - name: m
                columns:
                  - name: id
                    data_tests: [unique, not_null]
            """,
        }
    )

    result = proj.run("build")

    assert result.exit_code == 0, result
    finished = [r["unique_id"].split(".")[0] for r in journal_results(proj)]
    assert finished == ["seed", "model", "test", "test"]
    assert proj.statuses() == {
        "seed.e2e.raw": "success",
        "model.e2e.m": "success",
        **{uid: "pass" for uid in proj.statuses() if uid.startswith("test.")},
    }
    assert len([s for s in proj.statuses() if s.startswith("test.")]) == 2


def test_threads_1_runs_every_node_on_one_thread(project):
    proj = project({f"models/m{i}.sql": f"select {i} as id" for i in range(4)})

    result = proj.run("run", "--threads", "1")

    assert result.exit_code == 0, result
    assert "Concurrency: 1 threads" in result.output
    results = proj.run_results()["results"]
    assert len(results) == 4
    assert len({r["thread_id"] for r in results}) == 1
    assert proj.run_results()["args"]["threads"] == 1


def test_clean_removes_the_target_folder(project):
    proj = project(CHAIN)
    assert proj.run("parse").exit_code == 0
    assert (proj.root / "target" / "manifest.json").is_file()

    result = proj.run("clean")

    assert result.exit_code == 0, result
    assert not (proj.root / "target").exists()
    assert (proj.root / "models" / "a.sql").is_file()


def test_debug_exits_0_and_reports_the_connection_ok(project):
    proj = project(CHAIN)

    result = proj.run("debug")

    assert result.exit_code == 0, result
    assert "Connection test: [OK connection ok]" in result.output
    assert "adapter type: duckdb" in result.output
    assert "All checks passed!" in result.output


def test_init_creates_a_project_that_then_builds(tmp_path, monkeypatch, run_kiln, query_db):
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)

    result = run_kiln(["init", "fresh"], cwd=tmp_path)

    assert result.exit_code == 0, result
    root = tmp_path / "fresh"
    assert (root / "dbt_project.yml").is_file()
    assert (root / "profiles.yml").is_file()
    build = run_kiln(["build"], cwd=root)
    assert build.exit_code == 0, build
    assert query_db(root / "fresh.duckdb", "select * from main.my_first_model") == [(1, "hello")]


def test_quiet_prints_only_errors(project):
    proj = project({"models/ok.sql": "select 1 as id", "models/bad.sql": "select nope"})

    result = proj.run("run", "--quiet")

    assert result.exit_code == 1, result
    assert "START" not in result.output
    assert "OK created" not in result.output
    assert "Running with" not in result.output
    assert 'Referenced column "nope"' in result.output


def test_target_path_flag_writes_artifacts_there(project):
    proj = project(CHAIN)

    result = proj.run("run", "--target-path", "elsewhere")

    assert result.exit_code == 0, result
    assert (proj.root / "elsewhere" / "manifest.json").is_file()
    assert (proj.root / "elsewhere" / "run_results.json").is_file()
    assert not (proj.root / "target").exists()


def _json_log(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_log_format_json_prints_one_json_event_per_line(project):
    proj = project(CHAIN)

    result = proj.run("run", "-s", "a", "--log-format", "json")

    assert result.exit_code == 0, result
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    events = _json_log(result)
    assert len(events) == len(lines), "every stdout line is a JSON event"
    finished = [e for e in events if e["info"]["name"] == "LogModelResult"]
    assert [e["data"]["unique_id"] for e in finished] == ["model.e2e.a"]
    assert finished[0]["data"]["status"] == "success"
    assert {"name", "code", "level", "msg", "invocation_id", "thread", "ts"} <= set(
        finished[0]["info"]
    )


def test_log_format_json_events_carry_the_invocation_id(project):
    proj = project(CHAIN)

    result = proj.run("run", "-s", "a", "--log-format", "json")

    assert result.exit_code == 0, result
    invocation_id = proj.run_results()["metadata"]["invocation_id"]
    assert {e["info"]["invocation_id"] for e in _json_log(result)} == {invocation_id}


def test_log_format_json_events_carry_dbt_event_codes(project):
    proj = project(CHAIN)

    result = proj.run("run", "-s", "a", "--log-format", "json")

    assert result.exit_code == 0, result
    codes = {e["info"]["name"]: e["info"]["code"] for e in _json_log(result)}
    assert codes["LogModelResult"] == "Q012"
    assert codes["NodeStart"] == "Q024"


def test_compile_rewrites_changed_and_missing_files_only(project):
    proj = project({"models/a.sql": "select 1 as id", "models/b.sql": "select 2 as id"})
    assert proj.run("compile").exit_code == 0
    compiled = proj.root / "target" / "compiled" / "e2e" / "models"
    b_mtime = (compiled / "b.sql").stat().st_mtime_ns

    proj.write({"models/a.sql": "select 10 as id"})
    (compiled / "b.sql").unlink()
    assert proj.run("compile").exit_code == 0

    assert (compiled / "a.sql").read_text() == "select 10 as id"
    assert (compiled / "b.sql").read_text() == "select 2 as id"
    assert (compiled / "b.sql").stat().st_mtime_ns >= b_mtime
