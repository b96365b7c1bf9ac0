"""packages.yml / dependencies.yml: which file, env_var and var rendering, entry errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from deps_sources import write_files

from kiln.deps.errors import DependencyError
from kiln.deps.specs import make_render_context, read_declared


def _read(root: Path, files: dict[str, str], cli_vars=None):
    write_files(root, files)
    return read_declared(root, "", make_render_context(cli_vars or {}), is_root=True)


def _error(root: Path, files: dict[str, str], cli_vars=None) -> DependencyError:
    with pytest.raises(DependencyError) as info:
        _read(root, files, cli_vars)
    return info.value


def test_packages_yml_entries_get_dbts_defaults(root: Path):
    declared = _read(
        root,
        {
            "packages.yml": """\
            packages:
              - package: dbt-labs/dbt_utils
                version: [">=1.0.0", "<2.0.0"]
              - git: https://github.com/org/repo.git
                revision: v1.0
              - local: ../lib
              - tarball: https://example.com/p.tar.gz
                name: p
            """
        },
    )
    assert declared.file_name == "packages.yml"
    hub, git, local, tarball = declared.specs
    assert (hub.kind, hub.source, hub.fields["install_prerelease"]) == (
        "hub",
        "dbt-labs/dbt_utils",
        False,
    )
    assert (git.kind, git.fields["revision"], git.fields["subdirectory"]) == ("git", "v1.0", None)
    assert (local.kind, local.source) == ("local", "../lib")
    assert (tarball.kind, tarball.fields["name"]) == ("tarball", "p")
    assert str(git.origin) == "packages.yml:4"


def test_dependencies_yml_is_read_when_it_lists_packages(root: Path):
    declared = _read(root, {"dependencies.yml": "packages:\n  - local: ../lib\n"})
    assert declared.file_name == "dependencies.yml"
    assert [s.source for s in declared.specs] == ["../lib"]


def test_no_packages_file_declares_nothing(root: Path):
    declared = _read(root, {})
    assert declared.specs == ()
    assert declared.file_name == "packages.yml"


@pytest.mark.parametrize("text", ["", "packages:\n", "packages: []\n"])
def test_empty_packages_files_declare_nothing(root: Path, text: str):
    assert _read(root, {"packages.yml": text}).specs == ()


def test_env_var_and_var_are_rendered_and_the_raw_entry_kept(root, monkeypatch):
    monkeypatch.setenv("KILN_TEST_PKG_DIR", "../from_env")
    declared = _read(
        root,
        {
            "packages.yml": """\
            packages:
              - local: "{{ env_var('KILN_TEST_PKG_DIR') }}"
              - local: "{{ env_var('KILN_TEST_UNSET', '../fallback') }}"
              - package: "{{ var('org') }}/util"
                version: "1.0.0"
            """
        },
        cli_vars={"org": "acme"},
    )
    env, default, hub = declared.specs
    assert env.source == "../from_env"
    assert env.unrendered == {"local": "{{ env_var('KILN_TEST_PKG_DIR') }}"}
    assert default.source == "../fallback"
    assert hub.source == "acme/util"


def test_root_dependencies_yml_is_left_unrendered_as_dbt_does(root, monkeypatch):
    monkeypatch.setenv("KILN_TEST_PKG_DIR", "../from_env")
    text = "packages:\n  - local: \"{{ env_var('KILN_TEST_PKG_DIR') }}\"\n"
    (spec,) = _read(root, {"dependencies.yml": text}).specs
    assert spec.source == "{{ env_var('KILN_TEST_PKG_DIR') }}"


def test_missing_env_var_names_the_variable_and_the_entry(root, monkeypatch):
    monkeypatch.delenv("KILN_TEST_UNSET", raising=False)
    error = _error(
        root, {"packages.yml": "packages:\n  - local: \"{{ env_var('KILN_TEST_UNSET') }}\"\n"}
    )
    assert "KILN_TEST_UNSET" in error.message
    assert str(error.location) == "packages.yml:2"


def test_missing_var_says_how_to_pass_it(root):
    error = _error(root, {"packages.yml": "packages:\n  - local: \"{{ var('where') }}\"\n"})
    assert "where" in error.message
    assert error.hint is not None and "--vars" in error.hint


def test_packages_in_both_files_is_an_error(root):
    error = _error(
        root,
        {
            "packages.yml": "packages:\n  - local: ../a\n",
            "dependencies.yml": "packages:\n  - local: ../b\n",
        },
    )
    assert "both packages.yml and dependencies.yml" in error.message


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("packages: {local: ../a}\n", "'packages:' list", None),
        ("- local: ../a\n", "'packages:' list", None),
        ("packages:\n  - ../a\n", "must be a mapping", 2),
        ("packages:\n  - local: ../a\n  - locl: ../b\n", "needs one of local", 3),
        ("packages:\n  - local: ../a\n    git: x\n", "mixes local and git", 2),
        ("packages:\n  - local: ../a\n    revison: v1\n", "unknown key 'revison'", 2),
        ("packages:\n  - tarball: https://x/p.tar.gz\n", "needs a 'name' key", 2),
        ("packages:\n  - package: dbt_utils\n    version: 1.0.0\n", "needs a namespace", 2),
        ("packages:\n  - package: a/b\n", "needs a 'version' key", 2),
        ("packages:\n  - package: a/b\n    version: ~1.0\n", "not a valid version", 2),
        ("packages:\n  - local: ''\n", "non-empty str", 2),
        ("packages:\n  - git: x\n    warn-unpinned: maybe\n", "'warn-unpinned'", 2),
        ("packages:\n  - private: org/repo\n", "git provider", 2),
        ("packages:\n  - local: [\n", "invalid YAML", 3),
    ],
)
def test_malformed_packages_yml_names_the_file_line_and_problem(root, text, message, line):
    error = _error(root, {"packages.yml": text})
    assert message in error.message
    assert error.location is not None
    assert error.location.path == "packages.yml"
    assert error.location.line == line


def test_unknown_key_suggests_the_closest_valid_one(root):
    error = _error(root, {"packages.yml": "packages:\n  - git: x\n    subdir: a\n"})
    assert error.hint == "did you mean 'subdirectory'?"


def test_a_dependencys_packages_file_is_named_after_the_package(tmp_path):
    folder = write_files(tmp_path / "lib", {"packages.yml": "packages:\n  - nope: 1\n"})
    with pytest.raises(DependencyError) as info:
        read_declared(folder, "../lib", make_render_context({}), is_root=False)
    assert str(info.value.location) == "../lib/packages.yml:2"
