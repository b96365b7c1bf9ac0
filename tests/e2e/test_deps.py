"""`kiln deps` end to end: real packages, git repos, archives and a local package hub."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deps.deps_sources import (
    HubServer,
    commit,
    make_git_repo,
    project_yml,
    tarball_bytes,
    write_package,
)
from kiln_project import KilnResult, Project, ProjectFactory

_CLOCK = re.compile(r"^\d\d:\d\d:\d\d  ")


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    """A package hub on 127.0.0.1 that `kiln deps` is pointed at."""
    with HubServer() as server:
        monkeypatch.setenv("DBT_PACKAGE_HUB_URL", server.url)
        yield server


def _lines(result: KilnResult) -> list[str]:
    """The output lines without their timestamps."""
    return [_CLOCK.sub("", line) for line in result.output.splitlines()]


def _deps(proj: Project, *args: str) -> list[str]:
    result = proj.run("deps", *args)
    assert result.exit_code == 0, result
    return _lines(result)


def _error_line(result: KilnResult) -> str:
    """The one line of a failed run's error (which must not show a traceback)."""
    assert result.exit_code == 2, result
    assert "Traceback" not in result.output
    lines = _lines(result)
    start = lines.index("Encountered an error:")
    rest = [line for line in lines[start + 1 :] if line.strip()]
    assert len(rest) == 1, result
    return rest[0]


def _lock(proj: Project) -> str:
    return (proj.root / "package-lock.yml").read_text()


def _installed(proj: Project, folder: str = "dbt_packages") -> list[str]:
    return sorted(p.name for p in (proj.root / folder).iterdir())


def test_local_package_is_symlinked_and_locked_as_dbt_does(project: ProjectFactory, tmp_path):
    mypkg = write_package(tmp_path / "mypkg", "my_pkg", {"models/pkg_model.sql": "select 1"})
    proj = project({"packages.yml": "packages:\n  - local: ../mypkg\n"})
    lines = _deps(proj)
    installed = proj.root / "dbt_packages" / "my_pkg"
    assert installed.is_symlink()
    assert Path(installed.readlink()) == mypkg
    # byte for byte what dbt-core 1.11 writes for this packages.yml
    assert _lock(proj) == textwrap.dedent(
        """\
        packages:
          - local: ../mypkg
            name: my_pkg
        sha1_hash: 8138791b1fe85874f5310c92e0dc3f4078c86f65
        """
    )
    lock_path = proj.root.resolve() / "package-lock.yml"
    assert f"Updating lock file in file path: {lock_path}" in lines
    at = lines.index("Installing ../mypkg")
    assert lines[at + 1] == "Installed from <local @ ../mypkg>"


def test_models_can_use_the_macros_of_an_installed_package(project: ProjectFactory, tmp_path):
    macro = "{% macro greeting() %}hello{% endmacro %}"
    write_package(tmp_path / "mypkg", "my_pkg", {"macros/greeting.sql": macro})
    proj = project(
        {
            "packages.yml": "packages:\n  - local: ../mypkg\n",
            "models/a.sql": "select '{{ my_pkg.greeting() }}' as g",
        }
    )
    before = proj.run("run")
    assert before.exit_code == 2, before
    assert "run `kiln deps`" in before.output
    _deps(proj)
    after = proj.run("run")
    assert after.exit_code == 0, after
    assert proj.query("select g from a") == [("hello",)]


