"""`--add-package`: parsing name@version, the entry written, replacing older entries."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kiln.deps.add import add_package, is_same_package, new_entry, split_requested
from kiln.deps.errors import DependencyError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dbt-labs/dbt_utils@1.1.1", ("dbt-labs/dbt_utils", "1.1.1")),
        ("dbt-labs/dbt_utils", ("dbt-labs/dbt_utils", None)),
        ("../local_pkg", ("../local_pkg", None)),
        ("https://github.com/o/r.git@v1.0", ("https://github.com/o/r.git", "v1.0")),
        ("git@github.com:o/r.git", ("git@github.com:o/r.git", None)),
        ("git@github.com:o/r.git@v2", ("git@github.com:o/r.git", "v2")),
    ],
)
def test_split_requested(value, expected):
    assert split_requested(value) == expected


def test_entries_per_source():
    assert new_entry("a/b", "1.0.0", "hub") == {"package": "a/b", "version": "1.0.0"}
    assert new_entry("a/b", ">=1.0.0,<2.0.0", "hub")["version"] == [">=1.0.0", "<2.0.0"]
    assert new_entry("https://x/r.git", "v1", "git") == {"git": "https://x/r.git", "revision": "v1"}
    assert new_entry("../p", None, "local") == {"local": "../p"}


def test_hub_and_git_need_a_version():
    with pytest.raises(DependencyError, match="needs a version when --source is hub"):
        new_entry("a/b", None, "hub")


@pytest.mark.parametrize(
    ("identifier", "name", "same"),
    [
        ("dbt-labs/dbt_utils", "dbt-labs/dbt_utils", True),
        ("https://github.com/dbt-labs/dbt-utils.git", "dbt-labs/dbt_utils", True),
        ("../dbt_utils", "dbt-labs/dbt_utils", True),
        ("https://github.com/x/dbt-core-utils.git", "dbt-core", False),
        ("dbt-labs/codegen", "dbt-labs/dbt_utils", False),
    ],
)
def test_is_same_package(identifier, name, same):
    assert is_same_package(identifier, name) is same


def test_add_package_creates_packages_yml(tmp_path: Path):
    add_package(tmp_path, "acme/util@1.0.0", "hub")
    data = yaml.safe_load((tmp_path / "packages.yml").read_text())
    assert data == {"packages": [{"package": "acme/util", "version": "1.0.0"}]}


def test_add_package_replaces_the_same_package_and_keeps_the_others(tmp_path: Path):
    (tmp_path / "packages.yml").write_text(
        "packages:\n"
        "  - git: https://github.com/acme/util.git\n    revision: v0.9\n"
        "  - local: ../other\n"
    )
    add_package(tmp_path, "acme/util@1.0.0", "hub")
    data = yaml.safe_load((tmp_path / "packages.yml").read_text())
    assert data["packages"] == [
        {"local": "../other"},
        {"package": "acme/util", "version": "1.0.0"},
    ]


def test_add_package_writes_to_dependencies_yml_when_it_holds_the_list(tmp_path: Path):
    (tmp_path / "dependencies.yml").write_text("projects: []\npackages: []\n")
    add_package(tmp_path, "../p", "local")
    data = yaml.safe_load((tmp_path / "dependencies.yml").read_text())
    assert data == {"projects": [], "packages": [{"local": "../p"}]}
    assert not (tmp_path / "packages.yml").exists()
