"""Bad input: exit code 2, one error line naming the file (and line), no Python traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ERROR_LINE = re.compile(r"^(?:\d\d:\d\d:\d\d\s+)?(\w+Error): (.*)$")


def error_lines(result) -> list[str]:
    """The `<Kind>Error: message` lines of the output."""
    return [m.group(0) for line in result.output.splitlines() if (m := ERROR_LINE.match(line))]


def assert_one_clear_error(result, *fragments: str) -> str:
    """Exit code 2, exactly one error line, containing every fragment; no traceback."""
    assert result.exit_code == 2, result
    assert "Traceback" not in result.output
    lines = error_lines(result)
    assert len(lines) == 1, result
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_jinja_syntax_error_in_a_model_names_file_and_line(project):
    proj = project(
        {"models/ok.sql": "select 1", "models/a.sql": "select 1\n\n{% if x %}\nselect 2"}
    )

    result = proj.run("run")

    line = assert_one_clear_error(result, "models/a.sql:3", "Jinja syntax error")
    assert "endif" in line
    assert not proj.db_path.exists(), "nothing may run when the project does not parse"


def test_jinja_syntax_error_in_a_macro_names_file_and_line(project):
    proj = project(
        {
            "models/a.sql": "select 1 as id",
            "macros/m.sql": "{% macro m() %}\n{% if %}\n{% endmacro %}",
        }
    )

    result = proj.run("parse")

    assert_one_clear_error(result, "macros/m.sql:2", "Jinja syntax error")


def test_unknown_ref_names_the_model_file_and_suggests_the_closest_name(project):
    proj = project(
        {"models/orders.sql": "select 1 as id", "models/b.sql": "select 1\nfrom {{ ref('order') }}"}
    )

    result = proj.run("run")

    assert_one_clear_error(result, "models/b.sql", "'order'", "did you mean 'orders'?")


def test_unknown_source_names_the_model_file_and_suggests_the_closest_name(project):
    proj = project(
        {
            "models/a.sql": "select * from {{ source('crm', 'peopl') }}",
            "models/s.yml": (
                "version: 2\nsources:\n  - name: crm\n    tables:\n      - name: people\n"
            ),
        }
    )

    result = proj.run("parse")

    assert_one_clear_error(result, "models/a.sql", "crm.peopl", "did you mean 'crm.people'?")


def test_cycle_names_the_nodes_in_it(project):
    proj = project(
        {
            "models/a.sql": "select * from {{ ref('b') }}",
            "models/b.sql": "select * from {{ ref('a') }}",
            "models/c.sql": "select 1 as id",
        }
    )

    result = proj.run("run")

    line = assert_one_clear_error(result, "cycle", "model.e2e.a", "model.e2e.b")
    assert "model.e2e.c" not in line


def test_malformed_yaml_in_a_properties_file_names_file_and_line(project):
    proj = project(
        {
            "models/a.sql": "select 1 as id",
            "models/schema.yml": (
                "version: 2\nmodels:\n  - name: a\n    description: [oops\n  - name: b\n"
            ),
        }
    )

    result = proj.run("parse")

    assert_one_clear_error(result, "models/schema.yml:5", "YAML")


def test_malformed_dbt_project_yml_names_file_and_line(project):
    proj = project(
        {
            "models/a.sql": "select 1 as id",
            "dbt_project.yml": (
                "name: e2e\nprofile: e2e\nmodels:\n  e2e: {materialized: table\nvars:\n  x: 1\n"
            ),
        }
    )

    result = proj.run("parse")

    assert_one_clear_error(result, "ProjectError", "YAML")
    assert re.search(r"dbt_project\.yml:\d+", error_lines(result)[0])


def test_dbt_project_yml_without_a_name_is_a_project_error(project):
    proj = project({"models/a.sql": "select 1 as id", "dbt_project.yml": "profile: e2e\n"})

    result = proj.run("parse")

    assert_one_clear_error(result, "ProjectError", "dbt_project.yml", "'name'")


def test_missing_profiles_yml_says_where_it_looked(project, tmp_path):
    proj = project({"models/a.sql": "select 1 as id"})
    proj.remove("profiles.yml")
    empty = tmp_path / "no_profiles_here"
    empty.mkdir()

    result = proj.run("parse", "--profiles-dir", str(empty))

    assert_one_clear_error(result, "ProfileError", "profiles.yml", str(empty), "--profiles-dir")


def test_unknown_profile_names_profiles_yml_and_suggests_the_closest(project):
    proj = project({"models/a.sql": "select 1 as id"})

    result = proj.run("parse", "--profile", "e2f")

    assert_one_clear_error(result, "ProfileError", "'e2f'", "profiles.yml", "did you mean 'e2e'?")


def test_unknown_target_suggests_the_closest_target(project):
    proj = project({"models/a.sql": "select 1 as id"})

    result = proj.run("run", "--target", "deb")

    assert_one_clear_error(result, "ProfileError", "'deb'", "profiles.yml", "did you mean 'dev'?")


UNKNOWN_ADAPTER_PROFILE = """\
e2e:
  target: dev
  outputs:
    dev:
      type: duckbd
      path: x.duckdb
