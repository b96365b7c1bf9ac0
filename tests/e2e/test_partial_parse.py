"""The partial-parse cache in target/: reused when nothing changed, invalidated when it must."""

from __future__ import annotations

import logging
import os

import pytest

CACHE = "target/kiln_partial_parse.pickle"
REUSED = "partial parse: nothing changed, reusing the manifest"

FILES = {
    "models/a.sql": "select 1 as id",
    "models/b.sql": "select 2 as id",
    "models/c.sql": "select * from {{ upstream() }}",
    # a macro calling ref(): models using it are rendered at parse time
    "macros/upstream.sql": "{% macro upstream() %}{{ ref('a') }}{% endmacro %}",
    "models/d.sql": "select * from {{ ref(var('src', 'a')) }}",
}

RUN_METADATA = ("generated_at", "invocation_id", "invocation_started_at", "run_started_at")


@pytest.fixture
def cache_log(caplog):
    caplog.set_level(logging.DEBUG, logger="kiln.parse.cache")
    return caplog


def _stable(manifest: dict) -> dict:
    """The manifest without the fields that differ by invocation."""
    meta = {k: v for k, v in manifest["metadata"].items() if k not in RUN_METADATA}
    return {**manifest, "metadata": meta}


def _parents(proj, name: str) -> list[str]:
    return proj.manifest()["nodes"][f"model.e2e.{name}"]["depends_on"]["nodes"]


def test_second_parse_reuses_the_cache_and_writes_an_identical_manifest(project, cache_log):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    assert (proj.root / CACHE).is_file()
    first = proj.manifest()
    assert REUSED not in cache_log.text

    result = proj.run("parse")

    assert result.exit_code == 0, result
    assert REUSED in cache_log.text
    assert _stable(proj.manifest()) == _stable(first)


def test_editing_one_model_changes_only_that_nodes_checksum_and_raw_code(project):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    before = proj.manifest()["nodes"]

    proj.write({"models/a.sql": "select 100 as id, 'edited' as note"})
    result = proj.run("parse")

    assert result.exit_code == 0, result
    after = proj.manifest()["nodes"]
    assert after.keys() == before.keys()
    differing = {
        uid: sorted(k for k in after[uid] if k != "created_at" and after[uid][k] != before[uid][k])
        for uid in after
    }
    assert differing == {
        "model.e2e.a": ["checksum", "raw_code"],
        "model.e2e.b": [],
        "model.e2e.c": [],
        "model.e2e.d": [],
    }
    assert after["model.e2e.a"]["raw_code"] == "select 100 as id, 'edited' as note"


def test_editing_a_macro_invalidates_the_cache(project, cache_log):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    assert _parents(proj, "c") == ["model.e2e.a"]

    proj.write({"macros/upstream.sql": "{% macro upstream() %}{{ ref('b') }}{% endmacro %}"})
    result = proj.run("parse")

    assert result.exit_code == 0, result
    assert REUSED not in cache_log.text
    assert _parents(proj, "c") == ["model.e2e.b"]
    macro = proj.manifest()["macros"]["macro.e2e.upstream"]
    assert "ref('b')" in macro["macro_sql"]


def test_changing_vars_invalidates_the_cache(project, cache_log):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    assert _parents(proj, "d") == ["model.e2e.a"]

    result = proj.run("parse", "--vars", "{src: b}")

    assert result.exit_code == 0, result
    assert REUSED not in cache_log.text
    assert _parents(proj, "d") == ["model.e2e.b"]
    # and back again without the flag
    assert proj.run("parse").exit_code == 0
    assert _parents(proj, "d") == ["model.e2e.a"]


def test_editing_dbt_project_yml_invalidates_the_cache(project, cache_log):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    assert proj.manifest()["nodes"]["model.e2e.b"]["config"]["materialized"] == "view"

    proj.write(
        {
            "dbt_project.yml": """\
            name: e2e
            version: "1.0.0"
            config-version: 2
            profile: e2e
            vars:
              src: b
            models:
              e2e:
                +materialized: table
                +tags: [from_project]
            """
        }
    )
    result = proj.run("parse")

    assert result.exit_code == 0, result
    assert REUSED not in cache_log.text
    node = proj.manifest()["nodes"]["model.e2e.b"]
    assert node["config"]["materialized"] == "table"
    assert node["tags"] == ["from_project"]
    assert _parents(proj, "d") == ["model.e2e.b"]


