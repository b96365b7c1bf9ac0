"""A project shared by the tests of one module (built once: several CLI runs are slow)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from kiln_project import DEFAULT_PROJECT_YML, Project, default_profiles_yml

# Environment that would point kiln at another profile or target folder.
REDIRECTING_ENV = ("DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH")


def module_project(
    factory: pytest.TempPathFactory, name: str, files: Mapping[str, str]
) -> Iterator[Project]:
    """Write a project into a fresh folder and keep the environment clean while it is used."""
    root = factory.mktemp(name)
    proj = Project(root / "proj", root / "proj.duckdb")
    proj.root.mkdir()
    proj.write(
        {
            "dbt_project.yml": DEFAULT_PROJECT_YML,
            "profiles.yml": default_profiles_yml(proj.db_path),
            **files,
        }
    )
    with pytest.MonkeyPatch.context() as patch:
        for var in REDIRECTING_ENV:
            patch.delenv(var, raising=False)
        yield proj
