"""Installing pinned packages into the packages-install-path, with dbt's progress lines."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from kiln.deps.errors import DependencyError
from kiln.deps.events import report
from kiln.deps.resolve import request_for
from kiln.deps.sources import DepsContext, Pinned, pin
from kiln.deps.specs import PackageSpec
from kiln.errors import Location
from kiln.events.bus import Level


def reset_install_dir(install_dir: Path, root: Path) -> None:
    """Delete the install folder and create it empty, as `dbt deps` does.

    Raises:
        DependencyError: the folder is the project itself or one of its parents.
    """
    target = install_dir.resolve()
    if target == root.resolve() or target in root.resolve().parents:
        raise DependencyError(
            f"packages-install-path {install_dir} is the project folder or one of its parents, "
            "and `kiln deps` deletes it before installing",
            hint="set packages-install-path in dbt_project.yml to a folder of its own",
            location=Location("dbt_project.yml"),
        )
    if install_dir.is_symlink():
        install_dir.unlink()
    elif install_dir.exists():
        shutil.rmtree(install_dir)
    install_dir.mkdir(parents=True)


def install_locked(specs: Sequence[PackageSpec], install_dir: Path, ctx: DepsContext) -> None:
    """Install every locked package, announcing each as dbt does."""
    outdated: list[str] = []
    for spec in specs:
        pinned = pin(request_for(spec), ctx)
        report("DepsStartPackageInstall", f"Installing {pinned.label}")
        install_package(pinned, install_dir, ctx)
        report("DepsInstallInfo", f"Installed from {pinned.installed_from}")
        if pinned.kind == "hub":
            version = pinned.lock_entry["version"]
            if pinned.latest != version:
                outdated.append(pinned.label)
                report("DepsUpdateAvailable", f"Updated version available: {pinned.latest}")
            else:
                report("DepsUpToDate", "Up to date!")
        if pinned.subdirectory:
            report("DepsListSubdirectory", f"and subdirectory {pinned.subdirectory}")
    if outdated:
        report("Formatting", "")
        report(
            "DepsNotifyUpdatesAvailable",
            f"Updates available for packages: {outdated}\n"
            "Update your versions in packages.yml, then run kiln deps",
        )


def install_package(pinned: Pinned, install_dir: Path, ctx: DepsContext) -> Path:
    """Put one package at `<install_dir>/<name>`: a symlink for local ones, else a copy.

    Raises:
        DependencyError: the name would land outside the install folder, or the download
            of a hub package failed.
    """
    dest = _destination(install_dir, pinned)
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.exists():
        shutil.rmtree(dest)
    if pinned.kind == "local" and pinned.content is not None:
        try:
            os.symlink(pinned.content, dest, target_is_directory=True)
            return dest
        except OSError:  # no symlinks here (e.g. Windows without the privilege): copy
            report("DepsSymlinkNotAvailable", "Symlinks unavailable: copying.", Level.DEBUG)
    source = pinned.content
    if source is None:
        source = ctx.downloads.archive(pinned.archive_url or "")
    shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    return dest


def _destination(install_dir: Path, pinned: Pinned) -> Path:
    dest = install_dir / pinned.name
    root = os.path.realpath(install_dir)
    if os.path.commonpath([root, os.path.realpath(dest)]) != root or dest == install_dir:
        raise DependencyError(
            f"package {pinned.label} is named {pinned.name!r}, which lands outside the "
            f"packages-install-path {install_dir}",
            hint="a package name must be a plain folder name",
        )
    return dest