def test_no_partial_parse_reads_every_file_and_leaves_the_cache_alone(project, cache_log):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    cache = proj.root / CACHE
    cache_stat = cache.stat()
    # Same size and same mtime: only a full re-read can see this edit.
    model = proj.root / "models" / "a.sql"
    stat = model.stat()
    model.write_text("select 9 as id")
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    result = proj.run("parse", "--no-partial-parse")

    assert result.exit_code == 0, result
    assert REUSED not in cache_log.text
    assert proj.manifest()["nodes"]["model.e2e.a"]["raw_code"] == "select 9 as id"
    assert cache.stat().st_mtime_ns == cache_stat.st_mtime_ns


def test_parse_without_a_cache_file_with_no_partial_parse_writes_none(project):
    proj = project(FILES)

    result = proj.run("parse", "--no-partial-parse")

    assert result.exit_code == 0, result
    assert (proj.root / "target" / "manifest.json").is_file()
    assert not (proj.root / CACHE).exists()


def test_a_corrupt_cache_file_is_ignored_and_rewritten(project):
    proj = project(FILES)
    (proj.root / "target").mkdir()
    (proj.root / CACHE).write_bytes(b"not a pickle")

    result = proj.run("parse")

    assert result.exit_code == 0, result
    assert "Traceback" not in result.output
    assert _parents(proj, "c") == ["model.e2e.a"]
    assert (proj.root / CACHE).read_bytes() != b"not a pickle"


def test_changing_an_env_var_read_at_parse_time_reparses_that_file(project, monkeypatch):
    monkeypatch.setenv("KILN_E2E_MAT", "table")
    proj = project(
        {"models/m.sql": "{{ config(materialized=env_var('KILN_E2E_MAT', 'view')) }} select 1"}
    )
    assert proj.run("parse").exit_code == 0
    assert proj.manifest()["nodes"]["model.e2e.m"]["config"]["materialized"] == "table"

    monkeypatch.setenv("KILN_E2E_MAT", "incremental")
    result = proj.run("parse")

    assert result.exit_code == 0, result
    assert proj.manifest()["nodes"]["model.e2e.m"]["config"]["materialized"] == "incremental"


def test_deleted_and_added_model_files_are_reflected_on_the_next_parse(project):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0

    proj.remove("models/b.sql")
    proj.write({"models/e.sql": "select * from {{ ref('a') }}"})
    result = proj.run("parse")

    assert result.exit_code == 0, result
    nodes = proj.manifest()["nodes"]
    assert sorted(nodes) == ["model.e2e.a", "model.e2e.c", "model.e2e.d", "model.e2e.e"]
    assert proj.manifest()["child_map"]["model.e2e.a"] == [
        "model.e2e.c",
        "model.e2e.d",
        "model.e2e.e",
    ]


PATCHED = "partial parse: patched 1 edited file(s) into the manifest"


def test_a_body_only_edit_is_patched_into_the_cached_manifest(project, cache_log):
    proj = project({**FILES, "models/e.sql": "select * from {{ ref('b') }}"})
    assert proj.run("parse").exit_code == 0

    proj.write({"models/e.sql": "-- a comment\nselect *, 1 as one from {{ ref('b') }}"})
    result = proj.run("parse")

    assert result.exit_code == 0, result
    assert PATCHED in cache_log.text
    node = proj.manifest()["nodes"]["model.e2e.e"]
    assert node["raw_code"].startswith("-- a comment")
    assert node["depends_on"]["nodes"] == ["model.e2e.b"]
    assert proj.run("run", "-s", "+e").exit_code == 0
    assert proj.query("select one from main.e") == [(1,)]


def test_an_edit_that_changes_refs_or_config_is_reparsed(project, cache_log):
    proj = project({**FILES, "models/e.sql": "select * from {{ ref('b') }}"})
    assert proj.run("parse").exit_code == 0

    proj.write({"models/e.sql": "{{ config(materialized='table') }}select * from {{ ref('a') }}"})
    result = proj.run("parse")

    assert result.exit_code == 0, result
    assert PATCHED not in cache_log.text
    node = proj.manifest()["nodes"]["model.e2e.e"]
    assert node["depends_on"]["nodes"] == ["model.e2e.a"]
    assert node["config"]["materialized"] == "table"
