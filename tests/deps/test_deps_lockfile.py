"""package-lock.yml: the sha1_hash equals dbt-core 1.11's, and the file reads back.

Every hash literal below was computed by dbt-core 1.11.16 itself (its `_create_sha1_hash`
over `package_config_from_data`, or written by `dbt deps`) for the same entries.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from kiln.deps.lockfile import (
    LOCK_FILE,
    hash_document,
    lock_hash,
    read_lock,
    read_lock_hash,
    write_lock,
)
from kiln.deps.specs import make_render_context, parse_package_list
from kiln.errors import KilnError

UTILS_GIT = "https://github.com/dbt-labs/dbt-utils.git"


def _specs(entries, context=None):
    return parse_package_list({"packages": entries}, "", "packages.yml", context)


@pytest.mark.parametrize(
    ("entries", "dbt_hash"),
    [
        ([{"local": "../mypkg"}], "8138791b1fe85874f5310c92e0dc3f4078c86f65"),
        ([{"local": "../p", "name": "p"}], "ddd74eac15a9535f97090f7fb1b5e55a4f7c7021"),
        ([{"git": UTILS_GIT, "revision": "1.1.1"}], "0d502cede36723f0ff1ba4e0780a1eeb84267412"),
        (
            [
                {
                    "git": UTILS_GIT,
                    "revision": "1.1.1",
                    "subdirectory": "sub",
                    "warn-unpinned": False,
                }
            ],
            "b790477d26a4620222098649a3a6792def1a243d",
        ),
        ([{"git": "https://x/y.git", "revision": 1.0}], "14ad9efd9ece9f3d4ac11f57d65216f0a9a6d1ed"),
        (
            [{"package": "dbt-labs/dbt_utils", "version": "1.1.1"}],
            "a158c48c59c2bb7d729d2a4e215aabe5bb4f3353",
        ),
        (
            [
                {
                    "package": "dbt-labs/dbt_utils",
                    "version": [">=1.0.0", "<2.0.0"],
                    "install_prerelease": True,
                }
            ],
            "0e2aafdfe3b75c5e70f121fa79cd7a8618b7b499",
        ),
        (
            [{"package": "dbt-labs/dbt_utils", "version": ">=1.0.0,<2.0.0"}],
            "9050103977aaf5c22b381fec5f3b944a3d34e19e",
        ),
        (
            [{"package": "dbt-labs/dbt_utils", "version": "1.1.1", "install_prerelease": None}],
            "c954d9e738186324fdf7f249ce70c0ff36a90c92",
        ),
        (
            [{"tarball": "https://example.com/x.tar.gz", "name": "x"}],
            "eb696c0cd79e38a50b2923e75be4047ecfb2253e",
        ),
        (
            [{"local": "../mypkg"}, {"package": "dbt-labs/dbt_utils", "version": "1.1.1"}],
            "a6bb64eb334254cc21a80568866b512472a0e31d",
        ),
    ],
)
def test_lock_hash_equals_dbts(entries, dbt_hash):
    assert lock_hash(_specs(entries)) == dbt_hash


def test_lock_hash_of_a_file_with_every_kind_equals_the_one_dbt_deps_wrote():
    text = textwrap.dedent(
        """\
        packages:
          - local: ../mypkg
          - git: "file:///tmp/depsx/s/gitsrc"
            revision: v0.1
            subdirectory: sub
          - tarball: http://127.0.0.1:8765/tars/t.tar.gz
            name: tar_pkg
          - package: acme/util
            version: [">=1.0.0", "<1.3.0"]
        """
    )
    specs = parse_package_list(yaml.safe_load(text), text, "packages.yml", None)
    assert lock_hash(specs) == "e9c3bbf70cd386f9a871038df1e1c178c7bbce32"


def test_lock_hash_covers_rendered_values_and_the_entry_as_written(monkeypatch):
    monkeypatch.setenv("GITURL", "file:///tmp/depsx/s/gitsrc")
    entries = [
        {
            "git": "{{ env_var('GITURL') }}",
            "revision": "{{ var('rev', 'v0.1') }}",
            "subdirectory": "sub",
            "warn-unpinned": False,
        },
        {"package": "acme/util", "version": ">=1.0.0", "install_prerelease": True},
    ]
    specs = _specs(entries, make_render_context({}))
    # written by `dbt deps` for this packages.yml with GITURL set as above
    assert lock_hash(specs) == "52f41e66146f1ca7b34f6eb3d4f027969139397d"


def test_hash_document_adds_dbts_defaults_for_each_kind():
    git, hub = _specs([{"git": "https://x/y.git"}, {"package": "a/b", "version": "1.0.0"}])
    assert hash_document(git) == {
        "git": "https://x/y.git",
        "revision": None,
        "warn-unpinned": None,
        "subdirectory": None,
        "unrendered": {"git": "https://x/y.git"},
    }
    assert hash_document(hub)["install_prerelease"] is False
    assert "name" not in hash_document(hub)


def test_lock_hash_ignores_entry_order():
    a, b = {"local": "../a"}, {"local": "../b"}
    assert lock_hash(_specs([a, b])) == lock_hash(_specs([b, a]))


def test_written_lock_has_dbts_layout(tmp_path: Path):
    path = tmp_path / LOCK_FILE
    entries = [
        {"local": "../mypkg", "name": "my_pkg"},
        {"package": "acme/util", "version": "1.2.0", "name": "util"},
    ]
    write_lock(path, entries, "8138791b1fe85874f5310c92e0dc3f4078c86f65")
    assert path.read_text() == textwrap.dedent(
        """\
        packages:
          - local: ../mypkg
            name: my_pkg
          - name: util
            package: acme/util
            version: 1.2.0
        sha1_hash: 8138791b1fe85874f5310c92e0dc3f4078c86f65
        """
    )


def test_lock_reads_back_as_pinned_specs(tmp_path: Path):
    path = tmp_path / LOCK_FILE
    write_lock(path, [{"git": "https://x/y.git", "revision": "a" * 40, "name": "y"}], "abc")
    lock = read_lock(path, None)
    assert lock.sha1_hash == "abc"
    assert read_lock_hash(path) == "abc"
    (spec,) = lock.specs
    assert spec.kind == "git"
    assert spec.fields["revision"] == "a" * 40
    assert spec.fields["name"] == "y"


def test_broken_lock_names_the_file(tmp_path: Path):
    path = tmp_path / LOCK_FILE
    path.write_text("packages: [\n")
    with pytest.raises(KilnError, match="invalid YAML") as info:
        read_lock(path, None)
    assert str(info.value.location).startswith(LOCK_FILE)
