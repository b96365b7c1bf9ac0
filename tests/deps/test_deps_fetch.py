"""Fetching sources for real: git checkouts of local repositories, archives over HTTP."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from deps_sources import HubServer, commit, make_git_repo, tarball_bytes

from kiln.deps.errors import DependencyError
from kiln.deps.fetch import Downloads, extract_single_folder


@pytest.fixture
def repo(tmp_path: Path) -> dict[str, str]:
    """A repo with a tagged first commit and a newer commit on main; name -> SHA."""
    path = tmp_path / "repo"
    first = make_git_repo(path, {"version.txt": "one"}, tag="v1")
    second = commit(path, {"version.txt": "two"}, "second")
    return {"url": path.as_uri(), "path": str(path), "v1": first, "main": second}


@pytest.fixture
def downloads(tmp_path: Path) -> Downloads:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    return Downloads(scratch)


@pytest.mark.parametrize(
    ("revision", "expected"), [("v1", "v1"), ("main", "main"), (None, "main"), ("HEAD", "main")]
)
def test_git_checks_out_tags_branches_and_the_default_branch(
    repo: dict[str, str], downloads: Downloads, revision: str | None, expected: str
):
    checkout = downloads.git(repo["url"], revision)
    assert checkout.sha == repo[expected]
    assert (checkout.path / "version.txt").read_text() == ("one" if expected == "v1" else "two")


def test_git_checks_out_a_full_commit_sha(repo: dict[str, str], downloads: Downloads):
    checkout = downloads.git(repo["url"], repo["v1"])
    assert checkout.sha == repo["v1"]
    assert (checkout.path / "version.txt").read_text() == "one"


def test_a_plain_path_works_as_a_git_url(repo: dict[str, str], downloads: Downloads):
    assert downloads.git(repo["path"], "v1").sha == repo["v1"]


def test_the_resolved_commit_is_reused_without_cloning_again(
    repo: dict[str, str], downloads: Downloads
):
    by_tag = downloads.git(repo["url"], "v1")
    assert downloads.git(repo["url"], by_tag.sha) is by_tag


def test_an_unknown_revision_reports_gits_reason(repo: dict[str, str], downloads: Downloads):
    with pytest.raises(DependencyError) as info:
        downloads.git(repo["url"], "v9")
    message = info.value.message
    assert message.startswith(f"could not check out revision v9 of git package {repo['url']}:")
    assert "v9" in message.split(":", 1)[1]


def test_a_missing_repository_reports_gits_fatal_line(tmp_path: Path, downloads: Downloads):
    url = (tmp_path / "nope").as_uri()
    with pytest.raises(DependencyError) as info:
        downloads.git(url, None)
    assert "fatal:" in info.value.message
    assert "does not appear to be a git repository" in info.value.message


def test_archives_are_downloaded_and_their_one_folder_returned(
    hub: HubServer, downloads: Downloads
):
    hub.files["/p.tar.gz"] = tarball_bytes("pkg-1.0", {"dbt_project.yml": "name: p\n"})
    folder = downloads.archive(f"{hub.url}p.tar.gz")
    assert folder.name == "pkg-1.0"
    assert (folder / "dbt_project.yml").read_text() == "name: p\n"
    assert downloads.archive(f"{hub.url}p.tar.gz") == folder
    assert hub.requests.count("/p.tar.gz") == 1


def test_a_missing_archive_names_the_url(hub: HubServer, downloads: Downloads):
    with pytest.raises(DependencyError, match=r"could not download .*/gone.tar.gz: HTTP 404"):
        downloads.archive(f"{hub.url}gone.tar.gz")


def test_an_archive_must_hold_exactly_one_folder(tmp_path: Path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in ("a/x", "b/y"):
            archive.addfile(tarfile.TarInfo(name), io.BytesIO(b""))
    tar_path = tmp_path / "two.tar.gz"
    tar_path.write_bytes(buffer.getvalue())
    with pytest.raises(DependencyError, match="exactly one top-level folder, found 2"):
        extract_single_folder(tar_path, tmp_path / "out", "http://x/two.tar.gz")


def test_an_archive_escaping_its_folder_is_refused(tmp_path: Path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.addfile(tarfile.TarInfo("../evil"), io.BytesIO(b""))
    tar_path = tmp_path / "evil.tar.gz"
    tar_path.write_bytes(buffer.getvalue())
    with pytest.raises(DependencyError, match="could not extract"):
        extract_single_folder(tar_path, tmp_path / "out", "http://x/evil.tar.gz")
    assert not (tmp_path / "evil").exists()


def test_a_file_that_is_not_an_archive_is_refused(tmp_path: Path):
    tar_path = tmp_path / "junk.tar.gz"
    tar_path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DependencyError, match="could not extract") as info:
        extract_single_folder(tar_path, tmp_path / "out", "http://x/junk.tar.gz")
    assert "\n" not in info.value.message
    assert info.value.hint == "the URL must serve a .tar.gz archive"
