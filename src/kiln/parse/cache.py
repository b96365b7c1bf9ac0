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
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln import __version__
from kiln.config.packages import package_macro_folders
from kiln.manifest.nodes import Manifest
from kiln.parse.files import checksum_text, discover

if TYPE_CHECKING:
    from kiln.jinja.context import ContextFactory
    from kiln.parse.parser import FileResult, ParseInputs

# The parser (and with it jinja2) is imported only when something must be parsed: an
# unchanged project loads from the cache without it.

CACHE_FILE = "kiln_partial_parse.pickle"
FILES_CACHE_FILE = "kiln_parse_files.pickle"
CACHE_FORMAT = 5
_MANIFEST_CODE = ("parse", "jinja", "config", "manifest")
_BUILTIN_MACROS = "jinja/builtin_macros"
log = logging.getLogger(__name__)


def _project_files(factory: ContextFactory) -> list[str]:
    """Every file under the project's folders, as path strings (Path objects for
    thousands of files cost more than the rest of a no-change check)."""
    p = factory.project
    folders = dict.fromkeys(p.all_source_paths + p.docs_paths)
    files: list[str] = []
    for folder in folders:
        base = str(p.root / folder)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            prefix = dirpath + os.sep
            files.extend(prefix + n for n in sorted(filenames))
    return files


def _global_key(factory: ContextFactory, files: list[str]) -> str:
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
        if path.endswith(".sql") and path.startswith(macro_roots):
            digest.update(path.encode())
            digest.update(Path(path).read_bytes())
    for package in factory.packages:
        # installed packages change only through `kiln deps`: their macros key the cache
        digest.update(f"\0{package.name}\0{package.root}\0".encode())
        digest.update((package.root / "dbt_project.yml").read_bytes())
        for file in discover(package.root, package_macro_folders(package), (".sql",)):
            digest.update(f"{file.path}\0{file.checksum}".encode())
    return digest.hexdigest()


def _code_stamp() -> str:
    """Kiln's version plus the newest mtime of the code that shapes a manifest.

    An upgrade, or an edit of the parser or of Kiln's own macros in a development
    checkout, drops the cache.
    """
    package = Path(__file__).resolve().parent.parent
    files = [p for folder in _MANIFEST_CODE for p in (package / folder).glob("*.py")]
    files += (package / _BUILTIN_MACROS).glob("*.sql")
    newest = max((p.stat().st_mtime_ns for p in files), default=0)
    return f"{__version__}:{newest}"


