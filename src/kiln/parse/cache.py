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
CACHE_FORMAT = 1
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
    macro_roots = [p.root / m for m in p.macro_paths] + [
        p.root / t / "generic" for t in p.test_paths
    ]
    for path in files:
        if path.suffix == ".sql" and any(root in path.parents for root in macro_roots):
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _code_stamp() -> str:
    """Kiln's version plus its newest source mtime: a Kiln upgrade or edit drops the cache."""
    package = Path(__file__).resolve().parent.parent
    newest = max((p.stat().st_mtime_ns for p in package.rglob("*.py")), default=0)
    return f"{__version__}:{newest}"


def _env_still_matches(results: dict[str, FileResult]) -> bool:
    return all(
        os.environ.get(name) == value or (name not in os.environ and value is None)
        for result in results.values()
        for name, value in result.env_vars_used.items()
    )


def _load(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as f:
            data = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    return data if isinstance(data, dict) and data.get("format") == CACHE_FORMAT else None


def parse_with_cache(
    factory: ContextFactory, target_dir: Path, *, use_cache: bool, include_database: bool
) -> Manifest:
    """Parse the project, reusing what the cache in `target_dir` still holds."""
    files = _project_files(factory)
    key = _global_key(factory, files)
    signature = _stat_signature(files)
    cache_path = target_dir / CACHE_FILE
    cached = _load(cache_path) if use_cache else None
    cached_files: dict[str, FileResult] = {}
    if cached is not None and cached.get("key") == key:
        if cached.get("signature") == signature and _env_still_matches(cached["files"]):
            log.debug("partial parse: nothing changed, reusing the manifest")
            manifest: Manifest = cached["manifest"]
            _reload_macros(factory, manifest)
            return manifest
        cached_files = {k: v for k, v in cached["files"].items() if _env_still_matches({k: v})}
    parser = ProjectParser(ParseInputs(factory, factory.quote_char, include_database, cached_files))
    manifest = parser.parse()
    if use_cache:
        results = {
            parser.file_keys[u]: r for u, r in parser.file_results.items() if u in parser.file_keys
        }
        _save(
            cache_path,
            {
                "format": CACHE_FORMAT,
                "key": key,
                "signature": signature,
                "files": results,
                "manifest": manifest,
            },
        )
    return manifest


def _reload_macros(factory: ContextFactory, manifest: Manifest) -> None:
    """Fill the macro registry from the cached manifest's macro records."""
    from kiln.jinja.environment import rewrite_dbt_tags
    from kiln.parse.parser import builtin_macro_files

    for package, display, text in builtin_macro_files():
        factory.registry.add_file(package, display, text)
    seen: set[str] = set()
    for macro in manifest.macros.values():
        if macro.package_name == factory.project.name and macro.original_file_path not in seen:
            seen.add(macro.original_file_path)
            text = (factory.project.root / macro.original_file_path).read_text(encoding="utf-8")
            factory.registry.add_file(
                macro.package_name, macro.original_file_path, text, rewrite_dbt_tags(text)
            )


def _save(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError as exc:  # a read-only target folder only costs speed
        log.debug("could not write the parse cache: %s", exc)
