"""manifest.json, rewritten from the previous file when the parse result is unchanged.

Serializing every node costs more than the rest of a warm parse of a large project. A
manifest's content is fixed by its parse generation (`Manifest.generation`, see
`kiln.parse.cache`), so when the previous manifest.json was written from the same
generation with the same options, only its metadata and the nodes patched since (edited
SQL bodies) need new bytes. Where those parts sit in the file is recorded next to it in
`kiln_manifest_layout.pickle`; the file's size and mtime guard against another tool
having rewritten it meanwhile, in which case the whole document is serialized again.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from kiln import __version__
from kiln.artifacts.files import encode_json, write_bytes_atomic
from kiln.artifacts.schemas import manifest_v12
from kiln.manifest.nodes import Manifest

LAYOUT_FILE = "kiln_manifest_layout.pickle"
_METADATA = "\0metadata"  # the metadata record's key in `Layout.spans` (never a node id)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the variable parts of a manifest.json file sit, and what it was written from."""

    generation: str
    options: str
    stat: tuple[int, int]
    spans: dict[str, tuple[int, int]]
    patched: frozenset[str]


def write_manifest_file(path: Path, manifest: Manifest, **meta: Any) -> Path:
    """Write manifest.json (schema v12), splicing the previous file where it still holds.

    Args:
        path: the manifest.json to write.
        manifest: the parsed project.
        **meta: as for `manifest_v12.to_manifest_v12`.

    Raises:
        ArtifactError: a value cannot be serialized, or the file cannot be written.
    """
    layout_path = path.with_name(LAYOUT_FILE)
    options = _options_key(manifest, meta)
    previous = _read_layout(layout_path) if manifest.generation else None
    spliced = None
    if (
        previous is not None
        and previous.generation == manifest.generation
        and previous.options == options
        and _stat(path) == previous.stat
    ):
        spliced = _splice(path, manifest, meta, previous)
    payload, spans = spliced if spliced is not None else _serialize(path, manifest, meta)
    write_bytes_atomic(path, payload)
    if manifest.generation:
        stat = _stat(path)
        if stat is not None:
            patched = manifest.patched | (previous.patched if spliced and previous else set())
            layout = Layout(manifest.generation, options, stat, spans, frozenset(patched))
            _write_layout(layout_path, layout)
    else:
        with contextlib.suppress(OSError):
            layout_path.unlink()
    return path


def _serialize(
    path: Path, manifest: Manifest, meta: dict[str, Any]
) -> tuple[list[bytes], dict[str, tuple[int, int]]]:
    """The whole document, with the spans of the metadata and of each node."""
    # Nodes are converted and encoded one by one: holding every node's record at once
    # was the peak memory of a cold parse.
    document, nodes = manifest_v12.manifest_parts(manifest, **meta)
    metadata = document.pop("metadata")
    parts: list[bytes] = []
    spans: dict[str, tuple[int, int]] = {}
    size = 0

    def add(chunk: bytes, key: str | None = None) -> None:
        nonlocal size
        if key is not None:
            spans[key] = (size, size + len(chunk))
        parts.append(chunk)
        size += len(chunk)

    add(b'{"metadata":')
    add(encode_json(metadata, path), _METADATA)
    add(b',"nodes":{')
    for index, (uid, record) in enumerate(nodes):
        add((b"," if index else b"") + encode_json(uid, path) + b":")
        add(encode_json(record, path), uid)
    rest = encode_json(document, path)
    add(b"}" + (b"," + rest[1:] if len(rest) > 2 else b"}"))
    return parts, spans


def _splice(
    path: Path, manifest: Manifest, meta: dict[str, Any], previous: Layout
) -> tuple[list[bytes | memoryview], dict[str, tuple[int, int]]] | None:
    """The previous file with new metadata and re-serialized patched nodes (None: cannot)."""
    try:
        old = path.read_bytes()
    except OSError:
        return None
    redo = manifest.patched | previous.patched
    if not redo <= manifest.nodes.keys() or not redo <= previous.spans.keys():
        return None
    fresh = {_METADATA: _metadata_bytes(path, manifest, meta)}
    if redo:
        context = manifest_v12.node_context(manifest, meta.get("project_root"), redo)
        for uid in redo:
            record = manifest_v12.node_v12(manifest.nodes[uid], context)
            fresh[uid] = encode_json(record, path)
    replaced = sorted((previous.spans[key], chunk) for key, chunk in fresh.items())
    view = memoryview(old)  # slices of it are not copies; join copies once
    parts: list[bytes | memoryview] = []
    cursor = 0
    for (begin, end), chunk in replaced:
        parts += (view[cursor:begin], chunk)
        cursor = end
    parts.append(view[cursor:])
    return parts, _shifted(previous.spans, fresh)


def _shifted(
    spans: dict[str, tuple[int, int]], fresh: dict[str, bytes]
) -> dict[str, tuple[int, int]]:
    """`spans` after each key in `fresh` got its new bytes (spans never overlap)."""
    edits = sorted(
        (spans[key][0], len(fresh[key]) - (spans[key][1] - spans[key][0])) for key in fresh
    )
    starts = [begin for begin, _ in edits]
    totals = list(itertools.accumulate(delta for _, delta in edits))
    out: dict[str, tuple[int, int]] = {}
    for key, (begin, end) in spans.items():
        before = bisect.bisect_left(starts, begin)  # the edits ahead of this span
        shift = totals[before - 1] if before else 0
        chunk = fresh.get(key)
        out[key] = (begin + shift, begin + shift + len(chunk) if chunk is not None else end + shift)
    return out


def _metadata_bytes(path: Path, manifest: Manifest, meta: dict[str, Any]) -> bytes:
    options = {k: v for k, v in meta.items() if k != "project_root"}
    return encode_json(manifest_v12.manifest_metadata(manifest, **options), path)


def _options_key(manifest: Manifest, meta: dict[str, Any]) -> str:
    """Everything besides the generation that shapes the non-metadata part of the file."""
    shaping = {
        # A new Kiln, or an edited converter in a development checkout, writes anew.
        "writer": f"{__version__}:{Path(manifest_v12.__file__).stat().st_mtime_ns}",
        "format": manifest_v12.SCHEMA.url,
        "project_root": meta.get("project_root"),
        "selectors": manifest.selectors,
    }
    return hashlib.sha256(msgspec.json.encode(shaping)).hexdigest()


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _read_layout(path: Path) -> Layout | None:
    try:
        with path.open("rb") as handle:
            layout = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return layout if isinstance(layout, Layout) else None


def _write_layout(path: Path, layout: Layout) -> None:
    # Losing the layout only costs the next write a full serialization.
    with contextlib.suppress(OSError):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(layout, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
