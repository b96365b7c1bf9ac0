"""`kiln_state.json`: what Kiln needs to compare states that manifest.json cannot hold.

It sits next to manifest.json in the target folder (so a saved `target/` is a complete
state) and holds, per node, a fingerprint of each var and env var its code reads, and
per source the database and schema as written in its yml. dbt's manifest schema has no
place for these, and a sidecar file leaves manifest.json readable by every dbt tool.

Values are never stored, only a short hash of each, so secrets do not leak into it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kiln.errors import KilnError
from kiln.manifest.nodes import Macro, Manifest, Node
from kiln.state.facts import digest, from_node
from kiln.state.sqlconfig import env_var_names, var_names

SIDECAR_FILE = "kiln_state.json"
SIDECAR_VERSION = 1
UNSET = "unset"
# dbt refuses secret env vars outside profiles; never fingerprint them either
_SECRET_PREFIX = "DBT_ENV_SECRET"
_MISSING = object()

Fingerprints = Mapping[str, Mapping[str, str]]


class VarLookup(Protocol):
    """How a var resolves for a package (implemented by `kiln.jinja.context.VarResolver`)."""

    def lookup(self, name: str, package: str, default: Any = ...) -> Any:
        """The var's value, or `default` when it is not set."""
        ...


@dataclass(frozen=True)
class Sidecar:
    """The contents of kiln_state.json.

    Attributes:
        project_name: the project it was written for.
        invocation_id: the invocation of the manifest.json it belongs with.
        digests: unique id -> `facts.digest` of each node of manifest.nodes.
        vars: unique id -> var name -> value fingerprint.
        env_vars: unique id -> env var name -> value fingerprint.
        sources: unique id -> [database, schema] as written in the yml (None if absent).
        generation: the parse generation it was built from (`Manifest.generation`).
        patched: the nodes patched into that generation (`Manifest.patched`).
    """

    project_name: str
    invocation_id: str | None = None
    digests: Mapping[str, str] = field(default_factory=dict)
    vars: Fingerprints = field(default_factory=dict)
    env_vars: Fingerprints = field(default_factory=dict)
    sources: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    generation: str = ""
    patched: frozenset[str] = frozenset()


def fingerprint(value: Any) -> str:
    """A short, stable hash of a JSON-like value.

    Example:
        >>> fingerprint(400) == fingerprint(400), fingerprint(400) == fingerprint("400")
        (True, False)
    """
    blob = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def build_sidecar(
    manifest: Manifest,
    resolver: VarLookup,
    root: Path,
    invocation_id: str | None,
    previous: Sidecar | None = None,
) -> Sidecar:
    """The sidecar of the current manifest: digests, var fingerprints, source locations.

    `previous` (the target folder's last sidecar) spares the work that depends only on
    the manifest when it was built from the same parse generation: only patched nodes
    are digested and scanned again. Var values are always fingerprinted anew.
    """
    if previous is None or not manifest.generation or previous.generation != manifest.generation:
        vars_out, env_out = node_fingerprints(manifest, resolver)
        digests = node_digests(manifest)
        sources = source_locations(manifest, root)
        patched = manifest.patched
    else:
        patched = manifest.patched | previous.patched
        digests = dict(previous.digests)
        digests.update({uid: digest(from_node(manifest.nodes[uid])) for uid in patched})
        vars_out, env_out = node_fingerprints(manifest, resolver, known=previous, redo=patched)
        sources = dict(previous.sources)
    return Sidecar(
        manifest.project_name,
        invocation_id,
        digests,
        vars_out,
        env_out,
        sources,
        manifest.generation,
        frozenset(patched),
    )


def node_digests(manifest: Manifest) -> dict[str, str]:
    """`facts.digest` of every node of manifest.nodes."""
    return {uid: digest(from_node(node)) for uid, node in manifest.nodes.items()}


