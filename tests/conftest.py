"""Shared fixtures: the e2e house idiom (`project` + `run_kiln` + `query_db`).

A test writes a small project as a dict of files into `tmp_path`, runs the click app
in-process and asserts on the exit code, the output, the database and the artifacts::

    def test_view_model_is_built(project):
        proj = project({"models/a.sql": "select 1 as id"})
        result = proj.run("run")
        assert result.exit_code == 0
        assert proj.query("select id from a") == [(1,)]

The helpers live in `kiln_project.py` so test modules can import them by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from kiln_project import (  # noqa: F401 - re-exported for tests that import them here
    ARTIFACTS,
    DEFAULT_PROJECT_YML,
    PROJECT_NAME,
    SCHEMAS_DIR,
    ArtifactCheck,
    KilnResult,
    Project,
    ProjectFactory,
    default_profiles_yml,
    query_db,
    run_kiln,
)


@pytest.fixture(name="run_kiln")
def _run_kiln_fixture() -> Callable[..., KilnResult]:
    """The `run_kiln(args, cwd)` helper, for tests that build their folders themselves."""
    return run_kiln


@pytest.fixture(name="query_db")
def _query_db_fixture() -> Callable[..., list[tuple[Any, ...]]]:
    """The `query_db(path, sql)` helper."""
    return query_db


@pytest.fixture
def artifact_check() -> ArtifactCheck | None:
    """Called with (file name, document) for each artifact a `Project.run` writes.

    None here; suites override this fixture (tests/e2e validates against dbt's schemas).
    """
    return None


@pytest.fixture
def project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, artifact_check: ArtifactCheck | None
) -> ProjectFactory:
    """Factory: `project({"models/a.sql": "select 1 as id"})` -> a written `Project`.

    A default `dbt_project.yml` and a DuckDB `profiles.yml` (database file in `tmp_path`) are
    written unless the dict provides its own. Environment that would redirect the profile or
    the target folder is removed. Every artifact a run writes is handed to `artifact_check`.
    """
    for var in ("DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH"):
        monkeypatch.delenv(var, raising=False)

    def make(files: Mapping[str, str] | None = None, *, name: str = "proj") -> Project:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=False)
        db_path = tmp_path / f"{name}.duckdb"
        proj = Project(root, db_path, artifact_check)
        defaults = {
            "dbt_project.yml": DEFAULT_PROJECT_YML,
            "profiles.yml": default_profiles_yml(db_path),
        }
        proj.write({**defaults, **(files or {})})
        return proj

    return make
