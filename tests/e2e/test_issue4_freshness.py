"""`kiln source freshness`: statuses, exit codes, selection and sources.json."""

from __future__ import annotations

import json

import pytest

from .issue4_support import module_project

# Load times relative to the warehouse clock, as naive UTC timestamps.
AGO = "(current_timestamp at time zone 'UTC') - interval {} hour"
LOADS = {
    "models/loads.sql": (
        "{{ config(materialized='table') }}\n"
        f"select 'fresh' as kind, {AGO.format(1)} as loaded_at union all\n"
        f"select 'warn', {AGO.format(3)} union all\n"
        f"select 'error', {AGO.format(5)} union all\n"
        f"select 'filtered', {AGO.format(5)} union all\n"
        f"select 'filtered_out', {AGO.format(0)}"
    )
}

SOURCES_YML = """\
sources:
  - name: raw
    schema: main
    loaded_at_field: loaded_at
    freshness:
      warn_after: {count: 2, period: hour}
      error_after: {count: 4, period: hour}
    tables:
      - name: fresh
        identifier: loads
        freshness: {filter: "kind = 'fresh'"}
      - name: stale_warn
        identifier: loads
        freshness: {filter: "kind = 'warn'"}
      - name: stale_error
        identifier: loads
        freshness: {filter: "kind = 'error'"}
      - name: lenient
        identifier: loads
        freshness:
          filter: "kind = 'error'"
          error_after: {count: 1, period: day}
      - name: by_query
        identifier: loads
        loaded_at_query: "select max(loaded_at) from main.loads where kind = 'fresh'"
      - name: missing_table
        identifier: no_such_table
      - name: unchecked
        identifier: loads
        freshness: null
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    files = {"models/sources.yml": SOURCES_YML, **LOADS}
    for proj in module_project(tmp_path_factory, "freshness", files):
        assert proj.run("run").exit_code == 0
        yield proj


def statuses(document) -> dict[str, str]:
    return {r["unique_id"].split(".")[-1]: r["status"] for r in document["results"]}


def test_freshness_of_every_source_with_a_threshold(built, valid_against):
    result = built.run("source", "freshness")

    assert result.exit_code == 1, result  # one source is stale past error_after
    document = built.artifact("sources.json")
    valid_against(document, "sources_v3")
    assert statuses(document) == {
        "by_query": "pass",
        "fresh": "pass",
        "lenient": "warn",
        "missing_table": "runtime error",
        "stale_error": "error",
        "stale_warn": "warn",
    }
    assert "PASS freshness of raw.fresh" in result.output
    assert "WARN freshness of raw.stale_warn" in result.output
    assert "ERROR STALE freshness of raw.stale_error" in result.output


def test_thresholds_are_inherited_and_merged(built):
    built.run("source", "freshness")
    results = {r["unique_id"]: r for r in built.artifact("sources.json")["results"]}
    lenient = results["source.e2e.raw.lenient"]
    assert lenient["criteria"] == {
        "warn_after": {"count": 2, "period": "hour"},
        "error_after": {"count": 1, "period": "day"},
        "filter": "kind = 'error'",
    }
    age = lenient["max_loaded_at_time_ago_in_s"]
    assert 5 * 3600 - 120 < age < 5 * 3600 + 120
    assert "does not exist" in results["source.e2e.raw.missing_table"]["error"]


def test_warnings_alone_exit_0_and_selection_narrows_the_check(built, tmp_path):
    out = tmp_path / "fresh.json"

    result = built.run(
        "source",
        "freshness",
        "-s",
        "source:raw.fresh",
        "--select",
        "source:raw.stale_warn",
        "-o",
        str(out),
    )

    assert result.exit_code == 0, result
    assert statuses(json.loads(out.read_text())) == {"fresh": "pass", "stale_warn": "warn"}


def test_a_threshold_without_loaded_at_field_is_an_error_naming_the_file(project):
    proj = project(
        {
            "models/src.yml": (
                "sources:\n  - name: raw\n    tables:\n      - name: t\n"
                "        freshness: {warn_after: {count: 1, period: day}}\n"
            )
        }
    )

    result = proj.run("source", "freshness")

    assert result.exit_code == 2, result
    assert "models/src.yml" in result.output
    assert "source 'raw.t'" in result.output
    assert "loaded_at_field" in result.output
