"""Loading a project for a command: project file, profile target, manifest (with cache)."""

from __future__ import annotations

import datetime as dt
import gc
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.config.packages import installed_packages
from kiln.config.profiles import Target, find_profiles_dir, load_target
from kiln.config.project import Project, load_project
from kiln.invocation import Invocation
from kiln.jinja.context import ContextFactory, VarResolver
from kiln.jinja.macros import MacroRegistry
from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Manifest

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.execute.result import PriorRun


@dataclass
class Workspace:
    """A loaded project: what every command starts from."""

    invocation: Invocation
    project: Project
    target: Target
    manifest: Manifest
    factory: ContextFactory
    target_dir: Path
    log_dir: Path
    invocation_id: str
    started_at: dt.datetime
    adapter: Adapter | None = None
    # set by `kiln retry`: what the repeated invocation left (microbatch batches)
    prior_run: PriorRun | None = None
    _graph: Graph | None = None

    @property
    def graph(self) -> Graph:
        """The DAG of the manifest, built on first use (`parse` never needs it)."""
        if self._graph is None:
            self._graph = Graph.from_manifest(self.manifest)
        return self._graph

    def open_adapter(self) -> Adapter:
        """Create the warehouse adapter (once) and hand it to the Jinja context."""
        if self.adapter is None:
            from kiln.adapters.registry import create_adapter

            self.adapter = create_adapter(self.target.credentials)
            self.factory.adapter = self.adapter
        return self.adapter


def load_workspace(inv: Invocation) -> Workspace:
    """Read project, profile and every project file; return the workspace."""
    root = Path(inv.project_dir).resolve()
    project = load_project(root)
    profiles_dir = find_profiles_dir(inv.profiles_dir, root)
    target = load_target(profiles_dir, inv.profile or project.profile, inv.target, inv.threads)
    target_dir = root / (inv.target_path or project.target_path)
    if inv.partial_parse:
        from kiln.jinja.code_cache import use_code_cache

        use_code_cache(target_dir)
    log_dir = root / (inv.log_path or project.log_path)
    from kiln.events.bus import get_bus

    bus = get_bus()
    invocation_id = bus.invocation_id or str(uuid.uuid4())
    bus.invocation_id = invocation_id
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    registry = MacroRegistry(root_package=project.name)
    for entry in project.dispatch:
        namespace = entry.get("macro_namespace")
        if namespace:
            registry.dispatch_orders[str(namespace)] = list(entry.get("search_order") or [])
    factory = ContextFactory(
        project=project,
        target=target,
        registry=registry,
        vars=VarResolver(project.vars, inv.vars, frozenset({project.name})),
        invocation_id=invocation_id,
        run_started_at=started,
        flags=inv.flags(),
        packages=tuple(installed_packages(project)),
    )
    from kiln.adapters.registry import load_adapter_class

    adapter_cls = load_adapter_class(target.type)
    factory.quote_char = adapter_cls.quote_char
    from kiln.parse.cache import parse_with_cache

    # Parsing allocates millions of long-lived objects; the cyclic collector's repeated full
    # passes over them cost more than they free, so it pauses for the parse and the result
    # is frozen out of later collections.
    gc.disable()
    try:
        manifest = parse_with_cache(
            factory,
            target_dir,
            use_cache=inv.partial_parse,
            include_database=adapter_cls.capabilities.catalogs,
        )
    finally:
        gc.enable()
    gc.freeze()
    ws = Workspace(
        inv,
        project,
        target,
        manifest,
        factory,
        target_dir,
        log_dir,
        invocation_id,
        started,
    )
    factory.graph_provider = lambda: _graph_context(ws)
    return ws


def _graph_context(ws: Workspace) -> dict[str, object]:
    """The `graph` Jinja variable: nodes and sources as dicts."""
    from kiln.artifacts import manifest_dict

    data = manifest_dict(ws.manifest, invocation_id=ws.invocation_id, adapter_type=ws.target.type)
    return {
        k: data.get(k, {})
        for k in (
            "nodes",
            "sources",
            "exposures",
            "macros",
            "metrics",
            "groups",
            "semantic_models",
            "saved_queries",
        )
    }
