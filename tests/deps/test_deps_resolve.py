"""Transitive resolution over real local packages, git repos and a local hub."""

from __future__ import annotations

from pathlib import Path

import pytest
from deps_sources import HubServer, make_git_repo, project_yml, write_package

from kiln.deps.errors import DependencyError
from kiln.deps.resolve import lock_entries, resolve_packages
from kiln.deps.sources import DepsContext
from kiln.deps.specs import make_render_context, read_declared
from kiln.events.bus import Event, Level


def _resolve(root: Path, packages_yml: str, ctx: DepsContext):
    (root / "packages.yml").write_text(packages_yml)
    declared = read_declared(root, "", make_render_context({}), is_root=True)
    return resolve_packages(declared.specs, ctx)


def _versions(final) -> dict[str, str]:
    return {p.label: p.lock_entry.get("version", "") for p in final}


def test_hub_requirements_from_a_local_package_intersect_with_the_roots(
    root: Path, hub: HubServer, deps_context: DepsContext
):
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        hub.publish("acme/util", version)
    packages = "packages:\n  - package: acme/util\n    version: '<1.2.0'\n"
    write_package(root.parent / "lib", "lib", {"packages.yml": packages})
    final = _resolve(
        root,
        "packages:\n  - local: ../lib\n  - package: acme/util\n    version: '>=1.0.0'\n",
        deps_context,
    )
    assert lock_entries(final) == [
        {"local": "../lib", "name": "lib"},
        {"package": "acme/util", "version": "1.1.0", "name": "util"},
    ]


def test_a_hub_packages_own_dependencies_come_from_the_hub(
    root: Path, hub: HubServer, deps_context: DepsContext
):
    hub.publish("acme/util", "1.0.0")
    hub.publish("acme/util", "1.1.0")
    hub.publish("acme/util", "2.0.0")
    deps = [{"package": "acme/util", "version": [">=1.0.0", "<2.0.0"]}]
    hub.publish("acme/metrics", "0.3.0", packages=deps)
    final = _resolve(
        root, "packages:\n  - package: acme/metrics\n    version: 0.3.0\n", deps_context
    )
    assert _versions(final) == {"acme/metrics": "0.3.0", "acme/util": "1.1.0"}
    assert final[1].latest == "2.0.0"


def test_a_package_needed_twice_is_resolved_once(root: Path, deps_context: DepsContext):
    common = "packages:\n  - local: ../common\n"
    write_package(root.parent / "a", "a", {"packages.yml": common})
    write_package(root.parent / "b", "b", {"packages.yml": common})
    write_package(root.parent / "common", "common")
    final = _resolve(root, "packages:\n  - local: ../a\n  - local: ../b\n", deps_context)
    assert [p.name for p in final] == ["a", "b", "common"]


def test_packages_depending_on_each_other_resolve(root: Path, deps_context: DepsContext):
    write_package(root.parent / "a", "a", {"packages.yml": "packages:\n  - local: ../b\n"})
    write_package(root.parent / "b", "b", {"packages.yml": "packages:\n  - local: ../a\n"})
    final = _resolve(root, "packages:\n  - local: ../a\n", deps_context)
    assert [p.name for p in final] == ["a", "b"]


def test_versions_too_new_for_this_dbt_are_skipped(
    root: Path, hub: HubServer, deps_context: DepsContext
):
    hub.publish("acme/util", "1.0.0", require_dbt_version=[">=1.5.0", "<3.0.0"])
    hub.publish("acme/util", "1.1.0", require_dbt_version=">=99.0.0")
    final = _resolve(
        root, "packages:\n  - package: acme/util\n    version: '>=1.0.0'\n", deps_context
    )
    assert _versions(final) == {"acme/util": "1.0.0"}


@pytest.mark.parametrize(
    ("entry", "version"),
    [
        ("version: '>=1.0.0'", "1.0.0"),
        ("version: '>=1.0.0'\n    install_prerelease: true", "1.1.0-rc1"),
        ("version: '1.1.0-rc1'", "1.1.0-rc1"),
    ],
)
def test_prereleases_need_install_prerelease_or_an_exact_pin(
    root: Path, hub: HubServer, deps_context: DepsContext, entry: str, version: str
):
    hub.publish("acme/util", "1.0.0")
    hub.publish("acme/util", "1.1.0-rc1")
    final = _resolve(root, f"packages:\n  - package: acme/util\n    {entry}\n", deps_context)
    assert _versions(final) == {"acme/util": version}


