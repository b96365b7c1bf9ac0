"""The dbt Jinja context as models and macros see it, through whole-CLI runs."""

from __future__ import annotations

import json

import pytest


def _one_row(proj, relation: str):
    rows = proj.query(f"select * from main.{relation}")
    assert len(rows) == 1, rows
    return rows[0]


def test_ref_with_one_and_two_arguments_resolves_to_the_same_relation(project):
    proj = project(
        {
            "models/a.sql": "select 7 as id",
            "models/b.sql": (
                "select x.id as one_arg, y.id as two_args "
                "from {{ ref('a') }} x join {{ ref('e2e', 'a') }} y on x.id = y.id"
            ),
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert _one_row(proj, "b") == (7, 7)
    node = proj.manifest()["nodes"]["model.e2e.b"]
    assert node["depends_on"]["nodes"] == ["model.e2e.a"]
    assert node["refs"] == [
        {"name": "a", "package": None, "version": None},
        {"name": "a", "package": "e2e", "version": None},
    ]


def test_source_resolves_to_the_declared_schema_and_table(project):
    proj = project(
        {
            "seeds/raw_people.csv": "id,name\n1,ann\n2,bob\n",
            "models/sources.yml": """\
            version: 2
            sources:
              - name: crm
                schema: main
                tables:
                  - name: people
                    identifier: raw_people
            """,
            "models/people.sql": "select name from {{ source('crm', 'people') }} order by id",
        }
    )

    assert proj.run("seed").exit_code == 0
    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.query("select name from main.people") == [("ann",), ("bob",)]
    manifest = proj.manifest()
    assert manifest["sources"]["source.e2e.crm.people"]["relation_name"] == (
        '"proj"."main"."raw_people"'
    )
    assert manifest["nodes"]["model.e2e.people"]["depends_on"]["nodes"] == ["source.e2e.crm.people"]


VARS_PROJECT = """\
name: e2e
version: "1.0.0"
config-version: 2
profile: e2e
vars:
  n: 1
"""


@pytest.mark.parametrize(
    ("vars_args", "expected"),
    [
        pytest.param([], ("red", 1), id="defaults"),
        pytest.param(["--vars", "{color: blue}"], ("blue", 1), id="yaml-override"),
        pytest.param(["--vars", '{"color": "green", "n": 5}'], ("green", 5), id="json-override"),
    ],
)
def test_var_uses_default_project_value_and_vars_flag_override(project, vars_args, expected):
    proj = project(
        {
            "dbt_project.yml": VARS_PROJECT,
            "models/v.sql": "select '{{ var(\"color\", \"red\") }}' as color, {{ var('n') }} as n",
        }
    )

    result = proj.run("run", *vars_args)

    assert result.exit_code == 0, result
    assert _one_row(proj, "v") == expected


def test_env_var_reads_the_environment_and_falls_back_to_default(project, monkeypatch):
    monkeypatch.setenv("KILN_E2E_COLOR", "teal")
    monkeypatch.delenv("KILN_E2E_MISSING", raising=False)
    proj = project(
        {
            "models/e.sql": (
                "select '{{ env_var(\"KILN_E2E_COLOR\") }}' as c,"
                ' \'{{ env_var("KILN_E2E_MISSING", "fallback") }}\' as d'
            )
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert _one_row(proj, "e") == ("teal", "fallback")


def test_target_name_and_schema_are_the_profile_target(project):
    proj = project(
        {
            "models/t.sql": "select '{{ target.name }}' as n, '{{ target.schema }}' as s, "
            "'{{ target.type }}' as t"
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert _one_row(proj, "t") == ("dev", "main", "duckdb")


def test_config_get_returns_set_values_and_defaults(project):
    proj = project(
        {
            "models/c.sql": (
                "{{ config(materialized='table', my_key='hello') }}\n"
                "select '{{ config.get(\"my_key\") }}' as k,"
                " '{{ config.get(\"materialized\") }}' as m,"
                ' \'{{ config.get("absent", "dflt") }}\' as d'
            )
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert _one_row(proj, "c") == ("hello", "table", "dflt")


def test_run_query_inside_a_model_reads_the_warehouse_at_execution(project):
    proj = project(
        {
            "models/a.sql": "{{ config(materialized='table') }} select * from range(5) r(id)",
            "models/b.sql": """\
            {% if execute %}
              {% set res = run_query("select max(id) as m from " ~ ref('a')) %}
              {% set top = res.columns[0].values()[0] %}
            {% else %}
              {% set top = -1 %}
            {% endif %}
            select {{ top }} as top
            """,
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert _one_row(proj, "b") == (4,)


def test_statement_call_block_with_fetch_result_and_load_result(project):
    proj = project(
        {
            "models/s.sql": """\
            {% call statement('answer', fetch_result=True) %}
              select 42 as v, 'x' as w
            {% endcall %}
            {% if execute %}
              {% set res = load_result('answer') %}
              {% set v = res['data'][0][0] %}
              {% set w = res['table'].columns['w'].values()[0] %}
            {% else %}
              {% set v = 0 %}{% set w = '' %}
            {% endif %}
            select {{ v }} as v, '{{ w }}' as w
            """
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert _one_row(proj, "s") == (42, "x")


def test_log_with_info_prints_and_without_info_goes_only_to_debug(project):
    proj = project(
        {
            "models/l.sql": (
                "{{ log('visible-log-line', info=True) }}"
                "{{ log('debug-only-log-line') }}"
                "select 1 as id"
            )
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert "visible-log-line" in result.output
    assert "debug-only-log-line" not in result.output
    assert "debug-only-log-line" in (proj.root / "logs" / "dbt.log").read_text()


def test_return_from_a_macro_gives_a_python_value(project):
    proj = project(
        {
            "macros/m.sql": """\
            {% macro double(x) %}{{ return(x * 2) }}{% endmacro %}
            {% macro pair() %}{% do return(['p', 'q']) %}{% endmacro %}
            """,
            "models/r.sql": (
                "select {{ double(21) }} as v, '{{ pair() | join('-') }}' as j,"
                " {{ pair() | length }} as n"
            ),
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert _one_row(proj, "r") == (42, "p-q", 2)


def test_adapter_dispatch_prefers_the_adapter_specific_macro(project):
    proj = project(
        {
            "macros/greet.sql": """\
            {% macro greet() %}{{ return(adapter.dispatch('greet')()) }}{% endmacro %}
            {% macro default__greet() %}default{% endmacro %}
            {% macro duckdb__greet() %}duckdb{% endmacro %}
            {% macro farewell() %}{{ return(adapter.dispatch('farewell')()) }}{% endmacro %}
            {% macro default__farewell() %}bye{% endmacro %}
            """,
            "models/d.sql": "select '{{ greet() | trim }}' as g, '{{ farewell() | trim }}' as f",
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert _one_row(proj, "d") == ("duckdb", "bye")


def test_modules_datetime_is_available(project):
    proj = project(
        {
            "models/d.sql": (
                "{% set date = modules.datetime.date %}"
                "select '{{ date(2024, 1, 2).isoformat() }}' as d,"
                " {{ (date(2024, 3, 1) - date(2024, 2, 1)).days }} as days"
            )
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert _one_row(proj, "d") == ("2024-01-02", 29)


def test_fromjson_and_tojson_round_trip(project):
    proj = project(
        {
            "models/j.sql": """\
            {% set d = fromjson('{"a": [1, 2], "b": "x"}') %}
            select {{ d['a'][1] }} as second, '{{ d.b }}' as b, '{{ tojson({"k": [1, 2]}) }}' as j
            """
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    second, b, j = _one_row(proj, "j")
    assert (second, b) == (2, "x")
    assert json.loads(j) == {"k": [1, 2]}


def test_raise_compiler_error_at_parse_time_exits_2_with_the_message(project):
    proj = project(
        {
            "models/ok.sql": "select 1 as id",
            "models/bad.sql": (
                "{{ exceptions.raise_compiler_error('widgets must be positive, got -3') }}"
                "select 1 as id"
            ),
        }
    )

    result = proj.run("run")

    assert result.exit_code == 2, result
    assert "widgets must be positive, got -3" in result.output
    assert "bad.sql" in result.output
    assert "Traceback" not in result.output
    assert proj.relations() == {}


def test_raise_compiler_error_at_execution_fails_the_node_with_the_message(project):
    proj = project(
        {
            "models/ok.sql": "select 1 as id",
            "models/bad.sql": (
                "{% if execute %}"
                "{{ exceptions.raise_compiler_error('widgets must be positive, got -3') }}"
                "{% endif %}select 1 as id"
            ),
        }
    )

    result = proj.run("run")

    assert result.exit_code == 1, result
    assert "widgets must be positive, got -3" in result.output
    assert "Traceback" not in result.output
    bad = {r["unique_id"]: r for r in proj.run_results()["results"]}["model.e2e.bad"]
    assert bad["status"] == "error"
    assert "widgets must be positive, got -3" in bad["message"]
    assert proj.relations() == {"ok": "VIEW"}


def test_run_operation_calls_a_macro_with_args(project):
    proj = project(
        {
            "macros/ops.sql": """\
            {% macro make_numbers(name, n) %}
              {% do run_query("create table main." ~ name ~ " as select range as id from range("
                              ~ n ~ ")") %}
              {{ log("made " ~ name ~ " with " ~ n ~ " rows", info=True) }}
            {% endmacro %}
            """
        }
    )

    result = proj.run("run-operation", "make_numbers", "--args", "{name: things, n: 3}")

    assert result.exit_code == 0, result
    assert "made things with 3 rows" in result.output
    assert proj.query("select count(*) from main.things") == [(3,)]


def test_run_operation_whose_macro_fails_exits_1_with_the_message(project):
    proj = project(
        {
            "macros/ops.sql": "{% macro boom() %}{{ exceptions.raise_compiler_error('kaboom') }}"
            "{% endmacro %}"
        }
    )

    result = proj.run("run-operation", "boom")

    assert result.exit_code == 1, result
    assert "kaboom" in result.output
    assert "Traceback" not in result.output


def test_run_operation_with_an_unknown_macro_exits_2_naming_it(project):
    proj = project({"macros/ops.sql": "{% macro make_numbers() %}{% endmacro %}"})

    result = proj.run("run-operation", "make_number")

    assert result.exit_code == 2, result
    assert "'make_number'" in result.output
    assert "make_numbers" in result.output
    assert "Traceback" not in result.output