def test_git_package_at_a_tag_from_a_subdirectory(project: ProjectFactory, tmp_path):
    repo = tmp_path / "repo"
    tagged = make_git_repo(
        repo,
        {"sub/dbt_project.yml": project_yml("git_pkg"), "sub/models/g.sql": "select 1 as g"},
        tag="v0.1",
    )
    commit(repo, {"sub/models/g.sql": "select 2 as g"}, "after the tag")
    url = repo.as_uri()
    proj = project(
        {"packages.yml": f"packages:\n  - git: {url}\n    revision: v0.1\n    subdirectory: sub\n"}
    )
    lines = _deps(proj)
    installed = proj.root / "dbt_packages" / "git_pkg"
    assert (installed / "models" / "g.sql").read_text() == "select 1 as g"
    assert not (installed / ".git").exists()
    entries, _, sha1_hash = _lock(proj).partition("sha1_hash: ")
    assert entries == (
        f"packages:\n  - git: {url}\n    name: git_pkg\n    revision: {tagged}\n"
        "    subdirectory: sub\n"
    )
    assert re.fullmatch(r"[0-9a-f]{40}\n", sha1_hash)
    at = lines.index(f"Installing {url}/sub")
    assert lines[at + 1 : at + 3] == [f"Installed from revision {tagged}", "and subdirectory sub"]


def test_tarball_package_is_downloaded_and_extracted(project: ProjectFactory, hub: HubServer):
    hub.files["/t.tar.gz"] = tarball_bytes("any-top", {"dbt_project.yml": project_yml("from_tar")})
    url = f"{hub.url}t.tar.gz"
    proj = project({"packages.yml": f"packages:\n  - tarball: {url}\n    name: tar_pkg\n"})
    lines = _deps(proj)
    assert (proj.root / "dbt_packages" / "tar_pkg" / "dbt_project.yml").is_file()
    assert f"  - name: tar_pkg\n    tarball: {url}\n" in _lock(proj)
    assert f"Installed from tarball (url: {url})" in lines


def test_hub_package_brings_its_dependency_at_the_intersected_version(
    project: ProjectFactory, hub: HubServer
):
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        hub.publish("acme/util", version)
    hub.publish("acme/metrics", "0.3.0", packages=[{"package": "acme/util", "version": "<1.2.0"}])
    proj = project(
        {
            "packages.yml": """\
            packages:
              - package: acme/metrics
                version: 0.3.0
              - package: acme/util
                version: [">=1.0.0"]
            """
        }
    )
    lines = _deps(proj)
    assert _installed(proj) == ["metrics", "util"]
    util_project = (proj.root / "dbt_packages" / "util" / "dbt_project.yml").read_text()
    assert 'version: "1.1.0"' in util_project
    assert "  - name: metrics\n    package: acme/metrics\n    version: 0.3.0\n" in _lock(proj)
    assert "  - name: util\n    package: acme/util\n    version: 1.1.0\n" in _lock(proj)
    at = lines.index("Installing acme/util")
    assert lines[at + 1 : at + 3] == [
        "Installed from version 1.1.0",
        "Updated version available: 1.2.0",
    ]
    assert "Updates available for packages: ['acme/util']" in lines


def test_second_run_installs_the_locked_version_until_upgrade(
    project: ProjectFactory, hub: HubServer
):
    hub.publish("acme/util", "1.0.0")
    proj = project({"packages.yml": "packages:\n  - package: acme/util\n    version: '>=1.0.0'\n"})
    first = _deps(proj)
    assert "Up to date!" in first
    util_project = proj.root / "dbt_packages" / "util" / "dbt_project.yml"

    hub.publish("acme/util", "1.1.0")
    second = _deps(proj)
    assert not any(line.startswith("Updating lock file") for line in second)
    assert 'version: "1.0.0"' in util_project.read_text()
    assert "Updated version available: 1.1.0" in second

    upgraded = _deps(proj, "--upgrade")
    assert any(line.startswith("Updating lock file") for line in upgraded)
    assert 'version: "1.1.0"' in util_project.read_text()
    assert "    version: 1.1.0\n" in _lock(proj)


def test_a_changed_packages_list_rewrites_the_lock(project: ProjectFactory, tmp_path):
    write_package(tmp_path / "a", "a")
    write_package(tmp_path / "b", "b")
    proj = project({"packages.yml": "packages:\n  - local: ../a\n"})
    _deps(proj)
    proj.write({"packages.yml": "packages:\n  - local: ../a\n  - local: ../b\n"})
    lines = _deps(proj)
    assert any(line.startswith("Updating lock file") for line in lines)
    assert _installed(proj) == ["a", "b"]


