"""Unit tests end to end: given rows in, expected rows out, before the model is built."""

from __future__ import annotations

import pytest

UNIT_TESTS_YML = """\
unit_tests:
  - name: uppercases_names
    model: shout
    given:
      - input: ref('people')
        rows:
          - {id: 1, name: ann}
          - {id: 2}
    expect:
      rows:
        - {id: 1, name: ANN}
        - {id: 2, name: null}
  - name: csv_and_source
    model: joined
    description: csv fixtures and a source input
    config: {tags: [unit]}
    given:
      - input: ref('shout')
        format: csv
        rows: |
          id,name
          1,ANN
          2,BOB
      - input: source('raw', 'scores')
        format: sql
        rows: select 1 as id, 10 as score
    expect:
      format: csv
      rows: |
        name,score
        ANN,10
        BOB,
  - name: incremental_and_vars
    model: incr
    overrides:
      macros: {is_incremental: true}
      vars: {bonus: 100}
    given:
      - input: ref('people')
        rows: [{id: 1}, {id: 5}]
      - input: this
        rows: [{id: 4, points: 0}]
    expect:
      rows: [{id: 5, points: 105}]
"""

FAILING_YML = """\
unit_tests:
  - name: wrong_expectation
    model: shout
    given:
      - input: ref('people')
        rows: [{id: 1, name: ann}, {id: 2, name: bob}]
    expect:
      rows: [{id: 1, name: ANN}, {id: 2, name: bob}]
"""

FILES = {
    "seeds/people.csv": "id,name\n1,ann\n2,bob\n",
    "models/shout.sql": "select id, upper(name) as name from {{ ref('people') }}",
    "models/joined.sql": (
        "select s.name, c.score from {{ ref('shout') }} s "
        "left join {{ source('raw', 'scores') }} c using (id)"
    ),
    "models/incr.sql": (
        "{{ config(materialized='incremental') }}\n"
        "select id, id + {{ var('bonus', 0) }} as points from {{ ref('people') }}\n"
        "{% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}"
    ),
    "models/sources.yml": (
        "sources:\n  - name: raw\n    schema: main\n    tables:\n      - name: scores\n"
    ),
    "models/unit_tests.yml": UNIT_TESTS_YML,
}


@pytest.fixture
def unit_project(project):
    return project(FILES)


def test_unit_tests_pass_before_their_models_are_built(unit_project):
    proj = unit_project

    result = proj.run("build", "--threads", "1")

    assert result.exit_code == 1, result  # joined reads a source table that does not exist
    statuses = proj.statuses()
    for name in ("shout.uppercases_names", "joined.csv_and_source", "incr.incremental_and_vars"):
        assert statuses[f"unit_test.e2e.{name}"] == "pass", proj.run_results()
    order = [r["unique_id"] for r in proj.run_results()["results"]]
    assert order.index("unit_test.e2e.shout.uppercases_names") < order.index("model.e2e.shout")
    assert statuses["model.e2e.shout"] == "success"
    assert "PASS shout::uppercases_names" in result.output


def test_failing_unit_test_shows_the_diff_and_skips_the_model(unit_project):
    proj = unit_project
    proj.write({"models/unit_tests.yml": FAILING_YML})

    result = proj.run("build")

    assert result.exit_code == 1, result
    statuses = proj.statuses()
    assert statuses["unit_test.e2e.shout.wrong_expectation"] == "fail"
    assert statuses["model.e2e.shout"] == "skipped"
    assert statuses["model.e2e.joined"] == "skipped"
    outcome = next(
        r for r in proj.run_results()["results"] if r["unique_id"].startswith("unit_test.")
    )
    assert outcome["failures"] == 1
    assert outcome["message"] == (
        "actual differs from expected:\n\n@@ ,id,name\n+++,2,BOB\n---,2,bob"
    )
    assert "FAIL shout::wrong_expectation" in result.output


def test_unit_tests_are_in_the_manifest_and_selectable(unit_project):
    proj = unit_project

    assert proj.run("parse").exit_code == 0

    unit_tests = proj.manifest()["unit_tests"]
    assert sorted(unit_tests) == [
        "unit_test.e2e.incr.incremental_and_vars",
        "unit_test.e2e.joined.csv_and_source",
        "unit_test.e2e.shout.uppercases_names",
    ]
    entry = unit_tests["unit_test.e2e.joined.csv_and_source"]
    assert entry["depends_on"]["nodes"] == ["model.e2e.joined"]
    assert entry["fqn"] == ["e2e", "joined", "csv_and_source"]
    assert entry["config"]["tags"] == ["unit"]
    listed = proj.run("ls", "-s", "test_type:unit", "--output", "name")
    assert listed.exit_code == 0
    assert sorted(listed.output.split()) == [
        "csv_and_source",
        "incremental_and_vars",
        "uppercases_names",
    ]
    by_method = proj.run("ls", "-s", "unit_test:uppercases_names")
    assert by_method.output.split() == ["unit_test:e2e.shout.uppercases_names"]


def test_test_command_runs_unit_tests_of_the_selected_model(unit_project):
    proj = unit_project
    assert proj.run("seed").exit_code == 0
    assert proj.run("run", "-s", "shout").exit_code == 0

    result = proj.run("test", "-s", "shout")

    assert result.exit_code == 0, result
    assert proj.statuses() == {"unit_test.e2e.shout.uppercases_names": "pass"}


def test_missing_input_and_unknown_expected_column_fail_with_a_reason(project):
    proj = project(
        {
            "models/a.sql": "select 1 as id",
            "models/b.sql": "select id, 'x' as tag from {{ ref('a') }}",
            "models/c.sql": "select * from {{ ref('a') }} join {{ ref('b') }} using (id)",
            "models/u.yml": (
                "unit_tests:\n"
                "  - name: no_column\n    model: b\n"
                "    given: [{input: ref('a'), rows: [{id: 1}]}]\n"
                "    expect: {rows: [{nope: 1}]}\n"
                "  - name: no_input\n    model: c\n"
                "    given: [{input: ref('a'), rows: [{id: 1}]}]\n"
                "    expect: {rows: [{id: 1}]}\n"
            ),
        }
    )

    result = proj.run("test")

    assert result.exit_code == 1, result
    by_id = {r["unique_id"]: r for r in proj.run_results()["results"]}
    no_column = by_id["unit_test.e2e.b.no_column"]
    assert no_column["status"] == "fail"
    assert "nope" in no_column["message"]
    no_input = by_id["unit_test.e2e.c.no_input"]
    assert no_input["status"] == "error"
    assert "gives no rows for ref('b')" in no_input["message"]


def test_unit_test_of_an_unknown_model_is_a_parse_error(project):
    proj = project(
        {
            "models/a.sql": "select 1 as id",
            "models/u.yml": ("unit_tests:\n  - name: t\n    model: nope\n    expect: {rows: []}\n"),
        }
    )
    result = proj.run("build")
    assert result.exit_code == 2, result
    assert "models/u.yml" in result.output
    assert "unit test 't' tests model 'nope'" in result.output
