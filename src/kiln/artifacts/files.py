"""Reading and writing artifact JSON files.

Writes are atomic (a temporary file in the same folder, then `os.replace`), so a reader never
sees half an artifact and an interrupted run leaves the previous artifact in place.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from kiln.errors import ArtifactError, Location


def _encode_extra(value: object) -> object:
    # Paths reach artifacts through CLI args (`--project-dir`, `--state`); dbt writes them
    # as strings. Anything else non-JSON is a bug in the caller and is reported as such.
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable: {value!r}")


# msgspec keeps dict insertion order; the converters build every record in dbt's field order
# and sort every id-keyed collection, which is what makes the output deterministic.
_ENCODER = msgspec.json.Encoder(enc_hook=_encode_extra)


def write_json_atomic(path: str | os.PathLike[str], document: Mapping[str, Any]) -> Path:
    """Write `document` as compact JSON to `path`, atomically.

    Args:
        path: the artifact file; its folder is created when missing.
        document: a JSON-compatible mapping.

    Returns:
        The path written.

    Raises:
        ArtifactError: the document holds a value JSON cannot represent, or the file cannot
            be written.
    """
    target = Path(path)
    return write_bytes_atomic(target, encode_json(document, target))


def encode_json(value: Any, artifact: Path) -> bytes:
    """`value` as compact JSON, in the order its dicts were built.

    Raises:
        ArtifactError: a value JSON cannot represent (naming the artifact file).
    """
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(
            f"cannot serialize {artifact.name}: {exc}",
            hint="config, meta and args values must be JSON types (str, number, bool, list, dict)",
            location=Location(str(artifact)),
        ) from exc


def write_bytes_atomic(target: Path, payload: bytes | Iterable[bytes | memoryview]) -> Path:
    """Write `payload` (bytes, or chunks written in turn) to `target` through a temporary
    file and a rename.

    Raises:
        ArtifactError: the file cannot be written.
    """
    chunks = [payload] if isinstance(payload, bytes) else payload
    target.parent.mkdir(parents=True, exist_ok=True)
    # A unique name opened with "x" honours the umask (mkstemp would force 0600).
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "xb") as handle:
            handle.writelines(chunks)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        raise ArtifactError(
            f"cannot write {target}: {exc}", location=Location(str(target))
        ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return target


def read_json(path: str | os.PathLike[str]) -> Any:
    """Decode one JSON artifact file.

    Raises:
        ArtifactError: the file is missing or is not valid JSON.
    """
    source = Path(path)
    try:
        return msgspec.json.decode(source.read_bytes())
    except FileNotFoundError as exc:
        raise ArtifactError(
            f"{source} does not exist",
            hint="run the command that writes it first, or check --state / --target-path",
            location=Location(str(source)),
        ) from exc
    except msgspec.DecodeError as exc:
        raise ArtifactError(
            f"{source} is not valid JSON: {exc}", location=Location(str(source))
        ) from exc