def test_no_matching_version_lists_what_the_hub_has(
    root: Path, hub: HubServer, deps_context: DepsContext
):
    hub.publish("acme/util", "1.0.0")
    hub.publish("acme/util", "1.2.0")
    with pytest.raises(DependencyError) as info:
        _resolve(root, "packages:\n  - package: acme/util\n    version: '>=2.0.0'\n", deps_context)
    assert info.value.message == "no version of hub package acme/util matches >=2.0.0"
    assert info.value.hint is not None and "1.0.0, 1.2.0" in info.value.hint
    assert str(info.value.location) == "packages.yml:2"


def test_conflicting_transitive_ranges_name_the_package_and_the_ranges(
    root: Path, hub: HubServer, deps_context: DepsContext
):
    hub.publish("acme/util", "1.0.0")
    write_package(
        root.parent / "lib",
        "lib",
        {"packages.yml": "packages:\n  - package: acme/util\n    version: '>=2.0.0'\n"},
    )
    with pytest.raises(DependencyError) as info:
        _resolve(
            root,
            "packages:\n  - package: acme/util\n    version: '<2.0.0'\n  - local: ../lib\n",
            deps_context,
        )
    assert "acme/util cannot all hold: <2.0.0, >=2.0.0" in info.value.message


def test_two_packages_with_one_name_are_an_error(root: Path, deps_context: DepsContext):
    write_package(root.parent / "a", "same")
    write_package(root.parent / "b", "same")
    with pytest.raises(DependencyError, match="both named 'same'"):
        _resolve(root, "packages:\n  - local: ../a\n  - local: ../b\n", deps_context)


def test_a_package_named_like_the_root_project_is_an_error(root: Path, deps_context: DepsContext):
    write_package(root.parent / "a", "root")
    with pytest.raises(DependencyError, match="same name as the root project"):
        _resolve(root, "packages:\n  - local: ../a\n", deps_context)


def test_one_path_declared_as_two_kinds_is_an_error(root: Path, deps_context: DepsContext):
    write_package(root.parent / "a", "a")
    with pytest.raises(DependencyError, match="declared both as 'local'"):
        _resolve(root, "packages:\n  - local: ../a\n  - git: ../a\n", deps_context)


def test_git_revisions_that_disagree_are_an_error(root: Path, deps_context: DepsContext):
    url = (root.parent / "repo").as_uri()
    write_package(
        root.parent / "lib",
        "lib",
        {"packages.yml": f"packages:\n  - git: {url}.git\n    revision: v2\n"},
    )
    make_git_repo(root.parent / "repo", {"dbt_project.yml": project_yml("repo")}, tag="v1")
    with pytest.raises(DependencyError, match="several revisions: v1, v2"):
        _resolve(
            root,
            f"packages:\n  - git: {url}\n    revision: v1\n  - local: ../lib\n",
            deps_context,
        )


def test_git_packages_lock_the_commit_of_the_requested_tag(
    root: Path, deps_context: DepsContext, events: list[Event]
):
    files = {"pkg/dbt_project.yml": project_yml("in_sub"), "README": "x"}
    sha = make_git_repo(root.parent / "repo", files, tag="v0.1")
    url = (root.parent / "repo").as_uri()
    final = _resolve(
        root,
        f"packages:\n  - git: {url}\n    revision: v0.1\n    subdirectory: pkg\n",
        deps_context,
    )
    assert lock_entries(final) == [
        {"git": url, "revision": sha, "subdirectory": "pkg", "name": "in_sub"}
    ]
    assert not [e for e in events if e.level >= Level.WARN]


def test_unpinned_git_packages_are_warned_about_once(
    root: Path, deps_context: DepsContext, events: list[Event]
):
    make_git_repo(root.parent / "repo", {"dbt_project.yml": project_yml("repo")})
    url = (root.parent / "repo").as_uri()
    _resolve(root, f"packages:\n  - git: {url}\n", deps_context)
    warnings = [e for e in events if e.name == "DepsUnpinned"]
    assert len(warnings) == 1
    assert url in warnings[0].msg and "'HEAD'" in warnings[0].msg
