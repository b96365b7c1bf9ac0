"""Fixtures of the deps unit tests: a live local hub, a resolution context, the events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from deps_sources import HubServer, write_package

from kiln import DBT_COMPAT_VERSION
from kiln.deps.fetch import Downloads
from kiln.deps.hub import HubClient
from kiln.deps.sources import DepsContext
from kiln.deps.specs import make_render_context
from kiln.events.bus import Event, Level, get_bus


@pytest.fixture
def hub() -> Iterator[HubServer]:
    """A package hub on 127.0.0.1, empty until the test publishes versions."""
    with HubServer() as server:
        yield server


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root project folder named `root` (no packages file yet)."""
    return write_package(tmp_path / "root", "root")


@pytest.fixture
def deps_context(root: Path, hub: HubServer, tmp_path: Path) -> DepsContext:
    """What resolution needs, pointed at the test hub and a scratch folder."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    return DepsContext(
        root=root,
        root_name="root",
        render_context=make_render_context({}),
        downloads=Downloads(scratch),
        hub=HubClient(hub.url),
        dbt_version=DBT_COMPAT_VERSION,
    )


@dataclass
class _Collect:
    """A bus sink keeping every event, for assertions on what was reported."""

    min_level: Level = Level.DEBUG
    events: list[Event] = field(default_factory=list)

    def handle(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
def events() -> Iterator[list[Event]]:
    """The events emitted during the test, in order."""
    sink = _Collect()
    bus = get_bus()
    bus.add(sink)
    yield sink.events
    bus.sinks.remove(sink)
