"""Macro resolution across the root project, dbt's macros and installed packages."""

from __future__ import annotations

import pytest

from kiln.errors import CompilationError
from kiln.jinja.macros import BUILTIN_PACKAGE, MacroRegistry


def registry(**packages: str) -> MacroRegistry:
    """A registry of `package=macro source` entries, with `root` as the root project."""
    made = MacroRegistry(root_package="root")
    for package, source in packages.items():
        made.add_file(package, f"macros/{package}.sql", source)
    return made


def macro(name: str) -> str:
    return f"{{% macro {name}() %}}{name}{{% endmacro %}}"


def test_unqualified_names_prefer_root_then_dbt_then_packages():
    found = registry(
        root=macro("shared"),
        dbt=macro("shared") + macro("generate_schema_name"),
        helpers=macro("generate_schema_name") + macro("only_here"),
    )
    assert found.lookup("shared").package == "root"
    assert found.lookup("generate_schema_name").package == BUILTIN_PACKAGE
    assert found.lookup("only_here").package == "helpers"
    assert found.lookup("helpers.generate_schema_name").package == "helpers"
    assert found.lookup("nowhere.only_here") is None


def test_only_calls_through_a_package_name_are_macro_calls():
    found = registry(root="", helpers=macro("star"))
    calls = found.macro_calls(["star", "helpers.star", "model.get", "x"])
    assert calls == ["star", "helpers.star", "x"]
    assert found.depends_on({"helpers.star", "model.get"}) == ["macro.helpers.star"]


def test_dispatch_to_a_package_searches_root_first_package_by_package():
    found = registry(
        root=macro("default__greet"),
        helpers=macro("duckdb__greet") + macro("default__greet"),
    )
    # every candidate name in the root project before any in the package
    assert found.dispatch("greet", "duckdb", "helpers").package == "root"


def test_dispatch_follows_the_projects_search_order():
    found = registry(
        root=macro("duckdb__greet"),
        helpers=macro("default__greet"),
    )
    found.dispatch_orders["helpers"] = ["helpers", "root"]
    assert found.dispatch("greet", "duckdb", "helpers").unique_id == "macro.helpers.default__greet"


def test_dispatch_to_dbt_lets_the_root_project_override():
    found = registry(root=macro("default__dateadd"), dbt=macro("duckdb__dateadd"))
    assert found.dispatch("dateadd", "duckdb", "dbt").package == "root"


def test_dispatch_without_a_namespace_prefers_the_adapters_macro_anywhere():
    found = registry(root=macro("default__greet"), dbt=macro("duckdb__greet"))
    assert found.dispatch("greet", "duckdb").package == BUILTIN_PACKAGE


def test_dispatch_that_finds_nothing_names_both_candidates():
    with pytest.raises(CompilationError, match="duckdb__nope.*default__nope.*helpers"):
        registry(helpers=macro("x")).dispatch("nope", "duckdb", "helpers")
