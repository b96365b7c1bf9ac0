"""The state surface of the CLI: bad `--state` input, `result:`, `source_status:`,
`ls --explain`, `retry` and `clone`.
"""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest

FAILING = {
    "models/ok.sql": "select 1 as id\n",
    "models/broken.sql": "select * from missing_table\n",
    "models/after_broken.sql": "select * from {{ ref('broken') }}\n",
    "models/schema.yml": """\
        version: 2
        models:
          - name: ok
            columns:
              - name: id
                data_tests: [not_null]
        """,
}


def ids(result):
    found = set()
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            found.add(json.loads(line)["unique_id"])
    return found


def ls(proj, state, selector, *extra):
    return proj.run(
        "ls", "--state", str(state), "-s", selector, "--output", "json",
        "--output-keys", "unique_id", "--resource-type", "all", *extra,
    )  # fmt: skip


@pytest.fixture
def parsed(project, tmp_path):
    proj = project({"models/a.sql": "select 1 as id\n"})
    assert proj.run("parse").exit_code == 0
    state = tmp_path / "state"
    shutil.copytree(proj.root / "target", state)
    return proj, state


# ---- bad input ---------------------------------------------------------------------------


def test_missing_state_folder_is_a_clear_error(parsed, tmp_path):
    proj, _ = parsed
    result = ls(proj, tmp_path / "nowhere", "state:modified")
    assert result.exit_code == 2
    assert "--state folder" in result.output and "does not exist" in result.output


def test_state_folder_without_manifest_is_a_clear_error(parsed, tmp_path):
    proj, _ = parsed
    (tmp_path / "empty").mkdir()
    result = ls(proj, tmp_path / "empty", "state:modified")
    assert result.exit_code == 2
    assert "has no manifest.json" in result.output