def _env_matches(recorded: dict[str, Any]) -> bool:
    """Whether each env var still has the value recorded (None: it was unset)."""
    return all(
        os.environ.get(name) == value or (name not in os.environ and value is None)
        for name, value in recorded.items()
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


def _file_stats(files: list[str]) -> dict[str, tuple[int, int]]:
    stats = {}
    for path in files:
        st = os.stat(path)
        stats[path] = (st.st_size, st.st_mtime_ns)
    return stats


def _signature(stats: dict[str, tuple[int, int]]) -> str:
    digest = hashlib.sha256()
    for path, (size, mtime) in stats.items():
        digest.update(f"{path}\0{size}\0{mtime}\n".encode())
    return digest.hexdigest()


def parse_with_cache(
    factory: ContextFactory, target_dir: Path, *, use_cache: bool, include_database: bool
) -> Manifest:
    """Parse the project, reusing what the cache in `target_dir` still holds.

    Three levels: nothing changed (unpickle the manifest); only the bodies of some SQL
    files changed without changing what they ref or configure (patch those nodes); anything
    else (re-parse, reusing per-file results, YAML and generic tests by checksum).
    """
    files = _project_files(factory)
    key = _global_key(factory, files)
    stats = _file_stats(files)
    signature = _signature(stats)
    head_path, files_path = target_dir / CACHE_FILE, target_dir / FILES_CACHE_FILE
    head = _load(head_path) if use_cache else None  # the small header only

    def make_inputs() -> ParseInputs:
        from kiln.parse.parser import ParseInputs

        return ParseInputs(factory, factory.quote_char, include_database)

    if not isinstance(head, dict) or (head.get("format"), head.get("key")) != (CACHE_FORMAT, key):
        head = None
    if head is not None and _env_matches(head["env"]):
        reused = _reuse(factory, head, head_path, stats, make_inputs)
        if reused is not None:
            return reused
    from kiln.parse.parser import ProjectParser

    inputs = make_inputs()
    if head is not None:
        stored = _load(files_path)
        if isinstance(stored, dict):
            inputs.cached_files = {
                k: v for k, v in stored["files"].items() if _env_matches(v.env_vars_used)
            }
            inputs.cached_yaml, inputs.cached_tests = stored["yaml"], stored["tests"]
    parser = ProjectParser(inputs)
    manifest = parser.parse()
    manifest.generation = uuid.uuid4().hex
    if use_cache:
        results = {
            parser.file_keys[u]: r for u, r in parser.file_results.items() if u in parser.file_keys
        }
        _save(
            files_path,
            {"files": results, "yaml": parser.yaml_results, "tests": parser.test_results},
        )
        by_uid = {u: r for u, r in parser.file_results.items() if u in parser.file_keys}
        _save_head(
            head_path, key, stats, signature, _env_summary(results), factory, manifest, by_uid
        )
    return manifest


def _save_head(
    path: Path,
    key: str,
    stats: dict[str, tuple[int, int]],
    signature: str,
    env: dict[str, Any],
    factory: ContextFactory,
    manifest: Manifest,
    by_uid: dict[str, FileResult],
) -> None:
    head = {"format": CACHE_FORMAT, "key": key, "signature": signature, "stats": stats, "env": env}
    # Each node's extraction result pickled on its own: patching an edited body unpickles
    # the results of the edited files only.
    results = {uid: pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for uid, r in by_uid.items()}
    body = {"macros": factory.registry.packages, "manifest": manifest, "results": results}
    _save(path, head, body)


def _reuse(
    factory: ContextFactory,
    head: dict[str, Any],
    head_path: Path,
    stats: dict[str, tuple[int, int]],
    make_inputs: Callable[[], ParseInputs],
) -> Manifest | None:
    """The cached manifest, as is or with edited SQL bodies patched in; None to re-parse."""
    changed = [p for p, st in stats.items() if head["stats"].get(p) != st]
    if set(head["stats"]) != set(stats) or not all(p.endswith(".sql") for p in changed):
        return None
    body = _load(head_path, second=True)
    if not isinstance(body, dict):
        return None
    factory.registry.packages.update(body["macros"])
    manifest: Manifest = body["manifest"]
    if not changed:
        log.debug("partial parse: nothing changed, reusing the manifest")
        return manifest
    patched = _patch_bodies(factory, manifest, body["results"], changed, make_inputs())
    if patched is None:
        return None
    manifest.patched = frozenset(patched)
    # Not saved: patching again next time costs less than rewriting the cache, and the
    # cached manifest stays the base that every later edit is compared against.
    log.debug("partial parse: patched %d edited file(s) into the manifest", len(changed))
    return manifest


def _patch_bodies(
    factory: ContextFactory,
    manifest: Manifest,
    results: dict[str, bytes],
    changed: list[str],
    inputs: ParseInputs,
) -> list[str] | None:
    """Update the raw code of edited model/analysis/singular-test files in place.

    Only when what the file refs, sources, configures and calls is unchanged; anything
    else (a new ref, a config change) needs the full resolution of a re-parse (None).

    Returns:
        The ids of the patched nodes.
    """
    root = factory.project.root
    by_path = {
        n.original_file_path: n
        for n in manifest.nodes.values()
        if n.resource_type in ("model", "analysis", "test") and n.test_metadata is None
    }
    from kiln.parse.parser import ProjectParser

    parser = ProjectParser(inputs)
    patched = []
    for full in changed:
        rel = Path(full).relative_to(root).as_posix()
        node = by_path.get(rel)
        blob = results.get(node.unique_id) if node is not None else None
        old = pickle.loads(blob) if blob is not None else None
        if node is None or old is None:
            return None
        text = Path(full).read_text(encoding="utf-8")
        new = parser.extract_text(node, rel, text)
        if _shape(new) != _shape(old):
            return None
        node.raw_code, node.checksum = text, checksum_text(text)
        patched.append(node.unique_id)
    return patched


def _shape(result: FileResult) -> tuple[Any, ...]:
    return (
        result.refs,
        result.sources,
        result.configs,
        result.macro_ids,
        result.vars_used,
        result.env_vars_used,
    )


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