"""


def test_unknown_adapter_type_exits_2_and_suggests_the_known_type(project):
    proj = project({"models/a.sql": "select 1 as id", "profiles.yml": UNKNOWN_ADAPTER_PROFILE})

    result = proj.run("parse")

    assert_one_clear_error(result, "ProfileError", "'duckbd'", "did you mean 'duckdb'?")


def test_unknown_adapter_type_error_names_profiles_yml(project):
    proj = project({"models/a.sql": "select 1 as id", "profiles.yml": UNKNOWN_ADAPTER_PROFILE})

    result = proj.run("parse")

    assert_one_clear_error(result, "profiles.yml")


def test_seed_csv_with_a_ragged_row_names_file_and_line(project):
    # dbt reads seed CSVs when the seed node runs, so (as in dbt) this is a node error:
    # exit code 1, the seed in status error, and the message naming the file and row line.
    proj = project({"seeds/s.csv": "id,name\n1,a\n2,b,extra\n3,c\n"})

    result = proj.run("seed")

    assert result.exit_code == 1, result
    assert "Traceback" not in result.output
    (message,) = [r["message"] for r in proj.run_results()["results"]]
    assert re.search(r"seeds/s\.csv:3\b", message), message
    assert "3 fields" in message and "2 columns" in message
    assert proj.statuses() == {"seed.e2e.s": "error"}
    assert len([line for line in error_lines(result) if "s.csv" in line]) == 1


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(
            ["-s", "tagg:foo"], ["SelectionError", "tagg", "did you mean 'tag'?"], id="method"
        ),
        pytest.param(["-s", "@a+"], ["SelectionError", "'@'"], id="at-with-plus"),
        pytest.param(["--selector", "nope"], ["SelectionError", "'nope'"], id="selector"),
    ],
)
def test_bad_selector_exits_2_naming_the_bad_part(project, args, fragments):
    proj = project({"models/a.sql": "select 1 as id"})

    result = proj.run("run", *args)

    assert_one_clear_error(result, *fragments)
    assert not proj.db_path.exists()


def test_bad_selector_error_points_at_the_bad_token(project):
    proj = project({"models/a.sql": "select 1 as id"})

    result = proj.run("ls", "-s", "a tagg:foo")

    assert_one_clear_error(result, "tagg")
    lines = result.output.splitlines()
    caret = next(line for line in lines if "^" in line)
    expression = lines[lines.index(caret) - 1]
    start = caret.index("^")
    assert expression[start : start + 4] == "tagg"


def test_call_to_an_undefined_macro_fails_the_parse_naming_file_and_line(project):
    proj = project({"models/ok.sql": "select 1 as id", "models/a.sql": "select {{ nope() }} as x"})

    result = proj.run("run")

    assert_one_clear_error(result, "models/a.sql:1", "'nope' is undefined")
    assert proj.relations() == {}


def _kiln_process(proj, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m kiln <args>` in a real process (to see what reaches the terminal)."""
    env = {k: v for k, v in os.environ.items() if k != "DBT_PROFILES_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "kiln", *args],
        cwd=proj.root,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


JINJA_SYNTAX_ERROR = {"models/a.sql": "select 1\n\n{% if x %}\nselect 2"}


def test_debug_flag_shows_the_python_traceback(project):
    proj = project(JINJA_SYNTAX_ERROR)

    proc = _kiln_process(proj, "parse", "--debug")

    assert proc.returncode != 0
    assert "Traceback (most recent call last)" in proc.stderr
    assert "kiln.errors.ParseError: Jinja syntax error" in proc.stderr


def test_debug_flag_keeps_exit_code_2(project):
    proj = project(JINJA_SYNTAX_ERROR)

    proc = _kiln_process(proj, "parse", "--debug")

    assert proc.returncode == 2


def test_without_debug_the_same_error_has_no_traceback_in_a_real_process(project):
    proj = project(JINJA_SYNTAX_ERROR)

    proc = _kiln_process(proj, "parse")

    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "models/a.sql:3" in proc.stdout + proc.stderr
