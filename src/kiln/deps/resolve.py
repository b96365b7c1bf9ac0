"""Transitive resolution: from the declared packages to every package, pinned, once each.

Declarations of the same package (by path, URL or hub name) merge into one `Request`: hub
version requirements intersect, git revisions must agree. The walk goes level by level, as
dbt's does, so a package's place in the lock is where it was first declared.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from kiln.deps.errors import DependencyError
from kiln.deps.semver import split_requirements
from kiln.deps.sources import DepsContext, Pinned, Request, label_of, pin, warn_if_unpinned
from kiln.deps.specs import KIND_KEY, PackageSpec


def request_keys(spec: PackageSpec) -> tuple[str, ...]:
    """The names one package may be declared under; the first is its own.

    A git URL with and without `.git` is the same repository.

    Example:
        >>> request_keys(PackageSpec("git", {"git": "https://x/r.git", "subdirectory": None}))
        ('https://x/r.git', 'https://x/r')
    """
    if spec.kind != "git":
        return (spec.source,)
    url = spec.source
    other = url[: -len(".git")] if url.endswith(".git") else url + ".git"
    subdirectory = spec.fields.get("subdirectory")
    if subdirectory:
        return (f"{url}/{subdirectory}", f"{other}/{subdirectory}")
    return (url, other)


def request_for(spec: PackageSpec) -> Request:
    """What one declaration asks for on its own."""
    revision = spec.fields.get("revision")
    return Request(
        spec=spec,
        versions=tuple(split_requirements(spec.fields["version"])) if spec.kind == "hub" else (),
        revisions=(str(revision),) if spec.kind == "git" and revision is not None else (),
        warn_unpinned=spec.fields.get("warn-unpinned") is not False,
    )


def merge_request(requests: dict[str, Request], spec: PackageSpec) -> str:
    """Add a declaration to the requests; returns the key it was merged under.

    Raises:
        DependencyError: the same package is declared as two different kinds.
    """
    keys = request_keys(spec)
    key = next((k for k in keys if k in requests), keys[0])
    incoming = request_for(spec)
    existing = requests.get(key)
    if existing is None:
        requests[key] = incoming
        return key
    if existing.spec.kind != spec.kind:
        raise DependencyError(
            f"package {key} is declared both as {KIND_KEY[existing.spec.kind]!r} "
            f"({existing.spec.origin}) and as {KIND_KEY[spec.kind]!r}",
            hint="declare each package in one way only",
            location=spec.origin,
        )
    requests[key] = Request(
        spec=existing.spec,
        versions=existing.versions + incoming.versions,
        revisions=existing.revisions + incoming.revisions,
        warn_unpinned=existing.warn_unpinned and incoming.warn_unpinned,
    )
    return key


def resolve_packages(specs: Sequence[PackageSpec], ctx: DepsContext) -> list[Pinned]:
    """Every package the project needs, directly or not, pinned; in lock order.

    Raises:
        DependencyError: a package cannot be resolved, or two packages share a project name
            (or take the root project's name).
    """
    requests: dict[str, Request] = {}
    expanded: set[tuple[str, str]] = set()
    pending: list[PackageSpec] = list(specs)
    while pending:
        following: list[PackageSpec] = []
        for spec in pending:
            key = merge_request(requests, spec)
            pinned = pin(requests[key], ctx)
            # a package's dependencies are read once per pinned version (and cycles end)
            marker = (key, json.dumps(pinned.lock_entry, sort_keys=True))
            if marker not in expanded:
                expanded.add(marker)
                following.extend(pinned.dependencies)
        pending = following
    final = [pin(request, ctx) for request in requests.values()]
    for request in requests.values():
        warn_if_unpinned(request)
    _check_names(final, requests.values(), ctx.root_name)
    return final


def _check_names(final: Sequence[Pinned], requests: Iterable[Request], root_name: str) -> None:
    seen: dict[str, str] = {}
    for pinned, request in zip(final, requests, strict=True):
        if pinned.name == root_name:
            raise DependencyError(
                f"package {pinned.label} has the same name as the root project: {root_name!r}",
                hint="package names must be unique in a project; rename one of them",
                location=request.spec.origin,
            )
        if pinned.name in seen:
            raise DependencyError(
                f"packages {seen[pinned.name]} and {label_of(request.spec)} are both "
                f"named {pinned.name!r}",
                hint="remove one of them from packages.yml (a dependency may already bring it)",
                location=request.spec.origin,
            )
        seen[pinned.name] = pinned.label


def lock_entries(final: Iterable[Pinned]) -> list[dict[str, Any]]:
    """The package-lock.yml `packages:` list: each pinned entry plus its `name`."""
    return [{**pinned.lock_entry, "name": pinned.name} for pinned in final]
