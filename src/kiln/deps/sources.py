"""One package, pinned: its exact version or commit, project name, own dependencies, files.

`pin(request, ctx)` dispatches on the entry kind to `_pin_<kind>`. Pinning fetches what it
must to learn the package's name and dependencies (a git checkout, an archive, the hub's
metadata), so resolving and installing share one fetch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiln.deps import semver
from kiln.deps.errors import DependencyError
from kiln.deps.events import report
from kiln.deps.fetch import Downloads
from kiln.deps.hub import HubClient
from kiln.deps.specs import PackageSpec, parse_package_list, read_declared
from kiln.errors import KilnError, Location
from kiln.events.bus import Level

# git revisions that follow a moving branch (dbt warns about these unless warn-unpinned: false)
_UNPINNED_REVISIONS = ("HEAD", "main", "master")


@dataclass(frozen=True, slots=True)
class DepsContext:
    """What pinning needs: the root project, the render context and the fetchers."""

    root: Path
    root_name: str
    render_context: Mapping[str, Any]
    downloads: Downloads
    hub: HubClient
    dbt_version: str


@dataclass(frozen=True, slots=True)
class Request:
    """Everything asked of one package: its first declaration plus what later ones add.

    Attributes:
        spec: the first declaration seen.
        versions: hub version requirements from every package that asks for it.
        revisions: git revisions from every package that asks for it.
        warn_unpinned: False once any declaration says `warn-unpinned: false`.
    """

    spec: PackageSpec
    versions: tuple[str, ...] = ()
    revisions: tuple[str, ...] = ()
    warn_unpinned: bool = True


@dataclass(frozen=True, slots=True)
class Pinned:
    """A package at an exact version, ready to lock and install.

    Attributes:
        kind: the entry kind.
        label: how `Installing <label>` names it (dbt's package name).
        name: the project name: the folder it is installed into.
        lock_entry: its package-lock.yml entry, without `name`.
        installed_from: the `Installed from <...>` text.
        dependencies: the packages it declares itself.
        content: the folder holding its files (None for hub packages: not downloaded yet).
        archive_url: where a hub package's archive is downloaded from.
        latest: the newest version the hub offers (hub only).
        subdirectory: the folder of a git repository the package lives in.
    """

    kind: str
    label: str
    name: str
    lock_entry: Mapping[str, Any]
    installed_from: str
    dependencies: tuple[PackageSpec, ...] = ()
    content: Path | None = None
    archive_url: str | None = None
    latest: str | None = None
    subdirectory: str | None = None


def label_of(spec: PackageSpec) -> str:
    """The name dbt gives a package in messages: path, URL[/subdirectory], name or org/name.

    Example:
        >>> label_of(PackageSpec("git", {"git": "https://x/r.git", "subdirectory": "sub"}))
        'https://x/r.git/sub'
    """
    if spec.kind == "git" and spec.fields.get("subdirectory"):
        return f"{spec.source}/{spec.fields['subdirectory']}"
    if spec.kind == "tarball":
        return str(spec.fields["name"])
    return spec.source


def pin(request: Request, ctx: DepsContext) -> Pinned:
    """Pin one requested package (see the module docstring).

    Raises:
        DependencyError: the package cannot be found, fetched or matched to a version.
    """
    try:
        return _PINNERS[request.spec.kind](request, ctx)
    except DependencyError as exc:
        if exc.location is not None:
            raise
        # a fetch failure: point at the entry that asked for the package
        raise DependencyError(exc.message, hint=exc.hint, location=request.spec.origin) from None


def _pin_local(request: Request, ctx: DepsContext) -> Pinned:
    spec = request.spec
    # dbt resolves every `local:` path, even a dependency's, against the root project
    path = Path(os.path.abspath(ctx.root / os.path.expanduser(spec.source)))
    name, dependencies = _read_package(path, spec, ctx)
    return Pinned(
        kind="local",
        label=spec.source,
        name=name,
        lock_entry={"local": spec.source},
        installed_from=f"<local @ {spec.source}>",
        dependencies=dependencies,
        content=path,
    )


def _pin_git(request: Request, ctx: DepsContext) -> Pinned:
    spec = request.spec
    wanted = sorted(set(request.revisions))
    if len(wanted) > 1:
        raise DependencyError(
            f"git package {label_of(spec)} is required at several revisions: {', '.join(wanted)}",
            hint="make every packages.yml that lists it ask for the same revision",
            location=spec.origin,
        )
    revision = wanted[0] if wanted else "HEAD"
    checkout = ctx.downloads.git(spec.source, None if revision == "HEAD" else revision)
    subdirectory = spec.fields.get("subdirectory")
    folder = checkout.path / subdirectory if subdirectory else checkout.path
    name, dependencies = _read_package(folder, spec, ctx)
    # the lock keeps the URL as written (an env_var stays a template) and the exact commit
    entry: dict[str, Any] = {
        "git": spec.unrendered.get("git", spec.source),
        "revision": checkout.sha,
    }
    if subdirectory:
        entry["subdirectory"] = subdirectory
    return Pinned(
        kind="git",
        label=label_of(spec),
        name=name,
        lock_entry=entry,
        installed_from=f"revision {checkout.sha}",
        dependencies=dependencies,
        content=folder,
        subdirectory=subdirectory,
    )


def warn_if_unpinned(request: Request) -> None:
    """Warn when a git package follows a moving branch rather than a tag or commit."""
    spec = request.spec
    if spec.kind != "git" or not request.warn_unpinned:
        return
    for revision in sorted(set(request.revisions or ("HEAD",)) & set(_UNPINNED_REVISIONS)):
        report(
            "DepsUnpinned",
            f'WARNING: The git package "{spec.source}" follows {revision!r}, not a tag or '
            "commit, so it can change without warning. Pin a `revision:` "
            "(or set `warn-unpinned: false`).",
            Level.WARN,
        )


def _pin_tarball(request: Request, ctx: DepsContext) -> Pinned:
    spec = request.spec
    folder = ctx.downloads.archive(spec.source)
    # the entry's `name` wins over the archive's dbt_project.yml, as in dbt
    _, dependencies = _read_package(folder, spec, ctx)
    name = str(spec.fields["name"])
    return Pinned(
        kind="tarball",
        label=name,
        name=name,
        lock_entry={"tarball": spec.unrendered.get("tarball", spec.source), "name": name},
        installed_from=f"tarball (url: {spec.source})",
        dependencies=dependencies,
        content=folder,
    )


def _pin_hub(request: Request, ctx: DepsContext) -> Pinned:
    spec = request.spec
    package = spec.source
    allowed, names_prerelease = _hub_range(package, request.versions, spec.origin)
    offered = ctx.hub.versions(package)
    compatible = [v for v, meta in offered.items() if _supports(meta, ctx.dbt_version)]
    # as dbt: prereleases only when asked for, or when a requirement names one
    allow_pre = bool(spec.fields.get("install_prerelease")) or names_prerelease
    candidates = semver.installable(compatible, allow_pre)
    chosen = semver.highest_match(allowed, candidates)
    if chosen is None:
        raise DependencyError(
            f"no version of hub package {package} matches {allowed}",
            hint=f"versions available: {', '.join(candidates) or 'none'}; "
            "change the version range in packages.yml",
            location=spec.origin,
        )
    meta = offered[chosen]
    archive_url = (meta.get("downloads") or {}).get("tarball")
    origin = Location(f"hub package {package}@{chosen}")
    if not isinstance(archive_url, str) or not archive_url:
        raise DependencyError(
            f"the package hub gives no download URL for {package}@{chosen}",
            hint="pick another version, or report it to the hub",
            location=origin,
        )
    dependencies = parse_package_list(meta, "", str(origin), None)
    return Pinned(
        kind="hub",
        label=package,
        name=str(meta["name"]),
        lock_entry={"package": package, "version": chosen},
        installed_from=f"version {chosen}",
        dependencies=dependencies,
        archive_url=archive_url,
        latest=candidates[-1],
    )


def _hub_range(
    package: str, texts: tuple[str, ...], origin: Location
) -> tuple[semver.VersionRange, bool]:
    """The intersected requirements, and whether any of them names a prerelease."""
    constraints = []
    for text in texts:
        constraint = semver.parse_constraint(text)
        if constraint is None:  # entries are validated when read; a hub answer may not be
            raise DependencyError(
                f"{text!r} is not a valid version requirement for {package}", location=origin
            )
        constraints.append(constraint)
    allowed = semver.intersect(semver.constraint_range(c) for c in constraints)
    if allowed is None:
        raise DependencyError(
            f"the version requirements for hub package {package} cannot all hold: "
            f"{', '.join(texts)}",
            hint="relax the ranges in packages.yml or upgrade the packages that require it",
            location=origin,
        )
    return allowed, any(c.version.prerelease for c in constraints)


def _supports(meta: Mapping[str, Any], dbt_version: str) -> bool:
    """Whether a hub version's `require_dbt_version` admits the dbt version Kiln matches."""
    required = meta.get("require_dbt_version")
    current = semver.parse_version(dbt_version)
    if not required or current is None:
        return True
    for text in semver.split_requirements(required):
        constraint = semver.parse_constraint(text)
        if constraint is not None and not semver.contains(
            semver.constraint_range(constraint), current
        ):
            return False
    return True


def _read_package(
    folder: Path, spec: PackageSpec, ctx: DepsContext
) -> tuple[str, tuple[PackageSpec, ...]]:
    """A fetched package's project name and its own (rendered) dependencies."""
    from kiln.config.project import PROJECT_FILE, load_project

    label = label_of(spec)
    if not (folder / PROJECT_FILE).is_file():
        raise DependencyError(
            f"package {label}: no {PROJECT_FILE} found in {folder}",
            hint=f"every package (and each of its dependencies) must be a folder with a "
            f"{PROJECT_FILE}; check the path, URL or subdirectory",
            location=spec.origin,
        )
    try:
        name = load_project(folder).name
    except KilnError as exc:
        raise DependencyError(
            f"package {label}: {exc.message}",
            hint=exc.hint,
            location=Location(str(folder / PROJECT_FILE)),
        ) from None
    declared = read_declared(folder, label, ctx.render_context, is_root=False)
    return name, declared.specs


_PINNERS: dict[str, Callable[[Request, DepsContext], Pinned]] = {
    "local": _pin_local,
    "git": _pin_git,
    "tarball": _pin_tarball,
    "hub": _pin_hub,
}
