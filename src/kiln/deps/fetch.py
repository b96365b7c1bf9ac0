"""Getting package sources onto disk: git checkouts and downloaded archives.

Everything lands in one scratch folder per `kiln deps` run, and each source is fetched
once: resolving (to read a package's own dependencies) and installing share the copy.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kiln.deps.errors import DependencyError

DOWNLOAD_TIMEOUT_SECONDS = 60.0
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, slots=True)
class Checkout:
    """A git working tree and the commit it is at."""

    path: Path
    sha: str


def is_commit_sha(revision: str) -> bool:
    """Whether a revision is a full commit SHA (which `git clone --branch` cannot take).

    Example:
        >>> is_commit_sha("0123456789abcdef0123456789abcdef01234567"), is_commit_sha("v1.0")
        (True, False)
    """
    return bool(_SHA_RE.match(revision))


class Downloads:
    """The scratch folder of one run, remembering what was fetched into it.

    Args:
        root: an empty folder that outlives the run's resolution and installation.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._checkouts: dict[tuple[str, str], Checkout] = {}
        self._archives: dict[str, Path] = {}

    def git(self, url: str, revision: str | None) -> Checkout:
        """A checkout of `url` at `revision` (branch, tag or SHA; None: the default branch).

        Raises:
            DependencyError: git is missing, or the clone or checkout failed.
        """
        key = (url, revision or "HEAD")
        if key not in self._checkouts:
            dest = self._slot("git", f"{url}@{key[1]}")
            checkout = clone(url, revision, dest)
            self._checkouts[key] = checkout
            self._checkouts[(url, checkout.sha)] = checkout
        return self._checkouts[key]

    def archive(self, url: str) -> Path:
        """The single top-level folder of the .tar.gz at `url`, downloaded and extracted.

        Raises:
            DependencyError: the download failed or the archive is not one folder.
        """
        if url not in self._archives:
            slot = self._slot("tar", url)
            slot.mkdir(parents=True)
            tar_path = slot / "package.tar.gz"
            download(url, tar_path)
            self._archives[url] = extract_single_folder(tar_path, slot / "contents", url)
        return self._archives[url]

    def _slot(self, kind: str, key: str) -> Path:
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
        return self.root / f"{kind}-{digest}"


def clone(url: str, revision: str | None, dest: Path) -> Checkout:
    """Clone `url` into `dest` and check out `revision`.

    Branches and tags are cloned shallowly; a commit SHA needs the full history because
    servers need not serve arbitrary commits to a shallow fetch.

    Raises:
        DependencyError: git is missing, or the clone or checkout failed.
    """
    what = f"revision {revision}" if revision and revision != "HEAD" else "the default branch"
    if not revision or revision == "HEAD":
        _git(["clone", "--quiet", "--depth", "1", url, str(dest)], None, url, what)
    elif is_commit_sha(revision):
        _git(["clone", "--quiet", "--no-checkout", url, str(dest)], None, url, what)
        _git(["checkout", "--quiet", "--detach", revision], dest, url, what)
    else:
        clone_args = ["clone", "--quiet", "--depth", "1", "--branch", revision, url, str(dest)]
        _git(clone_args, None, url, what)
    sha = _git(["rev-parse", "HEAD"], dest, url, what).strip()
    return Checkout(dest, sha)


def _git(args: list[str], cwd: Path | None, url: str, what: str) -> str:
    """Run git quietly (no prompts, C locale); failures name the repository and revision."""
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    command = ["git", "-c", "advice.detachedHead=false", *args]
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise DependencyError(
            f"cannot fetch git package {url}: the `git` command was not found",
            hint="install git and make sure it is on PATH",
        ) from None
    if done.returncode != 0:
        detail = _git_failure(done.stderr) or f"git exited with code {done.returncode}"
        raise DependencyError(
            f"could not check out {what} of git package {url}: {detail}",
            hint="check the URL, your access to the repository and that the revision exists",
        )
    return done.stdout


def _git_failure(stderr: str) -> str:
    r"""The line of git's stderr that says what failed: its first `fatal:`/`error:` line.

    git may follow that line with advice ("Please make sure you have the correct access
    rights ..."), so the last line alone is often not the reason.

    Example:
        >>> _git_failure("Cloning...\nfatal: repo not found\n\nPlease make sure ...")
        'fatal: repo not found'
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    reasons = [line for line in lines if line.startswith(("fatal:", "error:"))]
    if reasons:
        return reasons[0]
    return lines[-1] if lines else ""


def download(url: str, dest: Path) -> None:
    """Download `url` (http, https or file) to the file `dest`.

    Raises:
        DependencyError: the server could not be reached or did not answer with the file.
    """
    import shutil
    import urllib.error
    import urllib.request

    try:
        with (
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response,
            dest.open("wb") as out,
        ):
            shutil.copyfileobj(response, out)
    except urllib.error.HTTPError as exc:
        raise DependencyError(
            f"could not download {url}: HTTP {exc.code} {exc.reason}",
            hint="check the tarball URL",
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DependencyError(
            f"could not download {url}: {reason}",
            hint="check the URL and the network connection",
        ) from None


def extract_single_folder(tar_path: Path, dest: Path, url: str) -> Path:
    """Extract a .tar.gz into `dest` and return its one top-level folder.

    Raises:
        DependencyError: the file is not a readable archive, or it does not hold exactly one
            top-level folder (dbt's layout rule for package archives).
    """
    import tarfile

    try:
        with tarfile.open(tar_path, "r:*") as archive:
            # the "data" filter refuses absolute paths, `..` and links leaving `dest`
            archive.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise DependencyError(
            f"could not extract the package archive from {url}: {reason}",
            hint="the URL must serve a .tar.gz archive",
        ) from None
    children = list(dest.iterdir()) if dest.is_dir() else []
    if len(children) != 1 or not children[0].is_dir():
        raise DependencyError(
            f"the archive from {url} must hold exactly one top-level folder, "
            f"found {len(children)} entries",
            hint="package archives are laid out as <folder>/dbt_project.yml, ...",
        )
    return children[0]