def test_lock_flag_writes_the_lock_and_installs_nothing(project: ProjectFactory, tmp_path):
    write_package(tmp_path / "mypkg", "my_pkg")
    proj = project({"packages.yml": "packages:\n  - local: ../mypkg\n"})
    lines = _deps(proj, "--lock")
    assert "name: my_pkg" in _lock(proj)
    assert not (proj.root / "dbt_packages").exists()
    assert not any(line.startswith("Installing") for line in lines)


def test_stale_package_folders_are_removed(project: ProjectFactory, tmp_path):
    write_package(tmp_path / "mypkg", "my_pkg")
    proj = project(
        {
            "packages.yml": "packages:\n  - local: ../mypkg\n",
            "dbt_packages/old_pkg/dbt_project.yml": project_yml("old_pkg"),
        }
    )
    _deps(proj)
    assert _installed(proj) == ["my_pkg"]


def test_packages_install_path_is_honoured(project: ProjectFactory, tmp_path):
    write_package(tmp_path / "mypkg", "my_pkg")
    proj = project(
        {
            "dbt_project.yml": "name: e2e\nprofile: e2e\npackages-install-path: vendor\n",
            "packages.yml": "packages:\n  - local: ../mypkg\n",
        }
    )
    _deps(proj)
    assert _installed(proj, "vendor") == ["my_pkg"]
    assert not (proj.root / "dbt_packages").exists()


def test_dependencies_yml_is_read_when_there_is_no_packages_yml(project: ProjectFactory, tmp_path):
    write_package(tmp_path / "mypkg", "my_pkg")
    proj = project({"dependencies.yml": "packages:\n  - local: ../mypkg\n"})
    _deps(proj)
    assert _installed(proj) == ["my_pkg"]


def test_env_var_in_packages_yml_is_rendered(project: ProjectFactory, tmp_path, monkeypatch):
    write_package(tmp_path / "mypkg", "my_pkg")
    monkeypatch.setenv("KILN_E2E_PKG", "../mypkg")
    proj = project({"packages.yml": "packages:\n  - local: \"{{ env_var('KILN_E2E_PKG') }}\"\n"})
    _deps(proj)
    assert _installed(proj) == ["my_pkg"]


def test_var_in_packages_yml_comes_from_the_vars_option(project: ProjectFactory, tmp_path):
    write_package(tmp_path / "mypkg", "my_pkg")
    proj = project({"packages.yml": "packages:\n  - local: \"{{ var('pkg_dir') }}\"\n"})
    _deps(proj, "--vars", "{pkg_dir: ../mypkg}")
    assert _installed(proj) == ["my_pkg"]


def test_project_dir_option_points_at_the_project(project: ProjectFactory, tmp_path, run_kiln):
    write_package(tmp_path / "mypkg", "my_pkg")
    proj = project({"packages.yml": "packages:\n  - local: ../mypkg\n"})
    result = run_kiln(["deps", "--project-dir", "proj"], cwd=tmp_path)
    assert result.exit_code == 0, result
    assert _installed(proj) == ["my_pkg"]
    assert not (tmp_path / "dbt_packages").exists()


def test_no_packages_is_a_warning_not_an_error(project: ProjectFactory):
    proj = project()
    lines = _deps(proj)
    assert "Warning: No packages were found in packages.yml" in lines
    assert not (proj.root / "package-lock.yml").exists()
    assert _installed(proj) == []


def test_add_package_updates_packages_yml_then_installs(project: ProjectFactory, hub: HubServer):
    hub.publish("acme/util", "1.0.0")
    proj = project()
    _deps(proj, "--add-package", "acme/util@1.0.0")
    assert "package: acme/util" in (proj.root / "packages.yml").read_text()
    assert _installed(proj) == ["util"]


