"""The partial-parse cache: per-file extraction results keyed by checksum, plus the whole
manifest when no file changed.

Invalidated as a whole by any change to macros, vars, dbt_project.yml, the profile target
or Kiln itself; per file by its checksum and the env vars its rendering read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path
from typing import Any

from kiln import __version__
from kiln.jinja.context import ContextFactory
from kiln.manifest.nodes import Manifest
from kiln.parse.parser import FileResult, ParseInputs, ProjectParser

CACHE_FILE = "kiln_partial_parse.pickle"
FILES_CACHE_FILE = "kiln_parse_files.pickle"
CACHE_FORMAT = 3
_MANIFEST_CODE = ("parse", "jinja", "config", "manifest")
log = logging.getLogger(__name__)


def _project_files(factory: ContextFactory) -> list[Path]:
    p = factory.project
    folders = dict.fromkeys(
        p.model_paths
        + p.seed_paths
        + p.snapshot_paths
        + p.analysis_paths
        + p.macro_paths
        + p.test_paths
        + p.docs_paths
    )
    files: list[Path] = []
    for folder in folders:
        base = p.root / folder
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            files.extend(Path(dirpath) / n for n in sorted(filenames))
    return files


def _stat_signature(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        st = path.stat()
        digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _global_key(factory: ContextFactory, files: list[Path]) -> str:
    """Everything whose change invalidates the whole cache."""
    p, t = factory.project, factory.target
    digest = hashlib.sha256()
    digest.update(
        f"{CACHE_FORMAT}\0{_code_stamp()}\0{t.type}\0{t.name}\0{t.schema}\0{t.database}".encode()
    )
    digest.update((p.root / "dbt_project.yml").read_bytes())
    digest.update(factory.vars.fingerprint().encode())
    macro_roots = tuple(
        f"{p.root / folder}{os.sep}"
        for folder in (*p.macro_paths, *(f"{t}/generic" for t in p.test_paths))
    )
    for path in files:
        if path.suffix == ".sql" and str(path).startswith(macro_roots):
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _code_stamp() -> str:
    """Kiln's version plus the newest mtime of the code that shapes a manifest.

    An upgrade, or an edit of the parser in a development checkout, drops the cache.
    """
    package = Path(__file__).resolve().parent.parent
    newest = max(
        (
            p.stat().st_mtime_ns
            for folder in _MANIFEST_CODE
            for p in (package / folder).glob("*.py")
        ),
        default=0,
    )
    return f"{__version__}:{newest}"


def _env_still_matches(results: dict[str, FileResult]) -> bool:
    return all(
        os.environ.get(name) == value or (name not in os.environ and value is None)
        for result in results.values()
        for name, value in result.env_vars_used.items()
    )


def _load(path: Path, *, second: bool = False) -> Any:
    """The first pickle in a cache file, or the second (the header is read on its own so
    that a changed project never pays for unpickling the old manifest)."""
    try:
        with path.open("rb") as f:
            first = pickle.load(f)
            return pickle.load(f) if second else first
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None


def _env_summary(results: dict[str, FileResult]) -> dict[str, Any]:
    return {n: v for r in results.values() for n, v in r.env_vars_used.items()}


def parse_with_cache(
    factory: ContextFactory, target_dir: Path, *, use_cache: bool, include_database: bool
) -> Manifest:
    """Parse the project, reusing what the cache in `target_dir` still holds.

    Two files: the manifest (with the macro registry) for the common "nothing changed"
    case, and the per-file results, read only when some file did change.
    """
    files = _project_files(factory)
    key = _global_key(factory, files)
    signature = _stat_signature(files)
    head_path, files_path = target_dir / CACHE_FILE, target_dir / FILES_CACHE_FILE
    head = _load(head_path) if use_cache else None  # the small header only
    cached_files: dict[str, FileResult] = {}
    cached_yaml: dict[str, Any] = {}
    cached_tests: dict[str, Any] = {}
    if isinstance(head, dict) and head.get("format") == CACHE_FORMAT and head.get("key") == key:
        env_ok = _env_still_matches({"": FileResult([], [], {}, [], {}, head["env"])})
        if head.get("signature") == signature and env_ok:
            log.debug("partial parse: nothing changed, reusing the manifest")
            body = _load(head_path, second=True)
            if isinstance(body, dict):
                factory.registry.packages.update(body["macros"])
                manifest: Manifest = body["manifest"]
                return manifest
            return manifest
        stored = _load(files_path)
        if isinstance(stored, dict):
            cached_files = {k: v for k, v in stored["files"].items() if _env_still_matches({k: v})}
            cached_yaml, cached_tests = stored["yaml"], stored["tests"]
    parser = ProjectParser(
        ParseInputs(
            factory, factory.quote_char, include_database, cached_files, cached_yaml, cached_tests
        )
    )
    manifest = parser.parse()
    if use_cache:
        results = {
            parser.file_keys[u]: r for u, r in parser.file_results.items() if u in parser.file_keys
        }
        _save(
            files_path,
            {"files": results, "yaml": parser.yaml_results, "tests": parser.test_results},
        )
        head = {
            "format": CACHE_FORMAT,
            "key": key,
            "signature": signature,
            "env": _env_summary(results),
        }
        _save(head_path, head, {"macros": factory.registry.packages, "manifest": manifest})
    return manifest


def _save(path: Path, data: Any, body: Any = None) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
            if body is not None:
                pickle.dump(body, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError as exc:  # a read-only target folder only costs speed
        log.debug("could not write the parse cache: %s", exc)