def test_unsupported_manifest_version_is_a_clear_error(parsed):
    proj, state = parsed
    manifest = json.loads((state / "manifest.json").read_text())
    manifest["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/manifest/v99.json"
    (state / "manifest.json").write_text(json.dumps(manifest))
    result = ls(proj, state, "state:modified")
    assert result.exit_code == 2
    assert "v99" in result.output


def test_manifest_of_another_project_is_a_clear_error(parsed):
    proj, state = parsed
    manifest = json.loads((state / "manifest.json").read_text())
    manifest["metadata"]["project_name"] = "someone_else"
    (state / "manifest.json").write_text(json.dumps(manifest))
    result = ls(proj, state, "state:modified")
    assert result.exit_code == 2
    assert "belongs to project 'someone_else'" in result.output


def test_unknown_state_value_points_at_it(parsed):
    proj, state = parsed
    result = ls(proj, state, "state:modified.bodies")
    assert result.exit_code == 2
    assert "did you mean 'modified.body'?" in result.output
    assert "^^^" in result.output


def test_result_without_run_results_is_a_clear_error(parsed):
    proj, state = parsed
    result = ls(proj, state, "result:error")
    assert result.exit_code == 2
    assert "run_results.json" in result.output


def test_state_comes_from_the_environment_too(parsed, monkeypatch):
    proj, state = parsed
    monkeypatch.setenv("KILN_STATE", str(state))
    proj.write({"models/a.sql": "select 2 as id\n"})
    result = proj.run("ls", "-s", "state:modified", "--output", "name")
    assert result.exit_code == 0
    assert "a" in result.stdout.split()


# ---- result: and source_status: ------------------------------------------------------------


@pytest.fixture
def failed_run(project, tmp_path):
    proj = project(FAILING)
    assert proj.run("build").exit_code == 1
    state = tmp_path / "state"
    shutil.copytree(proj.root / "target", state)
    return proj, state


def test_result_selectors_read_the_state_run_results(failed_run):
    proj, state = failed_run
    assert ids(ls(proj, state, "result:error", "--indirect-selection", "empty")) == {
        "model.e2e.broken"
    }
    assert ids(ls(proj, state, "result:skipped")) == {"model.e2e.after_broken"}
    assert ids(ls(proj, state, "result:success", "--indirect-selection", "empty")) == {
        "model.e2e.ok"
    }
    assert {u.split(".")[2] for u in ids(ls(proj, state, "result:pass"))} == {"not_null_ok_id"}
    assert ids(ls(proj, state, "result:error+")) == {
        "model.e2e.broken",
        "model.e2e.after_broken",
    }


def test_unknown_result_status_lists_the_valid_ones(failed_run):
    proj, state = failed_run
    result = ls(proj, state, "result:erorr")
    assert result.exit_code == 2
    assert "did you mean 'error'?" in result.output


def _sources_json(path, loaded):
    document = {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json",
            "dbt_version": "1.11.16",
            "generated_at": "2024-01-01T00:00:00Z",
            "invocation_id": "x",
            "env": {},
        },
        "results": [
            {"unique_id": uid, "max_loaded_at": stamp, "status": "pass"}
            if stamp
            else {"unique_id": uid, "status": "runtime error"}
            for uid, stamp in loaded.items()
        ],
        "elapsed_time": 1.0,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def test_source_status_fresher(project, tmp_path):
    sources = """\
        version: 2
        sources:
          - name: raw
            tables: [{name: a}, {name: b}, {name: c}, {name: d}]
        """
    proj = project({"models/sources.yml": sources, "models/m.sql": "select 1 as id\n"})
    assert proj.run("parse").exit_code == 0
    state = tmp_path / "state"
    shutil.copytree(proj.root / "target", state)
    early, late = "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"
    _sources_json(
        state / "sources.json",
        {"source.e2e.raw.a": early, "source.e2e.raw.b": early, "source.e2e.raw.d": None},
    )
    _sources_json(
        proj.root / "target" / "sources.json",
        {
            "source.e2e.raw.a": late,
            "source.e2e.raw.b": early,
            "source.e2e.raw.c": late,
            "source.e2e.raw.d": late,
        },
    )
    assert ids(ls(proj, state, "source_status:fresher")) == {
        "source.e2e.raw.a",
        "source.e2e.raw.c",
    }


def test_source_status_without_sources_json_is_a_clear_error(parsed):
    proj, state = parsed
    result = ls(proj, state, "source_status:fresher")
    assert result.exit_code == 2
    assert "sources.json" in result.output


# ---- ls --explain --------------------------------------------------------------------------


def test_explain_says_why_each_node_was_selected(project, tmp_path):
    proj = project(
        {
            "macros/m.sql": "{% macro two() %}2{% endmacro %}",
            "models/a.sql": "select {{ two() }} as id\n",
            "models/b.sql": "select * from {{ ref('a') }}\n",
            "models/c.sql": "select 1 as id\n",
            "models/schema.yml": "version: 2\nmodels:\n  - name: c\n    config: {tags: [t]}\n",
        }
    )
    assert proj.run("parse").exit_code == 0
    state = tmp_path / "state"
    shutil.copytree(proj.root / "target", state)
    proj.write({"macros/m.sql": "{% macro two() %}3{% endmacro %}"})
    result = proj.run("ls", "--state", str(state), "-s", "state:modified+ tag:t", "--explain")
    lines = result.stdout.splitlines()
    assert "model.e2e.a: state:modified+: macro macro.e2e.two" in lines
    assert "model.e2e.b: state:modified+: upstream change in model.e2e.a" in lines
    assert "model.e2e.c: tag:t: matched" in lines


# ---- retry -----------------------------------------------------------------------------------


def test_retry_reruns_failed_and_skipped_nodes_only(failed_run):
    proj, _ = failed_run
    proj.write({"models/broken.sql": "select 2 as id\n"})
    result = proj.run("retry")
    assert result.exit_code == 0, result.output
    assert proj.statuses() == {
        "model.e2e.broken": "success",
        "model.e2e.after_broken": "success",
    }
    assert proj.run_results()["args"]["which"] == "build"


def test_retry_keeps_the_original_arguments(project):
    proj = project(FAILING)
    assert proj.run("run", "-s", "broken+", "--vars", "{x: 1}").exit_code == 1
    proj.write({"models/broken.sql": "select {{ var('x') }} as id\n"})
    assert proj.run("retry").exit_code == 0
    assert proj.statuses() == {"model.e2e.broken": "success", "model.e2e.after_broken": "success"}
    assert proj.query("select id from broken") == [(1,)]
    assert proj.run_results()["args"]["vars"] == {"x": 1}


def test_retry_with_nothing_to_retry(project):
    proj = project({"models/a.sql": "select 1 as id\n"})
    assert proj.run("run").exit_code == 0
    result = proj.run("retry")
    assert result.exit_code == 0
    assert "Nothing to retry" in result.output


def test_retry_without_a_previous_run(project):
    proj = project({"models/a.sql": "select 1 as id\n"})
    result = proj.run("retry")
    assert result.exit_code == 2
    assert "no previous run to retry" in result.output


# ---- clone -----------------------------------------------------------------------------------


def _two_targets(tmp_path):
    prod, dev = tmp_path / "prod.duckdb", tmp_path / "dev.duckdb"
    return textwrap.dedent(
        f"""\
        e2e:
          target: prod
          outputs:
            prod: {{type: duckdb, path: "{prod.as_posix()}", schema: main}}
            dev:
              type: duckdb
              path: "{dev.as_posix()}"
              schema: main
              attach: [{{path: "{prod.as_posix()}", alias: prod}}]
        """
    )


def _through_views(dev, prod, sql):
    """Rows of `sql` in the dev file, with prod attached as the views expect."""
    import duckdb

    con = duckdb.connect(str(dev), read_only=True)
    try:
        con.execute(f"attach '{prod.as_posix()}' as prod (read_only)")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_clone_creates_views_over_the_state_relations(project, tmp_path, query_db):
    files = {
        "profiles.yml": _two_targets(tmp_path),
        "seeds/s.csv": "id\n1\n2\n",
        "models/t.sql": "{{ config(materialized='table') }} select id * 10 as v from "
        "{{ ref('s') }}",
        "models/e.sql": "{{ config(materialized='ephemeral') }} select 1 as id",
    }
    proj = project(files)
    assert proj.run("build", "--target", "prod").exit_code == 0
    state = tmp_path / "prod_state"
    shutil.copytree(proj.root / "target", state)
    result = proj.run("clone", "--state", str(state), "--target", "dev")
    assert result.exit_code == 0, result.output
    dev = tmp_path / "dev.duckdb"
    kinds = query_db(
        dev,
        "select table_name, table_type from information_schema.tables "
        "where table_catalog = 'dev' order by 1",
    )
    assert kinds == [("s", "VIEW"), ("t", "VIEW")]
    assert _through_views(dev, tmp_path / "prod.duckdb", "select v from t order by v") == [
        (10,),
        (20,),
    ]
    assert set(proj.statuses().values()) == {"success"}
    again = proj.run("clone", "--state", str(state), "--target", "dev")
    assert again.exit_code == 0
    assert "already exists" in again.output


def test_clone_needs_state(project):
    proj = project({"models/a.sql": "select 1 as id\n"})
    result = proj.run("clone")
    assert result.exit_code == 2
    assert "clone needs --state" in result.output
