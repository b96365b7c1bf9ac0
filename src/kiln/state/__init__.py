"""Comparing with a previous invocation: `state:`, `result:`, `source_status:`, `--defer`.

`load_state(ws)` reads the `--state` folder and returns the `PriorState` hook selection
calls (`StateSelector`); `compare.py` holds the table of what counts as modified;
`defer.py` decides which refs resolve to the prior environment's relations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiln.errors import KilnError

if TYPE_CHECKING:
    from kiln.parse.load import Workspace
    from kiln.state.prior import PriorArtifacts, StateError
    from kiln.state.selector import CurrentProject, StateSelector

# Loaded on first use: `parse` writes the sidecar without paying for the selection code.
_LAZY = {
    "CurrentProject": "kiln.state.selector",
    "StateSelector": "kiln.state.selector",
    "PriorArtifacts": "kiln.state.prior",
    "StateError": "kiln.state.prior",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln.state' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "CurrentProject",
    "PriorArtifacts",
    "StateError",
    "StateSelector",
    "load_state",
    "write_state_file",
]


def load_state(ws: Workspace) -> StateSelector | None:
    """The prior state named by `--state` (or DBT_STATE / KILN_STATE), None without one.

    Raises:
        StateError: the folder does not exist, has no manifest.json, or belongs to
            another project.
        IncompatibleArtifactError: its manifest.json has a schema version Kiln cannot read.
    """
    from kiln.events.bus import Level, emit
    from kiln.state.prior import load_prior, resolve_state_folder
    from kiln.state.selector import CurrentProject, StateSelector

    value = ws.invocation.state
    if not value:
        return None
    folder = resolve_state_folder(value, ws.project.root)
    if folder == ws.target_dir.resolve():
        emit(
            "WarnStateTargetEqual",
            Level.WARN,
            f"The --state folder {folder} is also the target folder: this invocation "
            "overwrites its artifacts, so compare with a copy instead",
        )
    prior = load_prior(folder, ws.project.name)
    include_vars = bool(ws.project.kiln_setting("state_modified_includes_vars", False))
    current = CurrentProject(
        ws.manifest, ws.project.root, ws.factory.vars, ws.target_dir, include_vars
    )
    return StateSelector(prior, current)


def write_state_file(ws: Workspace) -> None:
    """Write kiln_state.json next to manifest.json (see `kiln.state.sidecar`)."""
    from kiln.state.sidecar import build_sidecar, read_sidecar, write_sidecar

    try:
        previous = read_sidecar(ws.target_dir)
    except KilnError:  # unreadable: build it from scratch
        previous = None
    root = ws.project.root
    sidecar = build_sidecar(ws.manifest, ws.factory.vars, root, ws.invocation_id, previous)
    write_sidecar(ws.target_dir, sidecar)
