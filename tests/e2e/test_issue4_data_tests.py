"""Data tests end to end: generic, custom and singular tests, their configs and statuses."""

from __future__ import annotations

import pytest

from .issue4_support import module_project

# The source table exists before anything runs (sources have no DAG edge to seeds).
PROJECT_YML = """\
name: e2e
version: "1.0.0"
config-version: 2
profile: e2e
on-run-start:
  - >
    create or replace table main.raw_people as
    select * from (values (1, 'a', 'active', 10), (2, 'b', 'inactive', 10),
      (3, 'c', 'weird', 20), (4, null, 'active', 99), (5, 'e', 'gone', null))
      t(id, name, status, team_id)
"""
TEAMS = "id,label\n10,x\n20,y\n"

MODELS_YML = """\
models:
  - name: people_model
    data_tests:
      - row_count_at_least:
          arguments: {n: 3}
      - row_count_at_least:
          name: too_few_rows
          n: 10
    columns:
      - name: id
        data_tests: [unique, not_null]
      - name: name
        data_tests:
          - not_null:
              config: {severity: warn, tags: [nightly], meta: {owner: ana}}
          - not_null:
              name: name_not_null_where
              config: {where: "id < 4"}
      - name: status
        tests:
          - accepted_values:
              values: ['active', 'inactive']
          - accepted_values:
              name: status_limited
              values: ['active']
              config: {limit: 1}
      - name: team_id
        data_tests:
          - relationships:
              arguments: {to: ref('teams'), field: id}
          - relationships:
              name: team_thresholds
              arguments: {to: ref('teams'), field: id}
              config: {warn_if: ">10", error_if: ">20"}
          - not_null:
              name: team_fail_calc
              config: {fail_calc: "count(*) * 10", warn_if: ">5", error_if: ">50"}
          - non_negative
          - not_null:
              name: disabled_one
              config: {enabled: false}
      - name: id
        data_tests:
          - accepted_values:
              name: id_values_unquoted
              arguments: {values: [1, 2, 3, 4, 5], quote: false}
seeds:
  - name: teams
    columns:
      - name: id
        data_tests:
          - unique
          - relationships:
              name: teams_in_source
              arguments: {to: "source('raw', 'people_src')", field: team_id}
sources:
  - name: raw
    schema: main
    tables:
      - name: people_src
        identifier: raw_people
        columns:
          - name: id
            data_tests: [unique, not_null]
"""

CUSTOM_MACRO = """\
{% test row_count_at_least(model, n) %}
select 1 as too_few from (select count(*) as c from {{ model }}) where c < {{ n }}
{% endtest %}
"""
GENERIC_TEST = """\
{% test non_negative(model, column_name) %}
select {{ column_name }} from {{ model }} where {{ column_name }} < 0
{% endtest %}
"""

FILES = {
    "dbt_project.yml": PROJECT_YML,
    "seeds/teams.csv": TEAMS,
    "models/people_model.sql": "select * from {{ source('raw', 'people_src') }}",
    "models/people.yml": MODELS_YML,
    "macros/row_count.sql": CUSTOM_MACRO,
    "tests/generic/non_negative.sql": GENERIC_TEST,
    "tests/assert_no_team_30.sql": "select * from {{ ref('people_model') }} where team_id = 30",
    "tests/assert_broken.sql": "select missing_column from {{ ref('people_model') }}",
}


def by_name(proj) -> dict[str, tuple[str, int | None]]:
    """test name -> (status, failures) from the last run_results.json."""
    out = {}
    for result in proj.run_results()["results"]:
        uid = result["unique_id"]
        if uid.startswith("test."):
            out[uid.split(".")[2]] = (result["status"], result["failures"])
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    for proj in module_project(tmp_path_factory, "datatests", FILES):
        result = proj.run("build")
        yield proj, result, by_name(proj)


def test_build_runs_every_kind_of_test_with_dbt_statuses(built):
    proj, result, tests = built
    assert result.exit_code == 1, result  # failing tests fail the run
    assert tests == {
        "unique_people_model_id": ("pass", 0),
        "not_null_people_model_id": ("pass", 0),
        "not_null_people_model_name": ("warn", 1),
        "name_not_null_where": ("pass", 0),
        "accepted_values_people_model_status__active__inactive": ("fail", 2),
        "status_limited": ("fail", 1),
        "relationships_people_model_team_id__id__ref_teams_": ("fail", 1),
        "team_thresholds": ("pass", 0),
        "team_fail_calc": ("warn", 10),
        "non_negative_people_model_team_id": ("pass", 0),
        "id_values_unquoted": ("pass", 0),
        "row_count_at_least_people_model_3": ("pass", 0),
        "too_few_rows": ("fail", 1),
        "unique_teams_id": ("pass", 0),
        "teams_in_source": ("pass", 0),
        "source_unique_raw_people_src_id": ("pass", 0),
        "source_not_null_raw_people_src_id": ("pass", 0),
        "assert_no_team_30": ("pass", 0),
        "assert_broken": ("error", None),
    }