def node_fingerprints(
    manifest: Manifest,
    resolver: VarLookup,
    *,
    known: Sidecar | None = None,
    redo: frozenset[str] = frozenset(),
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """(vars, env vars): per node, a fingerprint of the current value of each one it reads.

    A node reads what its code, its hooks and the macros it calls (transitively) name in
    `var('...')` / `env_var('...')` with a literal name, plus what rendering it at parse
    time recorded. With `known`, a sidecar of the same manifest, the names it lists are
    taken as they are for every node but those in `redo`.
    """
    reads = _MacroReads(manifest.macros)
    vars_out: dict[str, dict[str, str]] = {}
    env_out: dict[str, dict[str, str]] = {}
    for uid, node in manifest.nodes.items():
        if known is None or uid in redo:
            names, env_names = reads.of_node(node)
        else:
            names, env_names = set(known.vars.get(uid, ())), set(known.env_vars.get(uid, ()))
        if names:
            vars_out[uid] = {n: _var_fingerprint(resolver, n, node.package_name) for n in names}
        if env_names:
            env_out[uid] = {n: _env_fingerprint(n) for n in env_names}
    return vars_out, env_out


def _var_fingerprint(resolver: VarLookup, name: str, package: str) -> str:
    value = resolver.lookup(name, package, _MISSING)
    return UNSET if value is _MISSING else fingerprint(value)


def _env_fingerprint(name: str) -> str:
    value = os.environ.get(name)
    return UNSET if value is None else fingerprint(value)


class _MacroReads:
    """Var names read by each macro and, memoized, by everything it calls."""

    def __init__(self, macros: Mapping[str, Macro]) -> None:
        self.macros = macros
        self._closure: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    def of_node(self, node: Node) -> tuple[set[str], set[str]]:
        """(vars, env vars) a node reads in its code, hooks and macros."""
        texts = [node.raw_code, *_hook_texts(node.config)]
        names = set(node.vars_used)
        env_names = {n for n in node.env_vars_used if not n.startswith(_SECRET_PREFIX)}
        for text in texts:
            names |= var_names(text)
            env_names |= env_var_names(text)
        for uid in node.depends_on_macros:
            macro_vars, macro_env = self._of_macro(uid, frozenset())
            names |= macro_vars
            env_names |= macro_env
        return names, {n for n in env_names if not n.startswith(_SECRET_PREFIX)}

    def _of_macro(self, uid: str, path: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
        known = self._closure.get(uid)
        if known is not None:
            return known
        macro = self.macros.get(uid)
        if macro is None or uid in path:
            return frozenset(), frozenset()
        names, env_names = var_names(macro.macro_sql), env_var_names(macro.macro_sql)
        for dep in macro.depends_on_macros:
            dep_vars, dep_env = self._of_macro(dep, path | {uid})
            names |= dep_vars
            env_names |= dep_env
        self._closure[uid] = (frozenset(names), frozenset(env_names))
        return self._closure[uid]


def _hook_texts(config: Mapping[str, Any]) -> list[str]:
    out = []
    for key in ("pre-hook", "post-hook", "pre_hook", "post_hook"):
        hooks = config.get(key) or []
        for hook in hooks if isinstance(hooks, list) else [hooks]:
            out.append(str(hook.get("sql", "")) if isinstance(hook, dict) else str(hook))
    return out


def source_locations(manifest: Manifest, root: Path) -> dict[str, tuple[Any, Any]]:
    """Each source's database and schema as written in its yml (None where not written).

    Parsing renders them (`schema: "{{ target.schema }}"`), which differs between
    environments; comparing what is written avoids that false positive.
    """
    files: dict[str, Any] = {}
    out: dict[str, tuple[Any, Any]] = {}
    for uid, source in manifest.sources.items():
        path = source.original_file_path
        if path not in files:
            files[path] = _load_yaml(root / path)
        table, entry = _find_source(files[path], source.source_name, source.name)
        if entry is not None:
            out[uid] = (
                (table or {}).get("database", entry.get("database")),
                (table or {}).get("schema", entry.get("schema")),
            )
    return out


def _load_yaml(path: Path) -> Any:
    from kiln.config.yaml_io import load_yaml_file

    try:
        return load_yaml_file(path)
    except (OSError, KilnError):
        return None


def _find_source(data: Any, source_name: str, table_name: str) -> tuple[Any, Any]:
    """(table entry, source entry) of `source_name.table_name` in a yml document."""
    if not isinstance(data, dict):
        return None, None
    for entry in data.get("sources") or []:
        if isinstance(entry, dict) and str(entry.get("name")) == source_name:
            for table in entry.get("tables") or []:
                if isinstance(table, dict) and str(table.get("name")) == table_name:
                    return table, entry
            return None, entry
    return None, None


def write_sidecar(folder: Path, sidecar: Sidecar) -> Path:
    """Write kiln_state.json into `folder` (the target folder), atomically."""
    from kiln.artifacts.files import write_json_atomic

    document = {
        "kiln_state_version": SIDECAR_VERSION,
        "project_name": sidecar.project_name,
        "invocation_id": sidecar.invocation_id,
        "digests": dict(sorted(sidecar.digests.items())),
        "vars": {uid: dict(sorted(v.items())) for uid, v in sorted(sidecar.vars.items())},
        "env_vars": {uid: dict(sorted(v.items())) for uid, v in sorted(sidecar.env_vars.items())},
        "sources": {uid: list(loc) for uid, loc in sorted(sidecar.sources.items())},
        "generation": sidecar.generation,
        "patched": sorted(sidecar.patched),
    }
    return write_json_atomic(folder / SIDECAR_FILE, document)


def read_sidecar(folder: Path) -> Sidecar | None:
    """kiln_state.json of a state folder; None when absent or of another format version."""
    from kiln.artifacts.files import read_json

    path = folder / SIDECAR_FILE
    if not path.is_file():
        return None
    data = read_json(path)
    if not isinstance(data, dict) or data.get("kiln_state_version") != SIDECAR_VERSION:
        return None
    return Sidecar(
        str(data.get("project_name") or ""),
        data.get("invocation_id"),
        data.get("digests") or {},
        data.get("vars") or {},
        data.get("env_vars") or {},
        {uid: (loc[0], loc[1]) for uid, loc in (data.get("sources") or {}).items()},
        str(data.get("generation") or ""),
        frozenset(data.get("patched") or ()),
    )
