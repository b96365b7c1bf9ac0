"""Installed packages: the projects `kiln deps` put under `packages-install-path`."""

from __future__ import annotations

import os
from pathlib import Path

from kiln.config.project import PROJECT_FILE, Project, load_project
from kiln.config.yaml_io import load_yaml_text
from kiln.errors import Location, ProjectError

# Where a project lists the packages it needs, in dbt's order of preference.
PACKAGE_FILES = ("packages.yml", "dependencies.yml")


def installed_packages(project: Project) -> list[Project]:
    """Every installed package of the project, by folder name.

    A folder without a dbt_project.yml is not a package (dbt skips it too).

    Raises:
        ProjectError: fewer packages are installed than packages.yml lists, a package's
            dbt_project.yml is broken, or two packages (or a package and the project)
            share a name.
    """
    base = project.root / project.packages_install_path
    found = _installed(project, base) if base.is_dir() else []
    wanted, listed_in = _specified_count(project)
    if wanted > len(found):
        raise ProjectError(
            f"{wanted} package(s) listed but {len(found)} installed "
            f"in {project.packages_install_path}/",
            hint="run `kiln deps` to install them",
            location=Location(listed_in),
        )
    return found


def _specified_count(project: Project) -> tuple[int, str]:
    """How many packages the project's packages.yml (or dependencies.yml) lists."""
    for name in PACKAGE_FILES:
        path = project.root / name
        if path.is_file():
            data = load_yaml_text(path.read_text(encoding="utf-8"), name, error=ProjectError)
            listed = data.get("packages") if isinstance(data, dict) else None
            return (len(listed) if isinstance(listed, list) else 0), name
    return 0, PACKAGE_FILES[0]


def _installed(project: Project, base: Path) -> list[Project]:
    found: dict[str, Project] = {}
    for entry in sorted(os.listdir(base)):
        folder = base / entry
        if entry.startswith(".") or not (folder / PROJECT_FILE).is_file():
            continue
        package = _load_package(folder, project.root)
        clash = found.get(package.name)
        if package.name == project.name or clash is not None:
            other = f"{clash.root}" if clash is not None else "the project itself"
            raise ProjectError(
                f"package '{package.name}' in {folder} has the same name as {other}",
                hint="remove one of them from packages.yml and run `kiln deps` again",
            )
        found[package.name] = package
    return list(found.values())


def _load_package(folder: Path, project_root: Path) -> Project:
    try:
        return load_project(folder)
    except ProjectError as exc:
        where = _relative(folder / PROJECT_FILE, project_root)
        line = exc.location.line if exc.location is not None else None
        raise ProjectError(
            f"installed package: {exc.message}",
            hint="run `kiln deps` to reinstall the packages",
            location=Location(where, line),
        ) from None


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def package_macro_folders(package: Project) -> tuple[str, ...]:
    """Folders of a package holding macros: its macro paths and `<test path>/generic`."""
    return (*package.macro_paths, *(f"{t}/generic" for t in package.test_paths))
