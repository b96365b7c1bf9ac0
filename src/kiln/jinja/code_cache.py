"""Compiled Jinja code kept on disk between invocations (see `CodeCache`).

Separate from `kiln.jinja.environment` so that attaching and flushing the cache never
imports jinja2: a command that renders nothing does not pay for it.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
import types
from pathlib import Path
from typing import Any

# Bumped when the environment's settings change what the compiled code does.
_FORMAT = 2


class CodeCache:
    """Compiled template code kept on disk across invocations (Jinja's compile step
    dominates `compile` and `run` on large projects, and model text rarely changes).

    Keyed by a hash of the template text; the file is tied to the Python and Jinja versions
    because marshalled code objects are.
    """

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.path: Path | None = None
        self.entries: dict[str, bytes] | None = None
        self.dirty = False

    def attach(self, folder: Path) -> None:
        """Use `<folder>/kiln_template_cache-<versions>.bin` (read on first lookup)."""
        self.folder = folder
        self.path = None
        self.entries = None

    def _file(self) -> Path | None:
        # Named on first use: only rendering imports jinja2, whose version is in the name.
        if self.path is None and self.folder is not None:
            import jinja2

            python = f"{sys.version_info.major}{sys.version_info.minor}"
            stamp = f"{python}-{jinja2.__version__}-{_FORMAT}"
            self.path = self.folder / f"kiln_template_cache-{stamp}.bin"
        return self.path

    def _load(self) -> dict[str, bytes]:
        if self.entries is None:
            self.entries = {}
            path = self._file()
            if path is not None and path.is_file():
                try:
                    loaded = marshal.loads(path.read_bytes())
                    if isinstance(loaded, dict):
                        self.entries = loaded
                except (ValueError, EOFError, TypeError, OSError):
                    self.entries = {}
        return self.entries

    def lookup(self, source: str) -> types.CodeType | None:
        if self.folder is None:
            return None
        blob = self._load().get(_digest(source))
        if blob is None:
            return None
        try:
            code = marshal.loads(blob)
        except (ValueError, EOFError, TypeError):
            return None
        return code if isinstance(code, types.CodeType) else None

    def store(self, source: str, code: Any) -> None:
        if self.folder is None or not isinstance(code, types.CodeType):
            return
        self._load()[_digest(source)] = marshal.dumps(code)
        self.dirty = True

    def flush(self) -> None:
        """Write new entries (atomically); a failure only costs speed next time."""
        if not self.dirty or self.path is None or self.entries is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(marshal.dumps(self.entries))
            tmp.replace(self.path)
            self.dirty = False
        except OSError:
            pass


def _digest(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8"), usedforsecurity=False).hexdigest()


CODE_CACHE = CodeCache()


def use_code_cache(folder: Path) -> None:
    """Keep compiled templates in `folder` (the project's target folder)."""
    CODE_CACHE.attach(folder)


def flush_code_cache() -> None:
    """Save templates compiled during this invocation."""
    CODE_CACHE.flush()
