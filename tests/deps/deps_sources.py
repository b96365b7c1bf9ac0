"""Real package sources for the deps tests: package folders, git repos, tarballs, a hub.

Nothing is mocked: git repositories are made with the `git` CLI, archives with `tarfile`,
and the hub is an `http.server` on 127.0.0.1 serving the registry JSON and the archives::

    with HubServer() as hub:
        hub.publish("acme/util", "1.0.0")
        monkeypatch.setenv("DBT_PACKAGE_HUB_URL", hub.url)

The e2e suite imports these helpers as `deps.deps_sources`.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import textwrap
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "kiln tests",
    "GIT_AUTHOR_EMAIL": "tests@kiln.invalid",
    "GIT_COMMITTER_NAME": "kiln tests",
    "GIT_COMMITTER_EMAIL": "tests@kiln.invalid",
}


def project_yml(name: str, version: str = "1.0.0") -> str:
    """A minimal dbt_project.yml for a package."""
    return f'name: {name}\nversion: "{version}"\nconfig-version: 2\n'


def write_files(folder: Path, files: Mapping[str, str]) -> Path:
    """Write files (dedented) under `folder`; returns `folder`."""
    for rel, content in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return folder


def write_package(
    folder: Path, name: str, files: Mapping[str, str] | None = None, version: str = "1.0.0"
) -> Path:
    """A package folder: dbt_project.yml named `name`, plus `files`."""
    return write_files(folder, {"dbt_project.yml": project_yml(name, version), **(files or {})})


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; returns stdout."""
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **_GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def make_git_repo(repo: Path, files: Mapping[str, str], tag: str | None = None) -> str:
    """A git repository holding `files` in one commit (tagged if asked); returns its SHA."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "--quiet", "--initial-branch", "main")
    return commit(repo, files, "initial", tag)


def commit(repo: Path, files: Mapping[str, str], message: str, tag: str | None = None) -> str:
    """Write `files` into the repo and commit them (tagged if asked); returns the SHA."""
    write_files(repo, files)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)
    if tag:
        git(repo, "tag", tag)
    return git(repo, "rev-parse", "HEAD")


def tarball_bytes(top: str, files: Mapping[str, str]) -> bytes:
    """A .tar.gz holding `files` under the one folder `top`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for rel, content in files.items():
            data = textwrap.dedent(content).encode("utf-8")
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class HubServer:
    """A package hub on 127.0.0.1 (port chosen by the OS) serving in-memory files."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        self._packages: dict[str, dict[str, Any]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = server.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """The hub base URL, ending in `/` (the value of DBT_PACKAGE_HUB_URL)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def publish(
        self,
        package: str,
        version: str,
        *,
        name: str | None = None,
        packages: Sequence[Mapping[str, Any]] = (),
        files: Mapping[str, str] | None = None,
        require_dbt_version: Any = None,
    ) -> str:
        """Offer `package` (`org/name`) at `version`, with a real archive; returns its URL.

        The archive holds `<name>-<version>/dbt_project.yml` (version recorded in it) and
        `files`; `packages` become the version's own dependencies.
        """
        project = name or package.split("/")[1]
        archive_path = f"/archives/{package}/{version}.tar.gz"
        top = f"{project}-{version}"
        contents = {"dbt_project.yml": project_yml(project, version), **(files or {})}
        self.files[archive_path] = tarball_bytes(top, contents)
        meta: dict[str, Any] = {
            "name": project,
            "packages": [dict(p) for p in packages],
            "downloads": {"tarball": self.url.rstrip("/") + archive_path},
        }
        if require_dbt_version is not None:
            meta["require_dbt_version"] = require_dbt_version
        entry = self._packages.setdefault(package, {"name": project, "versions": {}})
        entry["versions"][version] = meta
        self._write_json(package)
        return self.url.rstrip("/") + archive_path

    def withdraw(self, package: str, version: str) -> None:
        """Stop offering one version of a package."""
        del self._packages[package]["versions"][version]
        self._write_json(package)

    def _write_json(self, package: str) -> None:
        namespace, _, _ = package.partition("/")
        document = {**self._packages[package], "namespace": namespace}
        self.files[f"/api/v1/{package}.json"] = json.dumps(document).encode("utf-8")
        self.files["/api/v1/index.json"] = json.dumps(sorted(self._packages)).encode("utf-8")
