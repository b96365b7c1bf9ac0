"""Finding a project's files and reading them with their checksums."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One project file.

    `path` is relative to the project root with forward slashes (dbt's original_file_path);
    `resource_path` is relative to the resource folder it was found in (dbt's `path`).
    """

    path: str
    resource_path: str
    root_dir: str
    text: str
    checksum: str

    @property
    def stem(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[0]

    @property
    def folder_parts(self) -> list[str]:
        """Folders between the resource folder and the file (for fqn)."""
        return self.resource_path.split("/")[:-1]


def checksum_text(text: str) -> str:
    """sha256 of a file's text, as dbt records `checksum.checksum`."""
    # dbt hashes the text without surrounding whitespace, so a trailing newline is no change
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def discover(root: Path, folders: tuple[str, ...], suffixes: tuple[str, ...]) -> list[SourceFile]:
    """Every file below the given folders whose name ends with one of `suffixes`, sorted."""
    found: list[SourceFile] = []
    for folder in folders:
        base = root / folder
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.endswith(suffixes) or name.startswith("."):
                    continue
                full = Path(dirpath) / name
                text = full.read_text(encoding="utf-8")
                rel = full.relative_to(root).as_posix()
                found.append(
                    SourceFile(
                        path=rel,
                        resource_path=full.relative_to(base).as_posix(),
                        root_dir=folder,
                        text=text,
                        checksum=checksum_text(text),
                    )
                )
    return found