def test_disabled_test_is_not_in_the_manifest(built):
    proj, _, tests = built
    assert "disabled_one" not in tests
    nodes = proj.manifest()["nodes"]
    assert not [uid for uid in nodes if ".disabled_one." in uid]


def test_database_error_is_reported_and_the_run_goes_on(built):
    proj, result, _ = built
    broken = next(r for r in proj.run_results()["results"] if "assert_broken" in r["unique_id"])
    assert 'Referenced column "missing_column" not found' in broken["message"]
    assert "ERROR=5" in result.output  # 4 failing tests + the broken one
    assert "WARN=2" in result.output


def test_warning_message_names_the_condition(built):
    proj, _, _ = built
    results = {r["unique_id"].split(".")[2]: r for r in proj.run_results()["results"]}
    assert results["team_fail_calc"]["message"] == "Got 10 results, configured to warn if >5"
    assert results["status_limited"]["message"] == "Got 1 result, configured to fail if != 0"


def test_tags_and_meta_reach_the_manifest_and_selection(built):
    proj, _, _ = built
    node = next(
        n for uid, n in proj.manifest()["nodes"].items() if "not_null_people_model_name" in uid
    )
    assert node["config"]["severity"] == "WARN"
    assert node["config"]["meta"] == {"owner": "ana"}
    assert "nightly" in node["tags"]
    result = proj.run("test", "-s", "tag:nightly")
    assert result.exit_code == 0, result
    assert list(by_name(proj)) == ["not_null_people_model_name"]


def test_test_command_selects_tests_by_type(built):
    proj, _, _ = built
    result = proj.run("test", "-s", "test_type:singular")
    assert result.exit_code == 1
    assert sorted(by_name(proj)) == ["assert_broken", "assert_no_team_30"]


def test_missing_test_argument_is_a_parse_error_naming_the_file(project):
    proj = project(
        {
            "models/m.sql": "select 1 as id",
            "models/m.yml": (
                "models:\n  - name: m\n    columns:\n      - name: id\n"
                "        data_tests: [relationships]\n"
            ),
        }
    )
    result = proj.run("test")
    assert result.exit_code == 2, result
    assert "models/m.yml" in result.output
    assert "test 'relationships' on column 'id' of model 'm'" in result.output
    assert "'to', 'field'" in result.output


def test_unknown_test_macro_is_a_parse_error(project):
    proj = project(
        {
            "models/m.sql": "select 1 as id",
            "models/m.yml": "models:\n  - name: m\n    data_tests: [no_such_test]\n",
        }
    )
    result = proj.run("build")
    assert result.exit_code == 2, result
    assert "models/m.yml" in result.output
    assert "no_such_test" in result.output


STORE_YML = """\
models:
  - name: m
    columns:
      - name: v
        data_tests:
          - not_null:
              config: {store_failures: true}
          - accepted_values:
              name: v_as_view
              values: [1]
              quote: false
              config: {store_failures_as: view}
          - unique:
              config: {store_failures: false}
"""


def test_store_failures_as_table_and_view_in_the_audit_schema(project):
    proj = project(
        {
            "models/m.sql": "select * from (values (1, 1), (2, null), (3, 2), (4, 2)) t(id, v)",
            "models/m.yml": STORE_YML,
        }
    )
    result = proj.run("build")
    assert result.exit_code == 1, result
    audit = proj.relations("main_dbt_test__audit")
    assert audit == {"not_null_m_v": "BASE TABLE", "v_as_view": "VIEW"}
    # not_null keeps whole rows when storing; accepted_values stores the failing values
    assert proj.query("select id, v from main_dbt_test__audit.not_null_m_v") == [(2, None)]
    assert proj.query("select value_field, n_records from main_dbt_test__audit.v_as_view") == [
        (2, 2)
    ]

    # the flag stores the rest; a later passing run replaces what was stored
    proj.write({"models/m.sql": "select * from (values (1, 1), (2, 1)) t(id, v)"})
    result = proj.run("build", "--store-failures")
    assert result.exit_code == 1, result  # unique(v) fails, and is not stored (config false)
    assert proj.query("select count(*) from main_dbt_test__audit.not_null_m_v") == [(0,)]
    assert "unique_m_v" not in proj.relations("main_dbt_test__audit")
