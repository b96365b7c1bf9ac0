"""Installed packages (dbt_packages/): their macros and generic tests, as dbt loads them."""

from __future__ import annotations

import pytest

PACKAGE = {
    "dbt_packages/helpers/dbt_project.yml": """\
        name: helpers
        version: "1.0.0"
        config-version: 2
        """,
    # a namespaced call into the package, and an unqualified call of its own helper
    "dbt_packages/helpers/macros/strings/shout.sql": """\
        {% macro shout(column) %}upper({{ column }}) || '{{ bang() }}'{% endmacro %}
        {% macro bang() %}!{% endmacro %}
        """,
    "dbt_packages/helpers/macros/greet.sql": """\
        {% macro greet() %}{{ return(adapter.dispatch('greet', 'helpers')()) }}{% endmacro %}
        {% macro default__greet() %}'hello from helpers'{% endmacro %}
        """,
    # a package may not override dbt's macros for the root project's nodes
    "dbt_packages/helpers/macros/naming.sql": """\
        {% macro generate_schema_name(custom_schema_name, node) %}hijacked{% endmacro %}
        """,
    "dbt_packages/helpers/tests/generic/is_positive.sql": """\
        {% test is_positive(model, column_name) %}
        select * from {{ model }} where {{ column_name }} <= 0
        {% endtest %}
        """,
}

MODELS = {
    "models/words.sql": "select {{ helpers.shout(\"'hi'\") }} as word, 3 as n",
    "models/greeting.sql": "select {{ helpers.greet() }} as greeting",
    "models/schema.yml": """\
        version: 2
        models:
          - name: words
            columns:
              - name: n
                data_tests:
                  - helpers.is_positive
        """,
}


def test_package_macros_and_generic_tests_build_the_project(project):
    proj = project({**PACKAGE, **MODELS})

    result = proj.run("build")

    assert result.exit_code == 0, result.output
    assert proj.query("select word, n from words") == [("HI!", 3)]
    assert proj.query("select greeting from greeting") == [("hello from helpers",)]
    test_id = next(u for u in proj.statuses() if u.startswith("test.e2e.helpers_is_positive"))
    assert proj.statuses()[test_id] == "pass"
    manifest = proj.manifest()
    shout = manifest["macros"]["macro.helpers.shout"]
    assert (shout["package_name"], shout["path"], shout["original_file_path"]) == (
        "helpers",
        "macros/strings/shout.sql",
        "macros/strings/shout.sql",
    )
    assert manifest["nodes"]["model.e2e.words"]["depends_on"]["macros"] == ["macro.helpers.shout"]
    assert manifest["nodes"][test_id]["depends_on"]["macros"] == [
        "macro.helpers.test_is_positive",
        "macro.dbt.get_where_subquery",
    ]
    assert manifest["nodes"][test_id]["test_metadata"]["namespace"] == "helpers"


def test_a_failing_package_test_fails_the_build(project):
    proj = project({**PACKAGE, **MODELS, "models/words.sql": "select 'x' as word, -1 as n"})

    result = proj.run("build")

    assert result.exit_code == 1
    assert [s for u, s in proj.statuses().items() if "is_positive" in u] == ["fail"]


def test_the_root_project_overrides_a_package_dispatch(project):
    proj = project(
        {
            **PACKAGE,
            **MODELS,
            "macros/greet.sql": "{% macro default__greet() %}'hello from root'{% endmacro %}",
        }
    )

    assert proj.run("run", "-s", "greeting").exit_code == 0
    assert proj.query("select greeting from greeting") == [("hello from root",)]


def test_dispatch_search_order_from_the_project_file(project):
    project_yml = """\
        name: e2e
        version: "1.0.0"
        config-version: 2
        profile: e2e
        dispatch:
          - macro_namespace: helpers
            search_order: ['helpers', 'e2e']
        """
    proj = project(
        {
            **PACKAGE,
            **MODELS,
            "dbt_project.yml": project_yml,
            "macros/greet.sql": "{% macro duckdb__greet() %}'hello from root'{% endmacro %}",
        }
    )

    assert proj.run("run", "-s", "greeting").exit_code == 0
    # helpers is searched first, and its default__ comes before the root's duckdb__
    assert proj.query("select greeting from greeting") == [("hello from helpers",)]


def test_the_root_project_overrides_dbts_macros_a_package_does_not(project):
    proj = project({**PACKAGE, "models/a.sql": "select 1 as id"})

    assert proj.run("run").exit_code == 0
    assert proj.relations("main") == {"a": "VIEW"}

    proj.write(
        {
            "macros/naming.sql": """\
                {% macro generate_schema_name(custom_schema_name, node) %}root_owned{% endmacro %}
                """
        }
    )
    assert proj.run("run").exit_code == 0
    assert proj.relations("root_owned") == {"a": "VIEW"}


def test_editing_a_package_macro_is_seen_by_the_next_parse(project):
    proj = project({**PACKAGE, **MODELS})
    assert proj.run("run", "-s", "words").exit_code == 0

    proj.write({"dbt_packages/helpers/macros/strings/shout.sql": PACKAGE[
        "dbt_packages/helpers/macros/strings/shout.sql"
    ].replace("upper", "lower")})  # fmt: skip
    assert proj.run("run", "-s", "words").exit_code == 0

    assert proj.query("select word from words") == [("hi!",)]


@pytest.mark.parametrize("listing", ["packages.yml", "dependencies.yml"])
def test_listed_packages_that_are_not_installed_stop_the_command(project, listing):
    proj = project(
        {
            "models/a.sql": "select 1 as id",
            listing: "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n",
        }
    )

    result = proj.run("run")

    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if "Error" in line]
    assert len(errors) == 1
    assert f"{listing}: 1 package(s) listed but 0 installed in dbt_packages/" in result.output
    assert "kiln deps" in result.output
    assert "Traceback" not in result.output


def test_a_package_with_models_is_reported_not_silently_dropped(project):
    proj = project(
        {
            **PACKAGE,
            "dbt_packages/helpers/models/pkg_model.sql": "select 1 as id",
            "models/a.sql": "select 1 as id",
        }
    )

    result = proj.run("parse")

    assert result.exit_code == 0
    assert "Package 'helpers' has models, seeds or snapshots" in result.output


def test_a_broken_package_project_file_names_it(project):
    proj = project(
        {
            "dbt_packages/broken/dbt_project.yml": "name: [unclosed\n",
            "models/a.sql": "select 1 as id",
        }
    )

    result = proj.run("parse")

    assert result.exit_code == 2
    assert "dbt_packages/broken/dbt_project.yml" in result.output
    assert "kiln deps" in result.output
    assert "Traceback" not in result.output


def test_kiln_deps_then_build_uses_the_installed_package(project):
    source = {k.removeprefix("dbt_packages/helpers/"): v for k, v in PACKAGE.items()}
    helpers = project(source, name="helpers_src")
    proj = project({**MODELS, "packages.yml": "packages:\n  - local: ../helpers_src\n"})

    assert proj.run("build").exit_code == 2  # listed, not installed yet
    deps = proj.run("deps")
    build = proj.run("build")

    assert deps.exit_code == 0, deps.output
    assert (proj.root / "dbt_packages" / "helpers").resolve() == helpers.root.resolve()
    assert build.exit_code == 0, build.output
    assert proj.query("select word from words") == [("HI!",)]
