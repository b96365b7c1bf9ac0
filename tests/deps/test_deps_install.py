"""Installing into the packages-install-path: reset, symlinks, names that would escape."""

from __future__ import annotations

from pathlib import Path

import pytest
from deps_sources import write_package

from kiln.deps.errors import DependencyError
from kiln.deps.install import install_locked, install_package, reset_install_dir
from kiln.deps.sources import DepsContext, Pinned
from kiln.deps.specs import make_render_context, read_declared
from kiln.events.bus import Event


def _local(content: Path, name: str) -> Pinned:
    return Pinned("local", "../lib", name, {"local": "../lib"}, "<local @ ../lib>", content=content)


def test_reset_empties_the_install_dir(root: Path):
    stale = write_package(root / "dbt_packages" / "old", "old")
    reset_install_dir(root / "dbt_packages", root)
    assert not stale.exists()
    assert list((root / "dbt_packages").iterdir()) == []


@pytest.mark.parametrize("install_path", [".", ".."])
def test_reset_refuses_to_delete_the_project(root: Path, install_path: str):
    with pytest.raises(DependencyError, match="is the project folder or one of its parents"):
        reset_install_dir(root / install_path, root)
    assert (root / "dbt_project.yml").exists()


def test_local_packages_are_symlinked_to_their_absolute_path(root: Path, deps_context: DepsContext):
    lib = write_package(root.parent / "lib", "lib")
    reset_install_dir(root / "dbt_packages", root)
    dest = install_package(_local(lib, "lib"), root / "dbt_packages", deps_context)
    assert dest == root / "dbt_packages" / "lib"
    assert dest.is_symlink()
    assert Path(dest.readlink()) == lib


@pytest.mark.parametrize("name", ["../escape", "."])
def test_a_package_name_cannot_leave_the_install_dir(
    root: Path, deps_context: DepsContext, name: str
):
    lib = write_package(root.parent / "lib", "lib")
    reset_install_dir(root / "dbt_packages", root)
    with pytest.raises(DependencyError, match="lands outside the packages-install-path"):
        install_package(_local(lib, name), root / "dbt_packages", deps_context)


def test_installing_reports_dbts_events_and_codes(
    root: Path, deps_context: DepsContext, events: list[Event]
):
    write_package(root.parent / "lib", "lib")
    (root / "packages.yml").write_text("packages:\n  - local: ../lib\n")
    declared = read_declared(root, "", make_render_context({}), is_root=True)
    reset_install_dir(root / "dbt_packages", root)
    install_locked(declared.specs, root / "dbt_packages", deps_context)
    reported = [
        (e.name, e.code, e.msg)
        for e in events
        if e.name.startswith("DepsStart") or e.name == "DepsInstallInfo"
    ]
    assert reported == [
        ("DepsStartPackageInstall", "M014", "Installing ../lib"),
        ("DepsInstallInfo", "M015", "Installed from <local @ ../lib>"),
    ]