def test_deps_needs_no_profile(project: ProjectFactory, tmp_path):
    write_package(tmp_path / "mypkg", "my_pkg")
    proj = project({"packages.yml": "packages:\n  - local: ../mypkg\n"})
    proj.remove("profiles.yml")
    _deps(proj, "--profiles-dir", str(tmp_path / "nowhere"))
    assert _installed(proj) == ["my_pkg"]


# ---- errors: exit 2, one line naming the file or package, no traceback ---------------------

PackagesYml = Callable[[Path, HubServer], str]


def _missing_git(tmp: Path, hub: HubServer) -> str:
    return f"packages:\n  - git: {(tmp / 'no_repo').as_uri()}\n    revision: v1\n"


def _bad_revision(tmp: Path, hub: HubServer) -> str:
    make_git_repo(tmp / "repo", {"dbt_project.yml": project_yml("repo")}, tag="v1")
    return f"packages:\n  - git: {(tmp / 'repo').as_uri()}\n    revision: v9\n"


def _not_a_project(tmp: Path, hub: HubServer) -> str:
    (tmp / "empty").mkdir()
    return "packages:\n  - local: ../empty\n"


def _unknown_hub_package(tmp: Path, hub: HubServer) -> str:
    hub.publish("acme/util", "1.0.0")
    return "packages:\n  - package: acme/utils\n    version: 1.0.0\n"


def _no_matching_version(tmp: Path, hub: HubServer) -> str:
    hub.publish("acme/util", "1.0.0")
    return "packages:\n  - package: acme/util\n    version: '>=9.0.0'\n"


def _static(text: str) -> PackagesYml:
    return lambda tmp, hub: text


@pytest.mark.parametrize(
    ("make_packages_yml", "expected"),
    [
        pytest.param(
            _static("packages: {local: ../x}\n"),
            ["packages.yml:", "'packages:' list"],
            id="not-list",
        ),
        pytest.param(
            _static("packages:\n  - locl: ../x\n"), ["packages.yml:2:", "locl"], id="unknown-kind"
        ),
        pytest.param(
            _static("packages:\n  - local: [\n"), ["packages.yml:3:", "invalid YAML"], id="yaml"
        ),
        pytest.param(
            _static("packages:\n  - local: ../missing\n"),
            ["packages.yml:2:", "../missing", "no dbt_project.yml"],
            id="local-missing",
        ),
        pytest.param(_not_a_project, ["../empty", "no dbt_project.yml"], id="local-not-project"),
        pytest.param(_missing_git, ["no_repo", "revision v1", "fatal:"], id="git-clone"),
        pytest.param(_bad_revision, ["repo", "revision v9"], id="git-checkout"),
        pytest.param(
            _unknown_hub_package,
            ["acme/utils was not found", "did you mean 'acme/util'?"],
            id="hub-unknown",
        ),
        pytest.param(
            _no_matching_version,
            ["acme/util", ">=9.0.0", "versions available: 1.0.0"],
            id="hub-no-match",
        ),
        pytest.param(
            _static("packages:\n  - local: \"{{ env_var('KILN_E2E_MISSING_PKG') }}\"\n"),
            ["packages.yml:2:", "KILN_E2E_MISSING_PKG"],
            id="env-var",
        ),
    ],
)
def test_deps_errors_are_one_line(
    project: ProjectFactory,
    hub: HubServer,
    tmp_path: Path,
    make_packages_yml: PackagesYml,
    expected: list[str],
):
    proj = project({"packages.yml": make_packages_yml(tmp_path, hub)})
    line = _error_line(proj.run("deps"))
    assert line.startswith("DependencyError: ")
    for text in expected:
        assert text in line


def test_unreachable_hub_is_one_line_naming_the_url(project: ProjectFactory, monkeypatch):
    with HubServer() as closed:
        url = closed.url
    monkeypatch.setenv("DBT_PACKAGE_HUB_URL", url)
    proj = project({"packages.yml": "packages:\n  - package: acme/util\n    version: 1.0.0\n"})
    line = _error_line(proj.run("deps"))
    assert f"could not reach the package hub at {url}api/v1/acme/util.json" in line
    assert "packages.yml:2" in line
