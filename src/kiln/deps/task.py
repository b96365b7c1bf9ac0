"""The `kiln deps` task: keep package-lock.yml in step with the packages file, then install.

As dbt-core 1.11: the lock is (re)written when it is missing, when `--upgrade` is given or
when its `sha1_hash` no longer matches the declared packages; then exactly what the lock
says is installed into a freshly emptied packages-install-path. `--lock` stops after the
lock is written.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from kiln import DBT_COMPAT_VERSION, __version__
from kiln.deps.events import report
from kiln.deps.fetch import Downloads
from kiln.deps.hub import HubClient, hub_url
from kiln.deps.install import install_locked, reset_install_dir
from kiln.deps.lockfile import LOCK_FILE, lock_hash, read_lock, read_lock_hash, write_lock
from kiln.deps.resolve import lock_entries, resolve_packages
from kiln.deps.sources import DepsContext
from kiln.deps.specs import DeclaredPackages, make_render_context, read_declared
from kiln.events.bus import info
from kiln.invocation import Invocation


def do_deps(inv: Invocation) -> int:
    """Run `kiln deps`; returns the exit code (errors are raised as `KilnError`)."""
    from kiln.config.project import load_project

    project = load_project(Path(inv.project_dir).resolve())
    info(f"Running with kiln={__version__} (dbt-core {DBT_COMPAT_VERSION} compatible)")
    _add_file_log(project.root / (inv.log_path or project.log_path))
    options = inv.raw_args
    if options.get("add_package"):
        from kiln.deps.add import add_package

        add_package(project.root, str(options["add_package"]), options.get("source") or "hub")
    render_context = make_render_context(inv.vars)
    declared = read_declared(project.root, "", render_context, is_root=True)
    install_dir = project.root / project.packages_install_path
    lock_path = project.root / LOCK_FILE
    with tempfile.TemporaryDirectory(prefix="kiln-deps-") as scratch:
        ctx = DepsContext(
            root=project.root,
            root_name=project.name,
            render_context=render_context,
            downloads=Downloads(Path(scratch)),
            hub=HubClient(hub_url()),
            dbt_version=DBT_COMPAT_VERSION,
        )
        if not declared.specs:
            found_in = declared.file_name
            report("DepsNoPackagesFound", f"Warning: No packages were found in {found_in}")
        elif bool(options.get("upgrade")) or _lock_is_stale(lock_path, declared):
            final = resolve_packages(declared.specs, ctx)
            write_lock(lock_path, lock_entries(final), lock_hash(declared.specs))
            report("DepsLockUpdating", f"Updating lock file in file path: {lock_path}")
        if options.get("lock"):
            return 0
        reset_install_dir(install_dir, project.root)
        if declared.specs:
            install_locked(read_lock(lock_path, render_context).specs, install_dir, ctx)
    return 0


def _lock_is_stale(lock_path: Path, declared: DeclaredPackages) -> bool:
    """Whether the lock is missing or was written for a different packages list."""
    if not lock_path.is_file():
        return True
    return read_lock_hash(lock_path) != lock_hash(declared.specs)


def _add_file_log(log_dir: Path) -> None:
    """Also write this run's events to logs/dbt.log, as the other commands do."""
    from kiln.events.bus import get_bus
    from kiln.events.sinks import TextFileSink

    with contextlib.suppress(OSError):
        get_bus().add(TextFileSink(log_dir / "dbt.log"))
